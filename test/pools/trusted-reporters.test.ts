import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolver } from '../../src/did/index.js';
import { issueUsageReport, poolPayouts, readUsage } from '../../src/pools/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { makeIssuer, tempDir } from '../helpers.js';

/**
 * trustedReporters is a list of DIDs: given as a string, `includes` would
 * match its substrings (a report signed by did:web:acme.com counted for a
 * verifier that trusts did:web:acme.com.au). It is refused (TypeError) unless
 * an array of non-empty strings, and matched by whole DID.
 */
const resolver = createResolver();
const [reporter, pool, member, grantee] = [makeIssuer(), makeIssuer(), makeIssuer(), makeIssuer()];
const GRANT = `urn:uuid:${randomUUID()}`;
const grants = new Map([[GRANT, { grantee: grantee.did }]]);
const reportJwt = async () => (await issueUsageReport(reporter, { pool: pool.did, grant: GRANT, uses: [{ member: member.did, time: new Date(Date.now() - 60_000) }] })).jwt;

const BAD: [string, unknown][] = [
  ['a string holding the DID and more', `${reporter.did}.au`],
  ['a string of the DID itself', reporter.did],
  ['an array with a number', [reporter.did, 42]],
  ['an array with an empty string', ['']],
  ['an array with null', [null]],
  ['an array with an array', [[reporter.did]]],
  ['an object', { [reporter.did]: true }],
];

let store: Store;
beforeAll(async () => {
  store = await openSqliteStore(join(tempDir('charter-reporters-'), 's.db'));
});
afterAll(async () => {
  await store.close();
});

describe('trustedReporters is a list of whole DIDs', () => {
  it.each(BAD)('readUsage refuses %s (TypeError), counting nothing', async (_, list) => {
    const jwt = await reportJwt();
    await expect(readUsage([jwt], { resolver, pool: pool.did, grants, trustedReporters: list as string[] })).rejects.toThrow(TypeError);
    await expect(readUsage([], { resolver, pool: pool.did, grants, trustedReporters: list as string[] })).rejects.toThrow(/trustedReporters/);
  });

  it.each(BAD)('poolPayouts refuses %s (TypeError)', async (_, list) => {
    await expect(poolPayouts(store, pool, { resolver, period: 'P1M', reports: [], trustedReporters: list as string[] })).rejects.toThrow(/trustedReporters/);
  });

  it('matches whole DIDs: a listed reporter counts, a DID it is a prefix or a suffix of does not', async () => {
    const jwt = await reportJwt();
    const ok = await readUsage([jwt], { resolver, pool: pool.did, grants, trustedReporters: [reporter.did] });
    expect(ok.uses).toHaveLength(1);
    for (const near of [`${reporter.did}.au`, reporter.did.slice(0, -1), `x${reporter.did}`]) {
      const r = await readUsage([jwt], { resolver, pool: pool.did, grants, trustedReporters: [near] });
      expect(r.uses).toEqual([]);
      expect(r.ignored.map((i) => i.code)).toEqual(['UNTRUSTED_ISSUER']);
    }
    // absent or empty: only the grantee reports
    expect((await readUsage([jwt], { resolver, pool: pool.did, grants })).ignored.map((i) => i.code)).toEqual(['UNTRUSTED_ISSUER']);
    expect((await readUsage([jwt], { resolver, pool: pool.did, grants, trustedReporters: [] })).ignored.map((i) => i.code)).toEqual(['UNTRUSTED_ISSUER']);
  });

  it('poolPayouts still takes a proper list', async () => {
    const r = await poolPayouts(store, pool, { resolver, period: 'P1M', reports: [await reportJwt()], trustedReporters: [reporter.did] });
    expect(r.statement).toBeDefined();
  });
});
