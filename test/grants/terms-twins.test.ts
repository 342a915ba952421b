import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolver } from '../../src/did/index.js';
import { issueGrant, verifyGrant } from '../../src/grants/index.js';
import { issueCredential, schemaIdFor } from '../../src/credentials/index.js';
import { allocateStatusEntry, createStatusChecker } from '../../src/status/index.js';
import { createTokenStatusChecker, issueSdJwtGrant, presentSdJwtVc, verifySdJwtGrant } from '../../src/sdjwt/index.js';
import { makeIssuer } from '../helpers.js';
import { statusWorld, type StatusWorld } from '../status/token-world.js';

/**
 * A grant's restrictions are read wherever they are, or the grant is
 * refused: a vc+jwt carrying a rule at its top level (beside
 * credentialSubject, where Charter reads nothing) is UNKNOWN_CONSTRAINT, as
 * its SD-JWT twin is; and both formats hand the terms they enforce to the
 * platform (`decision.grant.terms`: retention and onward sharing are duties
 * the platform keeps itself).
 */
const resolver = createResolver();
const API = 'did:web:api.example';
const base = { resources: ['health/steps'], actions: ['read'], purpose: 'step research' };
let w: StatusWorld;
beforeAll(async () => {
  w = await statusWorld();
});
afterAll(() => w.close());

const verify = (jwt: string, owner: string, o: { purpose?: string; processing?: 'on-device' | 'trusted-execution' } = {}) =>
  verifyGrant(jwt, { resolver, status: createStatusChecker({ resolver, allowLoopback: true, allowHttp: true }), resource: 'health/steps', action: 'read', owner, ...o });

/** A vc+jwt grant issued as another issuer might: `top` beside its subject. */
async function grantWith(top: Record<string, unknown>) {
  const owner = w.issuer();
  const id = `urn:uuid:${randomUUID()}`;
  const rev = await allocateStatusEntry(w.store, { issuerDid: owner.did, baseUrl: w.url, credentialId: id, purpose: 'revocation' });
  const vc = await issueCredential({
    issuer: owner,
    id,
    subject: makeIssuer('P-256').did,
    type: 'DataAccessGrant',
    claims: { grant: base },
    validUntil: new Date(Date.now() + 86_400_000),
    credentialSchema: { id: schemaIdFor('DataAccessGrant')!, type: 'JsonSchema' },
    extra: { credentialStatus: [rev], ...top },
  });
  return { owner, jwt: vc.jwt };
}

describe('grant restrictions outside the places Charter reads are refused (vc+jwt)', () => {
  it.each([
    ['terms', { purpose: ['research'], processing: 'on-device' }],
    ['restrictions', { purpose: 'research' }],
    ['termsOfService', 'https://owner.example/tos'],
    ['constraints', []],
    ['x', null],
  ])('a top-level %j is UNKNOWN_CONSTRAINT, whatever the declared use', async (name, value) => {
    const { owner, jwt } = await grantWith({ [name]: value });
    for (const use of [{ purpose: 'marketing' }, { purpose: 'research', processing: 'on-device' as const }, {}]) {
      const d = await verify(jwt, owner.did, use);
      expect([name, use, d.ok, d.reasons.map((r) => r.code)]).toEqual([name, use, false, ['UNKNOWN_CONSTRAINT']]);
    }
  });

  it('the VCDM properties and JWT claims a grant may carry beside its subject (name, description, evidence...) are fine', async () => {
    const { owner, jwt } = await grantWith({ name: 'Steps for the study', description: 'Read my step counts' });
    expect((await verify(jwt, owner.did)).reasons).toEqual([]);
  });
});

describe('both formats hand the platform the terms they enforce', () => {
  it('decision.grant.terms is the same for a vc+jwt grant and its SD-JWT twin', async () => {
    const terms = { purpose: ['research'], retention: 'P30D', onwardSharing: 'none' as const, processing: 'trusted-execution' as const };
    const owner = w.issuer();
    const platform = makeIssuer('P-256');
    const input = { grantee: platform.did, ...base, validUntil: new Date(Date.now() + 86_400_000), baseUrl: w.url, terms };
    const vc = await issueGrant(w.store, owner, input);
    const sd = await issueSdJwtGrant(w.store, owner, input);
    const dv = await verify(vc.jwt, owner.did, { purpose: 'research', processing: 'trusted-execution' });
    const p = await presentSdJwtVc(sd.token, { holder: platform, disclose: ['grant.resources.0', 'grant.actions.0'], aud: API, nonce: 'n1234567' });
    const ds = await verifySdJwtGrant(p, {
      resolver,
      status: createTokenStatusChecker({ resolver, allowLoopback: true, allowHttp: true }),
      resource: 'health/steps',
      action: 'read',
      owner: owner.did,
      aud: API,
      nonce: 'n1234567',
      purpose: 'research',
      processing: 'trusted-execution',
    });
    expect([dv.ok, ds.ok]).toEqual([true, true]);
    expect(ds.grant?.terms).toEqual(dv.grant?.terms);
    expect(dv.grant?.terms).toMatchObject({ retention: 'P30D', onwardSharing: 'none' });
  });
});
