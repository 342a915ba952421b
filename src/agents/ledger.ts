import { randomUUID } from 'node:crypto';
import { isCharterError, type Reason } from '../errors.js';
import { compareDecimal } from '../encoding/decimal.js';
import { parseDuration } from '../encoding/duration.js';
import type { Ledger, LedgerEntry, LedgerWindow, ReservationResult } from '../store/types.js';
import type { AgentDecision, AgentRemaining, Budget, CalendarPeriod, Money, Rate } from './types.js';

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

/** The limits the ledger reads of a link: Charter's own `Limits`, or a mapped external mandate's (src/mandates `MandateLimits`). */
export interface LedgerLimits {
  perTransaction?: Money;
  budget?: Budget;
  /** Charter's own rates are rolling; a mapped external mandate's recurrence spacing may be a calendar period. */
  rate?: Rate | { count: number; period: string | CalendarPeriod };
}

/**
 * One link of a chain, as the ledger charges it: a Charter mandate (id,
 * issuer DID, authority) or a Verifiable Intent / AP2 mandate mapped by
 * `mandateLimits` (id, issuer key thumbprint, authority).
 */
export interface LedgerLink {
  id: string;
  issuer: string;
  authority: { limits?: LedgerLimits };
}

/** The store's window of a budget period: the last `period` (rolling), or the current calendar period in its time zone. */
export function ledgerWindow(period: string | CalendarPeriod): LedgerWindow {
  return typeof period === 'string' ? { periodSeconds: parseDuration(period) } : { calendar: period.calendar, timeZone: period.timeZone };
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
    if (lim.budget) e.budget = { amount: lim.budget.amount, currency: lim.budget.currency, ...ledgerWindow(lim.budget.period) };
    if (lim.rate) e.rate = { count: lim.rate.count, ...ledgerWindow(lim.rate.period) };
    return e;
  });
}

/** Whether any link has a limit only the ledger can enforce (a budget or a rate). */
export function hasCumulativeLimits(links: readonly LedgerLink[]): boolean {
  return links.some((l) => l.authority.limits?.budget !== undefined || l.authority.limits?.rate !== undefined);
}

/**
 * Ledger failures as reasons, each naming its link (by credential id), one per link and code. One link
 * may be charged under two issuers (an AP2 root pinned by a DID: its key, and the method id 0.1 keyed it
 * by; mandates/ledger.ts): the two rows refuse as one link, said with the figures of the tighter row
 * (least budget or rate left), not of whichever came first.
 */
