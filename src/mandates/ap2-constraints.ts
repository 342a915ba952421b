import { compareDecimal } from '../encoding/decimal.js';
import { extraFields, isInt, isObj, newCheck, show, violate, type ConstraintCheck } from './constraint-check.js';
import { fromMajorNumber, fromMinorUnits } from './money.js';
import { dateSpan } from './dates.js';

/**
 * AP2 v0.2 constraint evaluation (payment mandate §Payment Mandate
 * Constraints, checkout mandate §Constraints). Unknown types "MUST be
 * treated as failing evaluation" (agent authorization §Verification), and
 * so are unknown fields of a known type. Merchants and payees match by a
 * non-empty `id` only (the SDK's rule: display names are attacker-chosen).
 * Budgets and recurrences need history: their stateless part (currency, one
 * payment over the whole budget) is checked, the rest reported for the ledger.
 */
const PAYMENT_FIELDS: Record<string, readonly string[]> = {
  'payment.amount_range': ['currency', 'max', 'min'],
  'payment.allowed_payees': ['allowed'],
  'payment.allowed_payment_instruments': ['allowed'],
  'payment.allowed_pisps': ['allowed'],
  'payment.budget': ['max', 'currency'],
  'payment.agent_recurrence': ['frequency', 'max_occurrences'],
  'payment.execution_date': ['not_before', 'not_after'],
  'payment.reference': ['conditional_transaction_id'],
};
const CHECKOUT_FIELDS: Record<string, readonly string[]> = {
  'checkout.allowed_merchants': ['allowed'],
  'checkout.line_items': ['items'],
};
export const AP2_NETWORK_TYPES = new Set(['payment.budget', 'payment.agent_recurrence']);
const FREQUENCIES = new Set(['ON_DEMAND', 'DAILY', 'WEEKLY', 'BIWEEKLY', 'MONTHLY', 'QUARTERLY', 'ANNUALLY']);

export const ap2IdMatches = (a: unknown, b: unknown): boolean => isObj(a) && isObj(b) && typeof a.id === 'string' && a.id !== '' && a.id === b.id;

function known(c: unknown, table: Record<string, readonly string[]>, r: ConstraintCheck): c is Record<string, unknown> & { type: string } {
  if (!isObj(c) || typeof c.type !== 'string') {
    violate(r, 'constraints', 'CONSTRAINT_VIOLATED', 'a constraint must be an object with a type');
    return false;
  }
  if (!Object.hasOwn(table, c.type)) {
    violate(r, c.type, 'UNKNOWN_CONSTRAINT', `unknown constraint type ${show(c.type)}`);
    return false;
  }
  const extra = extraFields(c, table[c.type]!);
  if (extra.length > 0) {
    violate(r, c.type, 'UNKNOWN_CONSTRAINT', `${c.type} sets ${extra.slice(0, 3).map(show).join(', ')}, which this verifier does not understand`);
    return false;
  }
  return true;
}

const revealed = (list: unknown): Record<string, unknown>[] => (Array.isArray(list) ? list.filter((m): m is Record<string, unknown> => isObj(m) && !Object.hasOwn(m, '...')) : []);

