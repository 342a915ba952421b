import type { LedgerEntry, ReservationRequest } from '../types.js';
import type { LedgerRow, LinkTotals } from '../ledger.js';
import { windowSince } from '../window.js';

/*
 * Window bounds for the totals PostgreSQL computes (SUM over NUMERIC, COUNT)
 * and feeds to ledger.ts's decideReservation, instead of shipping every live
 * row: a busy mandate with 10,000 spends in its window would otherwise ship
 * 10,000 rows per reservation while holding its lock. A property test
 * (test/store/postgres-totals.test.ts) checks the totals against the rows.
 */

/** Far past any `at` (ms): a window bound that admits no row, for a link without that limit. */
export const NO_WINDOW = '9000000000000000000';

/**
 * Window lower bounds (exclusive, whole ms) for the SQL totals. For a whole-ms
 * `at` of a row, `at > x` holds exactly when `at > floor(x)`, so flooring keeps
 * computeReservation's bounds exact.
 */
export function windowBounds(req: ReservationRequest, e: LedgerEntry): { budgetSince: string; rateSince: string } {
  const at = req.at.getTime();
  // Clamped into BIGINT: a window reaching before 1970 (or an infinite one) admits every row all the same.
  const since = (x: number) => (x <= -9e18 ? '-9000000000000000000' : BigInt(Math.floor(x)).toString());
  return { budgetSince: e.budget ? since(windowSince(at, e.budget)) : NO_WINDOW, rateSince: e.rate ? since(windowSince(at, e.rate)) : NO_WINDOW };
}

/** What the SQL computes, from rows: the reference for the property test. */
export function totalsFromRows(req: ReservationRequest, e: LedgerEntry, rows: readonly LedgerRow[]): LinkTotals {
  const { budgetSince, rateSince } = windowBounds(req, e);
  const inBudget = rows.filter((r) => r.at > Number(budgetSince));
  return {
    spent: inBudget.reduce((s, r) => s + r.amount, 0n),
    otherCurrency: e.budget !== undefined && inBudget.some((r) => r.currency !== e.budget!.currency),
    count: rows.filter((r) => r.at > Number(rateSince)).length,
  };
}
