import { extraFields, isInt, isObj, newCheck, nonEmptyObj, show, violate, type ConstraintCheck, type StrictnessMode } from './constraint-check.js';
import { dateSpan } from './dates.js';

/**
 * Verifiable Intent constraint evaluation: L3 (or immediate L2) final values
 * against the L2 open mandate's constraints (VI constraints.md; the
 * reference's `check_constraints`, same verdicts on its golden
 * `constraint_cases`). Charter codes per violation: over the maximum is
 * AUTHORITY_EXCEEDED, another currency CURRENCY_MISMATCH, a merchant or
 * payee outside the allow-list COUNTERPARTY_NOT_ALLOWED, anything else
 * CONSTRAINT_VIOLATED; an unknown type UNKNOWN_CONSTRAINT.
 *
 * Budgets, recurrences and cumulative spend are stateful: the payment
 * network enforces them (constraints.md "network-enforced"), so they are
 * reported in `network` and never evaluated, keeping verdicts the reference's.
 */
export const VI_NETWORK_TYPES = new Set([
  'mandate.payment.budget',
  'mandate.payment.recurrence',
  'mandate.payment.agent_recurrence',
  // docs/proposals/cumulative_spend.md; the proposal spells it without the mandate. prefix
  'mandate.payment.cumulative',
  'payment.cumulative',
]);

const KNOWN_FIELDS: Record<string, readonly string[]> = {
  'mandate.checkout.allowed_merchants': ['allowed'],
  'mandate.checkout.line_items': ['items', 'match_mode'],
  'mandate.payment.allowed_payees': ['allowed'],
  'mandate.payment.amount_range': ['currency', 'min', 'max'],
  'mandate.payment.reference': ['conditional_transaction_id'],
  'mandate.payment.budget': ['currency', 'max', 'min'],
  'mandate.payment.recurrence': ['frequency', 'start_date', 'end_date', 'number'],
  'mandate.payment.agent_recurrence': ['frequency', 'start_date', 'end_date', 'max_occurrences'],
  'mandate.payment.cumulative': ['max_total', 'currency', 'period'],
  'payment.cumulative': ['max_total', 'currency', 'period'],
};

export function isKnownViConstraint(type: string): boolean {
  return Object.hasOwn(KNOWN_FIELDS, type);
}

export interface ViCheckOptions {
  /** Unknown types on a closed mandate: `permissive` skips them (the reference's default), `strict` refuses. Default strict. */
  mode?: StrictnessMode;
  /** An open (autonomous) mandate: an unknown type always fails (the agent's authority would be unbounded). */
  isOpenMandate?: boolean;
  /** When the payment is made (ms since the epoch): recurrence periods are checked against it. */
  now?: number;
  /** The time zone a calendar date (`2026-03-01`) is read in. Default "UTC". */
  timeZone?: string;
}

/** constraints.md §4.6 and §4.7: ISO 20022 frequency codes; agent recurrences may also be ON_DEMAND. */
export const VI_FREQUENCIES = new Set(['INDA', 'DAIL', 'WEEK', 'TOWK', 'TWMN', 'MNTH', 'TOMN', 'QUTR', 'FOMN', 'SEMI', 'YEAR', 'TYEA']);

/** VI merchant matching: by `id` when both have one, else by name and website. */
export function viMerchantMatches(candidate: unknown, target: unknown): boolean {
  if (!isObj(candidate) || !isObj(target)) return false;
  if (candidate.id && target.id) return candidate.id === target.id;
  return !!candidate.name && candidate.name === target.name && !!candidate.website && candidate.website === target.website;
}

