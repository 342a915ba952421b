import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { parseDecimal } from '../../src/encoding/decimal.js';
import { parseDuration } from '../../src/encoding/duration.js';
import { checkNarrowing, checkRequest, ledgerWindow, type Authority, type Limits, type NarrowingDimension } from '../../src/agents/index.js';
import { windowSince } from '../../src/store/window.js';
import { authority, childOf, decimal, request, WIDENINGS } from './arbitraries.js';

const parent: Authority = {
  actions: ['pay:*', 'read'],
  maxDelegationDepth: 2,
  limits: {
    perTransaction: { amount: '50', currency: 'USD' },
    budget: { amount: '100', currency: 'USD', period: 'P30D' },
    counterparties: ['did:web:a.example', 'did:web:b.example'],
    rate: { count: 10, period: 'PT1H' },
  },
};
const inside = { validFrom: '2030-01-01T00:00:00Z', validUntil: '2030-02-01T00:00:00Z' };
const dims = (rs: { dimension: string }[]) => [...new Set(rs.map((r) => r.dimension))].sort();
const withLimits = (l: Partial<Limits>): Authority => ({ ...parent, maxDelegationDepth: 1, limits: { ...parent.limits, ...l } });

describe('checkNarrowing', () => {
  it('accepts an equal or narrower child', () => {
    expect(checkNarrowing(parent, { ...parent, maxDelegationDepth: 1 }, inside, inside)).toEqual([]);
    const narrower: Authority = {
      actions: ['pay:card'],
      maxDelegationDepth: 0,
      limits: {
        perTransaction: { amount: '10', currency: 'USD' },
        budget: { amount: '20', currency: 'USD', period: 'P60D' },
        counterparties: ['did:web:a.example'],
        rate: { count: 1, period: 'P1D' },
      },
    };
    expect(checkNarrowing(parent, narrower, inside, { validFrom: '2030-01-02T00:00:00Z', validUntil: '2030-01-03T00:00:00Z' })).toEqual([]);
  });

  it('a limit absent in the parent is unlimited: the child may set any', () => {
    expect(checkNarrowing({ actions: ['*'], maxDelegationDepth: 2 }, withLimits({}))).toEqual([]);
  });

  it.each<[string, Authority, NarrowingDimension]>([
    ['an action outside the parent', { ...parent, maxDelegationDepth: 1, actions: ['refund:card'] }, 'actions'],
    ['a broader pattern', { ...parent, maxDelegationDepth: 1, actions: ['*'] }, 'actions'],
    ['a higher per-transaction limit', withLimits({ perTransaction: { amount: '50.01', currency: 'USD' } }), 'perTransaction'],
    ['no per-transaction limit', withLimits({ perTransaction: undefined }), 'perTransaction'],
    ['another per-transaction currency', withLimits({ perTransaction: { amount: '1', currency: 'EUR' } }), 'perTransaction'],
    ['a higher budget', withLimits({ budget: { amount: '100.5', currency: 'USD', period: 'P30D' } }), 'budget'],
    ['a shorter budget period (100/P1D allows 3,000/P30D)', withLimits({ budget: { amount: '100', currency: 'USD', period: 'P1D' } }), 'budget'],
    ['no budget', withLimits({ budget: undefined }), 'budget'],
    ['another budget currency', withLimits({ budget: { amount: '1', currency: 'EUR', period: 'P30D' } }), 'budget'],
    ['an extra counterparty', withLimits({ counterparties: ['did:web:c.example'] }), 'counterparties'],
    ['any counterparty', withLimits({ counterparties: undefined }), 'counterparties'],
    ['a higher rate', withLimits({ rate: { count: 11, period: 'PT1H' } }), 'rate'],
    ['a shorter rate period', withLimits({ rate: { count: 10, period: 'PT30M' } }), 'rate'],
    ['no rate', withLimits({ rate: undefined }), 'rate'],
    ['an equal depth', { ...parent }, 'maxDelegationDepth'],
  ])('refuses %s as AUTHORITY_WIDENED naming the dimension', (_, child, dimension) => {
    const rs = checkNarrowing(parent, child, inside, inside);
    expect(rs.map((r) => r.code)).toEqual(['AUTHORITY_WIDENED']);
    expect(rs[0]!.dimension).toBe(dimension);
  });

  it('refuses validity outside the parent window', () => {
    const child = { ...parent, maxDelegationDepth: 1 };
    expect(dims(checkNarrowing(parent, child, inside, { ...inside, validUntil: '2030-02-01T00:00:01Z' }))).toEqual(['validity']);
    expect(dims(checkNarrowing(parent, child, inside, { ...inside, validFrom: '2029-12-31T23:59:59Z' }))).toEqual(['validity']);
    expect(dims(checkNarrowing(parent, child, inside, { validFrom: inside.validFrom }))).toEqual(['validity']);
  });

  it('a validity window it cannot read is a TypeError, never "no widening" (an unreadable date compares false with every bound)', () => {
    const child = { ...parent, maxDelegationDepth: 1 };
    for (const bad of ['garbage', '', '2030-13-01T00:00:00Z', new Date(NaN), 1893456000000, null, {}] as unknown as string[]) {
      expect(() => checkNarrowing(parent, child, inside, { ...inside, validFrom: bad })).toThrow(TypeError);
      expect(() => checkNarrowing(parent, child, inside, { ...inside, validUntil: bad })).toThrow(TypeError);
      expect(() => checkNarrowing(parent, child, { ...inside, validFrom: bad }, inside)).toThrow(TypeError);
      expect(() => checkNarrowing(parent, child, { ...inside, validUntil: bad }, inside)).toThrow(TypeError);
    }
    // A Date object is read as the instant it holds.
    expect(dims(checkNarrowing(parent, child, inside, { ...inside, validUntil: new Date('2030-02-01T00:00:01Z') }))).toEqual(['validity']);
    expect(checkNarrowing(parent, child, inside, { ...inside, validUntil: new Date('2030-02-01T00:00:00Z') })).toEqual([]);
  });

  it('a parent with depth 0 may not be delegated at all', () => {
    const rs = checkNarrowing({ ...parent, maxDelegationDepth: 0 }, { ...parent, maxDelegationDepth: 0 }, inside, inside);
    expect(rs.map((r) => r.code)).toEqual(['DELEGATION_DEPTH_EXCEEDED']);
  });

  it('reports every widened dimension at once', () => {
    const child: Authority = { actions: ['*'], maxDelegationDepth: 5 };
    expect(dims(checkNarrowing(parent, child, inside, {}))).toEqual(['actions', 'budget', 'counterparties', 'maxDelegationDepth', 'perTransaction', 'rate', 'validity']);
  });
});

