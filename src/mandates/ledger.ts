import { CharterError } from '../errors.js';
import { MAX_SKEW_SECONDS } from '../credentials/time.js';
import { fromMajorNumber, fromMinorUnits } from './money.js';
import { isInt, isObj } from './constraint-check.js';
import type { CalendarPeriod, MandateAuthority, MandateBudget, MandateDecision, MandateLedgerLink, MandateLimits, MandateRecord } from './types.js';

/**
 * Turns a verified chain's money constraints into Charter ledger links: one
 * per payment mandate, root first, so the ledger charges a spend to every
 * link (DESIGN.md "a mandate"). What a stateless verifier cannot enforce
 * lands here: budgets, cumulative spend per calendar period, occurrence caps.
 *
 * - amount_range max -> limits.perTransaction (min -> minPerTransaction)
 * - allowed_payees -> limits.counterparties (merchant ids, else websites)
 * - VI `mandate.payment.budget`, AP2 `payment.budget` (a total over the
 *   mandate's life) -> limits.budget with a rolling period spanning the
 *   mandate's validity (`PT<exp-iat>S`; P100Y when it has no exp)
 * - VI proposed `payment.cumulative { max_total, currency, period }` ->
 *   limits.budget with a calendar period `{ calendar, timeZone }`
 * - `agent_recurrence.max_occurrences` -> limits.rate over the same window
 * - a closed (final) payment mandate -> exactly its amount, once
 * A mandate with several budgets (lifetime and calendar) yields a link per
 * further budget, `<id>#lifetime` or `<id>#<calendar period>`, so the ledger
 * enforces each.
 */
const CALENDAR: Record<string, CalendarPeriod['calendar']> = { DAILY: 'day', WEEKLY: 'week', MONTHLY: 'month', YEARLY: 'year' };
const FOREVER = 'P100Y';

export interface MandateLimitsOptions {
  /** Time zone of calendar periods the mandate does not name. Default "UTC". */
  calendarTimeZone?: string;
}

/**
 * A budget over a span is a rolling window as long as the span plus twice the
 * largest clock skew a verifier allows: payments are taken from the span's
 * start minus the skew to its end plus the skew, and a window only the span's
 * length would, at the very end, no longer hold a payment made at the start,
 * letting the whole budget be spent twice.
 */
const EDGES = 2 * MAX_SKEW_SECONDS;

function lifetime(rec: MandateRecord): string {
  return rec.iat !== undefined && rec.exp !== undefined && rec.exp > rec.iat ? `PT${rec.exp - rec.iat + EDGES}S` : FOREVER;
}

function window(start: unknown, end: unknown, rec: MandateRecord): string {
  const a = typeof start === 'string' ? Date.parse(start) : NaN;
  const b = typeof end === 'string' ? Date.parse(end) : NaN;
  if (Number.isFinite(a) && Number.isFinite(b) && b > a) return `PT${Math.ceil((b - a) / 1000) + EDGES}S`;
  return lifetime(rec);
}

function merchantIds(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.flatMap((m) => (isObj(m) && typeof (m.id ?? m.website) === 'string' && !Object.hasOwn(m, '...') ? [String(m.id ?? m.website)] : []));
}

function validTimeZone(tz: string): string {
  try {
    new Intl.DateTimeFormat('en', { timeZone: tz });
    return tz;
  } catch {
    throw new CharterError('INVALID_ARGUMENT', `unknown time zone ${JSON.stringify(tz.slice(0, 40))}`);
  }
}

