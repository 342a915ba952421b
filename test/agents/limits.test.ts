import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isCurrency } from '../../src/encoding/currency.js';
import { isCharterError } from '../../src/errors.js';
import {
  actionAllowed,
  actionCovers,
  actionMatches,
  checkRequest,
  isAction,
  isActionPattern,
  parseAuthority,
  parseBudget,
  parseMoney,
  parseRate,
  readAuthority,
  toMoney,
} from '../../src/agents/index.js';
import { assertAction } from '../../src/agents/actions.js';
import type { Authority } from '../../src/agents/index.js';

const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return isCharterError(e) ? e.code : 'not a CharterError';
  }
  return undefined;
};
const codes = (rs: { code: string }[]) => rs.map((r) => r.code).sort();

describe('CLI shorthands', () => {
  it('parses money with or without a space, upper-casing the currency', () => {
    expect(parseMoney('50USD')).toEqual({ amount: '50', currency: 'USD' });
    expect(parseMoney('49.99 usd')).toEqual({ amount: '49.99', currency: 'USD' });
    expect(toMoney('0.5 EUR')).toEqual({ amount: '0.5', currency: 'EUR' });
    expect(toMoney({ amount: '3', currency: 'GBP' })).toEqual({ amount: '3', currency: 'GBP' });
  });

  it.each(['50', 'USD', '-5 USD', '1e3 USD', '05 USD', '1.2.3 USD', '50 US', '50 USDT', ''])('refuses money %j', (s) => {
    expect(codeOf(() => parseMoney(s))).toBe('INVALID_ARGUMENT');
  });

  it('reads a number amount as the exact decimal it prints as, and refuses every number that is not one', () => {
    expect(toMoney({ amount: 49.99, currency: 'USD' })).toEqual({ amount: '49.99', currency: 'USD' });
    expect(toMoney({ amount: 0, currency: 'EUR' })).toEqual({ amount: '0', currency: 'EUR' });
    for (const n of [NaN, Infinity, -Infinity, -1, -0.01, 1e21, 1e-7, 0.1 + 0.2 - 0.3, Number.MAX_VALUE]) {
      expect(codeOf(() => toMoney({ amount: n, currency: 'USD' }))).toBe('INVALID_ARGUMENT');
    }
  });

  it('property: any amount shape either reads as a non-negative decimal in an ISO 4217 currency, or is INVALID_ARGUMENT', () => {
    const shape = fc.oneof(
      fc.string(),
      fc.double(),
      fc.constantFrom(
        '49.99 USD',
        '1e3 USD',
        '0x10 USD',
        '-5 USD',
        ' 5 usd ',
        '5 US',
        '5 ABC',
        '5USD ',
        '５ USD',
        '5.USD',
        '.5 USD',
        '5,00 EUR',
        '5 EUR EUR',
        'NaN USD',
        'Infinity USD',
      ),
      fc.record({
        amount: fc.oneof(fc.string(), fc.double(), fc.constant(undefined), fc.constant(null), fc.array(fc.nat())),
        currency: fc.oneof(fc.constantFrom('USD', 'usd', 'EUR', 'XXX', 'ABC', 'US', ''), fc.string()),
      }),
      fc.anything(),
    );
    fc.assert(
      fc.property(shape, (v) => {
        let m: { amount: string; currency: string } | undefined;
        try {
          m = toMoney(v as never);
        } catch (e) {
          expect(isCharterError(e, 'INVALID_ARGUMENT')).toBe(true);
          return;
        }
        expect(m.amount).toMatch(/^(0|[1-9]\d*)(\.\d+)?$/);
        expect(isCurrency(m.currency)).toBe(true);
      }),
      { numRuns: 2000 },
    );
  });

  it('accepts only ISO 4217 currencies, and periods of at most 10 years', () => {
    expect(codeOf(() => parseMoney('5 ABC'))).toBe('INVALID_ARGUMENT');
    expect(parseMoney('5 jpy')).toEqual({ amount: '5', currency: 'JPY' });
    expect(parseBudget('5 USD/P10Y').period).toBe('P10Y');
    for (const p of ['P11Y', 'P3651D', 'P600M', 'P99999999D']) expect(codeOf(() => parseBudget(`5 USD/${p}`))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => parseRate('5/P11Y'))).toBe('INVALID_ARGUMENT');
  });

  it('parses budgets and rates', () => {
    expect(parseBudget('500USD/P30D')).toEqual({ amount: '500', currency: 'USD', period: 'P30D' });
    expect(parseBudget('12.5 EUR/PT12H')).toEqual({ amount: '12.5', currency: 'EUR', period: 'PT12H' });
    expect(parseRate('10/PT1H')).toEqual({ count: 10, period: 'PT1H' });
  });

  it.each(['500USD', '500USD/30d', '500USD/P0D', '/P30D'])('refuses budget %j', (s) => {
    expect(codeOf(() => parseBudget(s))).toBe('INVALID_ARGUMENT');
  });

  it.each(['10', '0/PT1H', '-1/PT1H', '1.5/PT1H', '10/1h', 'x/PT1H'])('refuses rate %j', (s) => {
    expect(codeOf(() => parseRate(s))).toBe('INVALID_ARGUMENT');
  });
});