/** One closed payment mandate against one open payment mandate's constraints. */
export function checkAp2Payment(
  constraints: unknown,
  closed: Record<string, unknown>,
  openCheckoutHash: string | undefined,
  when: { now: number; timeZone?: string } = { now: Date.now() },
): ConstraintCheck {
  const r = newCheck();
  if (!Array.isArray(constraints)) {
    violate(r, 'constraints', 'CONSTRAINT_VIOLATED', 'constraints must be a list');
    return r;
  }
  const pa = isObj(closed.payment_amount) ? closed.payment_amount : {};
  const types = new Set(constraints.map((c) => (isObj(c) ? c.type : undefined)));
  for (const c of constraints) {
    if (!known(c, PAYMENT_FIELDS, r)) continue;
    const type = c.type;
    r.checked.push(type);
    switch (type) {
      case 'payment.amount_range':
        if (!isInt(c.max) || c.max < 0 || (c.min !== undefined && (!isInt(c.min) || c.min < 0)) || typeof c.currency !== 'string' || !/^[A-Z]{3}$/.test(c.currency)) {
          violate(r, type, 'CONSTRAINT_VIOLATED', 'amount_range needs currency and integer max (and min)');
          break;
        }
        if (pa.currency !== c.currency) violate(r, type, 'CURRENCY_MISMATCH', `the constraint is in ${show(c.currency)}, the payment in ${show(pa.currency)}`);
        if (isInt(c.min) && isInt(pa.amount) && pa.amount < c.min) violate(r, type, 'CONSTRAINT_VIOLATED', `${pa.amount} is below the minimum ${c.min}`);
        if (isInt(pa.amount) && pa.amount > c.max) violate(r, type, 'AUTHORITY_EXCEEDED', `${pa.amount} is over the maximum ${c.max} ${show(c.currency)}`);
        break;
      case 'payment.allowed_payees': {
        const allowed = revealed(c.allowed);
        if (allowed.length === 0) violate(r, type, 'CONSTRAINT_VIOLATED', 'allowed_payees reveals no payee');
        else if (!allowed.some((m) => ap2IdMatches(m, closed.payee))) violate(r, type, 'COUNTERPARTY_NOT_ALLOWED', 'the payee is not in the allowed list');
        break;
      }
      case 'payment.allowed_payment_instruments': {
        const allowed = revealed(c.allowed);
        if (!allowed.some((m) => ap2IdMatches(m, closed.payment_instrument))) violate(r, type, 'CONSTRAINT_VIOLATED', 'the payment instrument is not in the allowed list');
        break;
      }
      case 'payment.allowed_pisps': {
        const p = closed.pisp;
        const same = (a: Record<string, unknown>) => isObj(p) && a.domain_name === p.domain_name && a.legal_name === p.legal_name && a.brand_name === p.brand_name;
        if (!isObj(p)) violate(r, type, 'CONSTRAINT_VIOLATED', 'the closed mandate names no PISP');
        else if (!revealed(c.allowed).some(same)) violate(r, type, 'CONSTRAINT_VIOLATED', 'the PISP is not in the allowed list');
        break;
      }
      case 'payment.execution_date': {
        // payment_mandate.json: an absent execution_date "indicates immediate execution", so the window holds
        // the time of this decision in every case, and a named execution date as well.
        const tz = when.timeZone ?? 'UTC';
        const nb = c.not_before === undefined ? undefined : dateSpan(c.not_before, tz);
        const na = c.not_after === undefined ? undefined : dateSpan(c.not_after, tz);
        const named = closed.execution_date === undefined ? undefined : dateSpan(closed.execution_date, tz);
        if ((c.not_before !== undefined && !nb) || (c.not_after !== undefined && !na) || (closed.execution_date !== undefined && !named)) {
          violate(r, type, 'CONSTRAINT_VIOLATED', 'execution dates must be ISO 8601 dates or RFC 3339 date-times with a zone');
          break;
        }
        if (!nb && !na) {
          violate(r, type, 'CONSTRAINT_VIOLATED', 'execution_date names neither not_before nor not_after');
          break;
        }
        const outside = (t: { start: number; end: number }) => (nb !== undefined && t.start < nb.start) || (na !== undefined && t.end > na.end);
        if (outside({ start: when.now, end: when.now })) violate(r, type, 'CONSTRAINT_VIOLATED', 'the payment is executed now, outside the allowed execution window');
        else if (named && outside(named)) violate(r, type, 'CONSTRAINT_VIOLATED', 'the execution date is outside the allowed window');
        break;
      }
      case 'payment.reference':
        // payment mandate §Reference: the checkout chain holds an open checkout mandate with this hash.
        if (!openCheckoutHash) violate(r, type, 'CHECKOUT_MISMATCH', 'payment.reference cannot be confirmed without the checkout chain (or openCheckoutHash)');
        else if (c.conditional_transaction_id !== openCheckoutHash) violate(r, type, 'CHECKOUT_MISMATCH', 'payment.reference names another open checkout mandate');
        break;
      case 'payment.budget': {
        r.network.push(c);
        if (pa.currency !== c.currency) {
          violate(r, type, 'CURRENCY_MISMATCH', `the budget is in ${show(c.currency)}, the payment in ${show(pa.currency)}`);
          break;
        }
        try {
          const budget = fromMajorNumber(c.max, String(c.currency));
          const spend = fromMinorUnits(pa.amount, String(pa.currency));
          if (compareDecimal(spend.amount, budget.amount) > 0)
            violate(r, type, 'BUDGET_EXCEEDED', `one payment of ${spend.amount} is more than the whole budget of ${budget.amount} ${budget.currency}`);
        } catch {
          violate(r, type, 'CONSTRAINT_VIOLATED', 'payment.budget max must be a non-negative number');
        }
        break;
      }
      case 'payment.agent_recurrence':
        r.network.push(c);
        if (c.max_occurrences !== undefined && (!isInt(c.max_occurrences) || c.max_occurrences < 1))
          violate(r, type, 'CONSTRAINT_VIOLATED', 'agent_recurrence max_occurrences must be a positive integer');
        if (typeof c.frequency !== 'string' || !FREQUENCIES.has(c.frequency)) violate(r, type, 'CONSTRAINT_VIOLATED', 'agent_recurrence frequency is not one AP2 defines');
        // constraints.py: a recurrence without amount_range and budget would be unbounded.
        if (!types.has('payment.amount_range') || !types.has('payment.budget'))
          violate(r, type, 'CONSTRAINT_VIOLATED', 'payment.agent_recurrence requires payment.amount_range and payment.budget');
        break;
    }
  }
  return r;
}

