import fc from 'fast-check';
import { addDecimal } from '../../src/encoding/decimal.js';
import {
  actionCovers,
  type AgentRequest,
  type Authority,
  type Budget,
  type CalendarPeriod,
  type CalendarUnit,
  type Limits,
  type Money,
  type NarrowingDimension,
  type Rate,
} from '../../src/agents/index.js';

/** Small universes so that random parents, children and requests collide often. */
export const PATTERNS = ['pay:card', 'pay:bank', 'refund:card', 'read', 'pay:*', 'refund:*', 'p*', '*'];
export const ACTIONS = ['pay:card', 'pay:bank', 'refund:card', 'read', 'pay', 'px', 'write'];
export const CURRENCIES = ['USD', 'EUR'];
export const PERIODS = ['PT1H', 'P1D', 'P7D', 'P30D'];
export const PARTIES = ['did:web:a.example', 'did:web:b.example', 'did:web:c.example'];
/** Zones with and without DST, on both sides of UTC. */
export const ZONES = ['UTC', 'Europe/Paris', 'America/New_York', 'Asia/Kolkata'];
export const UNITS: CalendarUnit[] = ['day', 'week', 'month', 'year'];
/** Units whose every period lies inside one period of the key unit (a week straddles months and years). */
const CONTAINING: Record<CalendarUnit, CalendarUnit[]> = { day: ['day', 'week', 'month', 'year'], week: ['week'], month: ['month', 'year'], year: ['year'] };

export const decimal = fc.tuple(fc.integer({ min: 0, max: 120 }), fc.integer({ min: 0, max: 99 })).map(([i, f]) => (f === 0 ? String(i) : `${i}.${String(f).padStart(2, '0')}`));
export const currency = fc.constantFrom(...CURRENCIES);
export const money: fc.Arbitrary<Money> = fc.record({ amount: decimal, currency });
export const calendarPeriod: fc.Arbitrary<CalendarPeriod> = fc.record({ calendar: fc.constantFrom(...UNITS), timeZone: fc.constantFrom(...ZONES) });
export const budgetPeriod: fc.Arbitrary<string | CalendarPeriod> = fc.oneof(fc.constantFrom(...PERIODS), calendarPeriod);
export const budget: fc.Arbitrary<Budget> = fc.record({ amount: decimal, currency, period: budgetPeriod });
export const rate: fc.Arbitrary<Rate> = fc.record({ count: fc.integer({ min: 1, max: 6 }), period: fc.constantFrom(...PERIODS) });

export const limits: fc.Arbitrary<Limits> = fc.record(
  { perTransaction: money, budget, counterparties: fc.uniqueArray(fc.constantFrom(...PARTIES), { maxLength: 3 }), rate },
  { requiredKeys: [] },
);

export const authority: fc.Arbitrary<Authority> = fc
  .record({
    actions: fc.uniqueArray(fc.constantFrom(...PATTERNS), { minLength: 1, maxLength: 4 }),
    limits: fc.option(limits, { nil: undefined }),
    maxDelegationDepth: fc.integer({ min: 0, max: 4 }),
  })
  .map(({ limits: l, ...a }) => (l === undefined ? a : { ...a, limits: l }));

const pick = <T>(xs: readonly T[]) => fc.subarray([...xs]);
const lower = (d: string) => fc.constantFrom(d, '0', d.split('.')[0]!);
const longer = (p: string) => fc.constantFrom(...PERIODS.slice(PERIODS.indexOf(p)));
/** A budget window that contains the parent's: a rolling period at least as long, or a containing calendar unit in the same zone. */
const containing = (p: string | CalendarPeriod): fc.Arbitrary<string | CalendarPeriod> =>
  typeof p === 'string' ? longer(p) : fc.constantFrom(...CONTAINING[p.calendar]).map((calendar) => ({ calendar, timeZone: p.timeZone }));

/**
 * A child derived from `parent`: usually a narrowing (subset of actions,
 * limits kept or lowered), sometimes with a random twist that may widen.
 * Property tests then check the implication only where checkNarrowing passes.
 */
export function childOf(parent: Authority): fc.Arbitrary<Authority> {
  const pl = parent.limits ?? {};
  const narrow = fc.record({
    actions: pick(parent.actions).filter((a) => a.length > 0),
    perTransaction: pl.perTransaction ? lower(pl.perTransaction.amount).map((amount) => ({ ...pl.perTransaction!, amount })) : fc.option(money, { nil: undefined }),
    budget: pl.budget
      ? fc.tuple(lower(pl.budget.amount), containing(pl.budget.period)).map(([amount, period]) => ({ ...pl.budget!, amount, period }))
      : fc.option(budget, { nil: undefined }),
    counterparties: pl.counterparties ? pick(pl.counterparties) : fc.option(fc.uniqueArray(fc.constantFrom(...PARTIES), { maxLength: 3 }), { nil: undefined }),
    rate: pl.rate
      ? fc.tuple(fc.integer({ min: 1, max: pl.rate.count }), longer(pl.rate.period)).map(([count, period]) => ({ count, period }))
      : fc.option(rate, { nil: undefined }),
    depth: fc.integer({ min: 0, max: Math.max(0, parent.maxDelegationDepth - 1) }),
  });
  const derived = narrow.map(({ actions, depth, ...l }) => {
    const lim: Limits = {};
    for (const [k, v] of Object.entries(l)) if (v !== undefined) (lim as Record<string, unknown>)[k] = v;
    return { actions, maxDelegationDepth: depth, ...(Object.keys(lim).length ? { limits: lim } : {}) } as Authority;
  });
  return fc.oneof({ arbitrary: derived, weight: 4 }, { arbitrary: authority, weight: 1 });
}

