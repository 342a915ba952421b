import { describe, expect, it } from 'vitest';
import { checkViConstraints } from '../../src/mandates/vi-constraints.js';

/**
 * The edges of each Verifiable Intent constraint (constraints.md §4): every
 * bound is tested on both sides, so a comparison that slips by one (a `<`
 * for a `<=`) or a check that is dropped is noticed. Found by mutation
 * testing: each case here failed to notice one such change before.
 */
const pay = (amount: unknown, currency: unknown = 'USD') => ({ payment_amount: { amount, currency } });
const codes = (r: { violations: { code: string }[] }) => r.violations.map((v) => v.code);
const RANGE = { type: 'mandate.payment.amount_range', currency: 'USD', max: 5000 };
const BUDGET = { type: 'mandate.payment.budget', currency: 'USD', max: 100000 };
const day = (iso: string) => Date.parse(iso);

describe('amount_range: both bounds inclusive', () => {
  it('an amount equal to max or min is within range; one minor unit past either is not', () => {
    const c = [{ ...RANGE, min: 100 }];
    expect(checkViConstraints(c, pay(5000)).satisfied).toBe(true);
    expect(checkViConstraints(c, pay(100)).satisfied).toBe(true);
    expect(codes(checkViConstraints(c, pay(5001)))).toEqual(['AUTHORITY_EXCEEDED']);
    expect(codes(checkViConstraints(c, pay(99)))).toEqual(['CONSTRAINT_VIOLATED']);
  });

  it('a payment of 0 is a non-negative amount (within a range without min); a negative, fractional or string amount is refused', () => {
    expect(checkViConstraints([RANGE], pay(0)).satisfied).toBe(true);
    for (const bad of [-1, 1.5, '100', null, Number.NaN, 2 ** 53]) expect(codes(checkViConstraints([RANGE], pay(bad)))).toEqual(['CONSTRAINT_VIOLATED']);
  });

  it('min 0 is a well-formed range; a negative min or max is not', () => {
    expect(checkViConstraints([{ ...RANGE, min: 0 }], pay(0)).satisfied).toBe(true);
    for (const c of [
      { ...RANGE, min: -1 },
      { ...RANGE, max: -1 },
    ]) {
      const r = checkViConstraints([c], pay(0));
      expect(r.violations.map((v) => [v.code, v.malformed])).toEqual([['CONSTRAINT_VIOLATED', true]]);
    }
  });
});

describe('budget and cumulative: the figures that become ledger limits', () => {
  it('a budget max must be positive: 0 (authority to spend nothing, or a limit read as none) is malformed', () => {
    expect(checkViConstraints([BUDGET], pay(1)).satisfied).toBe(true);
    expect(checkViConstraints([{ ...BUDGET, max: 1 }], pay(1)).satisfied).toBe(true);
    for (const max of [0, -1, 1.5, '100']) {
      const r = checkViConstraints([{ ...BUDGET, max }], pay(1));
      expect(r.violations.map((v) => [v.code, v.malformed])).toEqual([['CONSTRAINT_VIOLATED', true]]);
    }
  });

  it('a cumulative max_total of 0 is well formed (nothing may be spent); a negative one is not', () => {
    const cum = { type: 'mandate.payment.cumulative', currency: 'USD', period: 'MONTHLY' };
    expect(checkViConstraints([{ ...cum, max_total: 0 }], pay(1)).satisfied).toBe(true);
    expect(checkViConstraints([{ ...cum, max_total: -1 }], pay(1)).violations.map((v) => v.malformed)).toEqual([true]);
  });
});

