import { formatDecimal, parseDecimal } from '../encoding/decimal.js';
import type { LedgerEntry, LedgerUsage, ReservationRequest, ReservationResult } from './types.js';
import type { LedgerRow } from './ledger.js';

/**
 * The ledger arithmetic of ledger.ts (computeReservation), fed with window
 * totals that PostgreSQL computes (SUM over NUMERIC, COUNT) instead of every
 * live row: a busy mandate with 10,000 spends in its window would otherwise
 * ship 10,000 rows per reservation while holding its lock. A property test
 * (test/store/postgres-totals.test.ts) keeps the two in agreement, results and
 * messages alike.
 */
export interface LinkTotals {
  /** Sum of live amounts in the budget window (scaled by 10^18). */
  spent: bigint;
  /** A live row in the budget window is in another currency than the budget. */
  otherCurrency: boolean;
  /** Live rows in the rate window. */
  count: number;
}

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
  const since = (periodSeconds: number) => {
    const x = at - periodSeconds * 1000;
    return x <= -9e18 ? '-9000000000000000000' : BigInt(Math.floor(x)).toString();
  };
  return { budgetSince: e.budget ? since(e.budget.periodSeconds) : NO_WINDOW, rateSince: e.rate ? since(e.rate.periodSeconds) : NO_WINDOW };
}

export function decideReservation(req: ReservationRequest, totals: (mandateId: string) => LinkTotals): ReservationResult {
  const usage: LedgerUsage[] = [];
  const failures: ReservationResult['failures'] = [];
  for (const e of req.entries) {
    const t = e.budget || e.rate ? totals(e.mandateId) : { spent: 0n, otherCurrency: false, count: 0 };
    const amount = parseDecimal(e.amount);
    const u: LedgerUsage = { mandateId: e.mandateId, spent: '0', currency: e.budget?.currency ?? e.currency, count: 0 };
    if (e.budget) {
      const limit = parseDecimal(e.budget.amount);
      const spent = t.spent;
      u.spent = formatDecimal(spent);
      if (e.currency !== e.budget.currency || t.otherCurrency) {
        failures.push({ mandateId: e.mandateId, code: 'CURRENCY_MISMATCH', message: `the budget is in ${e.budget.currency}, the spend in ${e.currency}` });
        u.remaining = formatDecimal(limit - spent);
      } else if (spent + amount > limit) {
        failures.push({ mandateId: e.mandateId, code: 'BUDGET_EXCEEDED', message: `${formatDecimal(amount)} ${e.currency} would exceed the budget: ${formatDecimal(limit - spent)} of ${e.budget.amount} left` });
        u.remaining = formatDecimal(limit - spent);
      } else u.remaining = formatDecimal(limit - spent - amount);
    }
    if (e.rate) {
      const count = t.count;
      u.count = count;
      if (count + 1 > e.rate.count) {
        failures.push({ mandateId: e.mandateId, code: 'RATE_EXCEEDED', message: `${count} of ${e.rate.count} transactions already used in the window` });
        u.rateRemaining = Math.max(0, e.rate.count - count);
      } else u.rateRemaining = e.rate.count - count - 1;
    }
    usage.push(u);
  }
  return { ok: failures.length === 0, usage, failures };
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
