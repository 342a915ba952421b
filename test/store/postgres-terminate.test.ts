import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Client } from 'pg';
import { CharterError } from '../../src/errors.js';
import { openPostgresStore, type PostgresStoreOptions } from '../../src/store/postgres/store.js';
import type { LedgerEntry, NewRating, Store } from '../../src/store/types.js';
import { AuditWriter } from '../../src/audit/writer.js';
import { verifyAuditLog } from '../../src/audit/index.js';
import { createResolver } from '../../src/did/resolver.js';
import { makeIssuer } from '../helpers.js';
import { dropSchemas, freshSchema, pgUrlOrReport, sql } from './fixtures/pg-env.js';
import { admin, appName, decisionClaims as decision, installCommitGate, lossyProxy, openBlocker, terminateWaiter, waitFor, withParam } from './fixtures/pg-faults.js';

// Faults injected into the shared test server in the middle of store operations: the store's
// backend terminated (pg_terminate_backend) while it waits inside its transaction or while its
// COMMIT is in flight, a COMMIT whose reply is lost, timeouts and an exhausted pool. Whatever
// happens, no operation reports success for a write that did not commit, nothing is used twice,
// failures are STORE_UNAVAILABLE with no credentials in them, and the same store works afterwards.
const shared = pgUrlOrReport('postgres store, faults mid-operation');

const SECRET = 's3cret-pgfault';
/** The test URL with a password in it (trust auth ignores it): no error may repeat it. */
const withPassword = (url: string) => url.replace(/^(postgres(?:ql)?:\/\/)([^:@/]+)@/, `$1$2:${SECRET}@`);

const budget = (amount: string, cap = '10'): LedgerEntry[] => [{ mandateId: 'm', amount, currency: 'USD', budget: { amount: cap, currency: 'USD', periodSeconds: 3600 } }];
const rating = (i: number, agent = 'did:example:agent'): NewRating => ({
  attester: `did:example:att${i % 3}`,
  id: `r${i}`,
  agent,
  receipt: `receipt-${i}`,
  score: 0.5,
  issuedAt: 1_700_000_000_000 + i,
  importedAt: 1_700_000_000_000,
});

/** What an operation settled to: its value, or its error's code and message. */
async function outcome<T>(p: Promise<T>): Promise<{ ok: true; value: T } | { ok: false; code: string; message: string; stack: string }> {
  try {
    return { ok: true, value: await p };
  } catch (e) {
    if (!(e instanceof CharterError)) return { ok: false, code: `not a CharterError: ${String(e)}`, message: String(e), stack: '' };
    return { ok: false, code: e.code, message: e.message, stack: e.stack ?? '' };
  }
}

/** Fails closed: STORE_UNAVAILABLE, with no password in what it says. */
function expectUnavailable(o: Awaited<ReturnType<typeof outcome>>): void {
  expect(o).toMatchObject({ ok: false, code: 'STORE_UNAVAILABLE' });
  if (!o.ok) expect(`${o.message}\n${o.stack}`).not.toContain(SECRET);
}

