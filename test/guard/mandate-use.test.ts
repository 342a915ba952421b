import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolver } from '../../src/did/index.js';
import { authorizeMandatePayment, guardMandatePayment, type MandatePaymentRequest } from '../../src/guard/transaction.js';
import { createVerifier, type Verifier } from '../../src/guard/verifier.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { tempDir } from '../helpers.js';
import { AP2_MERCHANT, viIntent, viPayment, viWorld, type ViWorld } from './chains.js';
import { ap2Checkout, ap2Open, ap2Pay, TW, viActionRaw, viOpen, type Ap2Open } from './mandate-build.js';

/**
 * How many times one mandate pays, and for whom, through the guard on a real
 * store: VI credential-format §8.3 (one L3 pair per mandate pair) and §5.7
 * rules 8-9, constraints.md §4.5-4.7; AP2 agent_recurrence ("reuse this
 * Payment Mandate multiple times"), transaction_id (one checkout), and
 * execution_date ("when absent indicates immediate execution").
 */
const AUD = 'https://psp.example';
// Real time: the replay cache keeps a used nonce until the proof is stale by the wall clock.
const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
const DAY = 86_400_000;
const at = (days: number) => new Date(NOW.getTime() + days * DAY);
const iso = (days: number) => at(days).toISOString();
const codes = (r: { reasons?: { code: string }[] }) => (r.reasons ?? []).map((x) => x.code);

let store: Store;
beforeAll(async () => {
  store = await openSqliteStore(join(tempDir('charter-mandate-use-'), 'guard.db'));
});
afterAll(async () => store.close());
const verifierOn = (s: Store = store): Verifier => createVerifier({ aud: AUD, store: s, resolver: createResolver(), http: false });

