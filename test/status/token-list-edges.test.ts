import { describe, expect, it } from 'vitest';
import { signJwt } from '../../src/credentials/index.js';
import { createResolver } from '../../src/did/index.js';
import { encodeTokenStatusList, writeTokenStatus } from '../../src/status/token-codec.js';
import { createTokenStatusChecker, type TokenStatusCheckerOptions } from '../../src/status/token-checker.js';
import { makeIssuer } from '../helpers.js';

/**
 * A Status List Token at the edges of its times and of the checker's cache,
 * to the millisecond (draft-ietf-oauth-status-list §5.1, §8.3; RFC 7519
 * §4.1.4-5): expired at exp + skew, not valid before iat - skew or nbf - skew,
 * a ttl that is a positive number only, and a cached list used until its
 * expiry and not at it. Lists come from `source` (no network): each read of
 * the source is a fetch.
 */
const resolver = createResolver();
const issuer = makeIssuer();
const T = 1_900_000_000; // seconds
const URL_ = 'https://issuer.example/statuslists/1';

async function list(over: Record<string, unknown> = {}, revoked = false): Promise<string> {
  const bytes = new Uint8Array(16);
  if (revoked) writeTokenStatus(bytes, 1, 3, 1);
  return signJwt(
    { typ: 'statuslist+jwt' },
    { iss: issuer.did, sub: URL_, iat: T, exp: T + 3600, ttl: 300, status_list: { bits: 1, lst: encodeTokenStatusList(bytes) }, ...over },
    issuer.signer,
    issuer.kid,
  );
}

function world(jwts: string[], o: Partial<TokenStatusCheckerOptions> = {}) {
  let fetches = 0;
  const c = createTokenStatusChecker({ resolver, source: async () => jwts[Math.min(fetches++, jwts.length - 1)]!, ...o });
  const codes = async (at: number) => (await c({ status_list: { idx: 3, uri: URL_ } }, { issuer: issuer.did, now: new Date(at) })).map((r) => r.code);
  return { codes, fetches: () => fetches };
}

describe('a Status List Token at the edges of its times', () => {
  it.each([0, 60])('skew %d s: expired at exp + skew, readable a millisecond before', async (skewSeconds) => {
    const exp = (T + 3600) * 1000;
    const w = world([await list()], { skewSeconds, now: () => T * 1000 });
    expect(await w.codes(exp + skewSeconds * 1000 - 1)).toEqual([]);
    expect(await w.codes(exp + skewSeconds * 1000)).toEqual(['STATUS_INVALID']);
  });

  it.each([0, 60])('skew %d s: issued at iat, readable from iat - skew and not a millisecond earlier', async (skewSeconds) => {
    const w = world([await list()], { skewSeconds, now: () => T * 1000 });
    expect(await w.codes(T * 1000 - skewSeconds * 1000)).toEqual([]);
    expect(await w.codes(T * 1000 - skewSeconds * 1000 - 1)).toEqual(['STATUS_INVALID']);
  });

  it.each([0, 60])('skew %d s: nbf later than iat, readable from nbf - skew and not a millisecond earlier', async (skewSeconds) => {
    const nbf = T + 600;
    const w = world([await list({ nbf })], { skewSeconds, now: () => T * 1000 });
    expect(await w.codes(nbf * 1000 - skewSeconds * 1000)).toEqual([]);
    expect(await w.codes(nbf * 1000 - skewSeconds * 1000 - 1)).toEqual(['STATUS_INVALID']);
  });

  it('a ttl of 0, below 0, not finite or not a number is refused (§5.1: a positive number)', async () => {
    for (const ttl of [0, -1, -0.5, '300', null]) {
      const w = world([await list({ ttl })], { now: () => T * 1000 });
      expect(await w.codes(T * 1000), String(ttl)).toEqual(['STATUS_INVALID']);
    }
    // A positive fraction is a ttl; none at all is fine too (ttl is OPTIONAL).
    for (const ttl of [0.5, undefined]) {
      const ok = world([await list({ ttl })], { now: () => T * 1000 });
      expect(await ok.codes(T * 1000), String(ttl)).toEqual([]);
    }
  });
});

describe("the checker's cache at the edge of a list's lifetime", () => {
  it('a cached list is used until fetch + min(ttl, maxStaleness) and fetched again at that instant', async () => {
    let clock = T * 1000;
    // The second fetch answers a list that revokes index 3.
    const w = world([await list(), await list({ iat: T + 1 }, true)], { now: () => clock, maxStalenessSeconds: 30 });
    expect(await w.codes(clock)).toEqual([]);
    clock += 29_999;
    expect(await w.codes(clock)).toEqual([]);
    expect(w.fetches()).toBe(1);
    clock += 1;
    expect(await w.codes(clock)).toEqual(['CREDENTIAL_REVOKED']);
    expect(w.fetches()).toBe(2);
  });

  it('a list whose exp comes before its ttl is fetched again at exp', async () => {
    let clock = T * 1000;
    const w = world([await list({ exp: T + 10 }), await list({ iat: T + 1, exp: T + 3600 }, true)], { now: () => clock, skewSeconds: 0 });
    expect(await w.codes(clock)).toEqual([]);
    clock = (T + 10) * 1000 - 1;
    expect(await w.codes(clock)).toEqual([]);
    expect(w.fetches()).toBe(1);
    clock += 1;
    expect(await w.codes(clock)).toEqual(['CREDENTIAL_REVOKED']);
    expect(w.fetches()).toBe(2);
  });
});