if (shared) {
  const url = withPassword(shared);
  const schemas = new Set<string>();
  const stores: Store[] = [];
  const unhandled: unknown[] = [];
  const onUnhandled = (e: unknown) => unhandled.push(e);
  let a: Client;

  /** A store on a fresh schema (or `schema`), its connections tagged with their own application_name. */
  async function open(options: PostgresStoreOptions & { url?: string } = {}): Promise<{ store: Store; schema: string; app: string }> {
    const schema = options.schema ?? freshSchema('fault');
    schemas.add(schema);
    const app = appName();
    const store = await openPostgresStore(withParam(options.url ?? url, 'application_name', app), { ...options, schema });
    stores.push(store);
    return { store, schema, app };
  }
  const count = async (query: string, args: unknown[] = []) => Number((await sql<{ n: string }>(shared, query, args))[0]!.n);

  beforeAll(async () => {
    process.on('unhandledRejection', onUnhandled);
    a = await admin(shared);
  });
  afterAll(async () => {
    process.off('unhandledRejection', onUnhandled);
    await Promise.all(stores.map((s) => s.close().catch(() => undefined)));
    await a.end();
    await dropSchemas(shared, schemas);
    // Not one promise left rejected without a handler by any fault above (the pool's 'error' events included).
    expect(unhandled).toEqual([]);
  });

  describe('spend: a reservation, commit and release under terminated connections', () => {
    it('a reservation whose backend is terminated (twice) while it waits for the mandate lock is retried: ok once, recorded once', async () => {
      const { store, schema } = await open();
      expect((await store.reserve({ reservationId: 'r0', at: new Date(), entries: budget('1') })).ok).toBe(true);
      const b = await openBlocker(shared);
      try {
        await b.query(`SELECT id FROM "${schema}".mandates WHERE id = 'm' FOR UPDATE`);
        const p = outcome(store.reserve({ reservationId: 'r1', at: new Date(), entries: budget('9') }));
        await terminateWaiter(a, b);
        await terminateWaiter(a, b);
        await b.release();
        expect(await p).toEqual({ ok: true, value: expect.objectContaining({ ok: true }) });
      } finally {
        await b.end();
      }
      expect(await count(`SELECT count(*) AS n FROM "${schema}".ledger WHERE reservation_id = 'r1'`)).toBe(1);
      // The cap holds: 1 + 9 spent of 10, so one more cent is refused.
      expect((await store.reserve({ reservationId: 'r2', at: new Date(), entries: budget('0.01') })).ok).toBe(false);
    });

    it('a COMMIT terminated in flight: STORE_UNAVAILABLE, nothing recorded, the id and the budget still free', async () => {
      const { store, schema } = await open();
      const gate = await installCommitGate(a, schema, 'ledger');
      const b = await openBlocker(shared);
      try {
        await gate.lock(b);
        const p = outcome(store.reserve({ reservationId: 'r1', at: new Date(), entries: budget('10') }));
        await terminateWaiter(a, b);
        expectUnavailable(await p);
      } finally {
        await b.end();
      }
      expect(await count(`SELECT count(*) AS n FROM "${schema}".ledger`)).toBe(0);
      expect((await store.reserve({ reservationId: 'r1', at: new Date(), entries: budget('10') })).ok).toBe(true);
      expect((await store.reserve({ reservationId: 'r2', at: new Date(), entries: budget('0.01') })).ok).toBe(false);
    });

    it('a COMMIT whose reply is lost is confirmed by reading back: ok, recorded once, the id used', async () => {
      const proxy = await lossyProxy(url);
      try {
        const { store, schema } = await open({ url: proxy.url });
        proxy.loseNextReply();
        expect(await outcome(store.reserve({ reservationId: 'r1', at: new Date(), entries: budget('6') }))).toMatchObject({ ok: true, value: { ok: true } });
        expect(proxy.lost()).toBe(1);
        expect(await count(`SELECT count(*) AS n FROM "${schema}".ledger WHERE reservation_id = 'r1'`)).toBe(1);
        expect(await outcome(store.reserve({ reservationId: 'r1', at: new Date(), entries: budget('1') }))).toMatchObject({ ok: false, code: 'ALREADY_EXISTS' });
        expect((await store.reserve({ reservationId: 'r2', at: new Date(), entries: budget('5') })).ok).toBe(false);
      } finally {
        await proxy.close();
      }
    });

    it('commit and release: terminated at COMMIT they fail closed and leave the reservation held; a lost reply is confirmed', async () => {
      const proxy = await lossyProxy(url);
      try {
        const { store, schema } = await open({ url: proxy.url });
        const state = async (id: string) => (await sql<{ state: string }>(shared, `SELECT state FROM "${schema}".ledger WHERE reservation_id = $1`, [id]))[0]!.state;
        for (const id of ['c', 'r', 'c2', 'r2']) expect((await store.reserve({ reservationId: id, at: new Date(), entries: budget('1') })).ok).toBe(true);
        const gate = await installCommitGate(a, schema, 'ledger');
        for (const [id, settle] of [
          ['c', () => store.commitReservation('c')],
          ['r', () => store.releaseReservation('r')],
        ] as const) {
          const b = await openBlocker(shared);
          try {
            await gate.lock(b);
            const p = outcome(settle());
            await terminateWaiter(a, b);
            expectUnavailable(await p);
          } finally {
            await b.end();
          }
          expect(await state(id)).toBe('reserved');
        }
        proxy.loseNextReply();
        await store.commitReservation('c2');
        proxy.loseNextReply();
        await store.releaseReservation('r2');
        expect(proxy.lost()).toBe(2);
        expect([await state('c2'), await state('r2')]).toEqual(['committed', 'released']);
        // Settled once: a release of the committed one is refused, as without the fault.
        expect(await outcome(store.releaseReservation('c2'))).toMatchObject({ ok: false });
      } finally {
        await proxy.close();
      }
    });
  });

  describe('the replay cache: a nonce used once stays used', () => {
    it('terminated while waiting behind another transaction taking the same value: retried, and refused once the other commits', async () => {
      const { store, schema } = await open();
      const exp = new Date(Date.now() + 600_000);
      for (const commit of [true, false]) {
        const value = `v-${commit}`;
        const b = await openBlocker(shared);
        try {
          await b.query(`INSERT INTO "${schema}".nonces (scope, value, expires_at) VALUES ('s', $1, $2)`, [value, exp.getTime()]);
          const p = outcome(store.consumeNonce('s', value, exp));
          await terminateWaiter(a, b);
          await b.release(commit);
          // Taken by the other transaction: refused; rolled back: this one takes it.
          expect(await p).toEqual({ ok: true, value: !commit });
        } finally {
          await b.end();
        }
        expect(await store.consumeNonce('s', value, exp)).toBe(false);
      }
    });

    it('a COMMIT terminated in flight is STORE_UNAVAILABLE and takes nothing; a lost COMMIT reply is STORE_UNAVAILABLE and the value stays taken', async () => {
      const proxy = await lossyProxy(url);
      try {
        const { store, schema } = await open({ url: proxy.url });
        const exp = new Date(Date.now() + 600_000);
        const gate = await installCommitGate(a, schema, 'nonces');
        const b = await openBlocker(shared);
        try {
          await gate.lock(b);
          const p = outcome(store.consumeNonce('s', 'killed', exp));
          await terminateWaiter(a, b);
          expectUnavailable(await p);
        } finally {
          await b.end();
        }
        expect(await store.consumeNonce('s', 'killed', exp)).toBe(true);
        proxy.loseNextReply();
        // Committed, but the store cannot know: never "new" on a guess.
        expectUnavailable(await outcome(store.consumeNonce('s', 'lost', exp)));
        expect(proxy.lost()).toBe(1);
        expect(await store.consumeNonce('s', 'lost', exp)).toBe(false);
        expect(await store.consumeNonce('s', 'killed', exp)).toBe(false);
      } finally {
        await proxy.close();
      }
    });
  });

  describe('status lists: allocation and publication', () => {
    const list = { id: 'l1', issuerDid: 'did:example:issuer', purpose: 'revocation' as const, size: 64, ttlSeconds: 300, url: 'https://issuer.example/status/1' };

    it('an allocation terminated mid-transaction is retried; killed at COMMIT it fails closed; a lost reply is confirmed: one index per credential, counted once', async () => {
      const proxy = await lossyProxy(url);
      try {
        const { store, schema } = await open({ url: proxy.url });
        await store.createStatusList(list);
        const pick = (size: number) => Math.floor(Math.random() * size);
        // Mid-transaction: the credential's advisory lock held elsewhere.
        const b = await openBlocker(shared);
        try {
          await b.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 7))', ['charter status urn:c1']);
          const p = outcome(store.allocateStatusIndex('l1', 'urn:c1', pick));
          await terminateWaiter(a, b);
          await b.release();
          expect(await p).toMatchObject({ ok: true, value: { listId: 'l1' } });
        } finally {
          await b.end();
        }
        const gate = await installCommitGate(a, schema, 'status_allocations');
        const g = await openBlocker(shared);
        try {
          await gate.lock(g);
          const p = outcome(store.allocateStatusIndex('l1', 'urn:c2', pick));
          await terminateWaiter(a, g);
          expectUnavailable(await p);
        } finally {
          await g.end();
        }
        proxy.loseNextReply();
        const c3 = await store.allocateStatusIndex('l1', 'urn:c3', pick);
        expect(proxy.lost()).toBe(1);
        expect(await store.findStatusAllocation('urn:c3')).toEqual([c3]);
        expect(await store.findStatusAllocation('urn:c2')).toEqual([]);
        const c2 = await store.allocateStatusIndex('l1', 'urn:c2', pick);
        expect(await store.findStatusAllocation('urn:c2')).toEqual([c2]);
        expect(await count(`SELECT count(*) AS n FROM "${schema}".status_allocations`)).toBe(3);
        expect((await store.getStatusList('l1'))!.allocated).toBe(3);
      } finally {
        await proxy.close();
      }
    });

    it('publication: a revocation and a signed copy whose replies are lost report what they did', async () => {
      const proxy = await lossyProxy(url);
      try {
        const { store } = await open({ url: proxy.url });
        await store.createStatusList(list);
        proxy.loseNextReply('UPDATE');
        const set = await store.setStatusBit('l1', 5, true);
        expect(proxy.lost()).toBe(1);
        expect(set.version).toBeGreaterThanOrEqual(1);
        proxy.loseNextReply('UPDATE');
        expect(await store.putSignedStatusList('l1', set.version, 'h.signed.s', undefined)).toBe(true);
        expect(proxy.lost()).toBe(2);
        // Revoked for good, and the copy stored is the one put.
        await expect(store.setStatusBit('l1', 5, false)).rejects.toBeInstanceOf(CharterError);
        expect(await store.getStatusList('l1')).toMatchObject({ signedJwt: 'h.signed.s', signedVersion: set.version });
      } finally {
        await proxy.close();
      }
    });
  });

  describe('reputation import and data-pool votes', () => {
    it('a ratings import killed at COMMIT adds nothing and bumps no version; with its reply lost it is confirmed; imported again, nothing twice', async () => {
      const proxy = await lossyProxy(url);
      try {
        const { store, schema } = await open({ url: proxy.url });
        const batch = Array.from({ length: 6 }, (_, i) => rating(i));
        const gate = await installCommitGate(a, schema, 'ratings');
        const b = await openBlocker(shared);
        try {
          await gate.lock(b);
          const p = outcome(store.putRatings(batch));
          await terminateWaiter(a, b);
          expectUnavailable(await p);
        } finally {
          await b.end();
        }
        expect(await store.ratingsVersion('did:example:agent')).toBe(0);
        expect(await store.listRatings('did:example:agent')).toEqual([]);
        proxy.loseNextReply();
        expect(await store.putRatings(batch)).toHaveLength(6);
        expect(proxy.lost()).toBe(1);
        expect(await store.putRatings(batch)).toEqual([]);
        expect(await store.ratingsVersion('did:example:agent')).toBe(6);
        expect(await store.listRatings('did:example:agent')).toHaveLength(6);
      } finally {
        await proxy.close();
      }
    });

    it('a vote record killed at COMMIT is not kept (a second cast is possible); with its reply lost it is kept once', async () => {
      const proxy = await lossyProxy(url);
      try {
        const { store, schema } = await open({ url: proxy.url });
        const vote = (id: string) => ({
          id,
          jwt: `h.${id}.s`,
          direction: 'held' as const,
          issuer: 'did:example:member',
          subject: 'did:example:pool',
          types: ['PoolVoteCredential'],
          parentId: 'urn:proposal',
          createdAt: new Date().toISOString(),
        });
        const gate = await installCommitGate(a, schema, 'credentials');
        const b = await openBlocker(shared);
        try {
          await gate.lock(b);
          const p = outcome(store.putCredential(vote('urn:vote:1')));
          await terminateWaiter(a, b);
          expectUnavailable(await p);
        } finally {
          await b.end();
        }
        expect(await store.getCredential('urn:vote:1')).toBeUndefined();
        proxy.loseNextReply();
        await store.putCredential(vote('urn:vote:1'));
        expect(proxy.lost()).toBe(1);
        expect(await outcome(store.putCredential(vote('urn:vote:1')))).toMatchObject({ ok: false, code: 'ALREADY_EXISTS' });
        expect(await store.listCredentials({ type: 'PoolVoteCredential', parentId: 'urn:proposal' })).toHaveLength(1);
      } finally {
        await proxy.close();
      }
    });
  });

  describe('the audit log: no gap and no fork after a fault', () => {
    const resolver = createResolver();

    for (const mode of ['before-reply', 'after-reply'] as const) {
      it(`${mode}: an append killed at COMMIT and one whose reply is lost; the chain goes on from what the log holds and verifies`, async () => {
        const proxy = await lossyProxy(url);
        try {
          const { store, schema } = await open({ url: proxy.url });
          const writer = new AuditWriter(store, { signer: makeIssuer(), checkpointEvery: 4, checkpointSeconds: 0, append: mode });
          const handed: number[] = [];
          const append = async (n: number) => {
            const o = await outcome(writer.append(decision(n), []));
            if (o.ok) handed.push(o.value.seq);
            return o;
          };
          expect((await append(1)).ok).toBe(true);
          const gate = await installCommitGate(a, schema, 'audit_entries');
          const b = await openBlocker(shared);
          try {
            await gate.lock(b);
            const p = append(2);
            await terminateWaiter(a, b);
            // Before reply: the decision fails with the store (the guard answers 503). After reply: it was handed out
            // once placed and signed, and its entry is stored in the background once the store answers again.
            if (mode === 'before-reply') expectUnavailable(await p);
            else expect((await p).ok).toBe(true);
          } finally {
            await b.end();
          }
          proxy.loseNextReply();
          expect((await append(3)).ok).toBe(true);
          for (let n = 4; n < 10; n++) expect((await append(n)).ok).toBe(true);
          await writer.flush();
          await writer.checkpoint();
          const rows = await store.listAudit({ chain: writer.chain });
          // One entry per seq from 1, each receipt handed out in the log at the seq it was given.
          expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
          expect(handed.every((seq) => rows.some((r) => r.seq === seq))).toBe(true);
          expect(new Set(rows.map((r) => r.receiptId)).size).toBe(rows.length);
          const log = await verifyAuditLog(store, { resolver });
          expect(log).toMatchObject({ ok: true, chains: [{ chain: writer.chain, entries: rows.length }] });
        } finally {
          await proxy.close();
        }
      }, 60_000);
    }
  });

  describe('reported uses of a grant', () => {
    it('a report whose COMMIT reply is lost says what it added (not duplicates of itself); killed at COMMIT it fails closed and adds nothing', async () => {
      const proxy = await lossyProxy(url);
      try {
        const { store, schema } = await open({ url: proxy.url });
        const rec = (id: string) => ({
          grantId: 'urn:grant',
          receiptId: id,
          verifier: 'did:example:api',
          reporter: 'did:example:api',
          outcome: 'allow' as const,
          at: new Date().toISOString(),
          receivedAt: new Date().toISOString(),
          jws: `h.${id}.s`,
        });
        proxy.loseNextReply();
        expect(await store.putAccessReceipts([rec('r1'), rec('r2')])).toEqual(['added', 'added']);
        expect(proxy.lost()).toBe(1);
        const gate = await installCommitGate(a, schema, 'access_receipts');
        const b = await openBlocker(shared);
        try {
          await gate.lock(b);
          const p = outcome(store.putAccessReceipts([rec('r1'), rec('r3')]));
          await terminateWaiter(a, b);
          expectUnavailable(await p);
        } finally {
          await b.end();
        }
        expect(await store.listAccessReceipts({ grantId: 'urn:grant' })).toHaveLength(2);
        expect(await store.putAccessReceipts([rec('r1'), rec('r3')])).toEqual(['duplicate', 'added']);
        expect(await store.listAccessReceipts({ grantId: 'urn:grant' })).toHaveLength(3);
      } finally {
        await proxy.close();
      }
    });
  });

  describe('two pools (two verifier processes) racing under faults', () => {
    /** Terminates, every few ms until stopped, one backend of the given application names. */
    function killer(apps: string[]): { stop: () => Promise<number> } {
      let stopped = false;
      let kills = 0;
      const k = admin(url);
      const done = (async () => {
        const c = await k;
        while (!stopped) {
          const r = await c.query(
            `SELECT pg_terminate_backend(pid) FROM (SELECT pid FROM pg_stat_activity WHERE application_name = ANY($1) AND state <> 'idle' ORDER BY random() LIMIT 1) x`,
            [apps],
          );
          kills += r.rowCount ?? 0;
          await new Promise((r) => setTimeout(r, 15));
        }
        await c.end();
      })();
      return {
        stop: async () => {
          stopped = true;
          await done;
          return kills;
        },
      };
    }

    it('one budget: reservations from both racing while backends are terminated never spend past the cap; every ok is in the ledger', async () => {
      const one = await open({ poolSize: 4 });
      const two = await open({ schema: one.schema, poolSize: 4, retry: { attempts: 2 } });
      const k = killer([one.app, two.app]);
      const PER = 40;
      const results = await Promise.all(
        [one.store, two.store].flatMap((s, si) =>
          Array.from({ length: PER }, async (_, i) => ({
            id: `s${si}-${i}`,
            o: await outcome(s.reserve({ reservationId: `s${si}-${i}`, at: new Date(), entries: budget('0.5') })),
          })),
        ),
      );
      const kills = await k.stop();
      const ledger = await sql<{ reservation_id: string; amount: string }>(shared, `SELECT reservation_id, amount::text FROM "${one.schema}".ledger`);
      const inLedger = new Set(ledger.map((r) => r.reservation_id));
      const oks = results.filter((r) => r.o.ok && r.o.value.ok);
      // Never past the cap (10 USD of 0.5 each: 20), whatever was killed.
      expect(ledger.length).toBeLessThanOrEqual(20);
      expect(oks.filter((r) => !inLedger.has(r.id))).toEqual([]);
      // Whatever is in the ledger but was not reported ok failed with the fault code (its COMMIT outcome unknown).
      const failed = new Set(results.filter((r) => !r.o.ok).map((r) => r.id));
      expect([...inLedger].filter((id) => !oks.some((r) => r.id === id) && !failed.has(id))).toEqual([]);
      expect(new Set(results.flatMap((r) => (r.o.ok ? [] : [r.o.code])))).toEqual(new Set(results.some((r) => !r.o.ok) ? ['STORE_UNAVAILABLE'] : []));
      // The demand (40 USD) is past the cap: some were refused, and the cap was reached or nearly so.
      expect(results.some((r) => r.o.ok && !r.o.value.ok)).toBe(true);
      console.log(`budget race: ${kills} backends terminated, ${oks.length} ok, ${failed.size} STORE_UNAVAILABLE, ${ledger.length} in the ledger`);
      // Both recover without a new pool.
      for (const s of [one.store, two.store]) expect((await s.previewReservation({ reservationId: 'q', at: new Date(), entries: budget('0') })).ok).toBe(true);
    }, 120_000);

    it('one set of nonces: both pools racing to consume each value while backends are terminated take each at most once', async () => {
      const one = await open({ poolSize: 4 });
      const two = await open({ schema: one.schema, poolSize: 4 });
      const exp = new Date(Date.now() + 600_000);
      const k = killer([one.app, two.app]);
      const N = 60;
      const taken = await Promise.all(
        Array.from({ length: N }, (_, i) =>
          Promise.all([one.store, two.store].map((s) => outcome(s.consumeNonce('race', `n${i}`, exp)))).then((both) => both.filter((o) => o.ok && o.value === true).length),
        ),
      );
      const kills = await k.stop();
      expect(taken.filter((n) => n > 1)).toEqual([]);
      // A value reported taken is in the cache for good: a replay is refused by both. (One that both
      // attempts failed on, every retry killed, may or may not be: its outcome was unknown.)
      for (let i = 0; i < N; i++) if (taken[i] === 1) for (const s of [one.store, two.store]) expect(await s.consumeNonce('race', `n${i}`, exp)).toBe(false);
      console.log(`nonce race: ${kills} backends terminated, ${taken.filter((n) => n === 1).length} of ${N} values taken`);
    }, 120_000);

    it('two imports of the same ratings in opposite orders at once never deadlock: both finish with no retry, each version bumped once per rating', async () => {
      // No retry allowed: a deadlock between them (each waiting on the other's uncommitted keys) would fail one.
      const one = await open({ retry: { attempts: 1 } });
      const two = await open({ schema: one.schema, retry: { attempts: 1 } });
      for (let round = 0; round < 4; round++) {
        const batch = Array.from({ length: 2000 }, (_, i) => rating(round * 10_000 + i, `did:example:a${i % 4}`));
        const [x, y] = await Promise.all([outcome(one.store.putRatings(batch)), outcome(two.store.putRatings([...batch].reverse()))]);
        expect([x.ok, y.ok]).toEqual([true, true]);
        if (x.ok && y.ok) expect(x.value.length + y.value.length).toBe(2000);
      }
      for (let i = 0; i < 4; i++) expect(await one.store.ratingsVersion(`did:example:a${i}`)).toBe(2000);
    }, 120_000);
  });

  describe('a server whose default isolation is not READ COMMITTED (set on the role, the database or PGOPTIONS)', () => {
    for (const level of ['repeatable read', 'serializable']) {
      it(`${level}: instances opening at once migrate once; racing reservations stay under the cap; one status index per credential`, async () => {
        const isolated = withParam(url, 'options', `-c default_transaction_isolation=${level.replace(' ', '\\ ')}`);
        const schema = freshSchema('iso');
        // One after another here (opening at once is checked last).
        const four: Awaited<ReturnType<typeof open>>[] = [];
        for (let i = 0; i < 4; i++) four.push(await open({ url: isolated, schema, poolSize: 5 }));
        expect((await sql<{ default_transaction_isolation: string }>(isolated, 'SHOW default_transaction_isolation'))[0]!.default_transaction_isolation).toBe(level);
        const results = await Promise.all(
          Array.from({ length: 60 }, (_, i) => outcome(four[i % 4]!.store.reserve({ reservationId: `r${i}`, at: new Date(), entries: budget('1') }))),
        );
        expect(results.filter((r) => !r.ok)).toEqual([]);
        expect(results.filter((r) => r.ok && r.value.ok).length).toBe(10);
        expect(await count(`SELECT count(*) AS n FROM "${schema}".ledger`)).toBe(10);
        await four[0]!.store.createStatusList({ id: 'l', issuerDid: 'did:example:i', purpose: 'revocation', size: 1024, ttlSeconds: 60, url: 'https://i.example/l' });
        const got = await Promise.all(four.map((f) => f.store.allocateStatusIndex('l', 'urn:cred', (n) => Math.floor(Math.random() * n))));
        expect(new Set(got.map((g) => g.index)).size).toBe(1);
        expect(await four[0]!.store.findStatusAllocation('urn:cred')).toHaveLength(1);
        // Opening at once: one migrates, the others wait on its lock, then find the schema made.
        await Promise.all(Array.from({ length: 4 }, () => open({ url: isolated, schema: `${schema}_m`, poolSize: 1 })));
      }, 60_000);
    }
  });

  describe('timeouts, an exhausted pool, dead idle connections', () => {
    it('statement_timeout and lock_timeout while a mandate is locked elsewhere: STORE_UNAVAILABLE saying which, nothing recorded', async () => {
      const first = await open({ statementTimeoutMs: 300 });
      // A lock_timeout set by the operator (here in the URL; as often on the role or database).
      const second = await open({ schema: first.schema, url: withParam(url, 'options', '-c lock_timeout=300') });
      expect((await first.store.reserve({ reservationId: 'r0', at: new Date(), entries: budget('1') })).ok).toBe(true);
      const b = await openBlocker(shared);
      try {
        await b.query(`SELECT id FROM "${first.schema}".mandates FOR UPDATE`);
        const timedOut = await outcome(first.store.reserve({ reservationId: 'r1', at: new Date(), entries: budget('1') }));
        expectUnavailable(timedOut);
        expect(timedOut.ok ? '' : timedOut.message).toMatch(/statement_timeout/);
        const locked = await outcome(second.store.reserve({ reservationId: 'r2', at: new Date(), entries: budget('1') }));
        expectUnavailable(locked);
        expect(locked.ok ? '' : locked.message).toMatch(/lock_timeout/);
      } finally {
        await b.end();
      }
      expect(await count(`SELECT count(*) AS n FROM "${first.schema}".ledger`)).toBe(1);
      expect((await second.store.reserve({ reservationId: 'r3', at: new Date(), entries: budget('1') })).ok).toBe(true);
    });

    it('statementTimeoutMs 0 (no statement_timeout, as in PostgreSQL): a lock waited on past the 5 s reply margin is waited for, not cut off', async () => {
      // The reply margin guards a silent server beyond statement_timeout; with none set there is nothing to add it to,
      // and a wait the caller asked to leave unbounded must not end in a client-side 'Query read timeout' at 5 s.
      const { store, schema } = await open({ statementTimeoutMs: 0, retry: { attempts: 1 } });
      expect((await store.reserve({ reservationId: 'r0', at: new Date(), entries: budget('1') })).ok).toBe(true);
      const b = await openBlocker(shared);
      let held: Promise<Awaited<ReturnType<typeof outcome>>>;
      try {
        await b.query(`SELECT id FROM "${schema}".mandates FOR UPDATE`);
        held = outcome(store.reserve({ reservationId: 'r1', at: new Date(), entries: budget('1') }));
        await new Promise((r) => setTimeout(r, 6_500));
      } finally {
        await b.end();
      }
      const o = await held;
      expect([o.ok, o.ok ? '' : o.message]).toEqual([true, '']);
      expect(await count(`SELECT count(*) AS n FROM "${schema}".ledger`)).toBe(2);
    }, 30_000);

    it('every connection of the pool busy: STORE_UNAVAILABLE saying the pool is exhausted and what to raise; nothing taken', async () => {
      const { store, schema } = await open({ poolSize: 1, connectTimeoutMs: 500, retry: { attempts: 2 } });
      await store.reserve({ reservationId: 'r0', at: new Date(), entries: budget('1') });
      const b = await openBlocker(shared);
      try {
        await b.query(`SELECT id FROM "${schema}".mandates FOR UPDATE`);
        const held = outcome(store.reserve({ reservationId: 'r1', at: new Date(), entries: budget('1') }));
        await waitFor(
          'the reservation to wait for the lock',
          async () => (await a.query('SELECT 1 FROM pg_stat_activity WHERE $1 = ANY(pg_blocking_pids(pid))', [b.pid])).rowCount === 1,
        );
        const starved = await outcome(store.consumeNonce('s', 'v', new Date(Date.now() + 60_000)));
        expectUnavailable(starved);
        expect(starved.ok ? '' : starved.message).toMatch(/connectTimeoutMs.*poolSize/);
        await b.release();
        expect(await held).toMatchObject({ ok: true, value: { ok: true } });
      } finally {
        await b.end();
      }
      // The nonce refused for want of a connection was not taken.
      expect(await store.consumeNonce('s', 'v', new Date(Date.now() + 60_000))).toBe(true);
    });

    it("the server's connection slots used up (a role's CONNECTION LIMIT, 53300): STORE_UNAVAILABLE saying so, nothing taken, fine once slots free", async () => {
      const role = appName();
      await a.query(`CREATE ROLE ${role} LOGIN CONNECTION LIMIT 2`);
      await a.query(`GRANT CREATE ON DATABASE ${a.database} TO ${role}`);
      try {
        const limited = new URL(url);
        limited.username = role;
        const { store, schema, app } = await open({ url: limited.toString(), poolSize: 4, retry: { attempts: 3 } });
        await store.reserve({ reservationId: 'r0', at: new Date(), entries: budget('1') });
        const b = await openBlocker(shared);
        try {
          await b.query(`SELECT id FROM "${schema}".mandates FOR UPDATE`);
          // Two reservations wait for the lock, holding both of the role's connections.
          const held = [1, 2].map((i) => outcome(store.reserve({ reservationId: `r${i}`, at: new Date(), entries: budget('1') })));
          // (The second waits behind the first, on the row's tuple lock, not on the blocker itself.)
          await waitFor(
            'two reservations waiting for the lock',
            async () => (await a.query(`SELECT 1 FROM pg_stat_activity WHERE application_name = $1 AND wait_event_type = 'Lock'`, [app])).rowCount === 2,
          );
          const refused = await outcome(store.consumeNonce('s', 'v', new Date(Date.now() + 60_000)));
          expectUnavailable(refused);
          expect(refused.ok ? '' : refused.message).toMatch(/53300.*max_connections/);
          await b.release();
          for (const h of held) expect(await h).toMatchObject({ ok: true, value: { ok: true } });
        } finally {
          await b.end();
        }
        expect(await store.consumeNonce('s', 'v', new Date(Date.now() + 60_000))).toBe(true);
        await store.close();
      } finally {
        await a.query(`DROP OWNED BY ${role} CASCADE`);
        await a.query(`DROP ROLE ${role}`);
      }
    });

    it('a server that stops answering (a partition, a frozen host): STORE_UNAVAILABLE within the timeouts, not a hang; then it recovers', async () => {
      const proxy = await lossyProxy(url);
      try {
        const { store, schema } = await open({ url: proxy.url, statementTimeoutMs: 1000, connectTimeoutMs: 1000 });
        expect((await store.reserve({ reservationId: 'r0', at: new Date(), entries: budget('1') })).ok).toBe(true);
        proxy.freeze();
        const t0 = Date.now();
        const ops = await Promise.all([
          outcome(store.reserve({ reservationId: 'r1', at: new Date(), entries: budget('1') })),
          outcome(store.consumeNonce('s', 'frozen', new Date(Date.now() + 60_000))),
        ]);
        const waited = Date.now() - t0;
        for (const o of ops) expectUnavailable(o);
        // Bounded by the statement timeout, a margin and one connect timeout: far below the test's limit.
        expect(waited).toBeLessThan(30_000);
        proxy.thaw();
        expect((await store.reserve({ reservationId: 'r2', at: new Date(), entries: budget('1') })).ok).toBe(true);
        expect(await store.consumeNonce('s', 'frozen', new Date(Date.now() + 60_000))).toBe(true);
        expect(await count(`SELECT count(*) AS n FROM "${schema}".ledger WHERE reservation_id = 'r1'`)).toBe(0);
      } finally {
        await proxy.close();
      }
    }, 60_000);

    it('idle connections terminated by the server are dropped by the pool: the next operation succeeds with no retry left', async () => {
      const { store, app } = await open({ poolSize: 4, retry: { attempts: 1 } });
      await Promise.all(Array.from({ length: 4 }, (_, i) => store.consumeNonce('s', `warm${i}`, new Date(Date.now() + 60_000))));
      const idle = await waitFor('idle pool connections', async () => {
        const r = await a.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND state = 'idle'`, [app]);
        return r.rows.length > 0 ? r.rows.map((x) => x.pid) : undefined;
      });
      await a.query('SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid', [idle]);
      await waitFor('the terminated backends to exit', async () => (await a.query('SELECT 1 FROM pg_stat_activity WHERE pid = ANY($1)', [idle])).rowCount === 0);
      // The pool heard each FATAL on its idle clients ('error', handled: no crash) and dropped them: with
      // no retry allowed, the next operations still succeed, on fresh connections.
      expect(await store.getConfig('x')).toBeUndefined();
      expect(await store.consumeNonce('s', 'after', new Date(Date.now() + 60_000))).toBe(true);
      // The race the pool cannot win: idle clients handed out while their FATAL is still unread (a restart seen
      // mid-burst). Terminated and used at once, never waited on: each such client is replaced, no retry used.
      for (let round = 0; round < 5; round++) {
        await Promise.all(Array.from({ length: 4 }, (_, i) => store.consumeNonce('s', `warm-${round}-${i}`, new Date(Date.now() + 60_000))));
        await a.query(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = $1`, [app]);
        const [config, nonces] = await Promise.all([
          store.getConfig('x'),
          Promise.all(Array.from({ length: 4 }, (_, i) => store.consumeNonce('s', `now-${round}-${i}`, new Date(Date.now() + 60_000)))),
        ]);
        expect(config).toBeUndefined();
        expect(nonces).toEqual([true, true, true, true]);
      }
    });
  });
}
