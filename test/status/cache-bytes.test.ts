import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createStatusChecker, encodeBitstring, MIN_LIST_SIZE } from '../../src/status/index.js';
import { LIST_CACHE_BYTES } from '../../src/status/checker.js';
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
