import { CharterError, shown, type Reason } from '../errors.js';
import { compareDecimal, isDecimal } from '../encoding/decimal.js';
import { parseDuration } from '../encoding/duration.js';
import { isCurrency, minorUnits } from '../encoding/currency.js';
import type { AgentRequest, Budget, CalendarPeriod, CalendarUnit, Limits, Money, Rate } from './types.js';

/**
 * Mandate limits: parsing (CLI shorthands and credential JSON) and the
 * stateless checks of one request against one link. Amounts are decimal
 * strings compared exactly (encoding/decimal.ts); a currency never converts:
 * a request in another currency than a limit is refused (CURRENCY_MISMATCH).
 * A caller that takes payment in several currencies converts the amount with
 * its own rates before asking, and asks in the limit's currency. An amount
 * (a limit or a request) is never finer than its currency's ISO 4217 minor
 * unit: nobody can pay 0.4 JPY, and counting it exactly would let what the
 * merchants charge (rounded up) run past the budget. Cumulative budget and
 * rate live in the ledger (ledger.ts).
 */
/** The longest budget or rate period: a window longer than this is a typo or an attempt to never reset. */
export const MAX_PERIOD_SECONDS = 10 * 365 * 86_400;
const DID = /^did:[a-z0-9]+:[A-Za-z0-9._%:-]+$/;
const MAX_COUNTERPARTIES = 256;
const MAX_RATE = 1_000_000_000;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const bad = (path: string, what: string) => new CharterError('INVALID_ARGUMENT', `${path} ${what}`, { details: { field: path } });
const show = (s: string) => JSON.stringify(s.slice(0, 40));

/**
 * Why `amount` is finer than the minor unit of `currency` (ISO 4217: 0 decimals
 * for JPY, 2 for USD, 3 for BHD, 4 for CLF), or undefined when it is not.
 * Trailing zeros do not count ("10.00 JPY" is 10 JPY). A code without a minor
 * unit in ISO 4217 (XAU, XDR, XTS, XXX...) keeps the full decimal scale.
 */
function finerThanMinorUnit(amount: string, currency: string): string | undefined {
  const minor = minorUnits(currency);
  const dot = amount.indexOf('.');
  const digits = dot < 0 ? 0 : amount.slice(dot + 1).replace(/0+$/, '').length;
  if (digits <= minor) return undefined;
  const smallest = minor === 0 ? `1 ${currency}` : `0.${'0'.repeat(minor - 1)}1 ${currency}`;
  return `${currency} has ${minor === 0 ? 'no decimals' : `${minor} decimals`} (its ISO 4217 minor unit): nobody can pay a fraction of ${smallest}`;
}

const tooFine = (message: string, field: string | undefined, currency: string) =>
  new CharterError('INVALID_ARGUMENT', message, { details: { ...(field !== undefined ? { field } : {}), currency, minorUnits: minorUnits(currency) } });

function money(v: unknown, path: string): Money {
  if (!isObj(v)) throw bad(path, 'must be { amount, currency }');
  if (!isDecimal(v.amount)) throw bad(`${path}.amount`, 'must be a decimal string such as "49.99"');
  if (!isCurrency(v.currency)) throw bad(`${path}.currency`, 'must be an ISO 4217 code such as USD');
  const why = finerThanMinorUnit(v.amount, v.currency);
  if (why !== undefined) throw tooFine(`${path}.amount ${show(v.amount)} is finer than ${v.currency} allows: ${why}`, `${path}.amount`, v.currency);
  return { amount: v.amount, currency: v.currency };
}

function period(v: unknown, path: string): string {
  if (typeof v !== 'string') throw bad(path, 'must be an ISO 8601 duration such as P30D');
  let seconds: number;
  try {
    seconds = parseDuration(v);
  } catch {
    throw bad(path, 'must be a positive ISO 8601 duration such as P30D');
  }
  if (seconds > MAX_PERIOD_SECONDS) throw bad(path, 'must be at most 10 years (P10Y)');
  return v;
}

/** Validates `{ amount, currency }` (decimal string no finer than the currency's minor unit, ISO 4217 code). */
export const validateMoney = (v: unknown, path = 'amount'): Money => money(v, path);

export const CALENDAR_UNITS: readonly CalendarUnit[] = ['day', 'week', 'month', 'year'];
const MAX_ZONE = 64;

/**
 * The IANA name a time zone resolves to (`europe/paris` -> `Europe/Paris`),
 * or undefined when this runtime does not know it. Two budgets count in the
 * same zone only when their canonical names are equal.
 */
export function canonicalTimeZone(tz: unknown): string | undefined {
  if (typeof tz !== 'string' || tz.length === 0 || tz.length > MAX_ZONE) return undefined;
  try {
    return new Intl.DateTimeFormat('en-US', { timeZone: tz }).resolvedOptions().timeZone;
  } catch {
    return undefined;
  }
}