/** One checkout (merchant, line items) against one open checkout mandate's constraints. */
export function checkAp2Checkout(constraints: unknown, checkout: { merchant?: Record<string, unknown>; lines?: { id: string; quantity: number }[] }): ConstraintCheck {
  const r = newCheck();
  if (!Array.isArray(constraints)) {
    violate(r, 'constraints', 'CONSTRAINT_VIOLATED', 'constraints must be a list');
    return r;
  }
  for (const c of constraints) {
    if (!known(c, CHECKOUT_FIELDS, r)) continue;
    r.checked.push(c.type);
    if (c.type === 'checkout.allowed_merchants') {
      const allowed = revealed(c.allowed);
      if (!checkout.merchant) violate(r, c.type, 'CONSTRAINT_VIOLATED', 'the checkout names no merchant');
      else if (allowed.length === 0) violate(r, c.type, 'CONSTRAINT_VIOLATED', 'allowed_merchants reveals no merchant');
      else if (!allowed.some((m) => ap2IdMatches(m, checkout.merchant))) violate(r, c.type, 'COUNTERPARTY_NOT_ALLOWED', 'the merchant is not in the allowed list');
    } else {
      const msg = lineItemsProblem(c.items, checkout.lines);
      if (msg) violate(r, c.type, 'CONSTRAINT_VIOLATED', msg);
    }
  }
  return r;
}

/**
 * checkout mandate §Line Items: a maximum flow from requirements (capacity:
 * quantity) through matching item ids (revealed acceptable_items) to the
 * checkout's items (capacity: quantity) must carry every requirement and
 * every checkout item.
 */
export function lineItemsProblem(items: unknown, lines: { id: string; quantity: number }[] | undefined): string | undefined {
  if (!Array.isArray(items) || items.length === 0 || items.length > 256) return 'line_items needs 1 to 256 requirements';
  if (!lines || lines.length === 0) return 'an empty checkout does not satisfy line_items';
  if (lines.length > 256 || lines.some((l) => !l.id || !isInt(l.quantity) || l.quantity <= 0)) return 'every checkout line needs an item id and a positive quantity';
  const reqs: { q: number; ids: Set<string> }[] = [];
  for (const e of items) {
    if (!isObj(e) || !isInt(e.quantity) || e.quantity <= 0 || !Array.isArray(e.acceptable_items)) return 'a requirement needs acceptable_items and a positive quantity';
    reqs.push({ q: e.quantity, ids: new Set(revealed(e.acceptable_items).flatMap((a) => (typeof a.id === 'string' ? [a.id] : []))) });
  }
  const qty = new Map<string, number>();
  for (const l of lines) qty.set(l.id, (qty.get(l.id) ?? 0) + l.quantity);
  const ids = [...qty.keys()];
  const need = reqs.reduce((s, x) => s + x.q, 0);
  const have = ids.reduce((s, id) => s + qty.get(id)!, 0);
  if (need !== have) return `the checkout has ${have} items, the requirements ${need}`;
  // residual capacities: req i -> item j unbounded; source -> req i = q_i; item j -> sink = qty_j
  const fromSrc = reqs.map((x) => x.q);
  const toSink = ids.map((id) => qty.get(id)!);
  const flow = reqs.map(() => ids.map(() => 0));
  const augment = (): number => {
    // BFS over reqs (left) and items (right); edges req->item if matching, item->req if flow > 0
    const prevReq: number[] = ids.map(() => -1);
    const prevItem: number[] = reqs.map(() => -1);
    const queue: number[] = [];
    const seenReq = reqs.map((_, i) => fromSrc[i]! > 0);
    reqs.forEach((_, i) => seenReq[i] && queue.push(i));
    const seenItem = ids.map(() => false);
    while (queue.length > 0) {
      const i = queue.shift()!;
      for (let j = 0; j < ids.length; j++) {
        if (seenItem[j] || !reqs[i]!.ids.has(ids[j]!)) continue;
        seenItem[j] = true;
        prevReq[j] = i;
        if (toSink[j]! > 0) {
          // walk back to a source edge, finding the bottleneck
          let amount = toSink[j]!;
          let ii = i;
          for (;;) {
            if (prevItem[ii] === -1) {
              amount = Math.min(amount, fromSrc[ii]!);
              break;
            }
            const pj = prevItem[ii]!;
            amount = Math.min(amount, flow[ii]![pj]!);
            ii = prevReq[pj]!;
          }
          let jj = j;
          ii = i;
          toSink[jj] = toSink[jj]! - amount;
          for (;;) {
            flow[ii]![jj] = flow[ii]![jj]! + amount;
            if (prevItem[ii] === -1) {
              fromSrc[ii] = fromSrc[ii]! - amount;
              break;
            }
            const pj = prevItem[ii]!;
            flow[ii]![pj] = flow[ii]![pj]! - amount;
            jj = pj;
            ii = prevReq[pj]!;
          }
          return amount;
        }
        for (let k = 0; k < reqs.length; k++) {
          if (!seenReq[k] && flow[k]![j]! > 0) {
            seenReq[k] = true;
            prevItem[k] = j;
            queue.push(k);
          }
        }
      }
    }
    return 0;
  };
  let total = 0;
  for (let a = augment(); a > 0; a = augment()) total += a;
  return total === need ? undefined : 'the checkout items do not match the line item requirements';
}
