import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CharterError } from '../../src/errors.js';
import { openPostgresStore } from '../../src/store/postgres/store.js';
import type { LedgerEntry, Store } from '../../src/store/types.js';
import { createPresentation, decodeCredential } from '../../src/credentials/index.js';
import { ledgerKey } from '../../src/agents/index.js';
import { requireAgent } from '../../src/http/guards.js';
import { verifyRequest } from '../../src/http/request.js';
import { API, openWorld } from '../http/world.js';
import { pgScript, pgUrlOrReport, sql } from './fixtures/pg-env.js';
import { AuditWriter } from '../../src/audit/writer.js';
import { verifyAuditLog } from '../../src/audit/index.js';
import { createResolver } from '../../src/did/resolver.js';
import { makeIssuer, tempDir } from '../helpers.js';
import { decisionClaims, waitFor } from './fixtures/pg-faults.js';

// Restarts a PostgreSQL server under load, so it runs a throwaway cluster of its
// own (scripts/pg-test.sh with a separate state file), not the shared test server.
const shared = pgUrlOrReport('postgres store, server restart');

interface Outcome {
  id: string;
  ok?: boolean;
  code?: string;
  /** Finished after the last restart completed. */
  late: boolean;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const chain = (amount: string): LedgerEntry[] => [
  { mandateId: 'parent', amount, currency: 'USD', budget: { amount: '1000000', currency: 'USD', periodSeconds: 3600 } },
  { mandateId: 'child', amount, currency: 'USD', budget: { amount: '1000000', currency: 'USD', periodSeconds: 3600 }, rate: { count: 1_000_000, periodSeconds: 3600 } },
];

/** `clients` loops reserving on one store until stopped; records every outcome. */
function hammer(store: Store, tag: string, clients: number, phase: { stop: boolean; late: boolean }): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  let n = 0;
  const loop = async () => {
    while (!phase.stop) {
      const id = `${tag}-${n++}`;
      try {
        const r = await store.reserve({ reservationId: id, at: new Date(), entries: chain('1') });
        outcomes.push({ id, ok: r.ok, late: phase.late });
      } catch (e) {
        outcomes.push({ id, code: e instanceof CharterError ? e.code : `not a CharterError: ${String(e)}`, late: phase.late });
        await sleep(5);
      }
    }
  };
  return Promise.all(Array.from({ length: clients }, loop)).then(() => outcomes);
}