function calendarPeriod(v: Record<string, unknown>, path: string): CalendarPeriod {
  const unit = v.calendar;
  if (typeof unit !== 'string' || !(CALENDAR_UNITS as readonly string[]).includes(unit)) throw bad(`${path}.calendar`, 'must be day, week, month or year');
  // Stated, never defaulted: "per month" means another instant in Paris than in Tokyo.
  if (canonicalTimeZone(v.timeZone) === undefined) throw bad(`${path}.timeZone`, 'must be an IANA time zone such as Europe/Paris or UTC');
  return { calendar: unit as CalendarUnit, timeZone: v.timeZone as string };
}

/** A budget period: an ISO 8601 duration (a rolling window) or `{ calendar, timeZone }`. */
function budgetPeriod(v: unknown, path: string): string | CalendarPeriod {
  if (isObj(v)) return calendarPeriod(v, path);
  if (typeof v !== 'string') throw bad(path, 'must be an ISO 8601 duration such as P30D, or a calendar period such as { calendar: "month", timeZone: "Europe/Paris" }');
  return period(v, path);
}

/** How a budget period reads to a person: `P30D`, or `calendar month (Europe/Paris)`. */
export function periodText(p: string | CalendarPeriod): string {
  return typeof p === 'string' ? p : `calendar ${p.calendar} (${p.timeZone})`;
}

export function validateBudget(v: unknown, path = 'budget'): Budget {
  const m = money(v, path);
  return { ...m, period: budgetPeriod((v as Record<string, unknown>).period, `${path}.period`) };
}

export function validateRate(v: unknown, path = 'rate'): Rate {
  if (!isObj(v)) throw bad(path, 'must be { count, period }');
  const count = v.count;
  if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1 || count > MAX_RATE) throw bad(`${path}.count`, `must be an integer from 1 to ${MAX_RATE}`);
  return { count, period: period(v.period, `${path}.period`) };
}

/**
 * Validates known limit fields and returns a copy. Unknown fields are the
 * caller's concern (authority.ts refuses them as UNKNOWN_CONSTRAINT first).
 */
export function validateLimits(v: unknown, path = 'authority.limits'): Limits {
  if (!isObj(v)) throw bad(path, 'must be an object');
  const out: Limits = {};
  if (v.perTransaction !== undefined) out.perTransaction = money(v.perTransaction, `${path}.perTransaction`);
  if (v.budget !== undefined) out.budget = validateBudget(v.budget, `${path}.budget`);
  if (v.rate !== undefined) out.rate = validateRate(v.rate, `${path}.rate`);
  if (v.counterparties !== undefined) {
    const c = v.counterparties;
    if (!Array.isArray(c) || c.length > MAX_COUNTERPARTIES || c.some((d) => typeof d !== 'string' || !DID.test(d))) {
      throw bad(`${path}.counterparties`, `must be a list of at most ${MAX_COUNTERPARTIES} DIDs`);
    }
    if (new Set(c).size !== c.length) throw bad(`${path}.counterparties`, 'must not repeat a DID');
    out.counterparties = [...(c as string[])];
  }
  return out;
}

// ---- CLI shorthands ----

const MONEY_TEXT = /^[ \t]*([0-9][0-9.]*)[ \t]*([A-Za-z]{3})[ \t]*$/;

export interface ParseMoneyOptions {
  /**
   * Accept an amount finer than the currency's minor unit (up to 18
   * decimals): only for a rate that accrues before anything is paid, such as
   * a grant's compensation per use. Never for a limit or a spend.
   */
  accrual?: boolean;
}

/**
 * `"50USD"`, `"50 USD"`, `"49.99 usd"` -> `{ amount: "50", currency: "USD" }`.
 * Throws INVALID_ARGUMENT, also for an amount finer than the currency's ISO
 * 4217 minor unit (`"0.5 JPY"`, `"0.001 USD"`; `"10.00 JPY"` is fine) unless
 * `options.accrual`.
 */
export function parseMoney(s: string, options: ParseMoneyOptions = {}): Money {
  const m = typeof s === 'string' ? MONEY_TEXT.exec(s) : null;
  if (!m || !isDecimal(m[1])) throw new CharterError('INVALID_ARGUMENT', `${show(shown(s, 200))} is not an amount with a currency such as "50 USD"`);
  const currency = m[2]!.toUpperCase();
  if (!isCurrency(currency)) throw new CharterError('INVALID_ARGUMENT', `${show(m[2]!)} is not an ISO 4217 currency code such as USD or EUR`);
  const why = options.accrual === true ? undefined : finerThanMinorUnit(m[1], currency);
  if (why !== undefined) throw tooFine(`${show(`${m[1]} ${currency}`)} is finer than ${currency} allows: ${why}`, undefined, currency);
  return { amount: m[1], currency };
}

/**
 * A number amount as the exact decimal it prints as (49.99 -> "49.99"): only
 * finite, non-negative numbers whose shortest form has no exponent and at
 * most 18 fraction digits; anything else is refused, never rounded.
 */
function numberAmount(n: number): string | undefined {
  if (!Number.isFinite(n) || n < 0 || Object.is(n, -0)) return undefined;
  const text = String(n);
  return isDecimal(text) ? text : undefined;
}