export const request: fc.Arbitrary<AgentRequest> = fc
  .record({ action: fc.constantFrom(...ACTIONS), amount: fc.option(money, { nil: undefined }), counterparty: fc.option(fc.constantFrom(...PARTIES), { nil: undefined }) })
  .map((r) => ({ action: r.action, ...(r.amount ? { amount: r.amount } : {}), ...(r.counterparty ? { counterparty: r.counterparty } : {}) }));

/** Drops keys whose value is undefined (as JSON would). */
const clean = (l: Limits): Limits => Object.fromEntries(Object.entries(l).filter(([, v]) => v !== undefined)) as Limits;
const lim = (p: Authority, l: Partial<Limits>): Authority => ({ ...p, maxDelegationDepth: p.maxDelegationDepth - 1, limits: clean({ ...p.limits, ...l }) });
const other = (c: string) => (c === 'USD' ? 'EUR' : 'USD');

/**
 * One widening per entry, applied to a parent of depth >= 1 (each otherwise
 * keeps the parent's authority one depth lower): the dimension it widens and
 * the child, or undefined when the parent leaves nothing to widen there.
 */
export const WIDENINGS: [NarrowingDimension, (p: Authority) => Authority | undefined][] = [
  ['actions', (p) => (p.actions.some((a) => actionCovers(a, 'zz:new')) ? undefined : { ...p, maxDelegationDepth: p.maxDelegationDepth - 1, actions: [...p.actions, 'zz:new'] })],
  [
    'perTransaction',
    (p) => (p.limits?.perTransaction ? lim(p, { perTransaction: { ...p.limits.perTransaction, amount: addDecimal(p.limits.perTransaction.amount, '0.01') } }) : undefined),
  ],
  ['perTransaction', (p) => (p.limits?.perTransaction ? lim(p, { perTransaction: undefined }) : undefined)],
  ['perTransaction', (p) => (p.limits?.perTransaction ? lim(p, { perTransaction: { ...p.limits.perTransaction, currency: other(p.limits.perTransaction.currency) } }) : undefined)],
  ['budget', (p) => (p.limits?.budget ? lim(p, { budget: { ...p.limits.budget, amount: addDecimal(p.limits.budget.amount, '0.01') } }) : undefined)],
  ['budget', (p) => (p.limits?.budget ? lim(p, { budget: { ...p.limits.budget, period: 'PT1M' } }) : undefined)],
  // A calendar period under a rolling one, and the other way round: mixing windows widens.
  [
    'budget',
    (p) =>
      p.limits?.budget
        ? lim(p, { budget: { ...p.limits.budget, period: typeof p.limits.budget.period === 'string' ? { calendar: 'year', timeZone: 'UTC' } : 'P3650D' } })
        : undefined,
  ],
  // Another time zone, or a unit that does not contain the parent's.
  [
    'budget',
    (p) => {
      const b = p.limits?.budget;
      return b && typeof b.period !== 'string'
        ? lim(p, { budget: { ...b, period: { ...b.period, timeZone: b.period.timeZone === 'Asia/Tokyo' ? 'UTC' : 'Asia/Tokyo' } } })
        : undefined;
    },
  ],
  [
    'budget',
    (p) => {
      const b = p.limits?.budget;
      return b && typeof b.period !== 'string' && b.period.calendar !== 'day' ? lim(p, { budget: { ...b, period: { ...b.period, calendar: 'day' } } }) : undefined;
    },
  ],
  [
    'budget',
    (p) => {
      const b = p.limits?.budget;
      return b && typeof b.period !== 'string' && b.period.calendar === 'week' ? lim(p, { budget: { ...b, period: { ...b.period, calendar: 'month' } } }) : undefined;
    },
  ],
  ['budget', (p) => (p.limits?.budget ? lim(p, { budget: { ...p.limits.budget, currency: other(p.limits.budget.currency) } }) : undefined)],
  ['budget', (p) => (p.limits?.budget ? lim(p, { budget: undefined }) : undefined)],
  ['counterparties', (p) => (p.limits?.counterparties ? lim(p, { counterparties: [...p.limits.counterparties, 'did:web:zz.example'] }) : undefined)],
  ['counterparties', (p) => (p.limits?.counterparties ? lim(p, { counterparties: undefined }) : undefined)],
  ['rate', (p) => (p.limits?.rate ? lim(p, { rate: { ...p.limits.rate, count: p.limits.rate.count + 1 } }) : undefined)],
  ['rate', (p) => (p.limits?.rate ? lim(p, { rate: { ...p.limits.rate, period: 'PT1M' } }) : undefined)],
  ['rate', (p) => (p.limits?.rate ? lim(p, { rate: undefined }) : undefined)],
  ['maxDelegationDepth', (p) => ({ ...p, maxDelegationDepth: p.maxDelegationDepth })],
];