describe('one mandate, how many payments: VI', () => {
  let w: ViWorld;
  beforeAll(async () => {
    w = await viWorld(NOW);
  });
  const req = (verifier: Verifier, o: Partial<MandatePaymentRequest> = {}): MandatePaymentRequest => ({
    verifier,
    profile: 'verifiable-intent',
    trust: { issuers: [w.issuer.publicJwk] },
    now: NOW,
    ...o,
  });

  it('an intent with only a per-payment maximum pays once (credential-format §8.3): 10 payments, one accepted, the rest RATE_EXCEEDED on its #uses link', async () => {
    const v = verifierOn();
    const intent = await viIntent(w, NOW);
    const out = [];
    for (let i = 0; i < 10; i++) out.push(await authorizeMandatePayment(await viPayment(w, intent, { amount: '400', aud: AUD, now: NOW }), req(v)));
    expect(out.filter((r) => r.ok)).toHaveLength(1);
    for (const r of out.filter((x) => !x.ok)) {
      expect(r).toMatchObject({ status: 403 });
      expect(r.reasons.some((x) => x.code === 'RATE_EXCEEDED' && x.ref?.endsWith('#uses'))).toBe(true);
    }
    // a smaller amount, another nonce, a later time: still the same mandate pair
    expect(codes(await authorizeMandatePayment(await viPayment(w, intent, { amount: '1', aud: AUD, now: at(1) }), req(v, { now: at(1) })))).toContain('RATE_EXCEEDED');
  });

  it('20 concurrent payments under one single-use intent, on one SQLite store shared by two verifiers: exactly one is charged', async () => {
    const [a, b] = [verifierOn(), verifierOn()];
    const intent = await viIntent(w, NOW);
    const chains = await Promise.all(Array.from({ length: 20 }, () => viPayment(w, intent, { amount: '10', aud: AUD, now: NOW })));
    let ran = 0;
    const results = await Promise.all(chains.map((c, i) => guardMandatePayment(c, req(i % 2 ? a : b), () => ran++)));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    expect(ran).toBe(1);
    expect(results.filter((r) => !r.ok).every((r) => !r.ok && r.status === 403 && r.reasons.some((x) => x.code === 'RATE_EXCEEDED'))).toBe(true);
  });

  it('a payment that did not happen gives its use back: fn throws, the next payment under the mandate goes through', async () => {
    const v = verifierOn();
    const intent = await viIntent(w, NOW);
    await expect(
      guardMandatePayment(await viPayment(w, intent, { amount: '10', aud: AUD, now: NOW }), req(v), () => {
        throw new Error('declined');
      }),
    ).rejects.toThrow('declined');
    expect(await guardMandatePayment(await viPayment(w, intent, { amount: '10', aud: AUD, now: NOW }), req(v), () => 'ok')).toMatchObject({ ok: true });
    expect(codes(await authorizeMandatePayment(await viPayment(w, intent, { amount: '10', aud: AUD, now: NOW }), req(v)))).toContain('RATE_EXCEEDED');
  });

  it('a total over several payments (payment.budget, §4.5 "across all transactions") lets the mandate pay again until the total is spent', async () => {
    const v = verifierOn();
    const intent = await viIntent(w, NOW, { budget: { amount: '250', currency: 'USD' } });
    const pay = async () => authorizeMandatePayment(await viPayment(w, intent, { amount: '100', aud: AUD, now: NOW }), req(v));
    expect([(await pay()).ok, (await pay()).ok]).toEqual([true, true]);
    expect(codes(await pay())).toEqual(['BUDGET_EXCEEDED']);
  });

  it('agent_recurrence: payments only between start_date and end_date, max_occurrences over the whole period (it never refills)', async () => {
    const v = verifierOn();
    const rec = { type: 'mandate.payment.agent_recurrence', frequency: 'ON_DEMAND', start_date: iso(1).slice(0, 10), end_date: iso(30).slice(0, 10), max_occurrences: 2 };
    const intent = await viOpen(w, NOW, { budget: '5000', extra: [rec] });
    const pay = async (days: number) => {
      const when = at(days);
      return authorizeMandatePayment(await viActionRaw(w, intent, { aud: AUD, now: when, payee: TW, amountMinor: 1000 }), req(v, { now: when }));
    };
    expect(codes(await pay(0))).toEqual(['CONSTRAINT_VIOLATED']); // before start_date
    expect((await pay(2)).ok).toBe(true);
    expect((await pay(3)).ok).toBe(true);
    expect(codes(await pay(4))).toEqual(['RATE_EXCEEDED']);
    expect(codes(await pay(29))).toEqual(['RATE_EXCEEDED']); // a window as long as the period has passed since the first: no refill
    expect(codes(await pay(32))).toEqual(['CONSTRAINT_VIOLATED']); // after end_date
  });

  it('agent_recurrence frequency WEEK: one payment a calendar week; ON_DEMAND none', async () => {
    const v = verifierOn();
    const rec = { type: 'mandate.payment.agent_recurrence', frequency: 'WEEK', start_date: iso(-1).slice(0, 10), end_date: iso(40).slice(0, 10), max_occurrences: 10 };
    const intent = await viOpen(w, NOW, { budget: '5000', extra: [rec] });
    const pay = async (days: number) => {
      const when = at(days);
      return authorizeMandatePayment(await viActionRaw(w, intent, { aud: AUD, now: when, payee: TW, amountMinor: 1000 }), req(v, { now: when }));
    };
    expect((await pay(0)).ok).toBe(true);
    const again = await pay(0);
    expect(again.reasons.map((r) => [r.code, r.ref?.endsWith('#frequency')])).toEqual([['RATE_EXCEEDED', true]]);
    expect((await pay(8)).ok).toBe(true); // a week later: another calendar week
  });

  it.each([
    ['without payment.budget (constraints.md §4.7 step 5)', { frequency: 'ON_DEMAND', start_date: '2020-01-01', end_date: '2099-01-01' }, undefined],
    ['with an AP2-style frequency', { frequency: 'MONTHLY', start_date: '2020-01-01', end_date: '2099-01-01' }, '5000'],
    ['without dates', { frequency: 'ON_DEMAND', max_occurrences: 3 }, '5000'],
    ['with a date-time without a zone', { frequency: 'ON_DEMAND', start_date: '2020-01-01T00:00:00', end_date: '2099-01-01' }, '5000'],
    ['with end_date before start_date', { frequency: 'ON_DEMAND', start_date: '2099-01-01', end_date: '2020-01-01' }, '5000'],
    ['with a number for a date', { frequency: 'ON_DEMAND', start_date: 20200101, end_date: '2099-01-01' }, '5000'],
    ['with max_occurrences 0', { frequency: 'ON_DEMAND', start_date: '2020-01-01', end_date: '2099-01-01', max_occurrences: 0 }, '5000'],
  ])('an agent_recurrence %s is refused (CONSTRAINT_VIOLATED), never read as unbounded', async (_what, fields, budget) => {
    const intent = await viOpen(w, NOW, { ...(budget ? { budget } : {}), extra: [{ type: 'mandate.payment.agent_recurrence', ...fields }] });
    const d = await authorizeMandatePayment(await viActionRaw(w, intent, { aud: AUD, now: NOW, payee: TW, amountMinor: 1000 }), req(verifierOn()));
    expect(codes(d)).toEqual(['CONSTRAINT_VIOLATED']);
  });

  it('payment.recurrence (a subscription, §4.6) is set up once, and never after its end_date', async () => {
    const v = verifierOn();
    const sub = (end: string) => ({ type: 'mandate.payment.recurrence', frequency: 'MNTH', start_date: iso(0).slice(0, 10), end_date: end, number: 12 });
    const intent = await viOpen(w, NOW, { budget: '5000', extra: [sub(iso(365).slice(0, 10))] });
    const pay = async () => authorizeMandatePayment(await viActionRaw(w, intent, { aud: AUD, now: NOW, payee: TW, amountMinor: 1000 }), req(v));
    expect((await pay()).ok).toBe(true);
    expect(codes(await pay())).toEqual(['RATE_EXCEEDED']); // a budget does not turn a subscription set-up into many payments
    const over = await viOpen(w, NOW, { extra: [sub(iso(-2).slice(0, 10))] });
    expect(codes(await authorizeMandatePayment(await viActionRaw(w, over, { aud: AUD, now: NOW, payee: TW, amountMinor: 1000 }), req(v)))).toEqual(['CONSTRAINT_VIOLATED']);
  });
});