describe('actions', () => {
  it('matches exact names and trailing-* prefixes', () => {
    expect(actionMatches('payments:card', 'payments:card')).toBe(true);
    expect(actionMatches('payments:*', 'payments:card')).toBe(true);
    expect(actionMatches('*', 'anything')).toBe(true);
    expect(actionMatches('payments:card', 'payments:cards')).toBe(false);
    expect(actionMatches('payments:*', 'refunds:card')).toBe(false);
  });

  it('a pattern covers only what it allows', () => {
    expect(actionCovers('payments:*', 'payments:card')).toBe(true);
    expect(actionCovers('payments:*', 'payments:c*')).toBe(true);
    expect(actionCovers('*', 'payments:*')).toBe(true);
    expect(actionCovers('payments:card', 'payments:*')).toBe(false);
    expect(actionCovers('payments:c*', 'payments:*')).toBe(false);
  });

  it('a prefix pattern matches at the start only: its prefix inside or at the end of an action never matches', () => {
    for (const action of ['refunds:payments:card', 'xpayments:card', 'admin.payments:', 'a:payments:']) {
      expect(actionMatches('payments:*', action)).toBe(false);
      expect(actionAllowed(['payments:*'], action)).toBe(false);
      expect(actionCovers('payments:*', action)).toBe(false);
      expect(actionCovers('payments:*', `${action}*`)).toBe(false);
    }
    // The parent's prefix ends inside the child's name: still a prefix, so covered.
    expect(actionCovers('pay*', 'payments:card')).toBe(true);
    expect(actionMatches('pay*', 'payments:card')).toBe(true);
  });

  it('a requested action is concrete: a wildcard in it is no action name (isAction), though a mandate may list one (isActionPattern)', () => {
    for (const wild of ['*', 'payments:*', 'pay*ments', '**', 'payments:card*']) {
      expect(isAction(wild)).toBe(false);
      expect(codeOf(() => assertAction(wild))).toBe('INVALID_ARGUMENT');
    }
    expect(isAction('payments:card')).toBe(true);
    expect(isActionPattern('payments:*')).toBe(true);
    for (const bad of ['', ' payments:card', 'payments card', 'a'.repeat(65), 42, null, ['payments:card']]) expect(isAction(bad)).toBe(false);
    expect(isAction('a'.repeat(64))).toBe(true);
  });
});

