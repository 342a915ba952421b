import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createStatusChecker, createStatusList, currentStatusListJwt, readStatus, setStatus, decodeBitstring } from '../../src/status/index.js';
import { currentTokenStatusListJwt } from '../../src/status/token-issuer.js';
import { decodeTokenStatusList, readTokenStatus } from '../../src/status/token-codec.js';
import { decodeJwt, issueCredential, verifyCredential } from '../../src/credentials/index.js';
import type { CredentialStatusEntry } from '../../src/credentials/types.js';
import { createResolver } from '../../src/did/index.js';
import { parseDateTime } from '../../src/encoding/time.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import type { Store } from '../../src/store/types.js';
import { makeIssuer, tempDir } from '../helpers.js';

/**
 * The issuer's side of "a verifier never goes back" (status/rollback.ts):
 * every copy of a list is dated after the one before, to the millisecond, so
 * two revocations within one second make two copies a verifier can order;
 * and a copy signed from bits read before a revocation committed is never
 * handed out as current (it would be dated after the revoker's own copy).
 */
const issuer = makeIssuer();
const issuerFor = async () => issuer;
let store: Store;
beforeAll(async () => {
  store = await openSqliteStore(join(tempDir('charter-list-order-'), 'charter.db'));
});
afterAll(async () => store.close());

const validFrom = (jwt: string) => parseDateTime(decodeJwt(jwt).payload.validFrom)!;
const bitOf = (jwt: string, index: number) => readStatus(decodeBitstring((decodeJwt(jwt).payload.credentialSubject as { encodedList: string }).encodedList), index, 1);

describe('copies of a list are strictly ordered', () => {
  it('ten changes within a second: ten copies, each dated after the one before', async () => {
    const list = await createStatusList(store, { issuerDid: issuer.did, purpose: 'revocation', baseUrl: 'https://issuer.example' });
    const dates: number[] = [];
    for (let i = 0; i < 10; i++) {
      await setStatus(store, list.id, i, true, issuerFor);
      dates.push(validFrom(await currentStatusListJwt(store, list.id, issuerFor)));
    }
    for (let i = 1; i < dates.length; i++) expect(dates[i]!).toBeGreaterThan(dates[i - 1]!);
    // Close to now: a burst does not push the date ahead of the clock by more than a few ms each.
    expect(dates.at(-1)! - Date.now()).toBeLessThan(1000);
  });

  it("a verifier that read the second revocation's copy refuses the first's (signed in the same second)", async () => {
    const list = await createStatusList(store, { issuerDid: issuer.did, purpose: 'revocation', baseUrl: 'https://issuer.example' });
    const entry = (i: number) =>
      ({ type: 'BitstringStatusListEntry', statusPurpose: 'revocation', statusListIndex: String(i), statusListCredential: list.url }) as unknown as CredentialStatusEntry;
    const a = (await issueCredential({ issuer, subject: makeIssuer().did, type: 'T', claims: {}, credentialStatus: entry(1) })).jwt;
    const b = (await issueCredential({ issuer, subject: makeIssuer().did, type: 'T', claims: {}, credentialStatus: entry(2) })).jwt;
    await setStatus(store, list.id, 1, true, issuerFor);
    const first = await currentStatusListJwt(store, list.id, issuerFor);
    await setStatus(store, list.id, 2, true, issuerFor);
    const second = await currentStatusListJwt(store, list.id, issuerFor);
    let serving = second;
    const resolver = createResolver();
    let clock = Date.now();
    const status = createStatusChecker({ resolver, source: async () => serving, now: () => clock, defaultTtlMs: 1000 });
    expect((await verifyCredential(b, { resolver, status })).reasons.map((r) => r.code)).toEqual(['CREDENTIAL_REVOKED']);
    serving = first;
    clock += 120_000; // past any cache lifetime
    expect((await verifyCredential(b, { resolver, status, now: new Date(clock) })).reasons.map((r) => r.code)).toEqual(['STATUS_UNAVAILABLE']);
    expect((await verifyCredential(a, { resolver, status, now: new Date(clock) })).reasons.map((r) => r.code)).toEqual(['STATUS_UNAVAILABLE']);
  });
});

describe('a copy signed from bits read before a revocation committed is never served as current', () => {
  it('Bitstring Status List: the revocation committed while the fetch was signing is in the copy returned', async () => {
    const list = await createStatusList(store, { issuerDid: issuer.did, purpose: 'revocation', baseUrl: 'https://issuer.example' });
    await currentStatusListJwt(store, list.id, issuerFor);
    // A change committed but not yet signed (a crash before re-signing): the next fetch signs.
    await store.setStatusBit(list.id, 5, true);
    let raced = false;
    // The fetch reads the list, then (while it unlocks the key) a revocation of index 7 commits.
    const racing = async () => {
      if (!raced) {
        raced = true;
        await store.setStatusBit(list.id, 7, true);
      }
      return issuer;
    };
    const jwt = await currentStatusListJwt(store, list.id, racing);
    expect(raced).toBe(true);
    expect(bitOf(jwt, 7)).toBe(1);
    expect(bitOf(jwt, 5)).toBe(1);
  });

  it('Token Status List: the same', async () => {
    const list = await createStatusList(store, { issuerDid: issuer.did, purpose: 'revocation', baseUrl: 'https://issuer.example' });
    let raced = false;
    const racing = async () => {
      if (!raced) {
        raced = true;
        await store.setStatusBit(list.id, 9, true);
      }
      return issuer;
    };
    const jwt = await currentTokenStatusListJwt(store, list.id, racing);
    expect(raced).toBe(true);
    const sl = decodeJwt(jwt).payload.status_list as { bits: 1; lst: string };
    expect(readTokenStatus(decodeTokenStatusList(sl.lst), 1, 9)).toBe(1);
  });
});
