import { describe, expect, it } from 'vitest';
import { createResolver } from '../../src/did/index.js';
import { verifySdJwtGrant, verifySdJwtVc, type VerifySdJwtVcOptions } from '../../src/sdjwt/index.js';
import { checkKeyBinding } from '../../src/sdjwt/keybinding.js';
import { importVerificationKey } from '../../src/keys/index.js';
import { makeIssuer } from '../helpers.js';
import { basePayload, craft, disclosure, salt } from './craft.js';
import { AUD, NONCE, grantPayload, nowS, statusFrom, withKb } from './kb-craft.js';

/** `_sd_alg` present but not a name, header copies of claims that disagree, and options that would switch a check off. */
const resolver = createResolver();
const issuer = makeIssuer();
const holder = makeIssuer('P-256');
const codes = (r: { reasons: { code: string }[] }) => [...new Set(r.reasons.map((x) => x.code))].sort();
const bound = (extra: Record<string, unknown> = {}) => basePayload(issuer, holder.did, { cnf: { jwk: holder.publicJwk }, ...extra });
const vc = (t: string, o: Partial<VerifySdJwtVcOptions> = {}) => verifySdJwtVc(t, { resolver, aud: AUD, nonce: NONCE, ...o });

describe('_sd_alg (RFC 9901 §4.1.1): absent means sha-256, present must name an accepted hash', () => {
  it('absent: sha-256, with disclosures processed', async () => {
    const d = disclosure([salt(), 'email', 'a@b.c']);
    const p = bound({ _sd: [d.digest] });
    delete p._sd_alg;
    const v = await vc(await withKb(holder, await craft(issuer, p, [d.encoded])));
    expect(v.reasons).toEqual([]);
    expect(v.claims?.email).toBe('a@b.c');
  });

  it('null, a number, a boolean, an array, an object, an empty or differently spelt name: UNSUPPORTED_ALG, with or without disclosures', async () => {
    const d = disclosure([salt(), 'email', 'a@b.c']);
    for (const alg of [null, 0, 1, false, true, [], ['sha-256'], {}, { name: 'sha-256' }, '', 'SHA-256', 'sha256', ' sha-256', 'sha-256\u0000']) {
      for (const [extra, ds] of [
        [{}, []],
        [{ _sd: [d.digest] }, [d.encoded]],
      ] as const) {
        const v = await vc(await withKb(holder, await craft(issuer, bound({ ...extra, _sd_alg: alg }), [...ds])), { sdAlgs: ['sha-256', 'sha-512'] });
        expect([alg, v.ok]).toEqual([alg, false]);
        expect(codes(v)).toContain('UNSUPPORTED_ALG');
      }
    }
  });

  it('null is refused on the grant path too', async () => {
    const owner = issuer;
    const g = await verifySdJwtGrant(await withKb(holder, await craft(owner, grantPayload(owner, holder, { _sd_alg: null }))), {
      resolver,
      status: await statusFrom(resolver, owner),
      resource: 'profile/email',
      action: 'read',
      owner: owner.did,
      aud: AUD,
      nonce: NONCE,
    });
    expect(codes(g)).toContain('UNSUPPORTED_ALG');
  });
});

