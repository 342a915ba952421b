import { randomUUID } from 'node:crypto';
import { isCharterError, type Reason } from '../errors.js';
import { compareDecimal } from '../encoding/decimal.js';
import { parseDuration } from '../encoding/duration.js';
import type { LedgerEntry, ReservationResult, Store } from '../store/types.js';
import type { AgentDecision, AgentRemaining, Authority, Money } from './types.js';
import { toMoney } from './limits.js';

/**
 * Cumulative limits (budget, rate) through the store's spend ledger. One
 * request is charged to every link of its chain, so a sub-agent's spend
 * counts against each parent's budget too, and the store reserves all
 * entries in one transaction (parallel requests cannot overspend).
 */

/** ISO 4217 "no currency": the currency of a request without an amount on a link without money limits. */
const NO_CURRENCY = 'XXX';

/**
 * The ledger key of a mandate: its issuer DID and credential id, joined by a
 * space (which neither a DID nor a URI contains). Keying by id alone would let
 * anyone issue a mandate reusing a victim's id and drain the victim's budget
 * at a verifier accepting any principal; an issuer controls only its own ids.
 */
export function ledgerKey(issuer: string, id: string): string {
  return `${issuer} ${id}`;
}

export interface LedgerLink {
  id: string;
  issuer: string;
  authority: Authority;
}

/** One ledger entry per link: the spend (or 0 for an action without an amount) and the link's budget and rate. */
export function ledgerEntries(links: readonly LedgerLink[], amount?: Money): LedgerEntry[] {
  return links.map((l) => {
    const lim = l.authority.limits ?? {};
    const e: LedgerEntry = {
      mandateId: ledgerKey(l.issuer, l.id),
      amount: amount?.amount ?? '0',
      currency: amount?.currency ?? lim.budget?.currency ?? lim.perTransaction?.currency ?? NO_CURRENCY,
    };
    if (lim.budget) e.budget = { amount: lim.budget.amount, currency: lim.budget.currency, periodSeconds: parseDuration(lim.budget.period) };
    if (lim.rate) e.rate = { count: lim.rate.count, periodSeconds: parseDuration(lim.rate.period) };
    return e;
  });
}

/** Ledger failures as reasons, each naming its link (by credential id). */
export function ledgerReasons(result: ReservationResult, links: readonly LedgerLink[]): Reason[] {
  const byKey = new Map(links.map((l) => [ledgerKey(l.issuer, l.id), l.id]));
  return result.failures.map((f) => ({ code: f.code, message: f.message, ref: byKey.get(f.mandateId) ?? f.mandateId }));
}

/** The tightest budget and rate left over all links after this request. */
export function remainingOf(result: ReservationResult): AgentRemaining {
  const out: AgentRemaining = {};
  for (const u of result.usage) {
    if (u.remaining !== undefined && (out.budget === undefined || (u.currency === out.budget.currency && compareSigned(u.remaining, out.budget.amount) < 0))) {
      out.budget = { amount: u.remaining, currency: u.currency };
    }
    if (u.rateRemaining !== undefined && (out.rate === undefined || u.rateRemaining < out.rate)) out.rate = u.rateRemaining;
  }
  return out;
}

/** compareDecimal for values that may be negative (a budget overspent before it was lowered). */
function compareSigned(a: string, b: string): number {
  const na = a.startsWith('-');
  const nb = b.startsWith('-');
  if (na !== nb) return na ? -1 : 1;
  const c = compareDecimal(na ? a.slice(1) : a, nb ? b.slice(1) : b);
  return na ? -c : c;
}

/** Turns a reservation made by `verifyAgent({ record: true })` into a spend. Throws RESERVATION_NOT_FOUND. */
export function commitSpend(store: Store, reservationId: string): Promise<void> {
  return store.commitReservation(reservationId);
}

/** Gives a reservation back (the action did not happen). Throws RESERVATION_NOT_FOUND. */
export function releaseSpend(store: Store, reservationId: string): Promise<void> {
  return store.releaseReservation(reservationId);
}

export interface ReserveSpendOptions {
  /** The amount the decision was made for ("20 USD" or { amount, currency }); absent for an action without one. */
  amount?: string | Money;
  /** Default a random UUID. A reused id is refused (REPLAY_DETECTED). */
  reservationId?: string;
  at?: Date;
}

export interface SpendReservation {
  ok: boolean;
  /** BUDGET_EXCEEDED, RATE_EXCEEDED or CURRENCY_MISMATCH (naming the link), or REPLAY_DETECTED. */
  reasons: Reason[];
  reservationId?: string;
  remaining: AgentRemaining;
}

/**
 * Reserves the spend of an allowed `verifyAgent` decision (made without
 * `record`) on every link of its chain, in one store transaction. For
 * callers that must run their own check between deciding and reserving,
 * as the HTTP and transaction guards use up the presentation's jti first:
 * a replayed presentation then never holds budget, even for a moment. The
 * decision's own budget check was a read; this reservation is the one that
 * counts, so it may still refuse (a concurrent spend got there first).
 */
export async function reserveSpend(ledger: Store, decision: AgentDecision, options: ReserveSpendOptions = {}): Promise<SpendReservation> {
  if (!decision?.ok) throw new TypeError('reserveSpend needs an allowed decision');
  const links: LedgerLink[] = decision.chain.map((l) => {
    if (l.authority === undefined) throw new TypeError('reserveSpend needs a decision whose every link has its authority');
    return { id: l.id, issuer: l.issuer, authority: l.authority };
  });
  const amount = options.amount !== undefined ? toMoney(options.amount) : undefined;
  const reservationId = options.reservationId ?? randomUUID();
  let result: ReservationResult;
  try {
    result = await ledger.reserve({ reservationId, at: options.at ?? new Date(), entries: ledgerEntries(links, amount) });
  } catch (e) {
    if (!isCharterError(e, 'ALREADY_EXISTS')) throw e;
    return { ok: false, reasons: [{ code: 'REPLAY_DETECTED', message: 'that reservation id was already used' }], remaining: decision.remaining };
  }
  if (!result.ok) return { ok: false, reasons: ledgerReasons(result, links), remaining: remainingOf(result) };
  return { ok: true, reasons: [], reservationId, remaining: remainingOf(result) };
}
