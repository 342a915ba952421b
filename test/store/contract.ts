import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { AuditEntryRecord, IdentityRecord, NewRating, NewStatusList, Store } from '../../src/store/types.js';
import { allocateStatusEntry } from '../../src/status/issuer.js';

const identity = (alias: string, did = `did:key:z${alias}`): IdentityRecord => ({
  alias,
  did,
  kid: `${did}#k`,
  keyType: 'Ed25519',
  method: 'key',
  publicJwk: { kty: 'OKP', crv: 'Ed25519', x: 'x' },
  sealedPrivateKey: 'sealed',
  createdAt: new Date().toISOString(),
});

const entry = (chain: string, seq: number, o: Partial<AuditEntryRecord> = {}): AuditEntryRecord => ({
  chain,
  seq,
  hash: `sha256-${chain}-${seq}`,
  prev: seq === 1 ? null : `sha256-${chain}-${seq - 1}`,
  receiptId: `urn:uuid:${chain}-${seq}`,
  kind: 'decision',
  outcome: 'allow',
  issuer: 'did:key:zverifier',
  subject: 'did:key:zagent',
  at: new Date(Date.UTC(2026, 0, 1, 0, 0, seq)).toISOString(),
  jws: `h.${chain}${seq}.s`,
  ...o,
});

/**
 * Twenty first entries of one issuer, issued at once through `stores` (one
 * store, or several connections to one database, as processes would): one list
 * holds them all. A second list would keep its few credentials for good, and
 * whoever serves it would learn which one a verifier checks.
 */
export async function expectOneFirstList(stores: Store[]): Promise<void> {
  const issuerDid = `did:key:zfirst${Math.random().toString(36).slice(2)}`;
  const entries = await Promise.all(
    Array.from({ length: 20 }, (_, i) =>
      allocateStatusEntry(stores[i % stores.length]!, { issuerDid, purpose: 'revocation', baseUrl: 'https://issuer.example', credentialId: `urn:first:${i}` }),
    ),
  );
  expect(new Set(entries.map((e) => e.statusListCredential)).size).toBe(1);
  const lists = await stores[0]!.listStatusLists({ issuerDid });
  expect(lists.map((l) => l.allocated)).toEqual([20]);
}

