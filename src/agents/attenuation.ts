import { compareDecimal } from '../encoding/decimal.js';
import { parseDuration } from '../encoding/duration.js';
import { actionCovers } from './actions.js';
import { canonicalTimeZone, periodText } from './limits.js';
import { parseAuthority } from './authority.js';
import type { Authority, CalendarPeriod, CalendarUnit, NarrowingDimension, NarrowingReason, ValidityWindow } from './types.js';

/**
 * A delegated mandate may only narrow its parent (DESIGN.md, "a mandate").
 * A limit absent in the parent is unlimited there, so the child may set any;
 * a limit present in the parent must be present in the child and no looser.
 *
 * Cumulative limits are compared as "at most `amount` per any rolling window
 * of `period`": the child must have amount <= and period >= the parent's.
 * A shorter child period would let it spend its amount again and again within
 * one parent window (100 per P1D allows 3,000 per P30D), so it is widening
 * even with a smaller amount. The same holds for rates (count <=, period >=).
 * Calendar budget periods follow the same idea (budgetWindowWidens).
 */
export function checkNarrowing(parent: Authority, child: Authority, parentWindow: ValidityWindow = {}, childWindow: ValidityWindow = {}): NarrowingReason[] {
  // A caller's authorities read as a verifier reads a mandate's (INVALID_ARGUMENT, UNKNOWN_CONSTRAINT), not walked as they come.
  return narrowingReasons(parseAuthority(parent), parseAuthority(child), windowOf(parentWindow), windowOf(childWindow));
}

function windowOf(w: unknown): ValidityWindow {
  if (typeof w !== 'object' || w === null) throw new TypeError('a validity window is an object { validFrom?, validUntil? }');
  const { validFrom, validUntil } = w as ValidityWindow;
  return { ...(validFrom !== undefined ? { validFrom } : {}), ...(validUntil !== undefined ? { validUntil } : {}) };
}

/** checkNarrowing of two authorities already read (parseAuthority) by a verifier or an issuer. */
export function narrowingReasons(parent: Authority, child: Authority, parentWindow: ValidityWindow = {}, childWindow: ValidityWindow = {}): NarrowingReason[] {
  const out: NarrowingReason[] = [];
  const widened = (dimension: NarrowingDimension, message: string) => out.push({ code: 'AUTHORITY_WIDENED', dimension, message: `${dimension}: ${message}` });

  const loose = child.actions.filter((c) => !parent.actions.some((p) => actionCovers(p, c)));
  if (loose.length > 0) widened('actions', `${loose.slice(0, 5).join(', ')} not allowed by the parent mandate`);

  const pl = parent.limits ?? {};
  const cl = child.limits ?? {};

  if (pl.perTransaction) {
    const p = pl.perTransaction;
    const c = cl.perTransaction;
    if (!c) widened('perTransaction', `the parent limits each transaction to ${p.amount} ${p.currency}; the child sets no limit`);
    else if (c.currency !== p.currency) widened('perTransaction', `the child is in ${c.currency}, the parent in ${p.currency} (never converted)`);
    else if (compareDecimal(c.amount, p.amount) > 0) widened('perTransaction', `${c.amount} ${c.currency} is more than the parent's ${p.amount}`);
  }

  if (pl.budget) {
    const p = pl.budget;
    const c = cl.budget;
    if (!c) widened('budget', `the parent has a budget of ${p.amount} ${p.currency} per ${periodText(p.period)}; the child sets none`);
    else if (c.currency !== p.currency) widened('budget', `the child is in ${c.currency}, the parent in ${p.currency} (never converted)`);
    else {
      if (compareDecimal(c.amount, p.amount) > 0) widened('budget', `${c.amount} ${c.currency} is more than the parent's ${p.amount}`);
      const why = budgetWindowWidens(p.period, c.period);
      if (why) widened('budget', why);
    }
  }

  if (pl.counterparties) {
    const p = pl.counterparties;
    const c = cl.counterparties;
    if (!c) widened('counterparties', 'the parent limits counterparties; the child allows any');
    else {
      const extra = c.filter((d) => !p.includes(d));
      if (extra.length > 0) widened('counterparties', `${extra.length} counterpart${extra.length === 1 ? 'y is' : 'ies are'} not allowed by the parent`);
    }
  }

  if (pl.rate) {
    const p = pl.rate;
    const c = cl.rate;
    if (!c) widened('rate', `the parent allows ${p.count} per ${p.period}; the child sets no rate`);
    else {
      if (c.count > p.count) widened('rate', `${c.count} is more than the parent's ${p.count}`);
      if (parseDuration(c.period) < parseDuration(p.period)) widened('rate', `a period of ${c.period} is shorter than the parent's ${p.period}, allowing more per ${p.period}`);
    }
  }

  const pFrom = ms(parentWindow.validFrom);
  const cFrom = ms(childWindow.validFrom);
  const pUntil = ms(parentWindow.validUntil);
  const cUntil = ms(childWindow.validUntil);
  if (pFrom !== undefined && (cFrom === undefined || cFrom < pFrom)) widened('validity', 'the child becomes valid before its parent');
  if (pUntil !== undefined && (cUntil === undefined || cUntil > pUntil)) widened('validity', 'the child stays valid after its parent expires');

  if (parent.maxDelegationDepth < 1) {
    out.push({ code: 'DELEGATION_DEPTH_EXCEEDED', dimension: 'maxDelegationDepth', message: 'maxDelegationDepth: the parent mandate may not be delegated (depth 0)' });
  } else if (child.maxDelegationDepth >= parent.maxDelegationDepth) {
    widened('maxDelegationDepth', `${child.maxDelegationDepth} must be smaller than the parent's ${parent.maxDelegationDepth}`);
  }
  return out;
}

