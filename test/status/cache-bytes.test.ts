import { randomBytes } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createStatusChecker, encodeBitstring, MIN_LIST_SIZE } from '../../src/status/index.js';
import { LIST_CACHE_BYTES } from '../../src/status/checker.js';
import { createTokenStatusChecker } from '../../src/status/token-checker.js';
import { issueCredential, signJwt, verifyCredential } from '../../src/credentials/index.js';
import type { CredentialStatusEntry } from '../../src/credentials/types.js';
import { createResolver } from '../../src/did/index.js';
import { makeIssuer } from '../helpers.js';

/**
 * The status list cache is bounded by what its lists hold, not only by how
 * many: anyone can issue credentials naming lists of their own, each up to
 * 1 MiB signed and 2 MiB of bits, so a cache of 1,000 such lists would be
 * gigabytes filled by requests that are all refused. Observed from outside:
 * a list pushed out is fetched again on its next use.
 */
const V2 = 'https://www.w3.org/ns/credentials/v2';
const resolver = createResolver();
const issuer = makeIssuer();
const holder = makeIssuer();

function lists(bits: Uint8Array) {
  const encodedList = encodeBitstring(bits);
  const signed = new Map<string, Promise<string>>();
  const fetched = new Map<string, number>();
  const source = async (url: string) => {
    fetched.set(url, (fetched.get(url) ?? 0) + 1);
    let jwt = signed.get(url);
    if (!jwt) {
      const payload = {
        '@context': [V2],
        id: url,
        type: ['VerifiableCredential', 'BitstringStatusListCredential'],
        issuer: issuer.did,
        validFrom: new Date(Date.now() - 3_600_000).toISOString(),
        credentialSubject: { id: `${url}#list`, type: 'BitstringStatusList', statusPurpose: 'revocation', encodedList },
      };
      jwt = signJwt({ typ: 'vc+jwt' }, payload, issuer.signer, issuer.kid);
      signed.set(url, jwt);
    }
    return jwt;
  };
  return { source, fetched, size: encodedList.length + bits.length };
}

const credentialNaming = async (url: string) =>
  (
    await issueCredential({
      issuer,
      subject: holder.did,
      type: 'TestCredential',
      claims: {},
      credentialStatus: { type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: '7', statusListCredential: url } as unknown as CredentialStatusEntry,
    })
  ).jwt;

async function useEach(o: ReturnType<typeof lists>, n: number) {
  const status = createStatusChecker({ resolver, source: o.source });
  const urls = Array.from({ length: n }, (_, i) => `https://lists.example/l/${i}`);
  for (const url of urls) expect((await verifyCredential(await credentialNaming(url), { resolver, status })).reasons.map((r) => r.message)).toEqual([]);
  // The first list once more: cached, or pushed out and fetched again.
  expect((await verifyCredential(await credentialNaming(urls[0]!), { resolver, status })).reasons).toEqual([]);
  return o.fetched.get(urls[0]!);
}

describe('the Bitstring Status List cache: bounded by bytes', () => {
  it('lists of the largest size push the oldest out long before the count cap', async () => {
    // 2 MiB of bits, 450 KB of them random: about 0.8 MB signed, 2.9 MB held per list.
    const bits = new Uint8Array(2 * 1024 * 1024);
    bits.set(randomBytes(450_000), 1024); // index 7 (the entries') stays 0
    const big = lists(bits);
    const n = Math.ceil(LIST_CACHE_BYTES / big.size) + 4;
    expect(n).toBeLessThan(1000);
    expect(await useEach(big, n)).toBe(2);
  }, 60_000);

  it('ordinary lists of the minimum size stay cached, as many as before', async () => {
    expect(await useEach(lists(new Uint8Array(MIN_LIST_SIZE / 8)), 40)).toBe(1);
  }, 60_000);
});

describe('the Token Status List cache: bounded by bytes', () => {
  async function useEach(bytes: Uint8Array, n: number) {
    const lst = deflateSync(bytes).toString('base64url');
    const fetched = new Map<string, number>();
    const signed = new Map<string, Promise<string>>();
    const source = async (url: string) => {
      fetched.set(url, (fetched.get(url) ?? 0) + 1);
      let jwt = signed.get(url);
      if (!jwt) {
        const iat = Math.floor(Date.now() / 1000) - 60;
        jwt = signJwt({ typ: 'statuslist+jwt' }, { iss: issuer.did, sub: url, iat, exp: iat + 3600, status_list: { bits: 1, lst } }, issuer.signer, issuer.kid);
        signed.set(url, jwt);
      }
      return jwt;
    };
    const check = createTokenStatusChecker({ resolver, source });
    const urls = Array.from({ length: n }, (_, i) => `https://lists.example/t/${i}`);
    for (const uri of [...urls, urls[0]!]) expect(await check({ status_list: { idx: 0, uri } }, { issuer: issuer.did, now: new Date() })).toEqual([]);
    return fetched.get(urls[0]!);
  }

  it('large lists push the oldest out long before the count cap; small ones stay', async () => {
    // 2 MiB of statuses, 450 KB of them random (index 0 stays VALID): about 0.8 MB signed, 2.9 MB held.
    const big = new Uint8Array(2 * 1024 * 1024);
    big.set(randomBytes(450_000), 1024);
    expect(await useEach(big, Math.ceil(LIST_CACHE_BYTES / (2 * 1024 * 1024)) + 4)).toBe(2);
    expect(await useEach(new Uint8Array(16 * 1024), 40)).toBe(1);
  }, 60_000);
});

describe('cacheMaxEntries is checked when a checker is built', () => {
  it('a whole number >= 0, else a TypeError naming the option (both checkers)', () => {
    for (const bad of [-1, 1.5, Number.NaN, Infinity, '5', null]) {
      expect(() => createStatusChecker({ resolver, cacheMaxEntries: bad as never })).toThrow(/cacheMaxEntries/);
      expect(() => createTokenStatusChecker({ resolver, cacheMaxEntries: bad as never })).toThrow(/cacheMaxEntries/);
    }
    for (const ok of [0, 1, 1000]) {
      expect(() => createStatusChecker({ resolver, cacheMaxEntries: ok })).not.toThrow();
      expect(() => createTokenStatusChecker({ resolver, cacheMaxEntries: ok })).not.toThrow();
    }
  });
});
