import { readdirSync } from 'node:fs';
import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createResolver } from '../../src/did/index.js';
import { issueCredential, schemaIdFor, signJwt, verifyCredential } from '../../src/credentials/index.js';
import { makeIssuer } from '../helpers.js';

/**
 * A credential of one of Charter's own types meets that type's schema
 * whether or not it names it in credentialSchema: code downstream reads its
 * fields as the schema promises. Issuing one that breaks it is refused too.
 */
const resolver = createResolver();
const issuer = makeIssuer();
const TYPES = readdirSync(new URL('../../schemas/', import.meta.url)).map((f) => f.replace(/\.json$/, ''));
const V2 = 'https://www.w3.org/ns/credentials/v2';

const sign = (type: string, subject: Record<string, unknown>, extra: Record<string, unknown> = {}) =>
  signJwt(
    { typ: 'vc+jwt' },
    {
      '@context': [V2],
      id: `urn:uuid:${randomUUID()}`,
      type: ['VerifiableCredential', type],
      issuer: issuer.did,
      validFrom: new Date().toISOString(),
      credentialSubject: subject,
      ...extra,
    },
    issuer.signer,
    issuer.kid,
  );
const codes = async (jwt: string) => (await verifyCredential(jwt, { resolver })).reasons.map((r) => r.code);

describe("Charter's types meet their schemas, named or not", () => {
  it('every schema in schemas/ is a type', () => {
    expect(TYPES.length).toBeGreaterThanOrEqual(11);
    for (const t of TYPES) expect(schemaIdFor(t)).toBeDefined();
  });
  it.each(TYPES)('%s with a subject that breaks its schema: SCHEMA_INVALID, named or not; issueCredential refuses it', async (type) => {
    const subject = { id: 'did:example:subject', unknownMember: 1 };
    const bare = { id: 'did:example:subject' };
    for (const s of [bare, subject]) {
      expect(await codes(await sign(type, s))).toContain('SCHEMA_INVALID');
      expect(await codes(await sign(type, s, { credentialSchema: { id: schemaIdFor(type)!, type: 'JsonSchema' } }))).toContain('SCHEMA_INVALID');
    }
    await expect(issueCredential({ issuer, subject: 'did:example:subject', type, claims: {} })).rejects.toMatchObject({ code: 'SCHEMA_INVALID' });
  });
  it('a type Charter has no schema for is not held to one', async () => {
    expect(await codes(await sign('EmailCredential', { id: 'did:example:subject', email: 5 }))).toEqual([]);
  });
  it('a well-formed one verifies with or without naming its schema', async () => {
    const subject = { id: 'did:example:agent', interaction: { id: 'i-1', agent: issuer.did, time: new Date().toISOString() } };
    expect(await codes(await sign('InteractionReceipt', subject))).toEqual([]);
    expect(await codes(await sign('InteractionReceipt', subject, { credentialSchema: { id: schemaIdFor('InteractionReceipt')!, type: 'JsonSchema' } }))).toEqual([]);
  });
});
