import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseDecimal } from '../../src/encoding/decimal.js';
import {
  checkNarrowing,
  delegateMandate,
  issueMandate,
  ledgerWindow,
  parseAuthority,
  parseBudget,
  reserveSpend,
  verifyAgent,
  type Authority,
  type Budget,
  type CalendarPeriod,
} from '../../src/agents/index.js';
import { windowSince } from '../../src/store/window.js';
import { createAgentPresentation } from '../../src/agents/index.js';
import { defaultSchemaChecker } from '../../src/credentials/schemas.js';
import { budgetPeriod, UNITS, ZONES } from './arbitraries.js';
import { days } from './setup.js';
import { openWorld, type World } from './fixture.js';

/** Calendar budget periods on Charter's own mandates: parsing, fail-closed shape, narrowing, the ledger. */

const root = (budget: Budget): Authority => ({ actions: ['pay'], maxDelegationDepth: 1, limits: { budget } });
const child = (budget: Budget): Authority => ({ actions: ['pay'], maxDelegationDepth: 0, limits: { budget } });
const paris = (calendar: CalendarPeriod['calendar']): CalendarPeriod => ({ calendar, timeZone: 'Europe/Paris' });
const eur = (amount: string, period: Budget['period']): Budget => ({ amount, currency: 'EUR', period });
const dims = (a: Authority, b: Authority) => checkNarrowing(a, b).map((r) => [r.code, r.dimension]);

