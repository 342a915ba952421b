import { describe, expect, it } from 'vitest';
import { createResolver } from '../../src/did/index.js';
import { verifySdJwtVc } from '../../src/sdjwt/index.js';
import { makeIssuer } from '../helpers.js';
import { basePayload, craft } from './craft.js';
import { AUD, NONCE, grantPayload, grantVerifier, withKb } from './kb-craft.js';

/**
 * Downgrade: a verifier that names a `nonce` asks the presenter to prove this
 * presentation is fresh, and only a key binding JWT carries a nonce (RFC 9901
 * §4.3). `allowMissingKeyBinding` accepts a token without one, for a holder
 * checking what it was issued or a bearer credential; together with a nonce
 * it let a presenter drop the KB-JWT, and with it the nonce check: a token
 * copied from anywhere passed as the answer to this verifier's nonce. A
 * nonce asked for and no key binding to carry it is now KEY_BINDING_INVALID,
 * as verifyGrant refuses a bare vc+jwt grant given an aud or nonce.
 */
const resolver = createResolver();
const owner = makeIssuer();
const holder = makeIssuer('P-256');
const codes = (r: { reasons: { code: string }[] }) => [...new Set(r.reasons.map((x) => x.code))].sort();
const bound = () => craft(owner, basePayload(owner, holder.did, { cnf: { jwk: holder.publicJwk } }));
const bearer = () => craft(owner, basePayload(owner, holder.did));

describe('verifySdJwtVc: a nonce asked for needs a key binding JWT, allowMissingKeyBinding or not', () => {
  it('the control: the KB-JWT answering the nonce verifies; without a nonce, allowMissingKeyBinding takes a token with no KB-JWT', async () => {
    expect(codes(await verifySdJwtVc(await withKb(holder, await bound()), { resolver, aud: AUD, nonce: NONCE }))).toEqual([]);
    expect(codes(await verifySdJwtVc(await withKb(holder, await bound()), { resolver, aud: AUD, nonce: 'another' }))).toEqual(['NONCE_MISMATCH']);
    for (const t of [await bound(), await bearer()]) {
      expect((await verifySdJwtVc(t, { resolver, allowMissingKeyBinding: true })).ok).toBe(true);
      // An aud alone reads the credential's own `aud` (none here), which a bearer credential may meet.
      expect((await verifySdJwtVc(t, { resolver, aud: AUD, allowMissingKeyBinding: true })).ok).toBe(true);
    }
  });

  it.each([
    ['a token bound to a holder key (cnf), its KB-JWT dropped', bound],
    ['a bearer token (no cnf), sent with no KB-JWT', bearer],
  ])('%s: refused when the caller asks for a nonce', async (_, token) => {
    const d = await verifySdJwtVc(await token(), { resolver, aud: AUD, nonce: NONCE, allowMissingKeyBinding: true });
    expect([d.ok, codes(d)]).toEqual([false, ['KEY_BINDING_INVALID']]);
    expect(d.keyBinding).toBeUndefined();
  });

  it('verifySdJwtGrant: the grant without its KB-JWT, under allowMissingKeyBinding and a nonce, is refused', async () => {
    const grant = grantVerifier(resolver, owner, holder);
    const t = await craft(owner, grantPayload(owner, holder));
    expect(codes(await grant(await withKb(holder, t)))).toEqual([]);
    const d = await grant(t, { allowMissingKeyBinding: true });
    expect([d.ok, codes(d)]).toEqual([false, ['KEY_BINDING_INVALID']]);
  });
});