/** Sequences start a few days before Europe's spring DST change, so day, week and month windows cross it. */
const T0 = Date.parse('2026-03-26T21:30:00Z') / 1000;

/**
 * Model of the ledger: spend i fits when its budget window (the ledger's own
 * window function: rolling (t_i - period, t_i], or the calendar period holding
 * t_i in its zone) including it stays within the limit; rates are rolling.
 */
function admitsAll(l: Limits | undefined, seq: { t: number; amount: string; currency: string }[]): boolean {
  return seq.every((s, i) => {
    const before = seq.slice(0, i + 1);
    if (l?.budget) {
      const since = windowSince((T0 + s.t) * 1000, ledgerWindow(l.budget.period));
      const inWindow = before.filter((x) => (T0 + x.t) * 1000 > since);
      if (inWindow.some((x) => x.currency !== l.budget!.currency)) return false;
      if (inWindow.reduce((a, x) => a + parseDecimal(x.amount), 0n) > parseDecimal(l.budget.amount)) return false;
    }
    if (l?.rate) {
      const p = parseDuration(l.rate.period);
      if (before.filter((x) => x.t > s.t - p).length > l.rate.count) return false;
    }
    return true;
  });
}

describe('properties', () => {
  const pairs = authority.chain((p) => childOf(p).map((c) => ({ parent: p, child: c })));

  it('a delegated mandate never allows more than its parent (any single request)', () => {
    fc.assert(
      fc.property(pairs, fc.array(request, { minLength: 1, maxLength: 8 }), ({ parent: p, child: c }, reqs) => {
        if (checkNarrowing(p, c).length > 0) return;
        for (const r of reqs) if (checkRequest(c, r).length === 0) expect(checkRequest(p, r)).toEqual([]);
      }),
      { numRuns: 2000 },
    );
  });

  it('a delegated mandate never allows more than its parent (any sequence of spends over time, rolling and calendar budgets)', () => {
    // Gaps of hours, days and weeks, so spends land on both sides of a window boundary close together.
    const dt = fc.oneof(fc.integer({ min: 0, max: 6 * 3600 }), fc.integer({ min: 0, max: 3 * 86400 }), fc.integer({ min: 0, max: 40 * 86400 }));
    const spend = fc.record({ dt, amount: decimal, currency: fc.constantFrom('USD', 'EUR') });
    fc.assert(
      fc.property(pairs, fc.array(spend, { minLength: 1, maxLength: 12 }), ({ parent: p, child: c }, raw) => {
        if (checkNarrowing(p, c).length > 0) return;
        let t = 0;
        const seq = raw.map((s) => ({ t: (t += s.dt), amount: s.amount, currency: s.currency }));
        if (admitsAll(c.limits, seq)) expect(admitsAll(p.limits, seq)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('every widening is refused, naming its dimension', () => {
    const deep = authority.filter((a) => a.maxDelegationDepth >= 1);
    fc.assert(
      fc.property(deep, fc.integer({ min: 0, max: WIDENINGS.length - 1 }), (p, m) => {
        const [dimension, mutate] = WIDENINGS[m]!;
        const child = mutate(p);
        fc.pre(child !== undefined);
        const rs = checkNarrowing(p, child!);
        expect(rs.length).toBeGreaterThan(0);
        expect(rs.every((r) => r.code === 'AUTHORITY_WIDENED')).toBe(true);
        expect(rs.map((r) => r.dimension)).toContain(dimension);
      }),
      { numRuns: 2000 },
    );
  });

  it('every widening is refused: when a request passes the child but not the parent, narrowing fails', () => {
    fc.assert(
      fc.property(authority, authority, request, (p, c, r) => {
        if (checkRequest(c, r).length === 0 && checkRequest(p, r).length > 0) {
          expect(checkNarrowing({ ...p, maxDelegationDepth: 9 }, { ...c, maxDelegationDepth: 0 }).length).toBeGreaterThan(0);
        }
      }),
      { numRuns: 3000 },
    );
  });
});