export function checkViConstraints(constraints: unknown, fulfillment: unknown, opts: ViCheckOptions = {}): ConstraintCheck {
  const mode = opts.mode ?? 'strict';
  const r = newCheck();
  if (!isObj(fulfillment)) {
    violate(r, 'fulfillment', 'CONSTRAINT_VIOLATED', 'the fulfillment must be an object');
    return r;
  }
  if (!Array.isArray(constraints)) {
    violate(r, 'constraints', 'CONSTRAINT_VIOLATED', 'constraints must be a list');
    return r;
  }
  for (const c of constraints) {
    if (!isObj(c) || typeof c.type !== 'string') {
      violate(r, 'constraints', 'CONSTRAINT_VIOLATED', 'a constraint must be an object with a type');
      continue;
    }
    const type = c.type;
    if (!isKnownViConstraint(type)) {
      if (opts.isOpenMandate || mode === 'strict') violate(r, type, 'UNKNOWN_CONSTRAINT', `unknown constraint type ${show(type)}`);
      else r.skipped.push(type);
      continue;
    }
    const extra = extraFields(c, KNOWN_FIELDS[type]!);
    if (extra.length > 0) {
      violate(r, type, 'UNKNOWN_CONSTRAINT', `${type} sets ${extra.slice(0, 3).map(show).join(', ')}, which this verifier does not understand`);
      continue;
    }
    const shape = shapeProblem(type, c);
    if (shape) {
      violate(r, type, 'CONSTRAINT_VIOLATED', shape, true);
      continue;
    }
    switch (type) {
      case 'mandate.payment.amount_range':
        amountRange(c, fulfillment, r);
        break;
      case 'mandate.payment.allowed_payees':
        allowList(c, fulfillment.payee, fulfillment, r, type, 'payee');
        break;
      case 'mandate.checkout.allowed_merchants':
        allowList(c, fulfillment.merchant, fulfillment, r, type, 'merchant');
        break;
      case 'mandate.checkout.line_items':
        lineItems(c, fulfillment, r);
        break;
      case 'mandate.payment.agent_recurrence':
      case 'mandate.payment.recurrence':
        r.checked.push(type);
        r.network.push(c);
        recurrence(type, c, constraints, fulfillment, opts, r);
        break;
      default:
        // mandate.payment.reference is checked by the chain's integrity step; the rest is network-enforced.
        r.checked.push(type);
        if (VI_NETWORK_TYPES.has(type)) r.network.push(c);
    }
  }
  return r;
}

/**
 * The stateless part of a recurrence; the ledger counts its occurrences (mandates/ledger.ts).
 * - agent_recurrence (constraints.md §4.7): the payment falls between start_date and end_date,
 *   inclusive (step 1), and the mandate also bounds each payment and their total with
 *   amount_range and budget (steps 4-5: without them the authority would be unbounded).
 * - recurrence (§4.6): the mandate pair pays once, to set the subscription up; setting up a
 *   subscription after its end_date is refused.
 */
function recurrence(type: string, c: Record<string, unknown>, constraints: unknown[], f: Record<string, unknown>, opts: ViCheckOptions, r: ConstraintCheck): void {
  if (type === 'mandate.payment.agent_recurrence') {
    const types = new Set(constraints.map((x) => (isObj(x) ? x.type : undefined)));
    for (const need of ['mandate.payment.amount_range', 'mandate.payment.budget']) {
      if (!types.has(need)) violate(r, type, 'CONSTRAINT_VIOLATED', `${type} requires a ${need} constraint in the same mandate (constraints.md §4.7)`, true);
    }
  }
  if (opts.now === undefined || !nonEmptyObj(f.payment_amount)) return;
  const tz = opts.timeZone ?? 'UTC';
  const start = type === 'mandate.payment.agent_recurrence' ? dateSpan(c.start_date, tz) : undefined;
  const end = c.end_date === undefined ? undefined : dateSpan(c.end_date, tz);
  if (start && opts.now < start.start) violate(r, type, 'CONSTRAINT_VIOLATED', `the recurrence period has not started (start_date ${show(c.start_date)})`);
  if (end && opts.now > end.end) violate(r, type, 'CONSTRAINT_VIOLATED', `the recurrence period is over (end_date ${show(c.end_date)})`);
}

const CURRENCY = /^[A-Z]{3}$/;
const PERIODS = new Set(['DAILY', 'WEEKLY', 'MONTHLY', 'YEARLY']);
const optInt = (v: unknown, min: number) => v === undefined || v === null || (isInt(v) && v >= min);

/**
 * The money-bearing constraints must be well formed even where nothing is
 * evaluated against them: their figures become ledger limits.
 */
function shapeProblem(type: string, c: Record<string, unknown>): string | undefined {
  switch (type) {
    case 'mandate.payment.amount_range':
      return typeof c.currency === 'string' && CURRENCY.test(c.currency) && optInt(c.min, 0) && optInt(c.max, 0)
        ? undefined
        : 'amount_range needs an ISO 4217 currency and integer min/max in minor units';
    case 'mandate.payment.budget':
      return typeof c.currency === 'string' && CURRENCY.test(c.currency) && isInt(c.max) && c.max > 0 && optInt(c.min, 1)
        ? undefined
        : 'budget needs an ISO 4217 currency and a positive integer max in minor units';
    case 'mandate.payment.cumulative':
    case 'payment.cumulative':
      return typeof c.currency === 'string' && CURRENCY.test(c.currency) && isInt(c.max_total) && c.max_total >= 0 && typeof c.period === 'string' && PERIODS.has(c.period)
        ? undefined
        : 'cumulative needs max_total (minor units), an ISO 4217 currency and a period DAILY, WEEKLY, MONTHLY or YEARLY';
    case 'mandate.payment.agent_recurrence':
      if (!(typeof c.frequency === 'string' && (c.frequency === 'ON_DEMAND' || VI_FREQUENCIES.has(c.frequency))))
        return 'agent_recurrence frequency must be ON_DEMAND or an ISO 20022 code (DAIL, WEEK, MNTH...)';
      if (!optInt(c.max_occurrences, 1)) return 'agent_recurrence max_occurrences must be a positive integer';
      return datesProblem(c, true);
    case 'mandate.payment.recurrence':
      if (!(typeof c.frequency === 'string' && VI_FREQUENCIES.has(c.frequency))) return 'recurrence frequency must be an ISO 20022 code (DAIL, WEEK, MNTH...)';
      if (!optInt(c.number, 1)) return 'recurrence number must be a positive integer';
      return datesProblem(c, false);
    default:
      return undefined;
  }
}