export function ledgerReasons(result: ReservationResult, links: readonly LedgerLink[]): Reason[] {
  const byKey = new Map(links.map((l) => [ledgerKey(l.issuer, l.id), l.id]));
  const usage = new Map(result.usage.map((u) => [u.mandateId, u]));
  const left = (mandateId: string, code: string): { budget?: string; rate?: number } => {
    const u = usage.get(mandateId);
    return code === 'RATE_EXCEEDED' ? { ...(u?.rateRemaining !== undefined ? { rate: u.rateRemaining } : {}) } : { ...(u?.remaining !== undefined ? { budget: u.remaining } : {}) };
  };
  const tighter = (a: { budget?: string; rate?: number }, b: { budget?: string; rate?: number }): boolean =>
    a.rate !== undefined && b.rate !== undefined ? a.rate < b.rate : a.budget !== undefined && b.budget !== undefined ? compareSigned(a.budget, b.budget) < 0 : false;
  const out = new Map<string, { reason: Reason; left: { budget?: string; rate?: number } }>();
  for (const f of result.failures) {
    const ref = byKey.get(f.mandateId) ?? f.mandateId;
    const key = `${f.code} ${ref}`;
    const mine = { reason: { code: f.code, message: f.message, ref }, left: left(f.mandateId, f.code) };
    const seen = out.get(key);
    if (seen === undefined || tighter(mine.left, seen.left)) out.set(key, mine);
  }
  return [...out.values()].map((x) => x.reason);
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

export interface ReserveSpendOptions {
  /** Default a random UUID. A reused id is refused (REPLAY_DETECTED). */
  reservationId?: string;
  now?: Date;
  /** Opt-in hold timeout: after this time an unsettled reservation is released (recorded as released by timeout). */
  holdUntil?: Date;
}

export interface SpendReservation {
  ok: boolean;
  /** BUDGET_EXCEEDED, RATE_EXCEEDED or CURRENCY_MISMATCH (naming the link), or REPLAY_DETECTED. */
  reasons: Reason[];
  reservationId?: string;
  remaining: AgentRemaining;
}

/**
 * The one way spend is reserved: the amount of an allowed `verifyAgent`
 * decision, on every link of its chain, in one store transaction (parallel
 * requests cannot overspend any link). The guard pipeline calls it after the
 * presentation's jti or nonce is used up, so a replay never holds budget.
 * It may still refuse: the decision checked only stateless limits.
 */
export async function reserveSpend(ledger: Ledger, decision: AgentDecision, options: ReserveSpendOptions = {}): Promise<SpendReservation> {
  if (!decision?.ok) throw new TypeError('reserveSpend needs an allowed decision');
  const links: LedgerLink[] = decision.chain.map((l) => {
    if (l.authority === undefined) throw new TypeError('reserveSpend needs a decision whose every link has its authority');
    return { id: l.id, issuer: l.issuer, authority: l.authority };
  });
  return reserveLinks(ledger, links, decision.amount, options);
}

/**
 * reserveSpend's ledger path for any verified chain: `amount` on every link,
 * in one store transaction, against each link's budget (rolling or calendar)
 * and rate. The guard reserves an external mandate chain (Verifiable Intent,
 * AP2) through this with the links `mandateLimits` mapped.
 */
export async function reserveLinks(ledger: Ledger, links: readonly LedgerLink[], amount: Money | undefined, options: ReserveSpendOptions = {}): Promise<SpendReservation> {
  const reservationId = options.reservationId ?? randomUUID();
  let result: ReservationResult;
  try {
    result = await ledger.reserve({
      reservationId,
      at: options.now ?? new Date(),
      entries: ledgerEntries(links, amount),
      ...(options.holdUntil ? { holdUntil: options.holdUntil } : {}),
    });
  } catch (e) {
    if (!isCharterError(e, 'ALREADY_EXISTS')) throw e;
    return { ok: false, reasons: [{ code: 'REPLAY_DETECTED', message: 'that reservation id was already used' }], remaining: {} };
  }
  if (!result.ok) return { ok: false, reasons: ledgerReasons(result, links), remaining: remainingOf(result) };
  return { ok: true, reasons: [], reservationId, remaining: remainingOf(result) };
}

/** A read-only preview of what reserving would say now (nothing is recorded; another request may get there first). */
export async function previewSpend(ledger: Ledger, decision: AgentDecision, now: Date = new Date()): Promise<SpendReservation> {
  const links: LedgerLink[] = decision.chain.flatMap((l) => (l.authority ? [{ id: l.id, issuer: l.issuer, authority: l.authority }] : []));
  const result = await ledger.previewReservation({ reservationId: 'preview', at: now, entries: ledgerEntries(links, decision.amount) });
  return { ok: result.ok, reasons: ledgerReasons(result, links), remaining: remainingOf(result) };
}

/** Turns a reserved spend into a spend (the transaction happened). Throws RESERVATION_NOT_FOUND. */
export function commitSpend(ledger: Ledger, reservationId: string): Promise<void> {
  return ledger.commitReservation(reservationId);
}

/** Gives a reserved spend back (the transaction did not happen). Throws RESERVATION_NOT_FOUND. */
export function releaseSpend(ledger: Ledger, reservationId: string): Promise<void> {
  return ledger.releaseReservation(reservationId);
}

/**
 * Reservations still held (neither committed nor released) that were made
 * more than `olderThanSeconds` ago (default 300): transactions that crashed
 * or were lost. They still count against every budget until someone commits
 * or releases them (`commitSpend` / `releaseSpend`), or a hold timeout does.
 */
export function staleReservations(ledger: Ledger, options: { olderThanSeconds?: number; now?: Date; limit?: number } = {}) {
  const older = options.olderThanSeconds ?? 300;
  if (!Number.isFinite(older) || older < 0) throw new TypeError('olderThanSeconds must be a non-negative number');
  const before = new Date((options.now ?? new Date()).getTime() - older * 1000);
  return ledger.listReservations({ state: 'reserved', before, ...(options.limit !== undefined ? { limit: options.limit } : {}) });
}