describe('parseAuthority', () => {
  const base = { actions: ['payments:card'], maxDelegationDepth: 1 };

  it('reads a full authority', () => {
    const a = {
      ...base,
      limits: {
        perTransaction: { amount: '50', currency: 'USD' },
        budget: { amount: '500', currency: 'USD', period: 'P30D' },
        counterparties: ['did:web:shop.example'],
        rate: { count: 10, period: 'PT1H' },
      },
      parent: { id: 'urn:uuid:1', digest: 'sha256-' + 'A'.repeat(43) },
    };
    expect(parseAuthority(a)).toEqual(a);
  });

  it.each([
    [{ ...base, spendCap: 1 }, 'authority.spendCap'],
    [{ ...base, limits: { geofence: 'EU' } }, 'authority.limits.geofence'],
    [{ ...base, limits: { budget: { amount: '1', currency: 'USD', period: 'P1D', resetAt: 'midnight' } } }, 'authority.limits.budget.resetAt'],
    [{ ...base, limits: { rate: { count: 1, period: 'P1D', burst: 1 } } }, 'authority.limits.rate.burst'],
    [{ ...base, parent: { id: 'x', digest: 'sha256-' + 'A'.repeat(43), alg: 'x' } }, 'authority.parent.alg'],
  ])('refuses a field it does not understand with UNKNOWN_CONSTRAINT (%#)', (a, field) => {
    let err: unknown;
    try {
      parseAuthority(a);
    } catch (e) {
      err = e;
    }
    expect(isCharterError(err, 'UNKNOWN_CONSTRAINT')).toBe(true);
    expect((err as { details: { fields: string[] } }).details.fields).toEqual([field]);
    expect(readAuthority(a).reasons.map((r) => r.code)).toEqual(['UNKNOWN_CONSTRAINT']);
  });

  it('takes every value up to each bound: a rate of 1 and of 1,000,000,000, 256 counterparties, depth 16', () => {
    for (const count of [1, 1_000_000_000]) expect(parseAuthority({ ...base, limits: { rate: { count, period: 'P1D' } } }).limits?.rate?.count).toBe(count);
    const many = Array.from({ length: 256 }, (_, i) => `did:web:s${i}.example`);
    expect(parseAuthority({ ...base, limits: { counterparties: many } }).limits?.counterparties).toEqual(many);
    expect(parseAuthority({ ...base, maxDelegationDepth: 16 }).maxDelegationDepth).toBe(16);
    expect(parseRate('1/PT1H')).toEqual({ count: 1, period: 'PT1H' });
    const actions = Array.from({ length: 64 }, (_, i) => `a${i}`);
    expect(parseAuthority({ ...base, actions }).actions).toEqual(actions);
    expect(codeOf(() => parseAuthority({ ...base, actions: [...actions, 'a64'] }))).toBe('INVALID_ARGUMENT');
    const digest = 'sha256-' + 'A'.repeat(43);
    expect(parseAuthority({ ...base, parent: { id: 'x'.repeat(512), digest } }).parent?.id).toHaveLength(512);
    expect(codeOf(() => parseAuthority({ ...base, parent: { id: 'x'.repeat(513), digest } }))).toBe('INVALID_ARGUMENT');
    expect(codeOf(() => parseAuthority({ ...base, parent: { id: '', digest } }))).toBe('INVALID_ARGUMENT');
  });

  it.each([
    [{ actions: [], maxDelegationDepth: 0 }],
    [{ actions: ['pay*ments'], maxDelegationDepth: 0 }],
    [{ actions: ['a', 'a'], maxDelegationDepth: 0 }],
    [{ actions: ['a'], maxDelegationDepth: -1 }],
    [{ actions: ['a'], maxDelegationDepth: 17 }],
    [{ actions: ['a'], maxDelegationDepth: 1.5 }],
    [{ actions: ['a'] }],
    [{ ...base, limits: { perTransaction: { amount: 50, currency: 'USD' } } }],
    [{ ...base, limits: { perTransaction: { amount: '50', currency: 'usd' } } }],
    [{ ...base, limits: { budget: { amount: '50', currency: 'USD', period: '30 days' } } }],
    [{ ...base, limits: { rate: { count: 0, period: 'P1D' } } }],
    [{ ...base, limits: { rate: { count: 1.5, period: 'P1D' } } }],
    [{ ...base, limits: { rate: { count: Number.NaN, period: 'P1D' } } }],
    [{ ...base, limits: { rate: { count: Infinity, period: 'P1D' } } }],
    [{ ...base, limits: { rate: { count: '10', period: 'P1D' } } }],
    [{ ...base, limits: { rate: { count: 1_000_000_001, period: 'P1D' } } }],
    [{ ...base, limits: { counterparties: 'did:web:shop.example' } }],
    [{ ...base, limits: { counterparties: { length: 1, 0: 'did:web:shop.example' } } }],
    [{ ...base, limits: { counterparties: ['did:web:shop.example', 'did:web:shop.example'] } }],
    [{ ...base, limits: { counterparties: Array.from({ length: 257 }, (_, i) => `did:web:s${i}.example`) } }],
    [{ ...base, limits: { counterparties: ['https://shop.example'] } }],
    [{ ...base, parent: { id: 'x', digest: 'md5-abc' } }],
    [{ ...base, parent: null }],
    [{ ...base, parent: 'urn:uuid:1' }],
    [{ ...base, parent: { id: 1, digest: 'sha256-' + 'A'.repeat(43) } }],
    [{ ...base, limits: null }],
    [{ ...base, limits: { rate: null } }],
    [{ ...base, limits: { perTransaction: null } }],
    [null],
  ])('refuses a malformed authority with INVALID_ARGUMENT (%#)', (a) => {
    expect(codeOf(() => parseAuthority(a))).toBe('INVALID_ARGUMENT');
    expect(readAuthority(a).reasons.map((r) => r.code)).toEqual(['INVALID_CREDENTIAL']);
  });
});