/**
 * `"500USD/P30D"` -> `{ amount: "500", currency: "USD", period: "P30D" }` (a
 * rolling window); `"500EUR/month@Europe/Paris"` -> a calendar period
 * (`day`, `week`, `month` or `year` in a stated IANA time zone, `@UTC` for UTC).
 */
export function parseBudget(s: string): Budget {
  // The first "/" ends the amount: a time zone has slashes of its own.
  const i = typeof s === 'string' ? s.indexOf('/') : -1;
  if (i < 0) throw new CharterError('INVALID_ARGUMENT', `${show(shown(s, 200))} is not a budget such as "500USD/P30D" or "500EUR/month@Europe/Paris"`);
  const m = parseMoney(s.slice(0, i));
  const rest = s.slice(i + 1).trim();
  const at = rest.indexOf('@');
  if (at >= 0) return { ...m, period: calendarPeriod({ calendar: rest.slice(0, at).trim().toLowerCase(), timeZone: rest.slice(at + 1).trim() }, 'the budget period') };
  if ((CALENDAR_UNITS as readonly string[]).includes(rest.toLowerCase())) {
    throw new CharterError('INVALID_ARGUMENT', `say in which time zone a ${rest.toLowerCase()} starts: "${m.amount}${m.currency}/${rest.toLowerCase()}@Europe/Paris" (or @UTC)`);
  }
  return { ...m, period: period(rest, 'the budget period') };
}

/** `"10/PT1H"` -> `{ count: 10, period: "PT1H" }`. */
export function parseRate(s: string): Rate {
  const m = typeof s === 'string' ? /^\s*(\d{1,10})\s*\/\s*(\S+)\s*$/.exec(s) : null;
  if (!m) throw new CharterError('INVALID_ARGUMENT', `${show(shown(s, 200))} is not a rate such as "10/PT1H"`);
  return validateRate({ count: Number(m[1]), period: m[2] }, 'the rate');
}

/** What a caller may give as a request's amount. */
export type AmountInput = string | Money | { amount: number; currency: string };

/**
 * A request amount given as `"49.99 USD"`, `{ amount: "49.99", currency }`
 * or `{ amount: 49.99, currency }`. Throws INVALID_ARGUMENT for anything
 * else: a bare number (no currency), NaN, Infinity, a negative or exponent
 * amount, a currency that is not ISO 4217, an amount finer than the
 * currency's minor unit (`"0.4 JPY"`: nobody can pay it).
 */
export function toMoney(v: AmountInput): Money {
  if (typeof v === 'string') return parseMoney(v);
  if (isObj(v) && typeof v.amount === 'number') {
    const amount = numberAmount(v.amount);
    if (amount === undefined) throw bad('amount.amount', 'must be a finite, non-negative number without an exponent, such as 49.99');
    return validateMoney({ amount, currency: v.currency });
  }
  return validateMoney(v);
}

// ---- one request against one link's limits ----

/**
 * Stateless limit checks: per-transaction amount, a single spend larger than
 * the whole budget, currencies, counterparties. A link with a money limit
 * (per transaction or budget) refuses a request that names no amount
 * (AMOUNT_REQUIRED): leaving the amount out must never be a way around it.
 */
export function checkLimits(limits: Limits | undefined, req: AgentRequest): Reason[] {
  const out: Reason[] = [];
  if (!limits) return out;
  const amt = req.amount;
  if (!amt && (limits.perTransaction || limits.budget)) {
    out.push({
      code: 'AMOUNT_REQUIRED',
      message: 'the mandate limits spending, so the request must state its amount and currency (e.g. "0 USD" for an action that spends nothing)',
    });
  }
  const pt = limits.perTransaction;
  if (amt && pt) {
    if (amt.currency !== pt.currency) out.push({ code: 'CURRENCY_MISMATCH', message: `the per-transaction limit is in ${pt.currency}, the request in ${amt.currency}` });
    else if (compareDecimal(amt.amount, pt.amount) > 0)
      out.push({ code: 'AUTHORITY_EXCEEDED', message: `${amt.amount} ${amt.currency} is over the per-transaction limit of ${pt.amount} ${pt.currency}` });
  }
  const b = limits.budget;
  if (amt && b) {
    if (amt.currency !== b.currency) out.push({ code: 'CURRENCY_MISMATCH', message: `the budget is in ${b.currency}, the request in ${amt.currency}` });
    else if (compareDecimal(amt.amount, b.amount) > 0)
      out.push({ code: 'BUDGET_EXCEEDED', message: `${amt.amount} ${amt.currency} is more than the whole budget of ${b.amount} ${b.currency} per ${periodText(b.period)}` });
  }
  if (limits.counterparties && (req.counterparty === undefined || !limits.counterparties.includes(req.counterparty))) {
    out.push({
      code: 'COUNTERPARTY_NOT_ALLOWED',
      message:
        req.counterparty === undefined
          ? 'the mandate limits counterparties and the request names none'
          : `the mandate does not allow dealing with ${req.counterparty.slice(0, 100)}`,
    });
  }
  return out;
}