describe('whose payee: only identifiers the user bound (VI)', () => {
  let w: ViWorld;
  beforeAll(async () => {
    w = await viWorld(NOW);
  });
  const req = (o: Partial<MandatePaymentRequest> = {}): MandatePaymentRequest => ({
    verifier: verifierOn(),
    profile: 'verifiable-intent',
    trust: { issuers: [w.issuer.publicJwk] },
    now: NOW,
    ...o,
  });

  it('allowed by name and website: an id the agent adds is not the payee; the website is', async () => {
    const intent = await viOpen(w, NOW);
    const evil = { id: 'evil-merchant', ...TW };
    const chain = () => viActionRaw(w, intent, { aud: AUD, now: NOW, payee: evil, amountMinor: 30000 });
    expect(await authorizeMandatePayment(await chain(), req({ payee: 'evil-merchant' }))).toMatchObject({
      ok: false,
      status: 403,
      reasons: [{ code: 'COUNTERPARTY_NOT_ALLOWED' }],
    });
    expect(codes(await authorizeMandatePayment(await chain(), req({ payee: 'Tennis Warehouse' })))).toEqual(['COUNTERPARTY_NOT_ALLOWED']);
    expect((await authorizeMandatePayment(await chain(), req({ payee: TW.website }))).ok).toBe(true);
  });

  it('allowed by id: the id is the payee; a website beside it is the agent’s word', async () => {
    const mine = { id: 'tw-1', ...TW };
    const intent = await viOpen(w, NOW, { payees: [mine] });
    const elsewhere = { ...mine, website: 'https://evil.example' };
    const chain = () => viActionRaw(w, intent, { aud: AUD, now: NOW, payee: elsewhere, amountMinor: 100 });
    expect((await authorizeMandatePayment(await chain(), req({ payee: 'tw-1' }))).ok).toBe(true);
    expect(codes(await authorizeMandatePayment(await chain(), req({ payee: 'https://evil.example' })))).toEqual(['COUNTERPARTY_NOT_ALLOWED']);
  });

  it('a payee that matches no allowed entry is refused whatever the guard names', async () => {
    const intent = await viOpen(w, NOW);
    const other = { id: 'x', name: 'Babolat', website: 'https://babolat.com' };
    const d = await authorizeMandatePayment(await viActionRaw(w, intent, { aud: AUD, now: NOW, payee: other, amountMinor: 100 }), req({ payee: 'x' }));
    expect(codes(d)).toContain('COUNTERPARTY_NOT_ALLOWED');
  });
});