describe('checkRequest (one link, stateless)', () => {
  const a: Authority = {
    actions: ['payments:*'],
    maxDelegationDepth: 0,
    limits: {
      perTransaction: { amount: '50', currency: 'USD' },
      budget: { amount: '40', currency: 'USD', period: 'P1D' },
      counterparties: ['did:web:shop.example'],
    },
  };
  const ok = { action: 'payments:card', counterparty: 'did:web:shop.example' };
  const paid = { ...ok, amount: { amount: '1', currency: 'USD' } };

  it('accepts a request within every limit, amounts compared exactly', () => {
    expect(checkRequest(a, { ...ok, amount: { amount: '40', currency: 'USD' } })).toEqual([]);
    expect(checkRequest(a, { ...ok, amount: { amount: '39.999999999999999999', currency: 'USD' } })).toEqual([]);
    expect(checkRequest({ ...a, limits: { counterparties: ['did:web:shop.example'] } }, ok)).toEqual([]);
  });

  it('AMOUNT_REQUIRED: a link limiting money refuses a request that names no amount', () => {
    expect(codes(checkRequest(a, ok))).toEqual(['AMOUNT_REQUIRED']);
    expect(codes(checkRequest({ ...a, limits: { perTransaction: { amount: '50', currency: 'USD' } } }, ok))).toEqual(['AMOUNT_REQUIRED']);
    expect(codes(checkRequest({ ...a, limits: { budget: { amount: '50', currency: 'USD', period: 'P1D' } } }, ok))).toEqual(['AMOUNT_REQUIRED']);
    expect(codes(checkRequest({ ...a, limits: { rate: { count: 1, period: 'P1D' } } }, ok))).toEqual([]);
    expect(codes(checkRequest({ ...a, limits: { perTransaction: { amount: '50', currency: 'USD' } } }, { ...ok, amount: { amount: '0', currency: 'USD' } }))).toEqual([]);
  });

  it('refuses each violation with its code', () => {
    expect(codes(checkRequest(a, { ...paid, action: 'refunds:card' }))).toEqual(['ACTION_NOT_ALLOWED']);
    expect(codes(checkRequest({ ...a, limits: { perTransaction: { amount: '50', currency: 'USD' } } }, { ...ok, amount: { amount: '50.01', currency: 'USD' } }))).toEqual([
      'AUTHORITY_EXCEEDED',
    ]);
    expect(codes(checkRequest(a, { ...ok, amount: { amount: '45', currency: 'USD' } }))).toEqual(['BUDGET_EXCEEDED']);
    expect(codes(checkRequest(a, { ...ok, amount: { amount: '1', currency: 'EUR' } }))).toEqual(['CURRENCY_MISMATCH', 'CURRENCY_MISMATCH']);
    expect(codes(checkRequest(a, { ...paid, counterparty: 'did:web:other.example' }))).toEqual(['COUNTERPARTY_NOT_ALLOWED']);
    expect(codes(checkRequest(a, { action: 'payments:card', amount: { amount: '1', currency: 'USD' } }))).toEqual(['COUNTERPARTY_NOT_ALLOWED']);
  });
});