/** constraints.md §4.6-4.7: start_date is required, end_date too for an agent recurrence; both dates, in order. */
function datesProblem(c: Record<string, unknown>, endRequired: boolean): string | undefined {
  const start = dateSpan(c.start_date, 'UTC');
  if (!start) return 'start_date must be an ISO 8601 date (2026-03-01) or an RFC 3339 date-time with a zone';
  if (c.end_date === undefined && !endRequired) return undefined;
  const end = dateSpan(c.end_date, 'UTC');
  if (!end) return 'end_date must be an ISO 8601 date (2026-03-01) or an RFC 3339 date-time with a zone';
  return end.end < start.start ? 'end_date is before start_date' : undefined;
}

function amountRange(c: Record<string, unknown>, f: Record<string, unknown>, r: ConstraintCheck): void {
  const type = 'mandate.payment.amount_range';
  r.checked.push(type);
  const pa = f.payment_amount;
  if (!nonEmptyObj(pa)) return violate(r, type, 'CONSTRAINT_VIOLATED', 'the payment carries no payment_amount');
  const amount = pa.amount;
  if (!isInt(amount) || amount < 0) return violate(r, type, 'CONSTRAINT_VIOLATED', 'the payment amount must be a non-negative integer in minor units');
  if (c.min !== undefined && c.min !== null) {
    if (!isInt(c.min)) return violate(r, type, 'CONSTRAINT_VIOLATED', 'the constraint minimum must be an integer');
    if (amount < c.min) violate(r, type, 'CONSTRAINT_VIOLATED', `${amount} is below the minimum ${c.min} ${show(c.currency)}`);
  }
  if (c.max !== undefined && c.max !== null) {
    if (!isInt(c.max)) return violate(r, type, 'CONSTRAINT_VIOLATED', 'the constraint maximum must be an integer');
    if (amount > c.max) violate(r, type, 'AUTHORITY_EXCEEDED', `${amount} is over the maximum ${c.max} ${show(c.currency)}`);
  }
  // constraints.md §4.1: a currency the constraint does not name is refused, never converted.
  const currency = Object.hasOwn(pa, 'currency') ? pa.currency : c.currency;
  if (currency !== c.currency) violate(r, type, 'CURRENCY_MISMATCH', `the constraint is in ${show(c.currency)}, the payment in ${show(currency)}`);
}

function allowList(c: Record<string, unknown>, who: unknown, f: Record<string, unknown>, r: ConstraintCheck, type: string, what: string): void {
  r.checked.push(type);
  if (!nonEmptyObj(who)) return violate(r, type, 'CONSTRAINT_VIOLATED', `the ${what} is missing`);
  if (!Array.isArray(c.allowed) || c.allowed.length === 0) return violate(r, type, 'CONSTRAINT_VIOLATED', `${type} lists no allowed ${what}`);
  // Only the list the user signed: the fulfillment is the agent's L3 (the reference checker's
  // fulfillment.allowed_merchants would let the agent name its own allow-list beside its payee).
  void f;
  const allowed = c.allowed.filter((m) => isObj(m) && !Object.hasOwn(m, '...') && (m.id || m.name));
  if (allowed.length === 0) {
    // Every entry an undisclosed reference: the agent withheld the list from this verifier (credential-format
    // §9.2). The reference checker counts that as checked; here a list nobody can read allows nobody (as AP2's
    // allowed_payees does), or withholding it would lift the restriction.
    if (c.allowed.every((m) => isObj(m) && Object.hasOwn(m, '...'))) {
      return violate(r, type, 'COUNTERPARTY_NOT_ALLOWED', `${type}: every allowed ${what} was withheld, so no ${what} can be checked against it`);
    }
    return violate(r, type, 'CONSTRAINT_VIOLATED', `${type} names no usable ${what}`);
  }
  if (!allowed.some((m) => viMerchantMatches(m, who))) {
    violate(r, type, 'COUNTERPARTY_NOT_ALLOWED', `${what} ${show((who as Record<string, unknown>).id ?? (who as Record<string, unknown>).name ?? '')} is not in the allowed list`);
  }
}