describe('one mandate, how many payments: AP2', () => {
  const req = (w: Ap2Open, verifier: Verifier, o: Partial<MandatePaymentRequest> = {}): MandatePaymentRequest => ({
    verifier,
    profile: 'ap2',
    trust: { issuers: [w.root.publicJwk] },
    now: NOW,
    ...o,
  });
  const base = (ref: string) => [
    { type: 'payment.reference', conditional_transaction_id: ref },
    { type: 'payment.amount_range', currency: 'USD', max: 20000 },
  ];
  const pay = async (w: Ap2Open, v: Verifier, closed: Record<string, unknown> = {}, when = NOW) => {
    const c = await ap2Checkout(w, when);
    return authorizeMandatePayment({ payment: await ap2Pay(w, c.hash, AUD, when, closed), checkout: c.checkout }, req(w, v, { now: when }));
  };

  it('an open payment mandate without agent_recurrence pays once, a budget notwithstanding (sequential and 20 concurrent)', async () => {
    const v = verifierOn();
    const w = await ap2Open(NOW, (r) => [...base(r), { type: 'payment.budget', max: 1000, currency: 'USD' }]);
    expect((await pay(w, v)).ok).toBe(true);
    expect(codes(await pay(w, v))).toContain('RATE_EXCEEDED');
    const w2 = await ap2Open(NOW, base);
    const all = await Promise.all(Array.from({ length: 20 }, async () => pay(w2, v)));
    expect(all.filter((r) => r.ok)).toHaveLength(1);
  });

  it('agent_recurrence max_occurrences 3: 10 concurrent payments, 3 charged; without max_occurrences the budget bounds them', async () => {
    const v = verifierOn();
    const rec = (extra: Record<string, unknown>) => (r: string) => [
      ...base(r),
      { type: 'payment.budget', max: 1000, currency: 'USD' },
      { type: 'payment.agent_recurrence', frequency: 'ON_DEMAND', ...extra },
    ];
    const w = await ap2Open(NOW, rec({ max_occurrences: 3 }));
    const all = await Promise.all(Array.from({ length: 10 }, async () => pay(w, v)));
    expect(all.filter((r) => r.ok)).toHaveLength(3);
    const open = await ap2Open(NOW, rec({}));
    const seq = [];
    for (let i = 0; i < 12; i++) seq.push(await pay(open, v));
    expect(seq.filter((r) => r.ok)).toHaveLength(10); // 10 x 100 USD = the 1,000 USD budget
    expect(codes(seq.at(-1)!)).toEqual(['BUDGET_EXCEEDED']);
  });

  it('agent_recurrence frequency MONTHLY: a second payment in the same calendar month waits for the next', async () => {
    const v = verifierOn();
    const w = await ap2Open(NOW, (r) => [
      ...base(r),
      { type: 'payment.budget', max: 1000, currency: 'USD' },
      { type: 'payment.agent_recurrence', frequency: 'MONTHLY', max_occurrences: 5 },
    ]);
    expect((await pay(w, v)).ok).toBe(true);
    expect(codes(await pay(w, v))).toEqual(['RATE_EXCEEDED']);
  });

  it('one checkout (transaction_id) is paid once, even under a mandate that may pay many times, on two verifiers sharing the store', async () => {
    const [a, b] = [verifierOn(), verifierOn()];
    const w = await ap2Open(NOW, (r) => [...base(r), { type: 'payment.budget', max: 1000, currency: 'USD' }, { type: 'payment.agent_recurrence', frequency: 'ON_DEMAND' }]);
    const c = await ap2Checkout(w, NOW);
    const chains = await Promise.all(Array.from({ length: 6 }, () => ap2Pay(w, c.hash, AUD, NOW)));
    const results = await Promise.all(chains.map((p, i) => authorizeMandatePayment({ payment: p, checkout: c.checkout }, req(w, i % 2 ? a : b))));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    for (const r of results.filter((x) => !x.ok)) expect(r.reasons.some((x) => x.code === 'RATE_EXCEEDED' && x.ref?.startsWith('urn:charter:checkout:ap2:'))).toBe(true);
    // another checkout under the same mandate: paid
    expect((await pay(w, a)).ok).toBe(true);
  });

  it('the payee is its id where the user restricted it; with no restriction, the id the agent chose', async () => {
    const v = verifierOn();
    const w = await ap2Open(NOW, (r) => [...base(r), { type: 'payment.allowed_payees', allowed: [AP2_MERCHANT] }]);
    const c = await ap2Checkout(w, NOW);
    const d = await authorizeMandatePayment({ payment: await ap2Pay(w, c.hash, AUD, NOW), checkout: c.checkout }, req(w, v, { payee: AP2_MERCHANT.website }));
    expect(codes(d)).toEqual(['COUNTERPARTY_NOT_ALLOWED']);
    const free = await ap2Open(NOW, base);
    const c2 = await ap2Checkout(free, NOW);
    expect((await authorizeMandatePayment({ payment: await ap2Pay(free, c2.hash, AUD, NOW), checkout: c2.checkout }, req(free, v, { payee: AP2_MERCHANT.id }))).ok).toBe(true);
  });
});

