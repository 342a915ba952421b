import type { PoolClient } from 'pg';
import { CharterError } from '../../errors.js';
import { formatDecimal, parseDecimal } from '../../encoding/decimal.js';
import type { Ledger, ReservationRequest, ReservationResult } from '../types.js';
import { reservationRows, type Row } from '../rows.js';
import { settlement, validateReservation } from '../ledger.js';
import { windowBounds } from './totals.js';
import { decideReservation, type LinkTotals } from '../ledger.js';
import type { Runner } from './run.js';

/** Qualified table names of one schema. */
export interface LedgerTables {
  ledger: string;
  mandates: string;
  reservations: string;
}

/**
 * The spend ledger on PostgreSQL. reserve() serialises per mandate, not per
 * database: it locks the row of every mandate it charges (FOR UPDATE, in one
 * sorted order so two chains sharing links cannot deadlock), then reads,
 * checks and writes under those locks in one READ COMMITTED transaction. Each
 * statement after the lock sees every spend committed by whoever held the
 * lock before, which is what makes parallel verifiers unable to overspend.
 * The arithmetic is the SQLite backend's (decideReservation in ledger.ts).
 */
export function createLedger(run: Runner, t: LedgerTables): Ledger {
  // Named statements: parsed and planned once per connection (the reserve path runs them all the time).
  // The names need no schema: a pool, and so each connection, belongs to one store and its schema.
  const named = (name: string, text: string) => (values: unknown[]) => ({ name: `charter.${name}`, text, values });
  const sql = {
    lock: named('lock', `SELECT id FROM ${t.mandates} WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`),
    addMandates: named('add-mandates', `INSERT INTO ${t.mandates} (id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING`),
    // Per link, the totals over its windows; with a reservation id, one more row (used) if that id is taken.
    totals: named(
      'totals',
      `SELECT w.m AS mandate_id,
         coalesce(sum(l.amount) FILTER (WHERE l.at > w.bs), 0)::text AS spent,
         coalesce(bool_or(l.currency <> w.cur) FILTER (WHERE l.at > w.bs), false) AS other,
         count(l.at) FILTER (WHERE l.at > w.rs)::int AS n, false AS used
       FROM unnest($1::text[], $2::bigint[], $3::text[], $4::bigint[]) AS w(m, bs, cur, rs)
       LEFT JOIN ${t.ledger} l ON l.mandate_id = w.m AND l.at > least(w.bs, w.rs) AND l.state <> 'released'
       GROUP BY w.m
       UNION ALL SELECT NULL, NULL, NULL, NULL, true FROM ${t.reservations} WHERE id = $5`,
    ),
    record: named(
      'record',
      `WITH r AS (INSERT INTO ${t.reservations} (id) VALUES ($1))
       INSERT INTO ${t.ledger} (reservation_id, mandate_id, amount, currency, at, state, hold_until)
       SELECT $1, m, a::numeric, c, $5, 'reserved', $6 FROM unnest($2::text[], $3::text[], $4::text[]) AS e(m, a, c)`,
    ),
    // Under the mandates' locks: their reservations whose hold ran out stop counting, recorded as released by timeout.
    expire: named(
      'expire',
      `UPDATE ${t.ledger} SET state = 'released', settled_by = 'timeout', settled_at = $2
       WHERE mandate_id = ANY($1::text[]) AND state = 'reserved' AND hold_until IS NOT NULL AND hold_until <= $2`,
    ),
  };

  /** Window totals of every limited link, summed by PostgreSQL; ALREADY_EXISTS when `checkId` and the id is taken. */
  async function compute(q: PoolClient, req: ReservationRequest, checkId: boolean): Promise<ReservationResult> {
    const limited = req.entries.filter((e) => e.budget || e.rate);
    const bounds = limited.map((e) => windowBounds(req, e));
    const totals = new Map<string, LinkTotals>();
    if (limited.length > 0 || checkId) {
      const r = await q.query<{ mandate_id: string; spent: string; other: boolean; n: number; used: boolean }>(
        sql.totals([
          limited.map((e) => e.mandateId),
          bounds.map((b) => b.budgetSince),
          limited.map((e) => e.budget?.currency ?? ''),
          bounds.map((b) => b.rateSince),
          checkId ? req.reservationId : null,
        ]),
      );
      for (const row of r.rows) {
        if (row.used) throw new CharterError('ALREADY_EXISTS', 'that reservation id is already used');
        totals.set(row.mandate_id, { spent: BigInt(row.spent), otherCurrency: row.other, count: row.n });
      }
    }
    return decideReservation(req, (e) => totals.get(e.mandateId)!);
  }

  async function reserve(req: ReservationRequest): Promise<ReservationResult> {
    validateReservation(req);
    const mandates = req.entries.map((e) => e.mandateId).sort();
    const confirm = async (q: PoolClient, result: ReservationResult): Promise<boolean> => {
      if (!result.ok || mandates.length === 0) return true;
      const r = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${t.ledger} WHERE reservation_id = $1 AND mandate_id = ANY($2::text[])`, [
        req.reservationId,
        mandates,
      ]);
      return r.rows[0]!.n === mandates.length;
    };
    return run({ tx: true, confirm }, async (q) => {
      if (mandates.length > 0) {
        // Lock every mandate row in one sorted order. A mandate charged for the first time has no
        // row yet: insert it, then lock again in a new statement, which starts after the INSERT has
        // waited out any transaction creating the same row, and so sees (and locks) it.
        const locked = await q.query(sql.lock([mandates]));
        if (locked.rowCount !== mandates.length) {
          await q.query(sql.addMandates([mandates]));
          await q.query(sql.lock([mandates]));
        }
      }
      if (mandates.length > 0) await q.query(sql.expire([mandates, Date.now()]));
      // Read after the locks: this statement sees every spend committed by earlier holders.
      const result = await compute(q, req, true);
      if (result.ok && mandates.length > 0) {
        await q.query(
          sql.record([
            req.reservationId,
            req.entries.map((e) => e.mandateId),
            req.entries.map((e) => parseDecimal(e.amount).toString()),
            req.entries.map((e) => e.currency),
            req.at.getTime(),
            req.holdUntil?.getTime() ?? null,
          ]),
        );
      }
      return result;
    });
  }

  async function previewReservation(req: ReservationRequest): Promise<ReservationResult> {
    validateReservation(req);
    return run({ tx: false, idempotent: true }, (q) => compute(q, req, false));
  }

  async function setState(id: string, state: 'committed' | 'released'): Promise<void> {
    const confirm = async (q: PoolClient): Promise<boolean> => {
      const r = await q.query(`SELECT 1 FROM ${t.ledger} WHERE reservation_id = $1 HAVING count(*) > 0 AND bool_and(state = $2)`, [id, state]);
      return r.rowCount === 1;
    };
    await run({ tx: true, confirm }, async (q) => {
      const r = await q.query<{ state: string; settled_by: string | null }>(`SELECT state, settled_by FROM ${t.ledger} WHERE reservation_id = $1 FOR UPDATE`, [id]);
      const todo = settlement(r.rows, state);
      if (todo === 'none') return;
      await q.query(`UPDATE ${t.ledger} SET state = $2, settled_by = $3, settled_at = $4 WHERE reservation_id = $1`, [
        id,
        state,
        state === 'committed' ? 'commit' : 'release',
        Date.now(),
      ]);
    });
  }

  async function listReservations(f: Parameters<Ledger['listReservations']>[0] = {}) {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.state !== undefined) {
      args.push(f.state);
      where.push(`state = $${args.length}`);
    }
    if (f.before !== undefined) {
      args.push(f.before.getTime());
      where.push(`at < $${args.length}`);
    }
    if (f.mandateId !== undefined) {
      args.push(f.mandateId);
      where.push(`reservation_id IN (SELECT reservation_id FROM ${t.ledger} WHERE mandate_id = $${args.length})`);
    }
    const limit = Math.max(1, Math.min(f.limit ?? 1000, 100_000));
    const r = await run({ tx: false, idempotent: true }, (q) =>
      q.query<Row>(
        `SELECT * FROM ${t.ledger} WHERE reservation_id IN (SELECT reservation_id FROM ${t.ledger}${where.length ? ' WHERE ' + where.join(' AND ') : ''} GROUP BY reservation_id ORDER BY max(at) DESC LIMIT ${limit})
         ORDER BY at DESC, reservation_id, mandate_id`,
        args,
      ),
    );
    return reservationRows(r.rows, (v) => formatDecimal(BigInt(String(v))));
  }

  return {
    reserve,
    previewReservation,
    commitReservation: (id: string) => setState(id, 'committed'),
    releaseReservation: (id: string) => setState(id, 'released'),
    listReservations,
  };
}
