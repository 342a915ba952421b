import { afterAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Client } from 'pg';
import { computeReservation, decideReservation, type LedgerRow } from '../../src/store/ledger.js';
import { totalsFromRows } from '../../src/store/postgres/totals.js';
import { openPostgresStore } from '../../src/store/postgres/store.js';
import type { LedgerEntry, ReservationRequest, Store } from '../../src/store/types.js';
import { formatDecimal } from '../../src/encoding/decimal.js';
import { dropSchemas, freshSchema, pgUrlOrReport } from './fixtures/pg-env.js';

const AT = Date.UTC(2026, 0, 1);
const CUR = fc.constantFrom('USD', 'EUR');
const PERIOD = fc.constantFrom(0.5, 1, 1.0005, 60, 3600, 86400, 10 * 365 * 86400);
// Rows anywhere, and many right at a window's edge (where > and >=, or a rounding, would differ).
const EDGES = [0.5, 1, 1.0005, 60, 3600, 86400].flatMap((p) => [-1, 0, 1].map((d) => Math.floor(AT - p * 1000) + d));
const AT_MS = fc.oneof(fc.integer({ min: AT - 90_000_000, max: AT + 5_000 }), fc.constantFrom(...EDGES));
const row = fc.record({ amount: fc.bigInt({ min: 0n, max: 10n ** 20n }), currency: CUR, at: AT_MS, released: fc.boolean() });
const entry = (mandateId: string) =>
  fc
    .record({
      amount: fc.bigInt({ min: 0n, max: 10n ** 20n }).map(formatDecimal),
      currency: CUR,
      budget: fc.option(fc.record({ amount: fc.bigInt({ min: 0n, max: 10n ** 21n }).map(formatDecimal), currency: CUR, periodSeconds: PERIOD }), { nil: undefined }),
      rate: fc.option(fc.record({ count: fc.integer({ min: 0, max: 12 }), periodSeconds: PERIOD }), { nil: undefined }),
    })
    .map((e): LedgerEntry => ({ mandateId, ...e }));
/** A request over two links, each with its own ledger. */
const world = fc.record({ a: entry('a'), b: entry('b'), rowsA: fc.array(row, { maxLength: 12 }), rowsB: fc.array(row, { maxLength: 12 }) });

const live = (rows: { amount: bigint; currency: string; at: number; released: boolean }[]): LedgerRow[] => rows.filter((r) => !r.released);

describe('postgres ledger arithmetic', () => {
  it('property: window totals decide exactly as the shared row-by-row arithmetic (results and messages)', () => {
    fc.assert(
      fc.property(world, ({ a, b, rowsA, rowsB }) => {
        const req: ReservationRequest = { reservationId: 'r', at: new Date(AT), entries: [a, b] };
        const rows = { a: live(rowsA), b: live(rowsB) } as Record<string, LedgerRow[]>;
        const expected = computeReservation(req, (m, since) => rows[m]!.filter((r) => r.at > since));
        const actual = decideReservation(req, (e) => totalsFromRows(req, e, rows[e.mandateId]!));
        expect(actual).toEqual(expected);
      }),
      { numRuns: 2000 },
    );
  });
});

const url = pgUrlOrReport('postgres ledger totals in SQL');
if (url) {
  describe('postgres ledger totals in SQL', () => {
    const schema = freshSchema('sum');
    let store: Store;
    let db: Client;
    afterAll(async () => {
      await store?.close();
      await db?.end();
      await dropSchemas(url, [schema]);
    });

    it('property: usage() over a ledger written directly equals the shared arithmetic over the same rows', async () => {
      store = await openPostgresStore(url, { schema });
      db = new Client({ connectionString: url });
      await db.connect();
      let n = 0;
      await fc.assert(
        fc.asyncProperty(world, async ({ a, b, rowsA, rowsB }) => {
          const run = n++;
          const ids = { a: `a${run}`, b: `b${run}` };
          for (const [m, rows] of [
            [ids.a, rowsA],
            [ids.b, rowsB],
          ] as const) {
            for (const [i, r] of rows.entries()) {
              await db.query(`INSERT INTO "${schema}".reservations (id) VALUES ($1)`, [`${m}-${i}`]);
              await db.query(`INSERT INTO "${schema}".ledger VALUES ($1, $2, $3, $4, $5, $6)`, [
                `${m}-${i}`,
                m,
                r.amount.toString(),
                r.currency,
                r.at,
                r.released ? 'released' : 'reserved',
              ]);
            }
          }
          const req: ReservationRequest = {
            reservationId: 'q',
            at: new Date(AT),
            entries: [
              { ...a, mandateId: ids.a },
              { ...b, mandateId: ids.b },
            ],
          };
          const rows: Record<string, LedgerRow[]> = { [ids.a]: live(rowsA), [ids.b]: live(rowsB) };
          expect(await store.previewReservation(req)).toEqual(computeReservation(req, (m, since) => rows[m]!.filter((r) => r.at > since)));
        }),
        { numRuns: 60 },
      );
    }, 60_000);
  });
}