/**
 * Calendar units each of whose periods lies inside one period of the key
 * unit, in the same time zone: a day lies in one week, one month and one
 * year; a month in one year. A week does not lie in one month or one year
 * (ISO weeks straddle both), so "100 per month" under "100 per week" could
 * spend 100 in the last days of January and 100 more in the first days of
 * February, 200 within one parent week: widening.
 */
const CONTAINED_IN: Record<CalendarUnit, readonly CalendarUnit[]> = {
  day: ['day', 'week', 'month', 'year'],
  week: ['week'],
  month: ['month', 'year'],
  year: ['year'],
};

/**
 * Why a child's budget window lets it spend its amount more often than the
 * parent's window allows, or undefined when it does not. The child narrows
 * when every parent window lies inside one child window: then within any
 * parent window the child spends at most its own amount (<= the parent's).
 *
 * - rolling under rolling: the child's period at least as long (the rule above);
 * - calendar under calendar: the same time zone (a Paris month and a Tokyo
 *   month start at other instants, so spends on both sides of one boundary
 *   fall in two child windows), and a parent unit contained in the child's;
 * - rolling and calendar mixed, either way, is widening: a calendar child
 *   under "500 per P30D" may spend 500 on 31 January and 500 on 1 February,
 *   1,000 within two days of one rolling window; and a rolling child under a
 *   calendar parent would have to span the parent's longest period in that
 *   zone (31 days, a 25-hour day at a DST change) to narrow it, a proof we do
 *   not attempt: refusing a mix is the fail-closed side.
 */
function budgetWindowWidens(p: string | CalendarPeriod, c: string | CalendarPeriod): string | undefined {
  if (typeof p === 'string' && typeof c === 'string') {
    return parseDuration(c) < parseDuration(p) ? `a period of ${c} is shorter than the parent's ${p}, allowing more per ${p}` : undefined;
  }
  if (typeof p === 'string' || typeof c === 'string') {
    return `the child counts per ${periodText(c)}, the parent per ${periodText(p)}: a rolling window and a calendar period cut time differently, so the child could spend more within one parent window`;
  }
  const pz = canonicalTimeZone(p.timeZone);
  if (pz === undefined || pz !== canonicalTimeZone(c.timeZone)) {
    return `the child counts calendar ${c.calendar}s in ${c.timeZone}, the parent in ${p.timeZone}: their periods start at other instants`;
  }
  if (!CONTAINED_IN[p.calendar].includes(c.calendar)) {
    return `a calendar ${c.calendar} does not contain every calendar ${p.calendar} of the parent, so the child could spend its budget twice within one parent ${p.calendar}`;
  }
  return undefined;
}

function ms(t: Date | string | undefined): number | undefined {
  if (t === undefined) return undefined;
  const v = t instanceof Date ? t.getTime() : typeof t === 'string' ? Date.parse(t) : NaN;
  if (Number.isNaN(v)) throw new TypeError('a validity window needs valid dates');
  return v;
}
