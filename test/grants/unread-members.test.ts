import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCredential, schemaIdFor } from '../../src/credentials/index.js';
import { allocateStatusEntry } from '../../src/status/index.js';
import { issueAgentIdentity } from '../../src/agents/index.js';
import { verifyGrant } from '../../src/grants/index.js';
import { issueSdJwtVc } from '../../src/sdjwt/index.js';
import { verifySdJwtGrant } from '../../src/sdjwt/grant-verify.js';
import { openWorld, type World } from '../agents/fixture.js';
import { attempt, codes, days } from '../agents/setup.js';

/**
 * A restriction signed where Charter does not read it (beside `authority` or `grant`, or as VCDM
 * termsOfUse) must refuse the credential, never leave it allowing more than its issuer wrote: another
 * issuer, or a newer one, may put a rule there. DESIGN.md: a tighter rule is never silently ignored.
 */
let w: World;
beforeAll(async () => {
  w = await openWorld();
});
afterAll(async () => {
  await w.close();
});

// Members a restriction could be spelt as beside the object Charter reads; the prototype-named one is JSON-made.
const SIBLINGS: Array<[string, Record<string, unknown>]> = [
  ['limits', { limits: { perTransaction: { amount: '5', currency: 'USD' } } }],
  ['constraints', { constraints: { maxAmount: '5 USD' } }],
  ['terms', { terms: { purpose: ['research'] } }],
  ['notAfter', { notAfter: '2020-01-01T00:00:00Z' }],
  ['an empty object', { scope: {} }],
  ['null', { restrictions: null }],
  ['a number', { maxRequests: 1 }],
  ['__proto__', JSON.parse('{"__proto__": {"maxAmount": 1}}') as Record<string, unknown>],
];
const ODRL = { extra: { termsOfUse: [{ type: 'OdrlPolicy', prohibition: [{ action: 'pay' }, { action: 'read' }] }] } };

describe('a mandate (AgentAuthorityCredential) with a member beside authority, or termsOfUse, is refused', () => {
  async function link(subject: Record<string, unknown>, extra: Record<string, unknown> = {}) {
    const tag = randomUUID();
    const principal = w.issuer(`p-${tag}`);
    const agent = w.issuer(`a-${tag}`);
    const operator = w.issuer(`o-${tag}`);
    const id = `urn:uuid:${randomUUID()}`;
    const credentialStatus = await allocateStatusEntry(w.store, { issuerDid: principal.did, baseUrl: w.baseUrl, purpose: 'revocation', credentialId: id });
    const { jwt } = await issueCredential({
      issuer: principal,
      id,
      subject: agent.did,
      type: 'AgentAuthorityCredential',
      claims: subject,
      validUntil: days(10),
      credentialSchema: { id: schemaIdFor('AgentAuthorityCredential')!, type: 'JsonSchema' },
      credentialStatus,
      ...extra,
    } as never);
    const identity = (await issueAgentIdentity(w.store, operator, { agent: agent.did, name: 'bot' })).jwt;
    const d = await attempt(w, { agent, identity, chain: [jwt], options: { trust: { principals: [principal.did] }, amount: '10 USD', counterparty: 'did:web:shop.example' } });
    return d;
  }
  const authority = { actions: ['pay:*'], maxDelegationDepth: 0 };

  it('the same mandate with only its authority is allowed (the refusals below are about the member added)', async () => {
    expect((await link({ authority })).ok).toBe(true);
  });

  for (const [name, member] of SIBLINGS) {
    it(`beside authority: ${name}`, async () => {
      const d = await link({ authority, ...member });
      expect(d.ok).toBe(false);
      expect(codes(d)).toContain('UNKNOWN_CONSTRAINT');
    });
  }

  it('termsOfUse (an ODRL prohibition) is refused, not ignored', async () => {
    const d = await link({ authority }, ODRL);
    expect(d.ok).toBe(false);
    expect(codes(d)).toContain('UNKNOWN_CONSTRAINT');
  });
});

describe('a DataAccessGrant (vc+jwt) with a member beside grant, or termsOfUse, is refused', () => {
  const grant = { resources: ['photos/*'], actions: ['read'], purpose: 'backup' };
  async function check(subject: Record<string, unknown>, extra: Record<string, unknown> = {}) {
    const owner = w.issuer(`owner-${randomUUID()}`);
    const grantee = w.issuer(`grantee-${randomUUID()}`);
    const id = `urn:uuid:${randomUUID()}`;
    const credentialStatus = await allocateStatusEntry(w.store, { issuerDid: owner.did, baseUrl: w.baseUrl, purpose: 'revocation', credentialId: id });
    const { jwt } = await issueCredential({
      issuer: owner,
      id,
      subject: grantee.did,
      type: 'DataAccessGrant',
      claims: subject,
      validUntil: days(1),
      credentialSchema: { id: schemaIdFor('DataAccessGrant')!, type: 'JsonSchema' },
      credentialStatus,
      ...extra,
    } as never);
    return verifyGrant(jwt, { resolver: w.resolver, status: w.status(), resource: 'photos/a.jpg', action: 'read', owner: owner.did, grantee: grantee.did, purpose: 'marketing' });
  }

  it('the grant alone is allowed', async () => {
    expect((await check({ grant })).reasons).toEqual([]);
  });

  for (const [name, member] of SIBLINGS) {
    it(`beside grant: ${name}`, async () => {
      const d = await check({ grant, ...member });
      expect(d.ok).toBe(false);
      expect(d.reasons.map((r) => r.code)).toContain('UNKNOWN_CONSTRAINT');
    });
  }

  it('termsOfUse is refused', async () => {
    const d = await check({ grant }, ODRL);
    expect(d.reasons.map((r) => r.code)).toContain('UNKNOWN_CONSTRAINT');
  });
});

describe('an SD-JWT DataAccessGrant with a top-level claim beside grant is refused', () => {
  const grant = { resources: ['photos/*'], actions: ['read'], purpose: 'backup' };
  async function check(claims: Record<string, unknown>) {
    const owner = w.issuer(`sd-owner-${randomUUID()}`);
    const grantee = w.issuer(`sd-grantee-${randomUUID()}`);
    const t = await issueSdJwtVc({
      issuer: owner,
      subject: grantee.did,
      vct: 'https://charter.dev/vct/DataAccessGrant',
      claims,
      validUntil: days(1),
      status: { idx: 1, uri: 'https://owner.example/tsl/1' },
      keyBinding: false,
    } as never);
    return verifySdJwtGrant(t.token, { resolver: w.resolver, status: async () => [], resource: 'photos/a.jpg', action: 'read', owner: owner.did, allowMissingKeyBinding: true });
  }

  it('the grant alone is allowed', async () => {
    expect((await check({ grant })).reasons).toEqual([]);
  });

  // (Charter's SD-JWT issuer refuses to write a "__proto__" claim at all.)
  for (const [name, member] of SIBLINGS.filter(([n]) => n !== '__proto__')) {
    it(`beside grant: ${name}`, async () => {
      const d = await check({ grant, ...member });
      expect(d.ok).toBe(false);
      expect(d.reasons.map((r) => r.code)).toContain('UNKNOWN_CONSTRAINT');
    });
  }
});
