import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHome, type Home } from '../../src/home/home.js';
import { createResolver, didKeyRef } from '../../src/did/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { MAX_POOL_MEMBERS } from '../../src/grants/index.js';
import { setCredentialStatus } from '../../src/status/index.js';
import { checkFounding, createPool, currentEpoch, issueMembership, joinerOf, signAcceptance } from '../../src/pools/membership.js';
import { makeIssuer, tempDir } from '../helpers.js';

const BASE = 'http://127.0.0.1:8190';
const resolver = createResolver({ allowLoopback: true, allowHttp: true });

describe('checkFounding: what founding a pool needs, checked before anything exists', () => {
  const a = makeIssuer().did;
  const b = makeIssuer().did;
  const c = makeIssuer().did;

  it('accepts 1 ≤ k ≤ n distinct founders', () => {
    for (const [threshold, founders] of [
      [1, [a]],
      [1, [a, b, c]],
      [3, [a, b, c]],
    ] as const)
      expect(() => checkFounding({ threshold, founders })).not.toThrow();
  });

  it.each([
    ['k above n', 3, [a, b]],
    ['k of 0', 0, [a]],
    ['k negative', -1, [a, b]],
    ['k fractional', 1.5, [a, b]],
    ['k NaN (a flag that is no number)', Number('two'), [a]],
    ['k Infinity', Infinity, [a]],
    ['no founder', 1, []],
    ['a founder twice', 1, [a, a]],
  ] as const)('%s: INVALID_ARGUMENT', (_what, threshold, founders) => {
    expect(() => checkFounding({ threshold, founders })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('one key under two DIDs (did:key and did:jwk) is one founder named twice', () => {
    const one = makeIssuer();
    const jwk = didKeyRef('jwk', one.publicJwk).did;
    expect(() => checkFounding({ threshold: 1, founders: [one.did, jwk] })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/twice/) }));
  });

  it(`more than ${MAX_POOL_MEMBERS} founders: INVALID_ARGUMENT`, () => {
    const many = Array.from({ length: MAX_POOL_MEMBERS + 1 }, () => makeIssuer().did);
    expect(() => checkFounding({ threshold: 1, founders: many })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => checkFounding({ threshold: 1, founders: many.slice(1) })).not.toThrow();
  });

  it('the pool among its founders, when its DID is known: INVALID_ARGUMENT', () => {
    expect(() => checkFounding({ threshold: 1, founders: [a, b], pool: b })).toThrow(expect.objectContaining({ message: expect.stringMatching(/own member/) }));
    expect(() => checkFounding({ threshold: 1, founders: [a, b], pool: c })).not.toThrow();
  });
});

describe('createPool after a founding a crash interrupted (memberships written, no epoch)', () => {
  let home: Home;
  let members: Issuer[];
  beforeAll(async () => {
    home = await openHome({ home: join(tempDir('charter-founding-'), 'home'), passphrase: async () => 'founding tests passphrase', allowLoopback: true });
    await home.init(BASE);
    for (const m of ['m0', 'm1', 'm2']) await home.createIdentity({ alias: m });
    members = await Promise.all(['m0', 'm1', 'm2'].map((m) => home.issuer(m)));
  });
  afterAll(() => home.close());

  /** A pool identity and the memberships a killed `createPool` issued to `founders` before its epoch. */
  async function interrupted(alias: string, founders: Issuer[]): Promise<{ pool: Issuer; accepted: Map<string, string> }> {
    await home.createIdentity({ alias, meta: { role: 'pool' } });
    const pool = await home.issuer(alias);
    const accepted = new Map<string, string>();
    for (const f of founders) {
      const { member } = await issueMembership(home.store, pool, {
        id: `urn:uuid:${randomUUID()}`,
        member: f.did,
        acceptance: (s) => signAcceptance(f, pool.did, s),
        since: 0,
        baseUrl: BASE,
        resolver,
      });
      accepted.set(f.did, member.accepted);
    }
    return { pool, accepted };
  }
  const held = (pool: string, member?: string) => home.store.listCredentials({ type: 'PoolMembershipCredential', issuer: pool, ...(member ? { subject: member } : {}) });

  it('reuses every founder membership already issued: one membership per founder, epoch 0 names them', async () => {
    const { pool, accepted } = await interrupted('p-all', members);
    const s = await createPool(home.store, pool, { threshold: 2, founders: members.map(joinerOf), baseUrl: BASE, resolver });
    expect(s).toMatchObject({ pool: pool.did, epoch: 0, threshold: 2, members: members.map((m) => m.did) });
    expect(await held(pool.did)).toHaveLength(3);
    const e = await currentEpoch(home.store, pool.did);
    expect(e.members.map((m) => m.accepted)).toEqual(members.map((m) => accepted.get(m.did)));
  });

  it('killed part-way: the founders already served are reused, the others get theirs now', async () => {
    const { pool, accepted } = await interrupted('p-part', [members[0]!]);
    await createPool(home.store, pool, { threshold: 3, founders: members.map(joinerOf), baseUrl: BASE, resolver });
    for (const m of members) expect(await held(pool.did, m.did)).toHaveLength(1);
    const e = await currentEpoch(home.store, pool.did);
    expect(e.members[0]!.accepted).toBe(accepted.get(members[0]!.did));
    expect(new Set(e.members.map((m) => m.accepted)).size).toBe(3);
  });

  it('a membership its member withdrew meanwhile is not reused: that founder gets a new one', async () => {
    const { pool, accepted } = await interrupted('p-gone', [members[1]!]);
    const [rec] = await held(pool.did, members[1]!.did);
    await setCredentialStatus(home.store, rec!.id, 'revocation', true, async () => pool);
    await createPool(home.store, pool, { threshold: 1, founders: [joinerOf(members[1]!)], baseUrl: BASE, resolver });
    const e = await currentEpoch(home.store, pool.did);
    expect(e.members[0]!.accepted).not.toBe(accepted.get(members[1]!.did));
    expect(await held(pool.did, members[1]!.did)).toHaveLength(2);
  });

  it('a refused founding (k above n, the pool its own member) writes nothing: no membership, no status entry', async () => {
    await home.createIdentity({ alias: 'p-refused', meta: { role: 'pool' } });
    const pool = await home.issuer('p-refused');
    const lists = await home.store.listStatusLists({ issuerDid: pool.did, purpose: 'revocation' });
    await expect(createPool(home.store, pool, { threshold: 4, founders: members.map(joinerOf), baseUrl: BASE, resolver })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(createPool(home.store, pool, { threshold: 1, founders: [joinerOf(pool)], baseUrl: BASE, resolver })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await held(pool.did)).toHaveLength(0);
    expect(await home.store.listStatusLists({ issuerDid: pool.did, purpose: 'revocation' })).toEqual(lists);
    // And a second founding of a founded pool is ALREADY_EXISTS.
    await createPool(home.store, pool, { threshold: 1, founders: [joinerOf(members[2]!)], baseUrl: BASE, resolver });
    await expect(createPool(home.store, pool, { threshold: 1, founders: [joinerOf(members[2]!)], baseUrl: BASE, resolver })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
  });
});