describe('AP2 payment.execution_date: now, and any date named, inside the window', () => {
  const req = (w: Ap2Open, o: Partial<MandatePaymentRequest> = {}): MandatePaymentRequest => ({
    verifier: verifierOn(),
    profile: 'ap2',
    trust: { issuers: [w.root.publicJwk] },
    now: NOW,
    ...o,
  });
  const world = (window: Record<string, unknown>) =>
    ap2Open(NOW, (r) => [
      { type: 'payment.reference', conditional_transaction_id: r },
      { type: 'payment.amount_range', currency: 'USD', max: 20000 },
      { type: 'payment.execution_date', ...window },
    ]);
  const pay = async (w: Ap2Open, closed: Record<string, unknown> = {}) => {
    const c = await ap2Checkout(w, NOW);
    return authorizeMandatePayment({ payment: await ap2Pay(w, c.hash, AUD, NOW, closed), checkout: c.checkout }, req(w));
  };

  it('a future window: refused with no execution_date (immediate), with one inside the window (charged now), with one today', async () => {
    const w = await world({ not_before: iso(30), not_after: iso(60) });
    expect(codes(await pay(w))).toEqual(['CONSTRAINT_VIOLATED']);
    expect(codes(await pay(w, { execution_date: iso(40) }))).toEqual(['CONSTRAINT_VIOLATED']);
    expect(codes(await pay(w, { execution_date: iso(40).slice(0, 10) }))).toEqual(['CONSTRAINT_VIOLATED']);
    expect(codes(await pay(w, { execution_date: iso(0) }))).toEqual(['CONSTRAINT_VIOLATED']);
  });

  it('a past window (only not_after): refused now', async () => {
    expect(codes(await pay(await world({ not_after: iso(-1) })))).toEqual(['CONSTRAINT_VIOLATED']);
  });

  it('a window holding now: accepted immediately or dated now / today; a date later than now is not executed now', async () => {
    // A fresh mandate each time: each pays once.
    const w = () => world({ not_before: iso(-1), not_after: iso(60) });
    expect(codes(await pay(await w()))).toEqual([]);
    expect(codes(await pay(await w(), { execution_date: NOW.toISOString() }))).toEqual([]);
    expect(codes(await pay(await w(), { execution_date: iso(0).slice(0, 10) }))).toEqual([]);
    expect(codes(await pay(await w(), { execution_date: iso(10) }))).toEqual(['CONSTRAINT_VIOLATED']);
  });

  it('a payment dated in the future is not executed now even without an execution_date constraint; a malformed date is refused', async () => {
    const w = await ap2Open(NOW, (r) => [
      { type: 'payment.reference', conditional_transaction_id: r },
      { type: 'payment.amount_range', currency: 'USD', max: 20000 },
    ]);
    expect(codes(await pay(w, { execution_date: iso(3) }))).toEqual(['CONSTRAINT_VIOLATED']);
    expect(codes(await pay(w, { execution_date: '2026-01-01T00:00:00' }))).toEqual(['INVALID_CREDENTIAL']);
    expect(codes(await pay(w, { execution_date: 1767225600 }))).toEqual(['INVALID_CREDENTIAL']);
    // Date.parse takes these (rolled over to the next day or month); RFC 3339 does not.
    for (const bad of ['2026-02-30T00:00:00Z', '2026-12-02T24:00:00Z', '2026-12-02T10:00:00+15:00', 'Dec 2 2026 10:00 UTC', '2026-12-02T10:00Z'])
      expect(codes(await pay(w, { execution_date: bad })), bad).toEqual(['INVALID_CREDENTIAL']);
  });

  it('window bounds must be dates with a zone: a zone-less or numeric bound is refused', async () => {
    expect(codes(await pay(await world({ not_before: '2020-01-01T00:00:00', not_after: iso(60) })))).toEqual(['CONSTRAINT_VIOLATED']);
    expect(codes(await pay(await world({ not_before: 0 })))).toEqual(['CONSTRAINT_VIOLATED']);
  });
});