/** The behaviour every Store backend must have; run against SQLite and PostgreSQL. */
export function runStoreContract(name: string, open: () => Promise<Store>): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    beforeEach(async () => {
      store = await open();
    });
    afterEach(async () => {
      await store.close();
    });

    it('config: set, overwrite, get', async () => {
      expect(await store.getConfig('a')).toBeUndefined();
      await store.setConfig('a', '1');
      await store.setConfig('a', '2');
      expect(await store.getConfig('a')).toBe('2');
    });

    it('identities: by alias or DID, unique alias and DID', async () => {
      await store.putIdentity({ ...identity('alice'), meta: { role: 'agent' }, document: { id: 'did:key:zalice' } });
      expect((await store.getIdentity('alice'))!.did).toBe('did:key:zalice');
      expect((await store.getIdentity('did:key:zalice'))!.meta).toEqual({ role: 'agent' });
      await expect(store.putIdentity(identity('alice', 'did:key:zother'))).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
      await expect(store.putIdentity(identity('bob', 'did:key:zalice'))).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
      expect((await store.listIdentities()).map((i) => i.alias)).toEqual(['alice']);
    });

    it('credentials: put, get, filter by direction, issuer, subject, type and parent', async () => {
      const base = { jwt: 'a.b.c', issuer: 'did:key:zi', createdAt: new Date().toISOString() };
      await store.putCredential({ ...base, id: 'c1', direction: 'issued', subject: 'did:key:zs', types: ['DataAccessGrant'] });
      await store.putCredential({ ...base, id: 'c2', direction: 'held', types: ['AgentAuthorityCredential'], parentId: 'c1', validUntil: '2030-01-01T00:00:00Z' });
      await expect(store.putCredential({ ...base, id: 'c1', direction: 'issued', types: [] })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
      expect(await store.getCredential('c2')).toMatchObject({ parentId: 'c1', validUntil: '2030-01-01T00:00:00Z', direction: 'held' });
      expect((await store.listCredentials({ type: 'DataAccessGrant' })).map((c) => c.id)).toEqual(['c1']);
      expect((await store.listCredentials({ subject: 'did:key:zs', direction: 'issued' })).map((c) => c.id)).toEqual(['c1']);
      expect((await store.listCredentials({ parentId: 'c1' })).map((c) => c.id)).toEqual(['c2']);
      expect(await store.listCredentials({ issuer: 'did:key:nobody' })).toEqual([]);
    });

    it('status lists: allocate distinct indices, set bits MSB-first, never roll back a signed version', async () => {
      const list = await store.createStatusList({ id: 'l1', issuerDid: 'did:key:zi', purpose: 'revocation', size: 131072, ttlSeconds: 300, url: 'https://x/status/l1' });
      expect(list.bits.length).toBe(16384);
      const seen = new Set<number>();
      for (let i = 0; i < 50; i++) seen.add((await store.allocateStatusIndex('l1', `cred-${i}`, (n) => Math.floor(Math.random() * n))).index);
      expect(seen.size).toBe(50);
      // a picker that always collides still gets a fresh index
      const a = (await store.allocateStatusIndex('l1', 'x1', () => 0)).index;
      const b = (await store.allocateStatusIndex('l1', 'x2', () => 0)).index;
      expect(a).not.toBe(b);
      expect(await store.findStatusAllocation('x2')).toEqual([{ listId: 'l1', index: b }]);
      const after = await store.setStatusBit('l1', 9, true);
      expect(after.version).toBe(1);
      expect(after.bits[1]).toBe(0b0100_0000);
      // Revocation is not reversible (Bitstring Status List §2.1): the set bit stays, the version too.
      await expect(store.setStatusBit('l1', 9, false)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringContaining('revoked for good') });
      expect(await store.getStatusList('l1')).toMatchObject({ version: 1 });
      expect((await store.getStatusList('l1'))!.bits[1]).toBe(0b0100_0000);
      // Clearing a bit that is not set changes nothing (a neighbour's revocation stays).
      expect((await store.setStatusBit('l1', 8, false)).bits[1]).toBe(0b0100_0000);
      await expect(store.setStatusBit('l1', 131072, true)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(store.setStatusBit('l1', 131072, false)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: 'status index out of range' });
      await expect(store.setStatusBit('nope', 1, false)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      await store.putSignedStatusList('l1', 2, 'jwt-v2');
      await store.putSignedStatusList('l1', 1, 'jwt-v1');
      expect(await store.getStatusList('l1')).toMatchObject({ signedJwt: 'jwt-v2', signedVersion: 2, allocated: 52 });
      // The same version re-signed (renewed before it expires) replaces the stored one.
      await store.putSignedStatusList('l1', 2, 'jwt-v2-renewed');
      expect(await store.getStatusList('l1')).toMatchObject({ signedJwt: 'jwt-v2-renewed', signedVersion: 2 });
      expect((await store.listStatusLists({ issuerDid: 'did:key:zi', purpose: 'revocation' })).length).toBe(1);
    });

    it('status lists: a revocation bit is never cleared, even when the clear races the revocation; a suspension bit is', async () => {
      await store.createStatusList({ id: 'rv', issuerDid: 'did:key:zi', purpose: 'revocation', size: 131072, ttlSeconds: 300, url: 'https://x/status/rv' });
      await store.createStatusList({ id: 'sp', issuerDid: 'did:key:zi', purpose: 'suspension', size: 131072, ttlSeconds: 300, url: 'https://x/status/sp' });
      const bit = (bits: Uint8Array, i: number) => (bits[i >> 3]! >> (7 - (i % 8))) & 1;
      for (let i = 0; i < 20; i++) {
        // Whichever order the store applies them in, the revocation holds: a clear first is a no-op, after it refused.
        const [set, clear] = await Promise.allSettled([store.setStatusBit('rv', i, true), store.setStatusBit('rv', i, false)]);
        expect(set.status).toBe('fulfilled');
        if (clear.status === 'rejected') expect(clear.reason).toMatchObject({ code: 'INVALID_ARGUMENT' });
        expect(bit((await store.getStatusList('rv'))!.bits, i)).toBe(1);
      }
      await store.setStatusBit('sp', 3, true);
      expect(bit((await store.setStatusBit('sp', 3, false)).bits, 3)).toBe(0);
    });

    it("status lists: one entry per credential and purpose, across the issuer's lists and however many allocate it at once", async () => {
      const mk = (id: string, issuerDid = 'did:key:zi', purpose: 'revocation' | 'suspension' = 'revocation') =>
        store.createStatusList({ id, issuerDid, purpose, size: 131072, ttlSeconds: 300, url: `https://x/status/${id}` });
      await mk('r1');
      await mk('r2');
      await mk('s1', 'did:key:zi', 'suspension');
      await mk('o1', 'did:key:zother');
      const pick = (n: number) => Math.floor(Math.random() * n);
      // Twenty allocations of one credential at once, spread over two lists of the same issuer and purpose.
      const got = await Promise.all(Array.from({ length: 20 }, (_, i) => store.allocateStatusIndex(i % 2 === 0 ? 'r1' : 'r2', 'c-race', pick)));
      expect(new Set(got.map((g) => `${g.listId}#${g.index}`)).size).toBe(1);
      expect(await store.findStatusAllocation('c-race')).toEqual([got[0]]);
      // Another purpose or another issuer is another entry.
      const s = await store.allocateStatusIndex('s1', 'c-race', pick);
      const o = await store.allocateStatusIndex('o1', 'c-race', pick);
      expect([s.listId, o.listId]).toEqual(['s1', 'o1']);
      expect(await store.allocateStatusIndex('s1', 'c-race', pick)).toEqual(s);
      expect((await store.findStatusAllocation('c-race')).length).toBe(3);
      expect((await store.getStatusList(got[0]!.listId))!.allocated).toBe(1);
    });

    it('status lists: createStatusList with reuse returns the oldest list with room (same issuer, purpose, URL prefix), else creates', async () => {
      const rec = (id: string, o: Partial<NewStatusList> = {}): NewStatusList => ({
        id,
        issuerDid: 'did:key:zi',
        purpose: 'revocation',
        size: 16,
        ttlSeconds: 60,
        url: `https://x/status/${id}`,
        ...o,
      });
      const reuse = { urlPrefix: 'https://x/status/', below: 0.5 };
      // Nothing to reuse: created. Another prefix, purpose or issuer does not count.
      await store.createStatusList(rec('other-host', { url: 'https://y/status/other-host' }));
      await store.createStatusList(rec('other-purpose', { purpose: 'suspension' }));
      await store.createStatusList(rec('other-issuer', { issuerDid: 'did:key:zo' }));
      expect((await store.createStatusList(rec('a'), reuse)).id).toBe('a');
      expect((await store.createStatusList(rec('b'), reuse)).id).toBe('a');
      expect(await store.getStatusList('b')).toBeUndefined();
      // Half full is no room: a new one.
      for (let i = 0; i < 8; i++) await store.allocateStatusIndex('a', `c${i}`, () => i);
      expect((await store.createStatusList(rec('c'), reuse)).id).toBe('c');
      // Without reuse, always created.
      expect((await store.createStatusList(rec('d'))).id).toBe('d');
    });

    it("status lists: an issuer's first entries issued at once share one list", async () => {
      await expectOneFirstList([store, store]);
    });

    it('a full status list refuses another allocation', async () => {
      await store.createStatusList({ id: 'tiny', issuerDid: 'did:key:zi', purpose: 'suspension', size: 8, ttlSeconds: 1, url: 'https://x/status/tiny' });
      for (let i = 0; i < 8; i++) await store.allocateStatusIndex('tiny', `c${i}`, () => 3);
      await expect(store.allocateStatusIndex('tiny', 'c9', () => 3)).rejects.toMatchObject({ code: 'STORE_ERROR' });
    });

    it('ledger: reserve within budget and rate, refuse beyond, release returns budget, commit keeps it', async () => {
      const at = new Date('2026-01-01T00:00:00Z');
      const entry = (amount: string) => ({
        mandateId: 'm1',
        amount,
        currency: 'USD',
        budget: { amount: '100', currency: 'USD', periodSeconds: 86400 },
        rate: { count: 3, periodSeconds: 3600 },
      });
      const r1 = await store.reserve({ reservationId: 'r1', at, entries: [entry('60')] });
      expect(r1).toMatchObject({ ok: true, usage: [{ spent: '0', remaining: '40', rateRemaining: 2 }] });
      const r2 = await store.reserve({ reservationId: 'r2', at, entries: [entry('40.01')] });
      expect(r2.ok).toBe(false);
      expect(r2.failures.map((f) => f.code)).toEqual(['BUDGET_EXCEEDED']);
      await store.releaseReservation('r1');
      expect((await store.reserve({ reservationId: 'r3', at, entries: [entry('100')] })).ok).toBe(true);
      await store.commitReservation('r3');
      await expect(store.releaseReservation('r3')).rejects.toMatchObject({ code: 'RESERVATION_NOT_FOUND' });
      await expect(store.commitReservation('nope')).rejects.toMatchObject({ code: 'RESERVATION_NOT_FOUND' });
      await expect(store.reserve({ reservationId: 'r3', at, entries: [entry('0')] })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
      // the window rolls: a day later the budget is free again
      const later = new Date(at.getTime() + 86_401_000);
      expect((await store.previewReservation({ reservationId: 'q', at: later, entries: [entry('100')] })).ok).toBe(true);
      // rate: 3 per hour
      const rate = (id: string) =>
        store.reserve({ reservationId: id, at: later, entries: [{ mandateId: 'm2', amount: '0', currency: 'USD', rate: { count: 2, periodSeconds: 3600 } }] });
      expect((await rate('a')).ok).toBe(true);
      expect((await rate('b')).ok).toBe(true);
      expect((await rate('c')).failures.map((f) => f.code)).toEqual(['RATE_EXCEEDED']);
      const eur = await store.reserve({ reservationId: 'e', at: later, entries: [{ ...entry('1'), currency: 'EUR' }] });
      expect(eur.failures.map((f) => f.code)).toEqual(['CURRENCY_MISMATCH']);
    });

    it('ledger: a reservation over several links is all-or-nothing', async () => {
      const at = new Date();
      const link = (id: string, budget: string) => ({ mandateId: id, amount: '30', currency: 'USD', budget: { amount: budget, currency: 'USD', periodSeconds: 3600 } });
      expect((await store.reserve({ reservationId: 'x1', at, entries: [link('parent', '50'), link('child', '100')] })).ok).toBe(true);
      const r = await store.reserve({ reservationId: 'x2', at, entries: [link('parent', '50'), link('child', '100')] });
      expect(r.failures).toEqual([expect.objectContaining({ mandateId: 'parent', code: 'BUDGET_EXCEEDED' })]);
      const child = await store.previewReservation({ reservationId: 'q', at, entries: [link('child', '100')] });
      expect(child.usage[0]!.spent).toBe('30');
    });

    it('ledger: a calendar budget counts from local midnight in its time zone, across a DST change and a month boundary', async () => {
      // Europe/Paris moved to summer time on 2026-03-29; April starts there at 2026-03-31T22:00Z (UTC+2).
      const paris = (mandateId: string, calendar: 'day' | 'month') => ({
        mandateId,
        amount: '60',
        currency: 'EUR',
        budget: { amount: '100', currency: 'EUR', calendar, timeZone: 'Europe/Paris' },
      });
      const at = (iso: string) => new Date(iso);
      expect((await store.reserve({ reservationId: 'cal-1', at: at('2026-03-31T21:30:00Z'), entries: [paris('cal-m', 'month')] })).ok).toBe(true);
      // 23:59 in Paris on 31 March: still March, 40 left
      const march = await store.reserve({ reservationId: 'cal-2', at: at('2026-03-31T21:59:00Z'), entries: [paris('cal-m', 'month')] });
      expect(march.failures.map((f) => f.code)).toEqual(['BUDGET_EXCEEDED']);
      // 00:01 on 1 April in Paris (still 31 March in UTC): a new month, the March spend no longer counts
      const april = await store.reserve({ reservationId: 'cal-3', at: at('2026-03-31T22:01:00Z'), entries: [paris('cal-m', 'month')] });
      expect(april).toMatchObject({ ok: true, usage: [{ spent: '0', remaining: '40' }] });
      // The same instants in UTC are one month: 60 + 60 > 100
      const utc = (id: string, iso: string) =>
        store.reserve({
          reservationId: id,
          at: at(iso),
          entries: [{ ...paris('cal-u', 'month'), budget: { amount: '100', currency: 'EUR', calendar: 'month' as const, timeZone: 'UTC' } }],
        });
      expect((await utc('cal-4', '2026-03-31T21:30:00Z')).ok).toBe(true);
      expect((await utc('cal-5', '2026-03-31T22:01:00Z')).failures.map((f) => f.code)).toEqual(['BUDGET_EXCEEDED']);
      // The DST day (23 hours long in Paris): 00:30 and 23:30 local are one day; 00:30 the next day is another
      expect((await store.reserve({ reservationId: 'cal-6', at: at('2026-03-28T23:30:00Z'), entries: [paris('cal-d', 'day')] })).ok).toBe(true);
      expect((await store.reserve({ reservationId: 'cal-7', at: at('2026-03-29T21:30:00Z'), entries: [paris('cal-d', 'day')] })).failures.map((f) => f.code)).toEqual([
        'BUDGET_EXCEEDED',
      ]);
      expect((await store.reserve({ reservationId: 'cal-8', at: at('2026-03-29T22:30:00Z'), entries: [paris('cal-d', 'day')] })).ok).toBe(true);
      await expect(
        store.reserve({
          reservationId: 'cal-9',
          at: at('2026-03-29T22:30:00Z'),
          entries: [{ ...paris('cal-x', 'day'), budget: { amount: '1', currency: 'EUR', calendar: 'day' as const, timeZone: 'Mars/Olympus' } }],
        }),
      ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    });

    it('ledger: a hold timed out on the one link another chain shares is still settled whole, and its spend still counts', async () => {
      const day = { periodSeconds: 86_400 };
      const link = (id: string, amount: string) => ({ mandateId: id, amount, currency: 'USD', budget: { amount: '100', currency: 'USD', ...day } });
      const at = new Date();
      const tag = `${Date.now()}-${Math.random()}`;
      const [parent, a, b, c] = ['parent', 'childA', 'childB', 'childC'].map((x) => `${x}-${tag}`) as [string, string, string, string];
      expect((await store.reserve({ reservationId: `R1-${tag}`, at, holdUntil: new Date(at.getTime() + 300), entries: [link(parent, '60'), link(a, '60')] })).ok).toBe(true);
      await new Promise((r) => setTimeout(r, 450));
      // A reservation on [parent, childB] expires R1's hold on the parent only (the links it locks).
      expect((await store.reserve({ reservationId: `R2-${tag}`, at: new Date(), entries: [link(parent, '40'), link(b, '40')] })).ok).toBe(true);
      // The call behind R1 happened: it is committed, on every link, and counts on the parent again.
      await store.commitReservation(`R1-${tag}`);
      expect((await store.reserve({ reservationId: `R3-${tag}`, at: new Date(), entries: [link(parent, '60'), link(c, '60')] })).ok).toBe(false);
      // The same situation released instead: every link released, none left held.
      const t2 = `${tag}-2`;
      const [p2, a2, b2] = [`parent-${t2}`, `childA-${t2}`, `childB-${t2}`];
      const at2 = new Date();
      expect((await store.reserve({ reservationId: `R4-${t2}`, at: at2, holdUntil: new Date(at2.getTime() + 300), entries: [link(p2, '60'), link(a2, '60')] })).ok).toBe(true);
      await new Promise((r) => setTimeout(r, 450));
      expect((await store.reserve({ reservationId: `R5-${t2}`, at: new Date(), entries: [link(p2, '40'), link(b2, '40')] })).ok).toBe(true);
      await store.releaseReservation(`R4-${t2}`);
      expect((await store.reserve({ reservationId: `R6-${t2}`, at: new Date(), entries: [link(a2, '100')] })).ok).toBe(true);
      // Released is released: a commit after it (a late settle racing the release) is refused, and spends nothing.
      await expect(store.commitReservation(`R4-${t2}`)).rejects.toMatchObject({ code: 'RESERVATION_NOT_FOUND' });
      await expect(store.releaseReservation(`R4-${t2}`)).rejects.toMatchObject({ code: 'RESERVATION_NOT_FOUND' });
      const r4 = (await store.listReservations({ mandateId: a2 })).find((r) => r.reservationId === `R4-${t2}`);
      expect([r4?.state, r4?.settledBy]).toEqual(['released', 'release']);
    });

    it('ledger: a hold timed out on every link, then released, cannot be committed; committing or releasing one whose hold ran out settles it once', async () => {
      const link = (id: string) => ({ mandateId: id, amount: '60', currency: 'USD', budget: { amount: '100', currency: 'USD', periodSeconds: 86_400 } });
      const tag = `${Date.now()}-${Math.random()}`;
      const hold = async (id: string, m: string) => {
        const at = new Date();
        expect((await store.reserve({ reservationId: id, at, holdUntil: new Date(at.getTime() + 200), entries: [link(m)] })).ok).toBe(true);
      };
      await hold(`T1-${tag}`, `m1-${tag}`);
      await new Promise((r) => setTimeout(r, 300));
      // Another reservation on the link expires the hold (under its lock).
      expect((await store.reserve({ reservationId: `T2-${tag}`, at: new Date(), entries: [link(`m1-${tag}`)] })).ok).toBe(true);
      await store.releaseReservation(`T1-${tag}`);
      await expect(store.commitReservation(`T1-${tag}`)).rejects.toMatchObject({ code: 'RESERVATION_NOT_FOUND' });
      // Still 60 of 100 held by T2: T1's 60 never came back.
      expect((await store.reserve({ reservationId: `T3-${tag}`, at: new Date(), entries: [{ ...link(`m1-${tag}`), amount: '41' }] })).ok).toBe(false);
      // Racing commit and release on a timed-out hold: exactly one wins, whichever it is.
      for (let i = 0; i < 5; i++) {
        const id = `T4-${tag}-${i}`;
        await hold(id, `m4-${tag}-${i}`);
        await new Promise((r) => setTimeout(r, 250));
        await store.reserve({ reservationId: `T5-${tag}-${i}`, at: new Date(), entries: [{ ...link(`m4-${tag}-${i}`), amount: '1' }] });
        const [c, r] = await Promise.allSettled([store.commitReservation(id), store.releaseReservation(id)]);
        expect([c.status, r.status].filter((x) => x === 'fulfilled').length).toBe(1);
        const rec = (await store.listReservations({ mandateId: `m4-${tag}-${i}` })).find((x) => x.reservationId === id);
        expect(rec?.state).toBe(c.status === 'fulfilled' ? 'committed' : 'released');
      }
    });

    it('property: random reserve/release sequences never let live spend exceed the budget', async () => {
      let n = 0;
      await fc.assert(
        fc.asyncProperty(fc.array(fc.record({ amount: fc.integer({ min: 1, max: 40 }), release: fc.boolean() }), { maxLength: 25 }), async (ops) => {
          const mandateId = `p${n++}`;
          const at = new Date();
          const live = new Map<string, number>();
          for (const [i, op] of ops.entries()) {
            const id = `${mandateId}-${i}`;
            const r = await store.reserve({
              reservationId: id,
              at,
              entries: [{ mandateId, amount: String(op.amount), currency: 'USD', budget: { amount: '100', currency: 'USD', periodSeconds: 60 } }],
            });
            if (r.ok) live.set(id, op.amount);
            if (r.ok && op.release) {
              await store.releaseReservation(id);
              live.delete(id);
            }
            expect([...live.values()].reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(100);
          }
        }),
        { numRuns: 30 },
      );
    });

    const rating = (over: Partial<NewRating> = {}): NewRating => ({
      id: 'urn:uuid:1',
      attester: 'did:key:zshop',
      agent: 'did:key:zagent',
      receipt: 'urn:uuid:r1',
      score: 0.5,
      issuedAt: 1_700_000_000_000,
      importedAt: 1_700_000_100_000,
      ...over,
    });

    it('ratings: put reports what it added, keeps what it held, lists one agent in (issuedAt, attester, id) order', async () => {
      const full = rating({
        id: 'b',
        dimension: 'delivery',
        validUntil: 1_800_000_000_000,
        status: '{"type":"BitstringStatusListEntry"}',
        score: 1,
        signedWith: 'OKP Ed25519 abc ',
      });
      const added = await store.putRatings([
        rating({ id: 'c', issuedAt: 5 }),
        full,
        rating({ id: 'a', attester: 'did:key:zz', issuedAt: 5 }),
        rating({ id: 'x', agent: 'did:key:zother' }),
      ]);
      expect(added).toEqual([
        { attester: 'did:key:zshop', id: 'c' },
        { attester: 'did:key:zshop', id: 'b' },
        { attester: 'did:key:zz', id: 'a' },
        { attester: 'did:key:zshop', id: 'x' },
      ]);
      // the same id from another attester is another rating; the same attester and id is kept as it was
      expect(await store.putRatings([rating({ id: 'b', score: 0 }), rating({ id: 'b', attester: 'did:key:zz', issuedAt: 5 })])).toEqual([{ attester: 'did:key:zz', id: 'b' }]);
      const listed = await store.listRatings('did:key:zagent');
      expect(listed.map((r) => `${r.issuedAt} ${r.attester} ${r.id}`)).toEqual(['5 did:key:zshop c', '5 did:key:zz a', '5 did:key:zz b', '1700000000000 did:key:zshop b']);
      // Listed without the status text (the bulk of a row), saying whether there is one.
      const { status: _s, ...fullListed } = full;
      expect(listed[3]).toEqual({ ...fullListed, revocable: true });
      expect(listed[0]).toEqual({ ...rating({ id: 'c', issuedAt: 5 }), revocable: false });
      expect(Object.keys(listed[0]!).sort()).toEqual(['agent', 'attester', 'id', 'importedAt', 'issuedAt', 'receipt', 'revocable', 'score']);
      expect(await store.listRatingStatus('did:key:zagent')).toEqual([{ attester: 'did:key:zshop', id: 'b', status: full.status }]);
      expect(
        await store.listRatingStatus('did:key:zagent', [
          { attester: 'did:key:zshop', id: 'b' },
          { attester: 'did:key:zshop', id: 'c' },
          { attester: 'did:key:zz', id: 'b' },
        ]),
      ).toEqual([{ attester: 'did:key:zshop', id: 'b', status: full.status }]);
      // keyed within the agent: another agent's listing never reads it
      expect(await store.listRatingStatus('did:key:zother', [{ attester: 'did:key:zshop', id: 'b' }])).toEqual([]);
      expect(await store.listRatingStatus('did:key:zagent', [])).toEqual([]);
      expect(await store.listRatings('did:key:nobody')).toEqual([]);
      expect(
        await store.findRatings([
          { attester: 'did:key:zz', id: 'a' },
          { attester: 'did:key:zz', id: 'c' },
          { attester: 'did:key:zshop', id: 'x' },
        ]),
      ).toEqual([
        { attester: 'did:key:zz', id: 'a' },
        { attester: 'did:key:zshop', id: 'x' },
      ]);
      expect(await store.findRatings([])).toEqual([]);
      expect(await store.putRatings([])).toEqual([]);
      // The version moves with every change of an agent's ratings, and only then.
      const v = await store.ratingsVersion('did:key:zagent');
      expect(v).toBeGreaterThan(0);
      expect(await store.ratingsVersion('did:key:nobody')).toBe(0);
      await store.putRatings([rating({ id: 'c', issuedAt: 5 })]);
      expect(await store.ratingsVersion('did:key:zagent')).toBe(v);
      const other = await store.ratingsVersion('did:key:zother');
      await store.putRatings([rating({ id: 'd' })]);
      expect(await store.ratingsVersion('did:key:zagent')).not.toBe(v);
      expect(await store.ratingsVersion('did:key:zother')).toBe(other);
    });

    it('ratings: a score outside [0, 1] or not finite, or a bad time, is INVALID_ARGUMENT and nothing of the batch is kept', async () => {
      const bad: Partial<NewRating>[] = [
        { score: Number.NaN },
        { score: Infinity },
        { score: -Infinity },
        { score: 1.0000001 },
        { score: -0.1 },
        { score: '0.5' as unknown as number },
        { score: null as unknown as number },
        { issuedAt: Number.NaN },
        { importedAt: Infinity },
        { validUntil: Number.NaN },
        { id: '' },
        { dimension: 7 as unknown as string },
        // What only one store could hold (PostgreSQL: no NUL in TEXT, no fraction in BIGINT): refused by both.
        { issuedAt: 1_700_000_000_000.5 },
        { importedAt: 2 ** 53 },
        { validUntil: 1.5 },
        { id: 'a\u0000b' },
        { attester: 'did:key:z\u0000' },
        { receipt: '\u0000' },
        { dimension: 'de\u0000livery' },
        { status: '{"type":"\u0000"}' },
        { signedWith: '' },
        { signedWith: 7 as unknown as string },
        { signedWith: 'OKP Ed25519 \u0000 ' },
      ];
      for (const [i, b] of bad.entries()) {
        await expect(store.putRatings([rating({ id: `ok-${i}` }), rating({ id: `bad-${i}`, ...b })])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      }
      expect(await store.listRatings('did:key:zagent')).toEqual([]);
      expect(await store.ratingsVersion('did:key:zagent')).toBe(0);
      // -0 is a score of 0, stored and read back as +0
      await store.putRatings([rating({ id: 'neg-zero', score: -0 })]);
      expect(Object.is((await store.listRatings('did:key:zagent'))[0]!.score, 0)).toBe(true);
    });

    it('ratings: a batch larger than one statement is kept whole and listed in order', async () => {
      const many = Array.from({ length: 12_000 }, (_, i) => rating({ id: `m-${String(i).padStart(5, '0')}`, receipt: `r-${i}`, issuedAt: 1000 + (i % 7), score: (i % 11) / 10 }));
      expect((await store.putRatings(many)).length).toBe(12_000);
      expect((await store.putRatings(many.slice(0, 10))).length).toBe(0);
      const listed = await store.listRatings('did:key:zagent');
      expect(listed.length).toBe(12_000);
      const sorted = [...many].sort((a, b) => a.issuedAt - b.issuedAt || (a.id < b.id ? -1 : 1));
      expect(listed.map((r) => r.id)).toEqual(sorted.map((r) => r.id));
      expect((await store.findRatings(many.map((r) => ({ attester: r.attester, id: r.id })))).length).toBe(12_000);
    });

    it('nonces: first use only, until they expire', async () => {
      const soon = new Date(Date.now() + 60_000);
      expect(await store.consumeNonce('aud', 'n1', soon)).toBe(true);
      expect(await store.consumeNonce('aud', 'n1', soon)).toBe(false);
      expect(await store.consumeNonce('other', 'n1', soon)).toBe(true);
      expect(await store.consumeNonce('aud', 'old', new Date(Date.now() - 1))).toBe(true);
      expect(await store.consumeNonce('aud', 'old', soon)).toBe(true);
    });

    it('nonces: concurrent calls (in SQLite, one group commit) accept each value exactly once', async () => {
      const soon = new Date(Date.now() + 60_000);
      const values = ['a', 'b', 'a', 'c', 'b', 'a'];
      const fresh = await Promise.all(values.map((v) => store.consumeNonce('batch', v, soon)));
      // Exactly one call per value wins (which one may vary: PostgreSQL runs them on several connections).
      const wins = new Map<string, number>();
      fresh.forEach((f, i) => f && wins.set(values[i]!, (wins.get(values[i]!) ?? 0) + 1));
      expect(Object.fromEntries(wins)).toEqual({ a: 1, b: 1, c: 1 });
      expect(await store.consumeNonce('batch', 'c', soon)).toBe(false);
    });

    it('nonces: a call with an invalid expiry is INVALID_ARGUMENT and does not fail the calls beside it', async () => {
      const soon = new Date(Date.now() + 60_000);
      const [a, bad, b] = await Promise.allSettled([
        store.consumeNonce('mixed', 'a', soon),
        store.consumeNonce('mixed', 'bad', new Date(Number.NaN)),
        store.consumeNonce('mixed', 'b', soon),
      ]);
      expect(a).toEqual({ status: 'fulfilled', value: true });
      expect(b).toEqual({ status: 'fulfilled', value: true });
      expect(bad).toMatchObject({ status: 'rejected', reason: { code: 'INVALID_ARGUMENT' } });
    });
    it('nonces: any text value is used up once, alike in both stores: a NUL, a lone surrogate, 100 KB (kept by digest); a value not text is INVALID_ARGUMENT', async () => {
      const soon = new Date(Date.now() + 60_000);
      const odd = ['a\u0000b', 'x\uD800', '\uDC00y', 'z'.repeat(100_000), '界'.repeat(400), 'did:key:z6Mk ' + 'j'.repeat(600), ''];
      for (const v of odd) {
        expect([v.slice(0, 12), await store.consumeNonce('odd', v, soon)]).toEqual([v.slice(0, 12), true]);
        expect([v.slice(0, 12), await store.consumeNonce('odd', v, soon)]).toEqual([v.slice(0, 12), false]);
      }
      // Two long values differing in their last character are two values.
      expect(await store.consumeNonce('odd', 'z'.repeat(99_999) + 'y', soon)).toBe(true);
      // A long or odd scope keeps values apart like any scope.
      expect(await store.consumeNonce('s\u0000'.repeat(500), 'a\u0000b', soon)).toBe(true);
      for (const bad of [123, null, undefined, {}, ['a']] as unknown[]) {
        await expect(store.consumeNonce('odd', bad as string, soon)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
        await expect(store.consumeNonce(bad as string, 'v', soon)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      }
      // 123 was refused, not stored as "123".
      expect(await store.consumeNonce('odd', '123', soon)).toBe(true);
    });

    it('reservations: a mandate id or reservation id that is not storable text, and an empty reservation, are INVALID_ARGUMENT, not store faults', async () => {
      const at = new Date();
      for (const mandateId of ['m\u0000', 'm\uD800', 'm'.repeat(5000), '', 7 as unknown as string]) {
        await expect(store.reserve({ reservationId: `bad-m-${String(mandateId).length}`, at, entries: [{ mandateId, amount: '1', currency: 'USD' }] })).rejects.toMatchObject({
          code: 'INVALID_ARGUMENT',
        });
      }
      for (const reservationId of ['r\u0000', 'r\uDFFF', 'r'.repeat(201), '']) {
        await expect(store.reserve({ reservationId, at, entries: [{ mandateId: 'ok-m', amount: '1', currency: 'USD' }] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      }
      await expect(store.reserve({ reservationId: 'empty-1', at, entries: [] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    });

    it('audit: a batch appends atomically; entries list by chain, time, subject and outcome; found by receipt id or hash', async () => {
      await store.appendAudit({
        chain: 'A',
        entries: [entry('A', 1), entry('A', 2, { outcome: 'deny', subject: 'did:key:zother' }), entry('A', 3, { kind: 'settlement', outcome: 'committed' })],
      });
      await store.appendAudit({ chain: 'B', entries: [entry('B', 1)] });
      expect((await store.listAudit({ chain: 'A' })).map((e) => e.seq)).toEqual([1, 2, 3]);
      expect((await store.listAudit({ chain: 'A', fromSeq: 2, limit: 1 })).map((e) => e.seq)).toEqual([2]);
      expect(await store.listAudit({ chain: 'A', limit: 0 })).toEqual([]);
      // A filter only one store could read (SQLite took LIMIT -1 for "no limit", PostgreSQL refused it): INVALID_ARGUMENT in both.
      for (const bad of [
        { limit: -1 },
        { limit: 1.5 },
        { limit: Number.NaN },
        { limit: '10' },
        { fromSeq: -1 },
        { fromSeq: 0.5 },
        { since: new Date(Number.NaN) },
        { until: '2026-01-01' },
        { chain: 'A\u0000' },
        { subject: 5 },
      ]) {
        await expect(store.listAudit(bad as never), JSON.stringify(bad)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      }
      expect((await store.listAudit({ outcome: 'deny' })).map((e) => e.receiptId)).toEqual(['urn:uuid:A-2']);
      expect((await store.listAudit({ subject: 'did:key:zagent', kind: 'decision' })).map((e) => `${e.chain}${e.seq}`)).toEqual(['A1', 'B1']);
      expect((await store.listAudit({ since: new Date(Date.UTC(2026, 0, 1, 0, 0, 2)), until: new Date(Date.UTC(2026, 0, 1, 0, 0, 3)) })).map((e) => `${e.chain}${e.seq}`)).toEqual([
        'A2',
      ]);
      const found = await store.findAudit('urn:uuid:A-2');
      expect(found).toEqual(entry('A', 2, { outcome: 'deny', subject: 'did:key:zother' }));
      expect((await store.findAudit('sha256-B-1'))?.receiptId).toBe('urn:uuid:B-1');
      expect(await store.findAudit('nothing')).toBeUndefined();
      expect(await store.listAuditChains()).toEqual([
        { chain: 'A', issuer: 'did:key:zverifier', first: 1, last: 3, count: 3, head: 'sha256-A-3' },
        { chain: 'B', issuer: 'did:key:zverifier', first: 1, last: 1, count: 1, head: 'sha256-B-1' },
      ]);
    });

    it('audit: a taken (chain, seq) or receipt id is ALREADY_EXISTS and nothing of the batch is written', async () => {
      await store.appendAudit({ chain: 'A', entries: [entry('A', 1)] });
      await expect(store.appendAudit({ chain: 'A', entries: [entry('A', 1, { receiptId: 'other' }), entry('A', 2)] })).rejects.toMatchObject({ code: 'ALREADY_EXISTS' });
      await expect(store.appendAudit({ chain: 'A', entries: [entry('A', 2, { receiptId: 'urn:uuid:A-1' })], blobs: [{ hash: 'h', body: 'b' }] })).rejects.toMatchObject({
        code: 'ALREADY_EXISTS',
      });
      expect((await store.listAudit({ chain: 'A' })).map((e) => e.seq)).toEqual([1]);
      expect(await store.getAuditBlobs(['h'])).toEqual([]);
      await expect(store.appendAudit({ chain: 'A', entries: [entry('A', 3), entry('A', 5)] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(store.appendAudit({ chain: 'A', entries: [entry('B', 2)] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    });

    it('audit: concurrent appenders on distinct chains all land; on one (chain, seq) exactly one wins', async () => {
      await Promise.all(
        ['P', 'Q', 'R', 'S'].map(async (c) => {
          for (let i = 1; i <= 5; i++)
            await store.appendAudit({ chain: c, entries: [entry(c, i)], blobs: [{ hash: 'shared', body: 'doc' }], refs: [{ receiptId: `urn:uuid:${c}-${i}`, hash: 'shared' }] });
        }),
      );
      expect((await store.listAuditChains()).map((c) => [c.chain, c.count])).toEqual([
        ['P', 5],
        ['Q', 5],
        ['R', 5],
        ['S', 5],
      ]);
      const race = await Promise.allSettled([1, 2, 3, 4].map((i) => store.appendAudit({ chain: 'Z', entries: [entry('Z', 1, { receiptId: `race-${i}`, hash: `h${i}` })] })));
      expect(race.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
      for (const r of race) if (r.status === 'rejected') expect(r.reason).toMatchObject({ code: 'ALREADY_EXISTS' });
    });

    it('audit: evidence is stored once per hash, referenced per entry; checkpoints are kept once per (chain, seq)', async () => {
      const cp = {
        chain: 'A',
        seq: 2,
        head: 'sha256-A-2',
        at: new Date().toISOString(),
        jws: `h.${Buffer.from(JSON.stringify({ iss: 'did:key:zverifier' })).toString('base64url')}.s`,
      };
      await store.appendAudit({
        chain: 'A',
        entries: [entry('A', 1), entry('A', 2)],
        blobs: [
          { hash: 'doc', body: '{"id":"did"}' },
          { hash: 'vp1', body: 'vp-one' },
          { hash: 'doc', body: '{"id":"did"}' },
        ],
        refs: [
          { receiptId: 'urn:uuid:A-1', hash: 'doc' },
          { receiptId: 'urn:uuid:A-1', hash: 'vp1' },
          { receiptId: 'urn:uuid:A-2', hash: 'doc' },
        ],
        checkpoint: cp,
      });
      await store.putAuditCheckpoint(cp);
      await store.putAuditCheckpoint({ ...cp, jws: 'changed' });
      expect(await store.listAuditCheckpoints('A')).toEqual([cp]);
      expect(await store.getAuditBlobs(['vp1', 'missing', 'doc'])).toEqual([
        { hash: 'vp1', body: 'vp-one' },
        { hash: 'doc', body: '{"id":"did"}' },
      ]);
      expect((await store.getAuditEvidence('urn:uuid:A-1')).map((b) => b.hash)).toEqual(['doc', 'vp1']);
      // Evidence of one entry alone is kept in its row.
      await store.appendAudit({
        chain: 'A',
        entries: [entry('A', 3)],
        inline: [{ receiptId: 'urn:uuid:A-3', hash: 'vp3', body: 'vp-three' }],
        blobs: [{ hash: 'doc', body: '{"id":"did"}' }],
        refs: [{ receiptId: 'urn:uuid:A-3', hash: 'doc' }],
      });
      expect(await store.getAuditEvidence('urn:uuid:A-3')).toEqual([
        { hash: 'vp3', body: 'vp-three' },
        { hash: 'doc', body: '{"id":"did"}' },
      ]);
      expect(await store.getAuditEvidence('nothing')).toEqual([]);
      expect(await store.listAudit({ chain: 'A', fromSeq: 3 })).toEqual([entry('A', 3)]);
    });

    it('audit: pruning through a checkpoint drops older entries and evidence only they used; a fully pruned chain is still listed by its checkpoint', async () => {
      const cp = (seq: number) => ({
        chain: 'A',
        seq,
        head: `sha256-A-${seq}`,
        at: new Date().toISOString(),
        jws: `h.${Buffer.from(JSON.stringify({ iss: 'did:key:zverifier' })).toString('base64url')}.s`,
      });
      await store.appendAudit({
        chain: 'A',
        entries: [entry('A', 1), entry('A', 2), entry('A', 3)],
        blobs: [
          { hash: 'shared', body: 's' },
          { hash: 'only1', body: '1' },
          { hash: 'only3', body: '3' },
        ],
        refs: [
          { receiptId: 'urn:uuid:A-1', hash: 'shared' },
          { receiptId: 'urn:uuid:A-1', hash: 'only1' },
          { receiptId: 'urn:uuid:A-3', hash: 'shared' },
          { receiptId: 'urn:uuid:A-3', hash: 'only3' },
        ],
        checkpoint: cp(2),
      });
      expect(await store.pruneAudit({ chain: 'A', throughSeq: 2 })).toEqual({ entries: 2, blobs: 1 });
      expect((await store.listAudit({ chain: 'A' })).map((e) => e.seq)).toEqual([3]);
      expect((await store.getAuditBlobs(['shared', 'only1', 'only3'])).map((b) => b.hash)).toEqual(['shared', 'only3']);
      expect((await store.listAuditChains())[0]).toMatchObject({ chain: 'A', first: 3, last: 3, count: 1 });
      // Evidence older than a date goes; the entry (its hashes) stays.
      expect(await store.pruneAudit({ chain: 'A', throughSeq: 2, evidenceBefore: new Date(Date.UTC(2027, 0, 1)) })).toEqual({ entries: 0, blobs: 2 });
      expect(await store.getAuditEvidence('urn:uuid:A-3')).toEqual([]);
      expect((await store.listAudit({ chain: 'A' })).map((e) => e.seq)).toEqual([3]);
      await store.putAuditCheckpoint(cp(3));
      await store.pruneAudit({ chain: 'A', throughSeq: 3 });
      expect(await store.listAuditChains()).toEqual([{ chain: 'A', issuer: 'did:key:zverifier', first: 4, last: 3, count: 0, head: 'sha256-A-3' }]);
    });

    it("audit: pruning evidence counts each entry's own presentation it drops, and what only those entries shared, alike on both stores", async () => {
      await store.appendAudit({
        chain: 'P',
        entries: [entry('P', 1), entry('P', 2), entry('P', 3), entry('P', 4, { at: new Date(Date.UTC(2028, 0, 1)).toISOString() })],
        blobs: [{ hash: 'p-shared', body: 'd' }],
        refs: [
          { receiptId: 'urn:uuid:P-1', hash: 'p-shared' },
          { receiptId: 'urn:uuid:P-3', hash: 'p-shared' },
        ],
        inline: [
          { receiptId: 'urn:uuid:P-1', hash: 'vp-1', body: 'vp one' },
          { receiptId: 'urn:uuid:P-2', hash: 'vp-2', body: 'vp two' },
          { receiptId: 'urn:uuid:P-4', hash: 'vp-4', body: 'vp four' },
        ],
      });
      // Before 2027: entries 1-3 lose their evidence: two presentations of their own and the blob only they used.
      expect(await store.pruneAudit({ chain: 'P', throughSeq: 0, evidenceBefore: new Date(Date.UTC(2027, 0, 1)) })).toEqual({ entries: 0, blobs: 3 });
      for (const seq of [1, 2, 3]) expect(await store.getAuditEvidence(`urn:uuid:P-${seq}`)).toEqual([]);
      expect((await store.getAuditEvidence('urn:uuid:P-4')).map((b) => b.hash)).toEqual(['vp-4']);
      // Again: nothing left to drop, and the later entry keeps its own.
      expect(await store.pruneAudit({ chain: 'P', throughSeq: 0, evidenceBefore: new Date(Date.UTC(2027, 0, 1)) })).toEqual({ entries: 0, blobs: 0 });
      expect(await store.pruneAudit({ chain: 'P', throughSeq: 0, evidenceBefore: new Date(Date.UTC(2029, 0, 1)) })).toEqual({ entries: 0, blobs: 1 });
      expect((await store.listAudit({ chain: 'P' })).map((e) => e.seq)).toEqual([1, 2, 3, 4]);
    });

    const access = (id: string, grantId: string, sec: number, verifier = 'did:key:zapi', receivedSec = 0) => ({
      grantId,
      receiptId: id,
      verifier,
      reporter: verifier,
      holder: 'did:key:zapp',
      outcome: 'allow' as const,
      at: new Date(Date.UTC(2026, 0, 1, 0, 0, sec)).toISOString(),
      receivedAt: new Date(Date.UTC(2026, 0, 2, 0, 0, receivedSec)).toISOString(),
      jws: `h.${id}.${verifier}.s`,
    });

    it('access reports: each receipt recorded once per grant and verifier, listed newest first', async () => {
      const rec = access;
      expect(await store.putAccessReceipts([rec('r1', 'g1', 1), rec('r2', 'g1', 2), rec('r1', 'g2', 3)])).toEqual(['added', 'added', 'added']);
      expect(await store.putAccessReceipts([rec('r1', 'g1', 1)])).toEqual(['duplicate']);
      // The same receipt id from the same verifier with other content is still that receipt: the first is kept.
      expect(await store.putAccessReceipts([{ ...rec('r1', 'g1', 9), outcome: 'deny' }])).toEqual(['duplicate']);
      expect((await store.listAccessReceipts({ grantId: 'g1' })).map((r) => r.receiptId)).toEqual(['r2', 'r1']);
      expect((await store.listAccessReceipts({ grantId: 'g1' }))[1]).toEqual(rec('r1', 'g1', 1));
      expect(await store.listAccessReceipts({ grantId: 'none' })).toEqual([]);
      expect((await store.listAccessReceipts({ limit: 2 })).length).toBe(2);
      expect(await store.putAccessReceipts([])).toEqual([]);
    });

    it('access reports: a receipt of the same id signed by another verifier never hides (or replaces) the first, in either order', async () => {
      const forged = { ...access('r1', 'g1', 0, 'did:key:zforger'), outcome: 'deny' as const };
      expect(await store.putAccessReceipts([forged])).toEqual(['added']);
      expect(await store.putAccessReceipts([access('r1', 'g1', 1)])).toEqual(['added']);
      expect(await store.putAccessReceipts([{ ...forged, verifier: 'did:key:zother' }, access('r1', 'g1', 1)])).toEqual(['added', 'duplicate']);
      const kept = await store.listAccessReceipts({ grantId: 'g1' });
      expect(kept.map((r) => [r.receiptId, r.verifier, r.outcome])).toEqual([
        ['r1', 'did:key:zapi', 'allow'],
        ['r1', 'did:key:zforger', 'deny'],
        ['r1', 'did:key:zother', 'deny'],
      ]);
    });

    it('access reports: a full grant makes room from the verifier holding the most, so none crowds out another (verifiers on hosts of their own)', async () => {
      const max = { maxPerGrant: 4 };
      // One verifier alone may use the whole cap; beyond it, its own receipts are refused.
      expect(
        await store.putAccessReceipts(
          [1, 2, 3, 4, 5].map((i) => access(`a${i}`, 'g', i, 'did:web:a.example')),
          max,
        ),
      ).toEqual(['added', 'added', 'added', 'added', 'full']);
      // A second verifier takes room from the first (its oldest use first) until they hold as many.
      const b = await store.putAccessReceipts(
        [1, 2, 3].map((i) => access(`b${i}`, 'g', 10 + i, 'did:web:b.example', 1)),
        max,
      );
      expect(b).toEqual(['added', 'added', 'full']);
      expect(await store.putAccessReceipts([access('a6', 'g', 20, 'did:web:a.example')], max)).toEqual(['full']);
      const held = (await store.listAccessReceipts({ grantId: 'g' })).map((r) => r.receiptId).sort();
      expect(held).toEqual(['a3', 'a4', 'b1', 'b2']);
      // A newcomer gets a place even when every verifier holds the same: taken from the one that began reporting last.
      expect(await store.putAccessReceipts([access('c1', 'g', 30, 'did:web:c.example', 2)], max)).toEqual(['added']);
      expect((await store.listAccessReceipts({ grantId: 'g' })).map((r) => r.receiptId).sort()).toEqual(['a3', 'a4', 'b2', 'c1']);
      // Other grants are untouched, and a duplicate is a duplicate even when full.
      expect(await store.putAccessReceipts([access('a3', 'g', 3, 'did:web:a.example'), access('x', 'h', 1)], max)).toEqual(['duplicate', 'added']);
    });

    it('access reports: the cap holds under concurrent writers, and many strangers leave the first verifier its share', async () => {
      const max = { maxPerGrant: 30 };
      expect(
        await store.putAccessReceipts(
          Array.from({ length: 30 }, (_, i) => access(`real${i}`, 'g', i, 'did:web:real.example')),
          max,
        ),
      ).toEqual(Array(30).fill('added'));
      // Ten strangers, ten receipts each, all at once.
      const outcomes = await Promise.all(
        Array.from({ length: 10 }, (_, k) =>
          store.putAccessReceipts(
            Array.from({ length: 10 }, (_, i) => access(`s${k}-${i}`, 'g', 100 + i, `did:web:stranger${k}.example`, 10 + k)),
            max,
          ),
        ),
      );
      const kept = await store.listAccessReceipts({ grantId: 'g', limit: 1000 });
      expect(kept.length).toBe(30);
      expect(outcomes.flat().filter((o) => o === 'added').length).toBeGreaterThan(0);
      const per = new Map<string, number>();
      for (const r of kept) per.set(r.verifier, (per.get(r.verifier) ?? 0) + 1);
      // Eleven verifiers share 30 places: none holds more than one above another.
      expect(per.get('did:web:real.example')).toBeGreaterThanOrEqual(2);
      expect(Math.max(...per.values()) - Math.min(...per.values())).toBeLessThanOrEqual(1);
    });

    it('access reports: every did:key and did:jwk verifier shares one share, so a thousand fresh keys never crowd out a did:web platform', async () => {
      const max = { maxPerGrant: 30 };
      const real = 'did:web:platform.example';
      expect(
        await store.putAccessReceipts(
          Array.from({ length: 30 }, (_, i) => access(`real${i}`, 'g', i, real)),
          max,
        ),
      ).toEqual(Array(30).fill('added'));
      // 100 fresh keys, one receipt each, in ten concurrent reports; then did:jwk keys too.
      await Promise.all(
        Array.from({ length: 10 }, (_, k) =>
          store.putAccessReceipts(
            Array.from({ length: 10 }, (_, i) => access(`k${k}-${i}`, 'g', 100 + i, `did:key:zsybil${k}x${i}`, 10 + k)),
            max,
          ),
        ),
      );
      expect(
        await store.putAccessReceipts(
          Array.from({ length: 5 }, (_, i) => access(`j${i}`, 'g', 200 + i, `did:jwk:eyJsybil${i}`, 30)),
          max,
        ),
      ).toEqual(Array(5).fill('full'));
      const kept = await store.listAccessReceipts({ grantId: 'g', limit: 1000 });
      expect(kept.length).toBe(30);
      expect(kept.filter((r) => r.verifier === real).length).toBe(15);
      // The platform takes its room back from the keys' share when it reports again, never below half.
      expect(await store.putAccessReceipts([access('real-next', 'g', 300, real)], max)).toEqual(['full']);
      // A second platform (another host) gets its place, taken from the larger share.
      expect(await store.putAccessReceipts([access('other', 'g', 301, 'did:ion:EiOther', 40)], max)).toEqual(['added']);
      const after = await store.listAccessReceipts({ grantId: 'g', limit: 1000 });
      expect(after.length).toBe(30);
      expect(after.filter((r) => r.verifier === 'did:ion:EiOther').length).toBe(1);
    });

    it('access reports: did:web verifiers share per host, whatever their path or the case of their host; another port is another host', async () => {
      const max = { maxPerGrant: 20 };
      const real = 'did:web:platform.example';
      expect(
        await store.putAccessReceipts(
          Array.from({ length: 20 }, (_, i) => access(`real${i}`, 'g', i, real)),
          max,
        ),
      ).toEqual(Array(20).fill('added'));
      const oneHost = Array.from({ length: 40 }, (_, i) => access(`h${i}`, 'g', 100 + i, `did:web:${i % 2 ? 'EVIL.Example' : 'evil.example'}:user:${i}`, 10));
      await store.putAccessReceipts(oneHost, max);
      let kept = await store.listAccessReceipts({ grantId: 'g', limit: 1000 });
      expect(kept.filter((r) => r.verifier === real).length).toBe(10);
      // The platform's own paths and a mixed-case spelling of its host are the platform's share.
      expect(await store.putAccessReceipts([access('p1', 'g', 200, 'did:web:PLATFORM.example:api', 20)], max)).toEqual(['full']);
      // A port (did:web's %3A, either case) is part of the host: another share, which takes its room.
      expect(await store.putAccessReceipts([access('port', 'g', 201, 'did:web:evil.example%3a8443', 30)], max)).toEqual(['added']);
      expect(await store.putAccessReceipts([access('port2', 'g', 202, 'did:web:evil.example%3A8443:x', 31)], max)).toEqual(['added']);
      kept = await store.listAccessReceipts({ grantId: 'g', limit: 1000 });
      expect(kept.length).toBe(20);
      expect(kept.filter((r) => r.verifier.includes('%3')).length).toBe(2);
      expect(kept.filter((r) => r.verifier === real).length).toBe(9);
    });
  });
}
