import { describe, expect, it } from 'vitest';
import { createResolver } from '../../src/did/index.js';
import { issueCredential, verifyCredential } from '../../src/credentials/index.js';
import { makeIssuer } from '../helpers.js';

/**
 * The validity window at its very edges, to the millisecond, with and without
 * skew. RFC 7519 §4.1.4: the current time "MUST be before" exp, so a token is
 * expired at exp itself; §4.1.5: it may be accepted from nbf on (at nbf, not
 * before). VCDM 2.0 validUntil / validFrom read the same way (the JWT's exp and
 * nbf carry them). A comparison off by one millisecond or a skew applied the
 * wrong way round is a credential accepted outside its window.
 */
const resolver = createResolver();
const alice = makeIssuer('Ed25519');
const T = Date.UTC(2031, 0, 1, 12, 0, 0);
const day = 86_400_000;
const codes = async (jwt: string, now: number, skewSeconds: number) => (await verifyCredential(jwt, { resolver, now: new Date(now), skewSeconds })).reasons.map((r) => r.code);
const issue = (over: Partial<Parameters<typeof issueCredential>[0]>) =>
  issueCredential({ issuer: alice, subject: alice.did, type: 'EmailCredential', claims: { email: 'a@example.com' }, ...over });

describe('the validity window to the millisecond', () => {
  it.each(['vc+jwt', 'vc-jwt-1.1'] as const)('%s: expired at validUntil + skew, valid one millisecond before', async (format) => {
    const vc = await issue({ format, validFrom: new Date(T - day), validUntil: new Date(T) });
    for (const skew of [0, 60, 300]) {
      expect(await codes(vc.jwt, T + skew * 1000 - 1, skew)).toEqual([]);
      expect(await codes(vc.jwt, T + skew * 1000, skew)).toEqual(['CREDENTIAL_EXPIRED']);
    }
  });

  it.each(['vc+jwt', 'vc-jwt-1.1'] as const)('%s: valid from validFrom - skew, not one millisecond earlier', async (format) => {
    const vc = await issue({ format, validFrom: new Date(T), validUntil: new Date(T + day) });
    for (const skew of [0, 60, 300]) {
      expect(await codes(vc.jwt, T - skew * 1000, skew)).toEqual([]);
      expect(await codes(vc.jwt, T - skew * 1000 - 1, skew)).toEqual(['CREDENTIAL_NOT_YET_VALID']);
    }
  });

  it('iat: issued at iat - skew is fine, one millisecond earlier is "issued in the future"', async () => {
    const vc = await issue({ validFrom: new Date(T - day), validUntil: new Date(T + day), extra: { iat: T / 1000 } });
    for (const skew of [0, 60]) {
      expect(await codes(vc.jwt, T - skew * 1000, skew)).toEqual([]);
      expect(await codes(vc.jwt, T - skew * 1000 - 1, skew)).toEqual(['ISSUED_IN_FUTURE']);
    }
  });

  it('a JWT exp earlier than validUntil, and an nbf later than validFrom, are the bounds that apply', async () => {
    const early = await issue({ validFrom: new Date(T - day), validUntil: new Date(T + day), extra: { exp: T / 1000 } });
    expect(await codes(early.jwt, T - 1, 0)).toEqual([]);
    expect(await codes(early.jwt, T, 0)).toEqual(['CREDENTIAL_EXPIRED']);
    const late = await issue({ validFrom: new Date(T - day), validUntil: new Date(T + day), extra: { nbf: T / 1000 } });
    expect(await codes(late.jwt, T, 0)).toEqual([]);
    expect(await codes(late.jwt, T - 1, 0)).toEqual(['CREDENTIAL_NOT_YET_VALID']);
  });

  it('a NumericDate at the end of the ECMAScript time range is a date; one second past it is not', async () => {
    // ±8.64e15 ms (ECMA-262 §21.4.1.22 Time Values) is ±8.64e12 s: the last representable instant.
    const last = await issue({ validFrom: new Date(T - day), extra: { exp: 8.64e12 } });
    expect(await codes(last.jwt, T, 0)).toEqual([]);
    const beyond = await issue({ validFrom: new Date(T - day), extra: { exp: 8.64e12 + 1 } });
    expect(await codes(beyond.jwt, T, 0)).toEqual(['INVALID_CREDENTIAL']);
  });
});
