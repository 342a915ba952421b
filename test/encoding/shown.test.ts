import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isCharterError, shown } from '../../src/errors.js';
import { createResolver } from '../../src/did/index.js';
import { decodeJwt, verifyCredential } from '../../src/credentials/index.js';
import { verifyPresentation } from '../../src/credentials/present.js';
import { verifySdJwtGrant, verifySdJwtVc } from '../../src/sdjwt/index.js';
import { verifyMandateChain } from '../../src/mandates/index.js';
import { importHttpSigKey } from '../../src/httpsig/keys.js';
import { validatePublicJwk } from '../../src/keys/index.js';

/**
 * JSON from outside may hold objects `String()` cannot print ({"toString":1},
 * an object whose valueOf is a number member): quoted in a refusal, such a
 * value threw a raw TypeError before any signature was checked, so an
 * unsigned token crashed the verifier (a 500 over HTTP, exit 3 in the CLI).
 * Every place that quotes an outside value goes through `shown`.
 */
const resolver = createResolver();
const b = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
const ISS = 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK';
const X = '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo';
const POISON: unknown[] = [{ toString: 1 }, [{ toString: 1 }], { toString: 1, valueOf: 1 }, { toString: {} }, [[{ toString: 'x' }]]];

describe('shown', () => {
  it('quotes strings and primitives as String() does, cut to max', () => {
    expect(shown('abcdef', 3)).toBe('abc');
    expect(shown(42, 10)).toBe('42');
    expect(shown(null, 10)).toBe('null');
    expect(shown(undefined, 10)).toBe('undefined');
    expect(shown(['a', 'b'], 10)).toBe('a,b');
    expect(shown({}, 40)).toBe('[object Object]');
  });
  it('never throws, whatever JSON.parse or a caller hands it', () => {
    for (const v of [...POISON, Object.create(null), Symbol('s'), 10n]) expect(typeof shown(v, 20)).toBe('string');
    fc.assert(fc.property(fc.jsonValue(), (v) => typeof shown(v, 30) === 'string'));
  });
});

describe('an unsigned token carrying an unprintable value is refused, never a crash', () => {
  const payload = { iss: ISS, vct: 'https://ex/vct', cnf: { jwk: { kty: 'OKP', crv: 'Ed25519', x: X } } };
  it.each(POISON.map((p) => [JSON.stringify(p), p]))('SD-JWT VC with typ or _sd_alg %s', async (_, poison) => {
    const tokens = [
      `${b({ alg: 'EdDSA', typ: 'dc+sd-jwt', kid: `${ISS}#x` })}.${b({ ...payload, _sd_alg: poison })}.AAAA~`,
      `${b({ alg: 'EdDSA', typ: poison, kid: `${ISS}#x` })}.${b(payload)}.AAAA~`,
      `${b({ alg: poison, typ: 'dc+sd-jwt', kid: `${ISS}#x` })}.${b(payload)}.AAAA~`,
    ];
    for (const tok of tokens) {
      const v = await verifySdJwtVc(tok, { resolver, aud: 'a', nonce: 'n' });
      expect(v.ok).toBe(false);
      const g = await verifySdJwtGrant(tok, { resolver, status: () => Promise.resolve([]), resource: 'a', action: 'read', anyOwner: true, aud: 'a', nonce: 'n' });
      expect(g.ok).toBe(false);
    }
  });

  it.each(POISON.map((p) => [JSON.stringify(p), p]))('vc+jwt and vp+jwt with typ or alg %s', async (_, poison) => {
    const body = { iss: ISS, '@context': ['https://www.w3.org/ns/credentials/v2'], type: ['VerifiableCredential'], issuer: ISS, credentialSubject: { id: ISS } };
    for (const header of [
      { alg: 'EdDSA', typ: poison },
      { alg: poison, typ: 'vc+jwt' },
      { alg: 'EdDSA', typ: 'vc+jwt', kid: poison },
    ]) {
      const jwt = `${b(header)}.${b(body)}.AAAA`;
      expect((await verifyCredential(jwt, { resolver })).ok).toBe(false);
      expect((await verifyPresentation(jwt, { resolver, aud: 'a', nonce: 'n' })).ok).toBe(false);
      // decodeJwt reads the alg: a poisoned one is a CharterError; a poisoned typ or kid is left to the verifiers above.
      try {
        decodeJwt(jwt);
      } catch (e) {
        expect(isCharterError(e), String(e)).toBe(true);
      }
    }
  });

  it.each(POISON.map((p) => [JSON.stringify(p), p]))('an AP2 mandate layer with _sd_alg %s', async (_, poison) => {
    const tok = `${b({ alg: 'ES256', typ: 'JWT' })}.${b({ _sd_alg: poison, iat: 1 })}.AAAA~`;
    const run = verifyMandateChain({ payment: tok }, { profile: 'ap2', trust: { issuers: [], resolver } } as never);
    const v = await run.catch((e: unknown) => e);
    // Refused as a decision or as a CharterError; never a TypeError.
    if (v instanceof Error) expect(isCharterError(v)).toBe(true);
    else expect((v as { ok: boolean }).ok).toBe(false);
  });

  it.each(POISON.map((p) => [JSON.stringify(p), p]))('keys with alg or crv %s: INVALID_KEY-class CharterErrors', (_, poison) => {
    for (const jwk of [
      { kty: 'OKP', crv: 'Ed25519', x: X, alg: poison },
      { kty: 'OKP', crv: poison, x: X },
    ]) {
      let e: unknown;
      try {
        importHttpSigKey(jwk);
      } catch (x) {
        e = x;
      }
      expect(isCharterError(e), String(e)).toBe(true);
      try {
        validatePublicJwk(jwk as never);
        e = undefined;
      } catch (x) {
        e = x;
      }
      expect(isCharterError(e), String(e)).toBe(true);
    }
  });
});