if (shared) {
  describe('postgres store across server restarts', () => {
    const state = join(tempDir(), 'pg.state');
    let url = '';
    beforeAll(async () => {
      const out = await pgScript(state, 'start');
      url = /CHARTER_TEST_PG_URL=(\S+)/.exec(out)![1]!;
    }, 120_000);
    afterAll(() => pgScript(state, 'stop'), 60_000);

    it('reservations in flight: every ok is in the ledger, every failure is STORE_UNAVAILABLE, and the store recovers', async () => {
      // One store retries transient faults (the default); one gives up at once, so failures surely happen.
      const patient = await openPostgresStore(url, { poolSize: 8 });
      const hasty = await openPostgresStore(url, { poolSize: 8, retry: { attempts: 1 } });
      const bootedAt = async () => (await sql<{ t: string }>(url, 'SELECT pg_postmaster_start_time()::text AS t'))[0]!.t;
      const before = await bootedAt();

      const phase = { stop: false, late: false };
      const runs = [hammer(patient, 'patient', 8, phase), hammer(hasty, 'hasty', 8, phase)];
      await sleep(400);
      await pgScript(state, 'restart', 'fast');
      await sleep(500);
      // A crash-like stop too: committed entries must come back through WAL recovery.
      await pgScript(state, 'restart', 'immediate');
      phase.late = true;
      await sleep(1500);
      phase.stop = true;
      const [p, h] = await Promise.all(runs);
      expect(await bootedAt()).not.toBe(before);

      const all = [...p!, ...h!];
      const rows = await sql<{ reservation_id: string; n: number }>(url, 'SELECT reservation_id, count(*)::int AS n FROM ledger GROUP BY reservation_id');
      const inLedger = new Map(rows.map((r) => [r.reservation_id, r.n]));
      const oks = all.filter((o) => o.ok === true);
      // Never a wrong ok: everything reported reserved survived both restarts, on every link.
      expect(oks.filter((o) => inLedger.get(o.id) !== 2)).toEqual([]);
      // A reservation is all-or-nothing even when the server dies mid-transaction.
      expect(rows.filter((r) => r.n !== 2)).toEqual([]);
      // No refusals (the budget is ample), and every failure is the fault code.
      expect(all.filter((o) => o.ok === false)).toEqual([]);
      expect(new Set(all.filter((o) => o.code !== undefined).map((o) => o.code))).toEqual(new Set(['STORE_UNAVAILABLE']));
      expect(h!.some((o) => o.code === 'STORE_UNAVAILABLE')).toBe(true);
      // Recovery: both stores reserved again after the last restart, with no new pool needed.
      expect(p!.filter((o) => o.late && o.ok).length).toBeGreaterThan(10);
      expect(h!.filter((o) => o.late && o.ok).length).toBeGreaterThan(10);
      expect((await patient.reserve({ reservationId: 'after', at: new Date(), entries: chain('1') })).ok).toBe(true);
      // The ledger's sums agree with what was reported: every ok plus at most the failures whose commit was unknown.
      const spent = await patient.previewReservation({ reservationId: 'q', at: new Date(), entries: chain('0') });
      const spentCount = Number(spent.usage[0]!.spent);
      expect(spentCount).toBeGreaterThanOrEqual(oks.length + 1);
      expect(spentCount).toBeLessThanOrEqual(oks.length + 1 + all.filter((o) => o.code).length);
      console.log(
        `restart test: ${oks.length} ok, ${all.length - oks.length} STORE_UNAVAILABLE (patient ${p!.filter((o) => o.code).length}, hasty ${h!.filter((o) => o.code).length}), ` +
          `${rows.length - oks.length} committed but reported failed`,
      );
      await Promise.all([patient.close(), hasty.close()]);
    }, 90_000);

    it('nonces and the audit log across a crash-like restart: a value taken stays taken, each taken once; the chain has no gap or fork', async () => {
      const stores = await Promise.all([
        openPostgresStore(url, { schema: 'restart_nonces', poolSize: 4 }),
        openPostgresStore(url, { schema: 'restart_nonces', poolSize: 4, retry: { attempts: 1 } }),
      ]);
      const writer = new AuditWriter(stores[0]!, { signer: makeIssuer(), checkpointEvery: 16, checkpointSeconds: 0 });
      const exp = new Date(Date.now() + 600_000);
      const phase = { stop: false };
      const taken = new Map<string, number>();
      const codes = new Set<string>();
      const handed: number[] = [];
      let n = 0;
      const note = (e: unknown) => codes.add(e instanceof CharterError ? e.code : `not a CharterError: ${String(e)}`);
      const consumer = async (s: Store) => {
        while (!phase.stop) {
          // Each value offered by both stores at once, as a replay reaching two instances.
          const v = `v${n++}`;
          const got = await Promise.all([s, ...stores].map((x) => x.consumeNonce('restart', v, exp).catch((e: unknown) => void note(e))));
          taken.set(v, got.filter((g) => g === true).length);
          if (got.every((g) => g === undefined)) await sleep(5);
        }
      };
      const auditor = async () => {
        for (let i = 0; !phase.stop; i++) {
          await writer.append(decisionClaims(i), []).then(
            (r) => void handed.push(r.seq),
            (e: unknown) => (note(e), sleep(5)),
          );
        }
      };
      const runs = [consumer(stores[0]!), consumer(stores[1]!), auditor()];
      const takenOnce = () => [...taken.values()].filter((k) => k === 1).length;
      await waitFor('values taken and entries logged before the restart', () => takenOnce() > 20 && handed.length > 5);
      await pgScript(state, 'restart', 'immediate');
      // Recovered by themselves, with no new pool: more taken and logged after the restart.
      const [before, logged] = [takenOnce(), handed.length];
      await waitFor('values taken and entries logged after the restart', () => takenOnce() > before + 20 && handed.length > logged + 5);
      phase.stop = true;
      await Promise.all(runs);
      expect([...codes].filter((c) => c !== 'STORE_UNAVAILABLE')).toEqual([]);
      expect([...taken].filter(([, k]) => k > 1)).toEqual([]);
      // Durable: every value reported taken is refused after the crash recovery.
      const once = [...taken].filter(([, k]) => k === 1).map(([v]) => v);
      expect(once.length).toBeGreaterThan(5);
      for (const v of once) expect(await stores[0]!.consumeNonce('restart', v, exp)).toBe(false);
      await writer.flush();
      const rows = await stores[0]!.listAudit({ chain: writer.chain, limit: 100_000 });
      expect(rows.map((r) => r.seq)).toEqual(rows.map((_, i) => i + 1));
      expect(handed.filter((seq) => !rows.some((r) => r.seq === seq))).toEqual([]);
      expect(await verifyAuditLog(stores[0]!, { resolver: createResolver(), chain: writer.chain })).toMatchObject({ ok: true });
      await Promise.all(stores.map((s) => s.close()));
    }, 90_000);

    it('a guarded request while the database is down is a 503 (fail closed, nothing reserved), and allowed once it is back', async () => {
      const w = await openWorld();
      const store = await openPostgresStore(url, { schema: 'http_fault', retry: { attempts: 2 } });
      try {
        const verifier = w.verifier({ store, publicOrigin: 'https://shop.example' });
        const guard = requireAgent({ action: 'purchase', amount: () => '10 USD', trust: { principals: [w.principal.did] } });
        const mandate = await w.mandate();
        const request = async () => {
          const vp = await createPresentation({ holder: w.agent, credentials: [w.agentIdentity, mandate], aud: API, claims: { htm: 'POST', htu: 'https://shop.example/orders' } });
          return new Request('https://shop.example/orders', { method: 'POST', headers: { authorization: `Bearer ${vp}` } });
        };
        expect(await verifyRequest(await request(), verifier, guard)).toMatchObject({ ok: true, status: 200 });
        await pgScript(state, 'pause');
        try {
          expect(await verifyRequest(await request(), verifier, guard)).toMatchObject({ ok: false, status: 503, reasons: [{ code: 'STORE_UNAVAILABLE' }] });
        } finally {
          await pgScript(state, 'resume');
        }
        const back = await verifyRequest(await request(), verifier, guard);
        expect(back).toMatchObject({ ok: true, status: 200 });
        // Two reservations held (the allowed requests), none from the refused one.
        const budget = { amount: '100', currency: 'USD', periodSeconds: 30 * 86_400 };
        const spent = await store.previewReservation({
          reservationId: 'q',
          at: new Date(),
          entries: [{ mandateId: ledgerKey(w.principal.did, decodeCredential(mandate).id!), amount: '0', currency: 'USD', budget }],
        });
        expect(spent.usage[0]!.spent).toBe('20');
      } finally {
        await store.close();
        await w.close();
      }
    }, 90_000);
  });
}
