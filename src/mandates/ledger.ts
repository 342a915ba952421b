import { createHash } from 'node:crypto';
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
 * - how many payments the mandate makes, over its whole life: a `#uses` link
 *   with that many transactions and no window that refills (see `usesOf`)
 * - the spacing a recurrence `frequency` asks for: a `#frequency` link, at
 *   most one payment (two for TWMN) per period (see FREQUENCY)
 * - a closed (final) payment mandate -> exactly its amount, once
 * - the checkout being paid (`transaction_id`, "uniquely identifying the
 *   checkout", AP2 payment_mandate.json; VI credential-format §6.2): a link of
 *   its own, paid once, whichever mandate pays it
 * A mandate with several budgets (lifetime and calendar) yields a link per
 * further budget, `<id>#lifetime` or `<id>#<calendar period>`, so the ledger
 * enforces each. An AP2 root pinned by a DID also takes its links again under
 * that method's id (`MandateRecord.anchor`, the issuer 0.1 keyed them by), so
 * payments made before the upgrade count. Every use count lives in the store, so verifier instances
 * sharing it agree, and parallel payments race safely.
 */
const CALENDAR: Record<string, CalendarPeriod['calendar']> = { DAILY: 'day', WEEKLY: 'week', MONTHLY: 'month', YEARLY: 'year' };
const FOREVER = 'P100Y';

/**
 * A recurrence frequency as a ledger rate: at most `count` payments per period. VI uses ISO 20022
 * codes (constraints.md §4.7), AP2 its own names. A period that is a calendar unit counts in the
 * calendar (a daily purchase may drift by minutes); a longer one is a rolling window of the
 * shortest such span less a day (two months are at least 59 days). ON_DEMAND and INDA (intraday)
 * set no spacing. Undefined: a code this table does not know (refused, never ignored).
 */
type Spacing = { count: number; period: string | 'day' | 'week' | 'month' | 'year' } | null;
const FREQUENCY: Record<string, Spacing> = {
  ON_DEMAND: null,
  INDA: null,
  DAIL: { count: 1, period: 'day' },
  DAILY: { count: 1, period: 'day' },
  WEEK: { count: 1, period: 'week' },
  WEEKLY: { count: 1, period: 'week' },
  TOWK: { count: 1, period: 'P13D' },
  BIWEEKLY: { count: 1, period: 'P13D' },
  TWMN: { count: 2, period: 'month' },
  MNTH: { count: 1, period: 'month' },
  MONTHLY: { count: 1, period: 'month' },
  TOMN: { count: 1, period: 'P58D' },
  QUTR: { count: 1, period: 'P88D' },
  QUARTERLY: { count: 1, period: 'P88D' },
  FOMN: { count: 1, period: 'P119D' },
  SEMI: { count: 1, period: 'P180D' },
  YEAR: { count: 1, period: 'year' },
  ANNUALLY: { count: 1, period: 'year' },
  TYEA: { count: 1, period: 'P729D' },
};
const UNITS = new Set(['day', 'week', 'month', 'year']);

/** The issuer of the checkout links: a checkout is paid once whoever's mandate pays it. */
export const CHECKOUT_LEDGER_ISSUER = 'urn:charter:checkout';
/** Checkout link ids: `urn:charter:checkout:<hash>`, whichever profile pays. */
const CHECKOUT_LINK_PREFIX = 'urn:charter:checkout:';
/** The profiles 0.1 named in its checkout link ids (`urn:charter:checkout:<profile>:<hash>`). */
const LEGACY_PROFILES: readonly MandateDecision['profile'][] = ['verifiable-intent', 'ap2'];

/**
 * How many payments one payment mandate makes, or Infinity when only its money limits bound them.
 * - A closed (final) mandate: one.
 * - VI (credential-format §8.3 "one mandate pair always maps to exactly one L3 pair", §5.7 rule 8):
 *   one, unless the user signed a multi-payment bound: `agent_recurrence` (constraints.md §4.7, "enables
 *   a single L2 mandate pair to authorize multiple L3 fulfillments": its max_occurrences, else only the
 *   budget counts), or a total over several payments, `budget` ("across all transactions executed under
 *   this mandate pair", §4.5) or the proposed per-period `payment.cumulative`, which §5.7 rule 9 has the
 *   network track "per L2". A merchant `recurrence` (§4.6) is a subscription set up once: one.
 * - AP2: `payment.agent_recurrence` gives "conditions for the agent to reuse this Payment Mandate
 *   multiple times" (its max_occurrences, else only the budget counts); without it, one.
 */
function usesOf(profile: MandateDecision['profile'], rec: MandateRecord, types: Map<string, Record<string, unknown>>, recurrences: Record<string, unknown>[]): number {
  if (!rec.open) return 1;
  // Every copy the user signed binds: the smallest count holds (DESIGN.md: a tighter rule is never ignored).
  if (recurrences.length > 0) return Math.min(...recurrences.map((r) => (isInt(r.max_occurrences) ? r.max_occurrences : Infinity)));
  if (profile === 'ap2' || types.has('payment.recurrence')) return 1;
  return types.has('payment.budget') || types.has('payment.cumulative') ? Infinity : 1;
}

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
    const mine = decision.constraints.filter((x) => x.ref === rec.ref);
    const types = new Map(mine.map((c) => [c.type.replace(/^mandate\./, ''), c.constraint]));
    const recurrences = mine.filter((c) => c.type.replace(/^mandate\./, '') === 'payment.agent_recurrence').map((c) => c.constraint);
    const uses = usesOf(decision.profile, rec, types, recurrences);
    // One spacing per agent_recurrence copy that sets one (ON_DEMAND sets none and lifts no other's).
    const spacings: NonNullable<Spacing>[] = [];
    if (!rec.open && rec.payment) {
      // A closed mandate authorizes exactly one payment of exactly this amount.
      limits.perTransaction = rec.payment.amount;
      budgets.push({ ...rec.payment.amount, period: lifetime(rec) });
      const payee = rec.payment.payee;
      if (payee && typeof (payee.id ?? payee.website) === 'string') limits.counterparties = [String(payee.id ?? payee.website)];
    }
    for (const c of mine) {
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
          const cal = typeof k.period === 'string' && Object.hasOwn(CALENDAR, k.period) ? CALENDAR[k.period] : undefined;
          if (!cal) throw new CharterError('INVALID_ARGUMENT', 'payment.cumulative period must be DAILY, WEEKLY, MONTHLY or YEARLY');
          budgets.unshift({ ...fromMinorUnits(k.max_total, String(k.currency)), period: { calendar: cal, timeZone } });
          break;
        }
        case 'payment.agent_recurrence': {
          // The occurrence count is the `#uses` link (usesOf); the dates were checked by the verifier.
          const f = typeof k.frequency === 'string' && Object.hasOwn(FREQUENCY, k.frequency) ? FREQUENCY[k.frequency]! : undefined;
          if (f === undefined) unmapped.push(`${c.type}.frequency`);
          else if (f !== null) spacings.push(f);
          break;
        }
        case 'payment.recurrence':
          // A subscription set up once (`#uses` is 1): its frequency and number bind the merchant's later
          // charges, which never come through a mandate chain (constraints.md §4.6).
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
    const named = new Set<string>(['uses']);
    const nameFor = (kind: string) => {
      let name = kind;
      for (let n = 2; named.has(name); n++) name = `${kind}-${n}`;
      named.add(name);
      return name;
    };
    const extraLink = (name: string, lim: MandateLimits): MandateLedgerLink => ({
      ...link,
      id: `${rec.id}#${name}`,
      parent: rec.id,
      authority: { actions: [action], limits: lim, maxDelegationDepth: authority.maxDelegationDepth },
      unmapped: [],
    });
    if (uses !== Infinity) out.push(extraLink('uses', { rate: { count: uses, period: FOREVER } }));
    for (const s of spacings) {
      out.push(
        extraLink(nameFor('frequency'), { rate: { count: s.count, period: UNITS.has(s.period) ? { calendar: s.period as CalendarPeriod['calendar'], timeZone } : s.period } }),
      );
    }
    for (const extra of budgets.slice(1)) {
      out.push(extraLink(nameFor(typeof extra.period === 'string' ? 'lifetime' : extra.period.calendar), { budget: extra }));
    }
    // An AP2 root pinned by a DID was keyed by that method's id before its key (0.1): its links are taken
    // under that issuer too, so a mandate that paid before the upgrade (or at a verifier not yet upgraded,
    // sharing the store) does not pay again. Same ids and limits; only the issuer differs.
    if (rec.anchor !== undefined && rec.anchor !== rec.issuer) {
      const mine = out.slice(out.indexOf(link));
      for (const l of mine) out.push({ ...l, issuer: rec.anchor, unmapped: [] });
    }
  });
  // The checkout this payment is for, paid once. Its transaction_id is the hash of the checkout JWT as the agent
  // spelled it, and one merchant signature has several spellings (attached or detached, ES256 twins: checkout.ts
  // checkoutKeys): with the checkout JWT in the chain, the payment takes one link per spelling's hash, so a later
  // payment of the same checkout under any spelling, with or without the chain (the caller's checkoutHash), meets
  // a link already used. Hashed again so any value fits a store key.
  const tx = decision.payment?.transactionId;
  const keys = decision.checkout?.keys ?? (tx !== undefined ? [tx] : []);
  if (out.length > 0) {
    const once = (id: string): MandateLedgerLink => ({
      id,
      issuer: CHECKOUT_LEDGER_ISSUER,
      authority: { actions: [action], limits: { rate: { count: 1, period: FOREVER } }, maxDelegationDepth: 0 },
      unmapped: [],
    });
    const hashed = keys.map((key) => createHash('sha256').update(key, 'utf8').digest('base64url'));
    // One id whichever profile pays: a checkout paid under Verifiable Intent is paid under AP2 too.
    for (const h of hashed) out.push(once(`${CHECKOUT_LINK_PREFIX}${h}`));
    // 0.1 put the profile in the id: its links are taken too, so a checkout paid before the upgrade (or by a
    // verifier not yet upgraded, sharing the store) is not paid again.
    for (const profile of LEGACY_PROFILES) for (const h of hashed) out.push(once(`${CHECKOUT_LINK_PREFIX}${profile}:${h}`));
  }
  return out;
}