function lineItems(c: Record<string, unknown>, f: Record<string, unknown>, r: ConstraintCheck): void {
  const type = 'mandate.checkout.line_items';
  r.checked.push(type);
  const items = c.items;
  if (!Array.isArray(items) || items.length === 0) return violate(r, type, 'CONSTRAINT_VIOLATED', 'line_items needs at least one item entry');
  const allowedIds = new Set<string>();
  const capById = new Map<string, number>();
  let wildcard = false;
  let nonEmpty = false;
  let totalCap = 0;
  for (const e of items) {
    if (!isObj(e) || typeof e.id !== 'string' || !e.id || !Object.hasOwn(e, 'acceptable_items')) {
      violate(r, type, 'CONSTRAINT_VIOLATED', 'a line_items entry needs id, acceptable_items and quantity');
      continue;
    }
    if (!isInt(e.quantity) || e.quantity <= 0) {
      violate(r, type, 'CONSTRAINT_VIOLATED', 'a line_items quantity must be a positive integer');
      continue;
    }
    totalCap += e.quantity;
    const acceptable = e.acceptable_items;
    if (!Array.isArray(acceptable)) {
      violate(r, type, 'CONSTRAINT_VIOLATED', 'acceptable_items must be a list');
      continue;
    }
    if (acceptable.length === 0) wildcard = true;
    else nonEmpty = true;
    const ids = new Set<string>();
    for (const ai of acceptable) {
      if (!isObj(ai) || Object.hasOwn(ai, '...')) continue;
      if (!ai.title) violate(r, type, 'CONSTRAINT_VIOLATED', `acceptable item ${show(ai.id ?? '?')} has no title`);
      const id = ai.id || ai.sku;
      if (typeof id === 'string' && id) ids.add(id);
      else if (id !== undefined && id !== null) violate(r, type, 'CONSTRAINT_VIOLATED', 'an acceptable item id must be a string');
    }
    for (const id of ids) {
      allowedIds.add(id);
      capById.set(id, (capById.get(id) ?? 0) + e.quantity);
    }
  }
  if (nonEmpty && allowedIds.size === 0 && !wildcard) return violate(r, type, 'CONSTRAINT_VIOLATED', 'line_items names no disclosed item');
  const lines = f.line_items;
  if (!Array.isArray(lines)) return violate(r, type, 'CONSTRAINT_VIOLATED', 'the checkout lists no line items');
  if (lines.length === 0) return violate(r, type, 'CONSTRAINT_VIOLATED', 'an empty checkout does not satisfy line_items');
  let total = 0;
  const qtyById = new Map<string, number>();
  for (const li of lines) {
    if (!isObj(li)) {
      violate(r, type, 'CONSTRAINT_VIOLATED', 'a line item must be an object');
      continue;
    }
    const id = li.id || li.sku;
    if (typeof id !== 'string' || !id) {
      violate(r, type, 'CONSTRAINT_VIOLATED', 'a line item has no id');
      continue;
    }
    const q = Object.hasOwn(li, 'quantity') ? li.quantity : 0;
    if (!isInt(q) || q < 0) {
      violate(r, type, 'CONSTRAINT_VIOLATED', `line item ${show(id)} has an invalid quantity`);
      continue;
    }
    if (allowedIds.size > 0 && !allowedIds.has(id) && !wildcard) violate(r, type, 'CONSTRAINT_VIOLATED', `item ${show(id)} is not among the acceptable items`);
    total += q;
    qtyById.set(id, (qtyById.get(id) ?? 0) + q);
  }
  if (total > totalCap) violate(r, type, 'CONSTRAINT_VIOLATED', `total quantity ${total} is over the limit ${totalCap}`);
  for (const [id, q] of qtyById) {
    const cap = capById.get(id);
    if (cap !== undefined && q > cap) violate(r, type, 'CONSTRAINT_VIOLATED', `quantity of ${show(id)} is over its limit ${cap}`);
  }
  const matchMode = c.match_mode ?? 'minimum';
  if (matchMode !== 'minimum' && matchMode !== 'exact') return violate(r, type, 'CONSTRAINT_VIOLATED', "match_mode must be 'minimum' or 'exact'");
  if (matchMode === 'exact') {
    for (const e of items) {
      if (!isObj(e) || !Array.isArray(e.acceptable_items) || e.acceptable_items.length === 0) continue;
      const ids = e.acceptable_items.flatMap((ai) => (isObj(ai) && !Object.hasOwn(ai, '...') && typeof (ai.id || ai.sku) === 'string' ? [(ai.id || ai.sku) as string] : []));
      if (ids.length > 0 && !ids.some((id) => (qtyById.get(id) ?? 0) > 0)) violate(r, type, 'CONSTRAINT_VIOLATED', `match_mode=exact: no item for line ${show(e.id)}`);
    }
  }
}