describe('header copies of claims (RFC 7519 §5.3) must equal the claims', () => {
  it('iss, sub, exp, nbf, iat, jti or aud in the header that differ from the payload: INVALID_CREDENTIAL', async () => {
    const other = makeIssuer();
    // The payload names this verifier (credential-audience.test.ts), so the header copy is the only fault.
    const p = bound({ aud: AUD });
    for (const [k, v] of [
      ['iss', other.did],
      ['sub', other.did],
      ['exp', nowS() - 3600],
      ['exp', String(p.exp)],
      ['exp', null],
      ['nbf', nowS() + 3600],
      ['iat', (p.iat as number) + 1],
      ['jti', 'urn:uuid:other'],
      ['aud', ['did:web:someone']],
    ] as const) {
      const v0 = await vc(await withKb(holder, await craft(issuer, p, [], { typ: 'dc+sd-jwt', [k]: v })));
      expect([k, v, v0.ok]).toEqual([k, v, false]);
      expect(codes(v0)).toEqual(['INVALID_CREDENTIAL']);
    }
  });

  it('a header copy of a claim the payload does not carry in clear (absent, or disclosable) is refused', async () => {
    const p = bound();
    delete p.exp;
    expect(codes(await vc(await withKb(holder, await craft(issuer, p, [], { typ: 'dc+sd-jwt', exp: nowS() + 60 }))))).toEqual(['INVALID_CREDENTIAL']);
    const sub = disclosure([salt(), 'sub', holder.did]);
    const q = bound({ _sd: [sub.digest] });
    delete q.sub;
    const t = await craft(issuer, q, [sub.encoded], { typ: 'dc+sd-jwt', sub: holder.did });
    expect(codes(await vc(await withKb(holder, t)))).toEqual(['INVALID_CREDENTIAL']);
  });

  it('equal copies are fine', async () => {
    const p = bound();
    const v = await vc(await withKb(holder, await craft(issuer, p, [], { typ: 'dc+sd-jwt', iss: p.iss, sub: p.sub, exp: p.exp, iat: p.iat, jti: p.jti })));
    expect(v.reasons).toEqual([]);
  });

  it('the key binding JWT too: a header aud, iat or nonce-bearing copy that differs is KEY_BINDING_INVALID', async () => {
    const t = await craft(issuer, bound());
    for (const h of [{ aud: 'did:web:elsewhere' }, { aud: [AUD] }, { iat: nowS() - 86_400 }, { exp: nowS() }]) {
      const v = await vc(await withKb(holder, t, {}, { typ: 'kb+jwt', ...h }));
      expect([h, v.ok]).toEqual([h, false]);
      expect(codes(v)).toEqual(['KEY_BINDING_INVALID']);
    }
    expect((await vc(await withKb(holder, t, {}, { typ: 'kb+jwt', aud: AUD }))).reasons).toEqual([]);
  });

  it('on the grant path as well', async () => {
    const owner = issuer;
    const g = await verifySdJwtGrant(await withKb(holder, await craft(owner, grantPayload(owner, holder), [], { typ: 'dc+sd-jwt', sub: makeIssuer().did })), {
      resolver,
      status: await statusFrom(resolver, owner),
      resource: 'profile/email',
      action: 'read',
      owner: owner.did,
      grantee: holder.did,
      aud: AUD,
      nonce: NONCE,
    });
    expect(codes(g)).toEqual(['INVALID_CREDENTIAL']);
  });
});

describe('maxKeyBindingAgeSeconds is checked like skewSeconds', () => {
  it('NaN, ±Infinity, a negative number or a non-number is a TypeError (VC and grant), never a check switched off', async () => {
    const t = await withKb(holder, await craft(issuer, bound()), { iat: nowS() - 365 * 86_400 });
    for (const bad of [NaN, Infinity, -Infinity, -1, -0.5, '300', null, 1n]) {
      await expect(vc(t, { maxKeyBindingAgeSeconds: bad as never }), String(bad)).rejects.toThrow(TypeError);
      await expect(
        verifySdJwtGrant(t, {
          resolver,
          status: async () => [],
          resource: 'x',
          action: 'read',
          anyOwner: true,
          aud: AUD,
          nonce: NONCE,
          maxKeyBindingAgeSeconds: bad as never,
        }),
        String(bad),
      ).rejects.toThrow(TypeError);
    }
  });

  it('a year-old key binding is refused by default and by any finite bound below its age; 0 is a bound, not "off"', async () => {
    const old = await withKb(holder, await craft(issuer, bound()), { iat: nowS() - 365 * 86_400 });
    expect(codes(await vc(old))).toEqual(['PRESENTATION_STALE']);
    expect(codes(await vc(old, { maxKeyBindingAgeSeconds: 86_400 }))).toEqual(['PRESENTATION_STALE']);
    expect((await vc(old, { maxKeyBindingAgeSeconds: 400 * 86_400 })).reasons).toEqual([]);
    const recent = await withKb(holder, await craft(issuer, bound()), { iat: nowS() - 120 });
    expect(codes(await vc(recent, { maxKeyBindingAgeSeconds: 0 }))).toEqual(['PRESENTATION_STALE']);
    expect((await vc(recent, { maxKeyBindingAgeSeconds: 0, skewSeconds: 300 })).reasons).toEqual([]);
  });

  it('checkKeyBinding itself refuses a non-finite age or skew', () => {
    const base = { kbJwt: 'x.y.z', holder: importVerificationKey(holder.publicJwk), presented: 'a~', sdAlg: 'sha-256' as const, aud: AUD, nonce: NONCE, now: Date.now() };
    for (const [maxAgeMs, skewMs] of [
      [NaN, 0],
      [Infinity, 0],
      [-1, 0],
      [300_000, NaN],
      [300_000, -1],
    ]) {
      expect(() => checkKeyBinding({ ...base, maxAgeMs: maxAgeMs!, skewMs: skewMs! })).toThrow(TypeError);
    }
  });
});
