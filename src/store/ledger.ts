import { CharterError } from '../errors.js';
import { formatDecimal, parseDecimal } from '../encoding/decimal.js';
import type { LedgerEntry, LedgerUsage, ReservationRequest, ReservationResult } from './types.js';
import { checkWindow, windowSince } from './window.js';
import { isStoreKey, MAX_KEY_BYTES } from './keys.js';

/** One live (reserved or committed) ledger row, amount scaled by 10^18. */
export interface LedgerRow {
  amount: bigint;
  currency: string;
  at: number;
}

const CURRENCY = /^[A-Z]{3}$/;

export function validateReservation(req: ReservationRequest): void {
  if (!isStoreKey(req.reservationId) || req.reservationId.length > 200) {
    throw new CharterError('INVALID_ARGUMENT', 'a reservation needs an id of 1-200 characters');
  }
  if (!(req.at instanceof Date) || Number.isNaN(req.at.getTime())) throw new CharterError('INVALID_ARGUMENT', 'a reservation needs a valid time');
  if (req.holdUntil !== undefined && (!(req.holdUntil instanceof Date) || !(req.holdUntil.getTime() > req.at.getTime()))) {
    throw new CharterError('INVALID_ARGUMENT', 'a hold timeout must be a time after the reservation');
  }
  // An empty reservation would claim nothing, not even its id (a second one with that id would pass too).
  if (!Array.isArray(req.entries) || req.entries.length === 0) throw new CharterError('INVALID_ARGUMENT', 'a reservation needs at least one mandate entry');
  const seen = new Set<string>();
  for (const e of req.entries) {
    if (!isStoreKey(e.mandateId)) throw new CharterError('INVALID_ARGUMENT', `a mandate id must be text of 1-${MAX_KEY_BYTES} bytes, with no NUL`);
    if (seen.has(e.mandateId)) throw new CharterError('INVALID_ARGUMENT', 'a reservation names each mandate once');
    seen.add(e.mandateId);
    parseDecimal(e.amount);
    if (!CURRENCY.test(e.currency)) throw new CharterError('INVALID_ARGUMENT', 'currency must be an ISO 4217 code such as USD');
    if (e.budget && (!checkWindow(e.budget) || !CURRENCY.test(e.budget.currency)))
      throw new CharterError('INVALID_ARGUMENT', 'a budget needs a currency and a window (a positive period or a calendar unit and time zone)');
    if (e.budget) parseDecimal(e.budget.amount);
    if (e.rate && (!Number.isInteger(e.rate.count) || e.rate.count < 0 || !checkWindow(e.rate))) throw new CharterError('INVALID_ARGUMENT', 'a rate needs a count and a window');
  }
}

/** What a link has used in its windows before a request. */
export interface LinkTotals {
  /** Sum of live amounts in the budget window (scaled by 10^18). */
  spent: bigint;
  /** A live row in the budget window is in another currency than the budget. */
  otherCurrency: boolean;
  /** Live rows in the rate window. */
  count: number;
}

/**
 * The ledger arithmetic both backends share: given what every limited link
 * has used in its windows, whether this request fits every budget
 * and rate, and what is left. `totals` is asked only for links with a budget
 * or a rate (SQLite sums rows, PostgreSQL asks the server for the sums).
 */
export function decideReservation(req: ReservationRequest, totals: (e: LedgerEntry) => LinkTotals): ReservationResult {
  const usage: LedgerUsage[] = [];
  const failures: ReservationResult['failures'] = [];
  for (const e of req.entries) {
    const t = e.budget || e.rate ? totals(e) : { spent: 0n, otherCurrency: false, count: 0 };
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
        failures.push({
          mandateId: e.mandateId,
          code: 'BUDGET_EXCEEDED',
          message: `${formatDecimal(amount)} ${e.currency} would exceed the budget: ${formatDecimal(limit - spent)} of ${e.budget.amount} left`,
        });
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

/**
 * decideReservation over rows: `rowsSince(mandateId, sinceMs)` returns the
 * live rows of a mandate with `at > sinceMs` (read inside the caller's
 * transaction), fetched once per link for its longest window.
 */
export function computeReservation(req: ReservationRequest, rowsSince: (mandateId: string, sinceMs: number) => LedgerRow[]): ReservationResult {
  const at = req.at.getTime();
  return decideReservation(req, (e) => {
    // Rows stamped after `at` count too: a verifier whose clock read earlier must still see a later spend.
    const budgetSince = e.budget ? windowSince(at, e.budget) : Infinity;
    const rateSince = e.rate ? windowSince(at, e.rate) : Infinity;
    const rows = rowsSince(e.mandateId, Math.min(budgetSince, rateSince));
    const inBudget = e.budget ? rows.filter((r) => r.at > budgetSince) : [];
    return {
      spent: inBudget.reduce((s, r) => s + r.amount, 0n),
      otherCurrency: inBudget.some((r) => r.currency !== e.budget!.currency),
      count: e.rate ? rows.filter((r) => r.at > rateSince).length : 0,
    };
  });
}

/**
 * What settling a reservation does, from its rows' states (one rule for both
 * stores): 'none' (already so) or 'all' (set every row); a reservation
 * already settled the other way is RESERVATION_NOT_FOUND. A reservation timed
 * out wholly or in part (a later one on a chain sharing only some of its links
 * expired those rows, under their locks) is still settled as a whole: its
 * caller may commit a spend that finished late (`holdExpired`), or release it,
 * and an explicit release is recorded as one, so a commit after it is refused
 * like any commit after a release.
 */
export function settlement(rows: readonly Record<string, unknown>[], state: 'committed' | 'released'): 'none' | 'all' {
  if (rows.length === 0) throw new CharterError('RESERVATION_NOT_FOUND', 'no reservation with that id');
  const expired = (r: Record<string, unknown>) => r.state === 'released' && r.settled_by === 'timeout';
  const timedOut = rows.some(expired) && rows.every((r) => expired(r) || r.state === 'reserved');
  if (state === 'released' && timedOut) return 'all';
  if (rows.some((r) => r.state === 'released') && !timedOut) throw new CharterError('RESERVATION_NOT_FOUND', 'that reservation was already released');
  if (state === 'released' && rows.some((r) => r.state === 'committed')) throw new CharterError('RESERVATION_NOT_FOUND', 'that reservation is already committed');
  if (state === 'committed' && rows.every((r) => r.state === 'committed')) return 'none';
  return 'all';
}
