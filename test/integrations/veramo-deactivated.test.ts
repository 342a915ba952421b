import { describe, expect, it } from 'vitest';
import { isCharterError } from '../../src/errors.js';
import { issueCredential, verifyCredential } from '../../src/credentials/index.js';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import { veramoResolver } from '../../src/integrations/veramo/index.js';

/**
 * DID Core §7.1.3 / DID Resolution: a resolver reports a deactivated DID with
 * didDocumentMetadata.deactivated = true, often still returning the document.
 * None of its keys speaks for the DID any more: a credential it signed is refused,
 * and metadata Charter cannot read ("true" as a string, a metadata that is not an
 * object) is refused too, never taken for "active".
 */
const kp = generateKeyPair('Ed25519');
const did = 'did:ethr:0x1234567890abcdef1234567890abcdef12345678';
const vm = { id: `${did}#controller`, type: 'JsonWebKey2020', controller: did, publicKeyJwk: kp.publicJwk };
const doc = { '@context': ['https://www.w3.org/ns/did/v1'], id: did, verificationMethod: [vm], assertionMethod: [vm.id], authentication: [vm.id] };
const answer = (didDocumentMetadata: unknown, extra: Record<string, unknown> = {}) => {
  const res: Record<string, unknown> = { didDocument: doc, didResolutionMetadata: { contentType: 'application/did+ld+json' }, ...extra };
  if (didDocumentMetadata !== undefined) res.didDocumentMetadata = didDocumentMetadata;
  return veramoResolver({ resolveDid: async () => res }, { cacheTtlMs: 0 });
};

async function outcome(resolver: ReturnType<typeof answer>) {
  const issued = await issueCredential({
    issuer: { did, kid: vm.id, keyType: 'Ed25519', publicJwk: kp.publicJwk, signer: createSigner(kp.privateJwk) },
    subject: 'did:example:bob',
    type: 'EmailCredential',
    claims: { email: 'b@example.com' },
  });
  const v = await verifyCredential(issued.jwt, { resolver });
  let resolved: string;
  try {
    await resolver.resolve(did);
    resolved = 'ok';
  } catch (e) {
    resolved = isCharterError(e) ? e.code : `raw ${String(e)}`;
  }
  return { ok: v.ok, codes: v.reasons.map((r) => r.code), resolved };
}

describe('veramoResolver and didDocumentMetadata.deactivated', () => {
  it('a deactivated DID (deactivated: true) resolves to DID_NOT_FOUND and its credential is refused', async () => {
    const r = await outcome(answer({ deactivated: true }));
    expect(r).toEqual({ ok: false, codes: ['DID_NOT_FOUND'], resolved: 'DID_NOT_FOUND' });
  });

  it('deactivated with other metadata beside it (versionId, updated) is still refused', async () => {
    const r = await outcome(answer({ versionId: '7', updated: '2024-01-01T00:00:00Z', deactivated: true }));
    expect(r.ok).toBe(false);
    expect(r.resolved).toBe('DID_NOT_FOUND');
  });

  it('deactivated: true with no document at all is DID_NOT_FOUND', async () => {
    const resolver = veramoResolver({ resolveDid: async () => ({ didDocument: null, didDocumentMetadata: { deactivated: true }, didResolutionMetadata: {} }) });
    await expect(resolver.resolve(did)).rejects.toMatchObject({ code: 'DID_NOT_FOUND' });
  });

  it.each([
    ['the string "true"', { deactivated: 'true' }],
    ['the number 1', { deactivated: 1 }],
    ['null', { deactivated: null }],
    ['an object', { deactivated: {} }],
  ])('a "deactivated" that is %s is unreadable metadata: refused, never taken as active', async (_name, meta) => {
    const r = await outcome(answer(meta));
    expect(r.ok).toBe(false);
    expect(r.resolved).toBe('DID_RESOLUTION_FAILED');
  });

  it('didDocumentMetadata that is not an object (a string, an array) is refused', async () => {
    for (const meta of ['deactivated', [{ deactivated: true }]]) {
      const r = await outcome(answer(meta));
      expect(r.ok, JSON.stringify(meta)).toBe(false);
      expect(r.resolved).toBe('DID_RESOLUTION_FAILED');
    }
  });

  it('an active DID verifies: deactivated false, absent, empty or null metadata, or no metadata member', async () => {
    for (const meta of [{ deactivated: false }, {}, null, undefined, { updated: '2024-01-01T00:00:00Z' }]) {
      const r = await outcome(answer(meta));
      expect(r, JSON.stringify(meta)).toEqual({ ok: true, codes: [], resolved: 'ok' });
    }
  });

  it('a deactivated flag inherited from the prototype, not the metadata itself, does not count (and does not crash)', async () => {
    const meta = Object.create({ deactivated: true }) as object;
    const r = await outcome(answer(meta));
    expect(r.ok).toBe(true);
  });

  it('a resolution error still wins over deactivated (notFound stays DID_NOT_FOUND)', async () => {
    const resolver = veramoResolver({ resolveDid: async () => ({ didDocument: null, didDocumentMetadata: { deactivated: 'yes' }, didResolutionMetadata: { error: 'notFound' } }) });
    await expect(resolver.resolve(did)).rejects.toMatchObject({ code: 'DID_NOT_FOUND' });
  });
});
