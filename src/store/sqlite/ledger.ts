import type { Database } from 'better-sqlite3';
import { CharterError } from '../../errors.js';
import { formatDecimal, parseDecimal } from '../../encoding/decimal.js';
import type { Ledger, ReservationRequest, ReservationResult } from '../types.js';
import { computeReservation, settlement, validateReservation, type LedgerRow } from '../ledger.js';
import { reservationRows, type Row } from '../rows.js';
import { wrap } from './wrap.js';

const scaled = (amount: string): string => parseDecimal(amount).toString();
const unscaled = (v: unknown): string => formatDecimal(BigInt(v as string));

/**
 * The spend ledger on SQLite: every reserve is one IMMEDIATE transaction (the
 * write lock serialises spenders across processes sharing the file), which
 * first releases this chain's reservations whose hold ran out (recorded as
 * released by timeout), then sums the live rows of each link's window and
 * records the spend only when every link fits (ledger.ts decides).
 */
export function sqliteLedger(db: Database): Ledger {
  const ledgerRows = db.prepare('SELECT amount, currency, at FROM ledger WHERE mandate_id = ? AND state != ? AND at > ?');
  const compute = (req: ReservationRequest): ReservationResult =>
    computeReservation(req, (mandateId, since) =>
      (ledgerRows.all(mandateId, 'released', Math.floor(since)) as Row[]).map((r): LedgerRow => ({
        amount: BigInt(r.amount as string),
        currency: r.currency as string,
        at: r.at as number,
      })),
    );
  const expire = db.prepare(
    "UPDATE ledger SET state = 'released', settled_by = 'timeout', settled_at = ? WHERE mandate_id = ? AND state = 'reserved' AND hold_until IS NOT NULL AND hold_until <= ?",
  );

  function setState(id: string, state: 'committed' | 'released'): void {
    wrap(() =>
      db
        .transaction(() => {
          const rows = db.prepare('SELECT state, settled_by FROM ledger WHERE reservation_id = ?').all(id) as Row[];
          const todo = settlement(rows, state);
          if (todo === 'none') return;
          db.prepare('UPDATE ledger SET state = ?, settled_by = ?, settled_at = ? WHERE reservation_id = ?').run(
            state,
            state === 'committed' ? 'commit' : 'release',
            Date.now(),
            id,
          );
        })
        .immediate(),
    );
  }

  return {
    async reserve(req) {
      validateReservation(req);
      return wrap(() =>
        db
          .transaction(() => {
            if (db.prepare('SELECT 1 FROM ledger WHERE reservation_id = ? LIMIT 1').get(req.reservationId)) {
              throw new CharterError('ALREADY_EXISTS', 'that reservation id is already used');
            }
            const now = Date.now();
            for (const e of req.entries) expire.run(now, e.mandateId, now);
            const result = compute(req);
            if (result.ok) {
              const ins = db.prepare('INSERT INTO ledger (reservation_id, mandate_id, amount, currency, at, state, hold_until) VALUES (?, ?, ?, ?, ?, ?, ?)');
              for (const e of req.entries) ins.run(req.reservationId, e.mandateId, scaled(e.amount), e.currency, req.at.getTime(), 'reserved', req.holdUntil?.getTime() ?? null);
            }
            return result;
          })
          .immediate(),
      );
    },
    async previewReservation(req) {
      validateReservation(req);
      return wrap(() => compute(req));
    },
    async commitReservation(id) {
      setState(id, 'committed');
    },
    async releaseReservation(id) {
      setState(id, 'released');
    },
    async listReservations(f = {}) {
      const where: string[] = [];
      const args: unknown[] = [];
      if (f.state !== undefined) {
        where.push('state = ?');
        args.push(f.state);
      }
      if (f.before !== undefined) {
        where.push('at < ?');
        args.push(f.before.getTime());
      }
      if (f.mandateId !== undefined) {
        where.push('reservation_id IN (SELECT reservation_id FROM ledger WHERE mandate_id = ?)');
        args.push(f.mandateId);
      }
      const limit = Math.max(1, Math.min(f.limit ?? 1000, 100_000));
      const sql = `SELECT * FROM ledger WHERE reservation_id IN (SELECT DISTINCT reservation_id FROM ledger${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY at DESC LIMIT ${limit}) ORDER BY at DESC, reservation_id, mandate_id`;
      return wrap(() => reservationRows(db.prepare(sql).all(...args) as Row[], unscaled));
    },
  };
}
