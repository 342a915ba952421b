import { describe, expect, it } from 'vitest';
import { signJwt } from '../../src/credentials/index.js';
import type { Credential } from '../../src/credentials/types.js';
import { createResolver } from '../../src/did/index.js';
import { createStatusChecker, encodeBitstring, MAX_STATUS_SIZE, MIN_LIST_SIZE, setBit } from '../../src/status/index.js';
import { readStatusSize } from '../../src/status/entry.js';
import { makeIssuer } from '../helpers.js';

/**
 * Bitstring Status List v1.0 at its edges: a list `ttl` of 0 (§2.2 says only
 * "a number of milliseconds"), the cache used until a list's expiry and not
 * at it, the most status entries a credential may carry (16) and the widest
 * statusSize read (16). Lists come from `source` (no network): each read is a
 * fetch.
 */
const resolver = createResolver();
const issuer = makeIssuer();
const URL_ = 'https://issuer.example/status/1';
const T = Date.UTC(2031, 0, 1);

async function list(o: { ttl?: unknown; revoked?: number[]; validFrom?: number; type?: string[] } = {}): Promise<string> {
  const bits = new Uint8Array(MIN_LIST_SIZE / 8);
  for (const i of o.revoked ?? []) setBit(bits, i, true);
  const subject = {
    id: `${URL_}#list`,
    type: 'BitstringStatusList',
    statusPurpose: 'revocation',
    encodedList: encodeBitstring(bits),
    ...(o.ttl !== undefined ? { ttl: o.ttl } : {}),
  };
  const payload = {
    '@context': ['https://www.w3.org/ns/credentials/v2'],
    id: URL_,
    type: o.type ?? ['VerifiableCredential', 'BitstringStatusListCredential'],
    issuer: issuer.did,
    validFrom: new Date(o.validFrom ?? T - 3_600_000).toISOString(),
    credentialSubject: subject,
  };
  return signJwt({ typ: 'vc+jwt', cty: 'vc' }, payload, issuer.signer, issuer.kid);
}
const entry = (index: number) => ({ type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: String(index), statusListCredential: URL_ });
const credential = (status: unknown) => ({ id: 'urn:uuid:edge', credentialStatus: status }) as unknown as Credential;

function world(jwts: string[], o: Partial<Parameters<typeof createStatusChecker>[0]> = {}) {
  let fetches = 0;
  const c = createStatusChecker({ resolver, source: async () => jwts[Math.min(fetches++, jwts.length - 1)]!, ...o });
  const codes = async (status: unknown) => (await c(credential(status), { issuer: issuer.did, now: new Date(T) })).map((r) => r.code);
  return { codes, fetches: () => fetches };
}

describe('Bitstring Status List edges', () => {
  it('a list ttl of 0 is a ttl (fetch again next time); below 0 or not a number is refused', async () => {
    let clock = T;
    const zero = world([await list({ ttl: 0 }), await list({ ttl: 0, revoked: [5], validFrom: T - 1000 })], { now: () => clock });
    expect(await zero.codes(entry(5))).toEqual([]);
    clock += 1;
    expect(await zero.codes(entry(5))).toEqual(['CREDENTIAL_REVOKED']);
    expect(zero.fetches()).toBe(2);
    for (const ttl of [-1, '300', Number.POSITIVE_INFINITY]) {
      const w = world([await list({ ttl })], { now: () => T });
      expect(await w.codes(entry(5)), String(ttl)).toEqual(['STATUS_INVALID']);
    }
  });

  it('a cached list is used until fetch + maxStaleness and fetched again at that instant', async () => {
    let clock = T;
    const w = world([await list(), await list({ revoked: [5], validFrom: T - 1000 })], { now: () => clock, maxStalenessSeconds: 30 });
    expect(await w.codes(entry(5))).toEqual([]);
    clock += 29_999;
    expect(await w.codes(entry(5))).toEqual([]);
    expect(w.fetches()).toBe(1);
    clock += 1;
    expect(await w.codes(entry(5))).toEqual(['CREDENTIAL_REVOKED']);
    expect(w.fetches()).toBe(2);
  });

  it('a credential may carry 16 status entries, all read; 17 (or none) are refused', async () => {
    const w = world([await list({ revoked: [15] })], { now: () => T });
    const sixteen = Array.from({ length: 16 }, (_, i) => entry(i));
    // The 16th entry is read: its list says revoked.
    expect(await w.codes(sixteen)).toEqual(['CREDENTIAL_REVOKED']);
    expect(await w.codes(sixteen.slice(0, 15))).toEqual([]);
    expect(await w.codes([...sixteen, entry(16)])).toEqual(['STATUS_INVALID']);
    expect(await w.codes([])).toEqual(['STATUS_INVALID']);
  });

  it(`statusSize: 1 to ${MAX_STATUS_SIZE} are read, 0, ${MAX_STATUS_SIZE + 1}, fractions and strings are refused`, () => {
    for (const v of [1, 2, 8, MAX_STATUS_SIZE]) expect(readStatusSize(v, 'the entry')).toBe(v);
    expect(readStatusSize(undefined, 'the entry')).toBeUndefined();
    for (const v of [0, -1, MAX_STATUS_SIZE + 1, 1.5, '1', null, Number.NaN]) {
      expect(() => readStatusSize(v, 'the entry'), String(v)).toThrow(expect.objectContaining({ code: 'STATUS_INVALID' }));
    }
  });

  it('a list credential not typed BitstringStatusListCredential is refused, though its subject is a BitstringStatusList', async () => {
    for (const type of [['VerifiableCredential'], ['VerifiableCredential', 'StatusList2021Credential']]) {
      const w = world([await list({ type, revoked: [5] })], { now: () => T });
      expect([type, await w.codes(entry(4))]).toEqual([type, ['STATUS_INVALID']]);
    }
  });
});