describe('calendar budget periods: reading them', () => {
  it('parseBudget reads a rolling duration or unit@zone; a bare unit must name its zone', () => {
    expect(parseBudget('500USD/P30D')).toEqual({ amount: '500', currency: 'USD', period: 'P30D' });
    expect(parseBudget('500 eur/month@Europe/Paris')).toEqual({ amount: '500', currency: 'EUR', period: { calendar: 'month', timeZone: 'Europe/Paris' } });
    expect(parseBudget('20USD/Day@UTC')).toEqual({ amount: '20', currency: 'USD', period: { calendar: 'day', timeZone: 'UTC' } });
    for (const bad of ['500USD/month', '500USD/fortnight@UTC', '500USD/month@Mars/Olympus', '500USD/month@', '500USD']) {
      expect(() => parseBudget(bad), bad).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });

  it('a mandate accepts { calendar, timeZone }; an unknown field in it fails closed (UNKNOWN_CONSTRAINT)', () => {
    const a = { actions: ['pay'], maxDelegationDepth: 0, limits: { budget: { amount: '5', currency: 'EUR', period: { calendar: 'week', timeZone: 'Asia/Kolkata' } } } };
    expect(parseAuthority(a).limits?.budget?.period).toEqual({ calendar: 'week', timeZone: 'Asia/Kolkata' });
    const withStart = { ...a, limits: { budget: { ...a.limits.budget, period: { ...a.limits.budget.period, startDay: 15 } } } };
    expect(() => parseAuthority(withStart)).toThrow(expect.objectContaining({ code: 'UNKNOWN_CONSTRAINT', details: { fields: ['authority.limits.budget.period.startDay'] } }));
    for (const period of [{ calendar: 'fortnight', timeZone: 'UTC' }, { calendar: 'month' }, { calendar: 'month', timeZone: 'Nowhere/City' }, 42]) {
      expect(() => parseAuthority({ ...a, limits: { budget: { ...a.limits.budget, period } } })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });

  it('the AgentAuthorityCredential schema takes either period form', () => {
    const cred = (period: unknown) => ({
      '@context': ['https://www.w3.org/ns/credentials/v2'],
      type: ['VerifiableCredential', 'AgentAuthorityCredential'],
      issuer: 'did:web:p.example',
      credentialSchema: { id: 'https://charter.dev/schemas/AgentAuthorityCredential.json', type: 'JsonSchema' },
      credentialSubject: { id: 'did:web:a.example', authority: { actions: ['pay'], maxDelegationDepth: 0, limits: { budget: { amount: '5', currency: 'EUR', period } } } },
    });
    expect(defaultSchemaChecker()(cred('P30D') as never)).toEqual([]);
    expect(defaultSchemaChecker()(cred({ calendar: 'month', timeZone: 'Europe/Paris' }) as never)).toEqual([]);
    expect(defaultSchemaChecker()(cred({ calendar: 'decade', timeZone: 'UTC' }) as never).map((r) => r.code)).toEqual(['SCHEMA_INVALID']);
    expect(defaultSchemaChecker()(cred(30) as never).map((r) => r.code)).toEqual(['SCHEMA_INVALID']);
  });
});

describe('calendar budget periods: delegation only narrows', () => {
  it.each<[string, Budget, Budget]>([
    ['the same period', eur('100', paris('month')), eur('100', paris('month'))],
    ['a month under a day (a day lies in one month)', eur('100', paris('day')), eur('50', paris('month'))],
    ['a year under a month', eur('100', paris('month')), eur('100', paris('year'))],
    ['a week under a day', eur('100', paris('day')), eur('100', paris('week'))],
    ['the zone written in another case', eur('100', paris('month')), eur('100', { calendar: 'month', timeZone: 'europe/paris' })],
  ])('accepts %s', (_, p, c) => {
    expect(dims(root(p), child(c))).toEqual([]);
  });

  it.each<[string, Budget, Budget]>([
    ['a shorter unit (100 a day allows 3,000 a month)', eur('100', paris('month')), eur('100', paris('day'))],
    ['a month under a week (a week straddles two months)', eur('100', paris('week')), eur('100', paris('month'))],
    ['a year under a week (ISO weeks straddle years)', eur('100', paris('week')), eur('100', paris('year'))],
    ['another time zone', eur('100', paris('month')), eur('100', { calendar: 'month', timeZone: 'Asia/Tokyo' })],
    ['a calendar child under a rolling parent', eur('500', 'P30D'), eur('500', paris('month'))],
    ['a rolling child under a calendar parent, however long', eur('500', paris('month')), eur('500', 'P3650D')],
    ['a higher amount', eur('100', paris('month')), eur('100.01', paris('month'))],
    ['another currency', eur('100', paris('month')), { amount: '1', currency: 'USD', period: paris('month') }],
  ])('refuses %s (AUTHORITY_WIDENED on budget)', (_, p, c) => {
    expect(dims(root(p), child(c))).toEqual([['AUTHORITY_WIDENED', 'budget']]);
  });

  /** Whether the ledger admits every spend of `seq` (absolute ms) under one budget (the ledger's own window function). */
  const admits = (b: Budget, seq: { at: number; amount: bigint }[]) =>
    seq.every((s, i) => {
      const since = windowSince(s.at, ledgerWindow(b.period));
      return (
        seq
          .slice(0, i + 1)
          .filter((x) => x.at > since)
          .reduce((a, x) => a + x.amount, 0n) <= parseDecimal(b.amount)
      );
    });
  /**
   * Sequences start a little before a boundary where windows disagree: a month end that falls
   * mid-week (and at other instants in Paris, Tokyo, New York and Kolkata), Europe's spring DST
   * change, a year end, a Sunday night; gaps are hours, days or weeks.
   */
  const STARTS = ['2026-03-31T06:00:00Z', '2026-03-28T18:00:00Z', '2026-12-31T08:00:00Z', '2026-04-05T15:00:00Z', '2026-02-27T20:00:00Z'].map(Date.parse);

  /** A child period next to the parent's (same zone other unit, same unit other zone), or any. */
  const near = (p: string | CalendarPeriod): fc.Arbitrary<string | CalendarPeriod> =>
    typeof p === 'string'
      ? budgetPeriod
      : fc.oneof(
          fc.constantFrom(...UNITS).map((calendar) => ({ calendar, timeZone: p.timeZone })),
          fc.constantFrom(...ZONES).map((timeZone) => ({ calendar: p.calendar, timeZone })),
          budgetPeriod,
        );

  it('property: a delegated budget (rolling or calendar, any zone) never lets the child spend what its parent would refuse', () => {
    const gap = fc.oneof(
      fc.integer({ min: 0, max: 4 * 3600 }),
      fc.integer({ min: 0, max: 30 * 3600 }),
      fc.integer({ min: 0, max: 12 * 86400 }),
      fc.integer({ min: 0, max: 45 * 86400 }),
    );
    const world = fc
      .record({ pa: fc.integer({ min: 1, max: 10 }), pp: budgetPeriod })
      .chain(({ pa, pp }) => fc.record({ pa: fc.constant(pa), pp: fc.constant(pp), ca: fc.oneof(fc.constant(pa), fc.integer({ min: 1, max: pa })), cp: near(pp) }))
      .chain((b) =>
        fc.record({
          b: fc.constant(b),
          start: fc.constantFrom(...STARTS),
          spends: fc.array(fc.record({ dt: gap, amount: fc.oneof(fc.constant(b.ca), fc.integer({ min: 1, max: 10 })) }), { minLength: 2, maxLength: 8 }),
        }),
      );
    let narrowings = 0;
    fc.assert(
      fc.property(world, ({ b, start, spends }) => {
        const p = eur(String(b.pa), b.pp);
        const c = eur(String(b.ca), b.cp);
        if (checkNarrowing(root(p), child(c)).length > 0) return;
        narrowings++;
        let at = start;
        const seq = spends.map((s, i) => ({ at: (at += i === 0 ? 0 : s.dt * 1000), amount: parseDecimal(String(s.amount)) }));
        if (admits(c, seq)) expect(admits(p, seq)).toBe(true);
      }),
      { numRuns: 8000 },
    );
    expect(narrowings).toBeGreaterThan(500); // the property is not vacuous
  });
});

describe('calendar budget periods: the ledger', () => {
  let w: World;
  beforeAll(async () => {
    w = await openWorld();
  });
  afterAll(async () => w.close());

  it('a mandate budgeted per calendar month in Paris starts over at local midnight on the 1st (not at UTC midnight), on every link', async () => {
    const principal = w.issuer('cal-principal');
    const [agent, sub] = [w.issuer('cal-agent'), w.issuer('cal-sub')];
    const top = await issueMandate(w.store, principal, { agent: agent.did, authority: root(eur('100', paris('month'))), validUntil: days(60), baseUrl: w.baseUrl });
    const low = await delegateMandate(w.store, agent, { parentJwt: top.jwt, to: sub.did, authority: child(eur('80', paris('year'))), validUntil: days(30), baseUrl: w.baseUrl });
    const decide = async (amount: string) =>
      verifyAgent(await createAgentPresentation({ agent: sub, chain: [top.jwt, low.jwt], aud: 'did:web:shop.example', nonce: 'n' }), {
        resolver: w.resolver,
        status: w.status(),
        aud: 'did:web:shop.example',
        nonce: 'n',
        action: 'pay',
        amount,
        trust: { principals: [principal.did], requireIdentity: false },
      });
    const d = await decide('60 EUR');
    expect(d.reasons).toEqual([]);
    expect(d.cumulativeLimits).toBe(true);
    // 23:30 in Paris on 31 March 2026 (UTC+2 since the 29th): March
    expect(await reserveSpend(w.store, d, { now: new Date('2026-03-31T21:30:00Z') })).toMatchObject({ ok: true, remaining: { budget: { amount: '20', currency: 'EUR' } } });
    // 00:30 on 1 April in Paris, still 31 March in UTC: the parent's month is new, the child's year is not (80 - 60 < 30)
    const april = await reserveSpend(w.store, await decide('30 EUR'), { now: new Date('2026-03-31T22:30:00Z') });
    expect(april).toMatchObject({ ok: false, reasons: [{ code: 'BUDGET_EXCEEDED', ref: low.id }] });
    // within both: the parent's April is empty, the child's year has 20 left
    expect(await reserveSpend(w.store, await decide('20 EUR'), { now: new Date('2026-03-31T22:30:00Z') })).toMatchObject({
      ok: true,
      remaining: { budget: { amount: '0', currency: 'EUR' } },
    });
  });
});
