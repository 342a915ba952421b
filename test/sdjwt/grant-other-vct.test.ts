import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTokenStatusChecker, GRANT_VCT, issueSdJwtVc, presentSdJwtVc, verifySdJwtGrant } from '../../src/sdjwt/index.js';
import { issueAp2OpenMandate, issueViCredential } from '../../src/mandates/index.js';
import { requireGrant } from '../../src/http/guards.js';
import { verifyRequest } from '../../src/http/request.js';
import type { Issuer } from '../../src/credentials/types.js';
import { tamper } from '../helpers.js';
import { bearer, codes, sdGrant } from '../guard/seams-fixtures.js';
import { openWorld, API, type World } from '../http/world.js';

/**
 * An SD-JWT VC of another kind (a generic credential, a card credential, an AP2 open mandate), signed by
 * the very owner whose data is asked for and presented with a good key binding, holds no grant. It is
 * refused as verifyGrant refuses a presentation without a DataAccessGrant: GRANT_MISSING, and no grant
 * rule is applied to it. Before, the grant rules ran on it anyway and the refusal was a pile of codes
 * about a grant that was never there (STATUS_INVALID "a grant without a revocation status",
 * SCHEMA_INVALID, GRANT_SCOPE, UNKNOWN_CONSTRAINT, INVALID_CREDENTIAL).
 */
const EMAIL = 'http://127.0.0.1:9999/profile/email';
let w: World;
let owner: Issuer;
beforeAll(async () => {
  w = await openWorld();
  await w.home.createIdentity({ alias: 'owner', keyType: 'P-256' });
  owner = await w.home.issuer('owner');
}, 60_000);
afterAll(async () => w?.close());

const tokenStatus = () => createTokenStatusChecker({ resolver: w.resolver, allowLoopback: true, allowHttp: true });
const kb = (nonce = 'n') => ({ holder: w.app, aud: API, nonce, claims: { htm: 'GET', htu: EMAIL } });
const check = (t: string) =>
  verifySdJwtGrant(t, { resolver: w.resolver, status: tokenStatus(), resource: 'profile/email', action: 'read', owner: owner.did, aud: API, nonce: 'n' });

/** A generic SD-JWT VC from the owner to the app, shaped like a grant in everything but its vct. */
const lookalike = async (vct: string, disclosable: string[] = ['grant']) => {
  const sd = await issueSdJwtVc({
    issuer: owner,
    subject: w.app.did,
    vct,
    claims: { grant: { resources: ['profile/email'], actions: ['read'], purpose: 'x' } },
    disclosable,
    validUntil: new Date(Date.now() + 86_400_000),
    resolver: w.resolver,
  });
  return sd.token;
};

describe('an SD-JWT VC that is not a DataAccessGrant, at the grant verifier', () => {
  it('another vct, even with a grant claim inside and a good key binding: GRANT_MISSING alone', async () => {
    for (const vct of ['https://example.com/vct', `${GRANT_VCT}#x`, GRANT_VCT.toUpperCase(), ` ${GRANT_VCT}`, 'DataAccessGrant']) {
      const d = await check(await presentSdJwtVc(await lookalike(vct), { ...kb(), disclose: ['grant'] }));
      expect([vct, d.ok, codes(d), d.holder, d.grant]).toEqual([vct, false, ['GRANT_MISSING'], undefined, undefined]);
    }
  });

  it('a card credential (VI L1) and an AP2 open mandate signed by the same owner: GRANT_MISSING, with what the key binding lacks', async () => {
    const l1 = await issueViCredential({ issuer: owner, user: { jwk: w.app.publicJwk }, subject: 'u1' });
    const ap2 = await issueAp2OpenMandate({
      issuer: owner,
      kind: 'payment',
      agent: { jwk: w.app.publicJwk },
      constraints: [{ type: 'payment.amount_range', currency: 'USD', max: 100, min: 0 }],
    });
    for (const t of [l1, ap2]) {
      const c = codes(await check(t));
      expect(c).toContain('GRANT_MISSING');
      // None of a grant's own rules speaks about what is no grant.
      for (const grantRule of ['STATUS_INVALID', 'SCHEMA_INVALID', 'GRANT_SCOPE', 'UNKNOWN_CONSTRAINT', 'GRANT_NOT_OWNER']) expect(c).not.toContain(grantRule);
    }
  });

  it('a forged lookalike is still a bad signature first (the vct is read, the signature not forgotten)', async () => {
    const t = await lookalike('https://example.com/vct');
    const forged = tamper(t.slice(0, t.indexOf('~')), 1, (p) => (p.sub = w.alice.did)) + t.slice(t.indexOf('~'));
    const c = codes(await check(await presentSdJwtVc(forged, { ...kb(), disclose: ['grant'] }).catch(() => forged)));
    expect(c).toContain('INVALID_SIGNATURE');
  });

  it('through the HTTP guard: 403 GRANT_MISSING, as a vp+jwt without a grant is', async () => {
    const v = w.verifier({ tokenStatus: tokenStatus() });
    const g = requireGrant({ resource: 'profile/email', action: 'read', owner: owner.did });
    const d = await verifyRequest(
      new Request(EMAIL, { headers: bearer(await presentSdJwtVc(await lookalike('https://example.com/vct'), { ...kb('g1'), disclose: ['grant'] })) }),
      v,
      g,
    );
    expect([d.ok, d.status, codes(d)]).toEqual([false, 403, ['GRANT_MISSING']]);
  });

  it('a real SD-JWT grant from the same owner still passes (the refusals above are the vct, nothing else)', async () => {
    const real = await sdGrant(w, { owner });
    const d = await check(await presentSdJwtVc(real.token, { ...kb(), disclose: real.disclosable }));
    expect([d.ok, codes(d)]).toEqual([true, []]);
  });
});