export function mandateLimits(decision: MandateDecision, opts: MandateLimitsOptions = {}): MandateLedgerLink[] {
  if (!decision.ok) throw new CharterError('INVALID_ARGUMENT', 'mandateLimits maps a verified chain (decision.ok); this one was refused');
  const timeZone = validTimeZone(opts.calendarTimeZone ?? 'UTC');
  const payments = decision.mandates.filter((m) => m.kind === 'payment');
  const action = `payments:${decision.profile}`;
  const out: MandateLedgerLink[] = [];
  payments.forEach((rec, i) => {
    const limits: MandateLimits = {};
    const unmapped: string[] = [];
    const budgets: MandateBudget[] = [];
    if (!rec.open && rec.payment) {
      // A closed mandate authorizes exactly one payment of exactly this amount.
      limits.perTransaction = rec.payment.amount;
      budgets.push({ ...rec.payment.amount, period: lifetime(rec) });
      const payee = rec.payment.payee;
      if (payee && typeof (payee.id ?? payee.website) === 'string') limits.counterparties = [String(payee.id ?? payee.website)];
    }
    for (const c of decision.constraints.filter((x) => x.ref === rec.ref)) {
      const k = c.constraint;
      const type = c.type.replace(/^mandate\./, '');
      switch (type) {
        case 'payment.amount_range':
          if (isInt(k.max)) limits.perTransaction = fromMinorUnits(k.max, String(k.currency));
          if (isInt(k.min) && k.min > 0) limits.minPerTransaction = fromMinorUnits(k.min, String(k.currency));
          break;
        case 'payment.allowed_payees': {
          const ids = merchantIds(k.allowed);
          if (ids.length > 0) limits.counterparties = ids;
          break;
        }
        case 'payment.budget':
          // VI: integer minor units; AP2 payment mandate §Budget: a number in major units (1000.00).
          budgets.push({
            ...(decision.profile === 'ap2' ? fromMajorNumber(k.max, String(k.currency)) : fromMinorUnits(k.max, String(k.currency))),
            period: lifetime(rec),
          });
          break;
        case 'payment.cumulative': {
          const cal = typeof k.period === 'string' ? CALENDAR[k.period] : undefined;
          if (!cal) throw new CharterError('INVALID_ARGUMENT', 'payment.cumulative period must be DAILY, WEEKLY, MONTHLY or YEARLY');
          budgets.unshift({ ...fromMinorUnits(k.max_total, String(k.currency)), period: { calendar: cal, timeZone } });
          break;
        }
        case 'payment.agent_recurrence':
          if (isInt(k.max_occurrences) && k.max_occurrences > 0) limits.rate = { count: k.max_occurrences, period: window(k.start_date, k.end_date, rec) };
          // The spacing a frequency asks for (one per MONTHLY...) is not a ledger limit yet.
          if (k.frequency !== undefined && k.frequency !== 'ON_DEMAND') unmapped.push(`${c.type}.frequency`);
          break;
        case 'payment.recurrence':
          unmapped.push(c.type);
          break;
        default:
        // stateless types were evaluated by the verifier; nothing for the ledger
      }
    }
    if (budgets[0]) limits.budget = budgets[0];
    const authority: MandateAuthority = { actions: [action], limits, maxDelegationDepth: payments.length - 1 - i };
    const link: MandateLedgerLink = { id: rec.id, issuer: rec.issuer, authority, unmapped };
    if (rec.subject) link.subject = rec.subject;
    if (rec.parent) link.parent = rec.parent;
    if (rec.iat !== undefined) link.validFrom = new Date(rec.iat * 1000).toISOString();
    if (rec.exp !== undefined) link.validUntil = new Date(rec.exp * 1000).toISOString();
    out.push(link);
    // One link per further budget, each with its own id (the ledger keys spend by link id): `#lifetime`
    // for the mandate's lifetime budget (as before), `#month`, `#day`... for a calendar one, `-2`, `-3`
    // when a kind repeats.
    const named = new Set<string>();
    for (const extra of budgets.slice(1)) {
      const kind = typeof extra.period === 'string' ? 'lifetime' : extra.period.calendar;
      let name = kind;
      for (let n = 2; named.has(name); n++) name = `${kind}-${n}`;
      named.add(name);
      out.push({
        ...link,
        id: `${rec.id}#${name}`,
        parent: rec.id,
        authority: { actions: [action], limits: { budget: extra }, maxDelegationDepth: authority.maxDelegationDepth },
        unmapped: [],
      });
    }
  });
  return out;
}