describe('recurrences', () => {
  const agentRec = { type: 'mandate.payment.agent_recurrence', frequency: 'MNTH', start_date: '2026-03-01', end_date: '2026-03-31' };

  it('an agent recurrence needs an amount_range and a budget beside it (§4.7): without either the authority is unbounded', () => {
    expect(checkViConstraints([agentRec, RANGE, BUDGET], pay(1)).satisfied).toBe(true);
    for (const cs of [[agentRec], [agentRec, RANGE], [agentRec, BUDGET]]) {
      const r = checkViConstraints(cs, pay(1));
      expect(r.satisfied).toBe(false);
      expect(r.violations.every((v) => v.code === 'CONSTRAINT_VIOLATED' && v.malformed === true)).toBe(true);
    }
  });

  it('a payment is inside the period from the first to the last instant of its dates, inclusive', () => {
    const cs = [agentRec, RANGE, BUDGET];
    const at = (iso: string) => checkViConstraints(cs, pay(1), { now: day(iso) });
    expect(at('2026-03-01T00:00:00.000Z').satisfied).toBe(true);
    expect(at('2026-03-31T23:59:59.999Z').satisfied).toBe(true);
    expect(codes(at('2026-02-28T23:59:59.999Z'))).toEqual(['CONSTRAINT_VIOLATED']);
    expect(codes(at('2026-04-01T00:00:00.000Z'))).toEqual(['CONSTRAINT_VIOLATED']);
    // The calendar dates are days in the verifier's zone: in Paris, 1 March starts at 23:00 UTC on 28 February.
    expect(checkViConstraints(cs, pay(1), { now: day('2026-02-28T23:30:00Z'), timeZone: 'Europe/Paris' }).satisfied).toBe(true);
    expect(checkViConstraints(cs, pay(1), { now: day('2026-03-31T22:30:00Z'), timeZone: 'Europe/Paris' }).satisfied).toBe(false);
  });

  it('a subscription (recurrence) is set up until the end of its end_date, never after', () => {
    const rec = { type: 'mandate.payment.recurrence', frequency: 'MNTH', start_date: '2026-03-01', end_date: '2026-03-31' };
    expect(checkViConstraints([rec], pay(1), { now: day('2026-03-31T23:59:59.999Z') }).satisfied).toBe(true);
    expect(codes(checkViConstraints([rec], pay(1), { now: day('2026-04-01T00:00:00Z') }))).toEqual(['CONSTRAINT_VIOLATED']);
  });

  it('max_occurrences and number are positive integers when present', () => {
    const rec = { type: 'mandate.payment.recurrence', frequency: 'MNTH', start_date: '2026-03-01' };
    expect(checkViConstraints([{ ...agentRec, max_occurrences: 1 }, RANGE, BUDGET], pay(1)).satisfied).toBe(true);
    expect(checkViConstraints([{ ...rec, number: 1 }], pay(1)).satisfied).toBe(true);
    for (const n of [0, -1, 1.5, '3']) {
      expect(checkViConstraints([{ ...agentRec, max_occurrences: n }, RANGE, BUDGET], pay(1)).violations.map((v) => v.malformed)).toEqual([true]);
      expect(checkViConstraints([{ ...rec, number: n }], pay(1)).violations.map((v) => v.malformed)).toEqual([true]);
    }
  });

  it('the dates are in order: an end at the very instant of the start is a period; an end before it is malformed', () => {
    const rec = { type: 'mandate.payment.recurrence', frequency: 'MNTH', start_date: '2026-03-01T10:00:00Z' };
    expect(checkViConstraints([{ ...rec, end_date: '2026-03-01T10:00:00Z' }], pay(1)).satisfied).toBe(true);
    expect(checkViConstraints([{ ...rec, end_date: '2026-03-01T09:59:59Z' }], pay(1)).violations.map((v) => v.malformed)).toEqual([true]);
  });
});

describe('allow-lists: a list nobody can read allows nobody', () => {
  const payees = (allowed: unknown) => [{ type: 'mandate.payment.allowed_payees', allowed }];
  const f = { ...pay(1), payee: { id: 'p1', name: 'Shop', website: 'https://shop.example' } };

  it('an empty or missing list is malformed, never "any payee"', () => {
    for (const allowed of [[], undefined, 'p1', {}]) expect(codes(checkViConstraints(payees(allowed), f))).toEqual(['CONSTRAINT_VIOLATED']);
  });

  it('a list whose every entry was withheld (credential-format §9.2) refuses as COUNTERPARTY_NOT_ALLOWED; a list of unusable entries as CONSTRAINT_VIOLATED', () => {
    expect(codes(checkViConstraints(payees([{ '...': 'digest' }, { '...': 'digest2' }]), f))).toEqual(['COUNTERPARTY_NOT_ALLOWED']);
    expect(codes(checkViConstraints(payees([{ website: 'https://shop.example' }, 'p1', null]), f))).toEqual(['CONSTRAINT_VIOLATED']);
    // One readable entry beside withheld ones is checked as the list.
    expect(checkViConstraints(payees([{ '...': 'digest' }, { id: 'p1' }]), f).satisfied).toBe(true);
    expect(codes(checkViConstraints(payees([{ '...': 'digest' }, { id: 'p2' }]), f))).toEqual(['COUNTERPARTY_NOT_ALLOWED']);
  });
});

describe('line_items: quantities are positive integers', () => {
  const items = (quantity: unknown) => [{ type: 'mandate.checkout.line_items', items: [{ id: 'l1', acceptable_items: [{ id: 'sku1', title: 'A' }], quantity }] }];
  const checkout = (quantity: number) => ({ line_items: [{ id: 'sku1', quantity }] });

  it('an entry allowing 0, a negative, a fractional or a string quantity is refused as malformed, whatever the checkout holds', () => {
    expect(checkViConstraints(items(1), checkout(1)).satisfied).toBe(true);
    for (const q of [0, -1, 1.5, '2', undefined]) {
      for (const n of [0, 1]) {
        const r = checkViConstraints(items(q), checkout(n));
        expect(r.satisfied).toBe(false);
        expect(r.violations[0]).toMatchObject({ code: 'CONSTRAINT_VIOLATED', message: expect.stringMatching(/quantity must be a positive integer/) });
      }
    }
  });

  it('up to the cap is allowed, one more is not', () => {
    expect(checkViConstraints(items(2), checkout(2)).satisfied).toBe(true);
    expect(checkViConstraints(items(2), checkout(3)).satisfied).toBe(false);
  });
});
