import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { minorUnits } from '../../src/encoding/currency.js';
import { isCharterError } from '../../src/errors.js';
import {
  createAgentPresentation,
  delegateMandate,
  issueAgentIdentity,
  issueMandate,
  parseAuthority,
  parseBudget,
  parseMoney,
  readAuthority,
  toMoney,
  validateBudget,
  validateLimits,
  validateMoney,
  verifyAgent,
  type Authority,
} from '../../src/agents/index.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { guardTransaction } from '../../src/guard/transaction.js';
import { openWorld, type World } from './fixture.js';
import { AUD, buildChain, days, signLink } from './setup.js';

/**
 * No amount is finer than its currency's ISO 4217 minor unit: nobody can
 * pay 0.4 JPY, so counting it exactly against a budget would let what the
 * merchants charge (each rounded up) run past it (250 x 0.4 JPY "is" 100 JPY,
 * but costs 250 JPY). Refused in limits (at issuance, on delegation, in a
 * stored mandate) and in requests; trailing zeros are not finer ("10.00 JPY").
 */

const errorOf = (f: () => unknown): { code: string; message: string; details?: Record<string, unknown> } | undefined => {
  try {
    f();
  } catch (e) {
    if (!isCharterError(e)) throw e;
    return { code: e.code, message: e.message, ...(e.details ? { details: e.details } : {}) };
  }
  return undefined;
};

/** [currency, decimals, finest accepted amount, one digit finer, the same with trailing zeros]. */
const CASES: [string, number, string, string, string][] = [
  ['JPY', 0, '1', '0.5', '10.000'],
  ['KRW', 0, '7', '7.1', '7.0'],
  ['USD', 2, '0.01', '0.001', '0.0100000'],
  ['EUR', 2, '49.99', '49.995', '49.990'],
  ['BHD', 3, '0.001', '0.0004', '0.0010'],
  ['KWD', 3, '1.234', '1.2345', '1.234000'],
  ['CLF', 4, '0.0001', '0.00001', '0.00010'],
];

describe('amounts are no finer than the currency minor unit', () => {
  it('the minor units this relies on (ISO 4217)', () => {
    expect(CASES.map(([c]) => minorUnits(c))).toEqual(CASES.map(([, d]) => d));
    // No minor unit in ISO 4217 ("N.A."): Charter's full scale.
    for (const c of ['XAU', 'XAG', 'XDR', 'XTS', 'XXX']) expect(minorUnits(c)).toBe(18);
  });

  it.each(CASES)('%s (%i decimals): accepts %j and trailing zeros, refuses %j naming the decimals', (currency, decimals, finest, finer, zeros) => {
    for (const amount of [finest, zeros, '0', '100']) {
      expect(parseMoney(`${amount} ${currency}`)).toEqual({ amount, currency });
      expect(parseMoney(`${amount}${currency.toLowerCase()}`)).toEqual({ amount, currency });
      expect(toMoney(`${amount} ${currency}`)).toEqual({ amount, currency });
      expect(toMoney({ amount, currency })).toEqual({ amount, currency });
      expect(validateMoney({ amount, currency })).toEqual({ amount, currency });
      expect(parseBudget(`${amount}${currency}/P1D`)).toEqual({ amount, currency, period: 'P1D' });
      expect(validateBudget({ amount, currency, period: 'P30D' })).toEqual({ amount, currency, period: 'P30D' });
    }
    const named = decimals === 0 ? `${currency} has no decimals` : `${currency} has ${decimals} decimals`;
    for (const f of [
      () => parseMoney(`${finer} ${currency}`),
      () => parseMoney(`${finer}${currency}`),
      () => toMoney(`${finer} ${currency}`),
      () => toMoney({ amount: finer, currency }),
      () => toMoney({ amount: Number(finer), currency }),
      () => validateMoney({ amount: finer, currency }),
      () => parseBudget(`${finer}${currency}/P1D`),
      () => parseBudget(`${finer}${currency}/month@Europe/Paris`),
      () => validateBudget({ amount: finer, currency, period: 'P1D' }),
      () => validateLimits({ perTransaction: { amount: finer, currency } }),
      () => validateLimits({ budget: { amount: finer, currency, period: 'P1D' } }),
    ]) {
      const e = errorOf(f);
      expect(e?.code).toBe('INVALID_ARGUMENT');
      expect(e?.message).toContain(named);
      expect(e?.message).toContain('ISO 4217 minor unit');
      expect(e?.details).toMatchObject({ currency, minorUnits: decimals });
    }
    expect(errorOf(() => validateLimits({ budget: { amount: finer, currency, period: 'P1D' } }))?.details).toMatchObject({ field: 'authority.limits.budget.amount' });
  });

  it('the probe amounts are refused: 0.4 JPY, 0.0049 USD, 0.0004 BHD, a 0.5 JPY limit, a 0.0001 BHD/P1D budget', () => {
    for (const s of ['0.4 JPY', '0.0049 USD', '0.0004 BHD']) expect(errorOf(() => toMoney(s))?.code).toBe('INVALID_ARGUMENT');
    expect(errorOf(() => parseMoney('0.5JPY'))?.message).toBe(
      '"0.5 JPY" is finer than JPY allows: JPY has no decimals (its ISO 4217 minor unit): nobody can pay a fraction of 1 JPY',
    );
    expect(errorOf(() => parseBudget('0.0001BHD/P1D'))?.message).toBe(
      '"0.0001 BHD" is finer than BHD allows: BHD has 3 decimals (its ISO 4217 minor unit): nobody can pay a fraction of 0.001 BHD',
    );
  });

  it('codes without a minor unit keep the full decimal scale', () => {
    for (const c of ['XAU', 'XDR', 'XTS', 'XXX']) {
      expect(toMoney(`0.000000000000000001 ${c}`)).toEqual({ amount: '0.000000000000000001', currency: c });
      expect(validateBudget({ amount: '0.123456789', currency: c, period: 'P1D' }).amount).toBe('0.123456789');
    }
  });

  it('parseMoney { accrual: true } keeps the full scale (a rate that accrues before anything is paid)', () => {
    expect(parseMoney('0.001EUR', { accrual: true })).toEqual({ amount: '0.001', currency: 'EUR' });
    expect(parseMoney('0.5 JPY', { accrual: true })).toEqual({ amount: '0.5', currency: 'JPY' });
    expect(errorOf(() => parseMoney('0.5 ABC', { accrual: true }))?.code).toBe('INVALID_ARGUMENT');
  });

  it('property: an amount is accepted exactly when its significant fraction digits fit the minor unit', () => {
    const currency = fc.constantFrom('JPY', 'KRW', 'USD', 'EUR', 'GBP', 'BHD', 'KWD', 'TND', 'CLF', 'UYW', 'XAU', 'XTS');
    const amount = fc
      .tuple(fc.bigInt({ min: 0n, max: 10n ** 12n }), fc.stringMatching(/^[0-9]{0,8}$/), fc.nat({ max: 3 }))
      .map(([i, f, zeros]) => (f === '' && zeros === 0 ? String(i) : `${i}.${f}${'0'.repeat(zeros)}`))
      .filter((a) => !a.endsWith('.'));
    fc.assert(
      fc.property(amount, currency, (a, c) => {
        const significant = (a.split('.')[1] ?? '').replace(/0+$/, '').length;
        const fits = significant <= minorUnits(c);
        for (const f of [() => toMoney(`${a} ${c}`), () => validateMoney({ amount: a, currency: c }), () => validateBudget({ amount: a, currency: c, period: 'P1D' })]) {
          const e = errorOf(f);
          expect(e === undefined).toBe(fits);
          if (e) expect(e.code).toBe('INVALID_ARGUMENT');
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('mandates: limits finer than the minor unit', () => {
  let w: World;
  beforeAll(async () => {
    w = await openWorld();
  });
  afterAll(async () => {
    await w.close();
  });

  const jpy = (perTransaction: string, budget: string): Authority => ({
    actions: ['pay:*'],
    maxDelegationDepth: 1,
    limits: { perTransaction: { amount: perTransaction, currency: 'JPY' }, budget: { amount: budget, currency: 'JPY', period: 'P1D' } },
  });

  it('issueMandate refuses a per-transaction limit or a budget finer than the minor unit, and takes trailing zeros', async () => {
    const p = w.issuer(`p-${randomUUID()}`);
    const a = w.issuer(`a-${randomUUID()}`);
    const issue = (authority: Authority) => issueMandate(w.store, p, { agent: a.did, authority, validUntil: days(30), baseUrl: w.baseUrl });
    await expect(issue(jpy('0.5', '100'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'authority.limits.perTransaction.amount', currency: 'JPY' } });
    await expect(issue(jpy('50', '100.5'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'authority.limits.budget.amount' } });
    await expect(issue({ actions: ['pay:*'], maxDelegationDepth: 0, limits: { budget: { amount: '0.0001', currency: 'BHD', period: 'P1D' } } })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringContaining('BHD has 3 decimals'),
    });
    const ok = await issue(jpy('50.00', '100.0'));
    const subject = ok.credential.credentialSubject as { authority: unknown };
    expect(parseAuthority(subject.authority).limits).toMatchObject({ perTransaction: { amount: '50.00' }, budget: { amount: '100.0' } });
  });

  it('delegateMandate refuses a finer child limit as INVALID_ARGUMENT (not a widening), and takes one at the minor unit', async () => {
    const c = await buildChain(w, 1, {
      actions: ['pay:*'],
      maxDelegationDepth: 1,
      limits: { perTransaction: { amount: '10', currency: 'USD' }, budget: { amount: '100', currency: 'USD', period: 'P30D' } },
    });
    const to = w.issuer(`sub-${randomUUID()}`).did;
    const child = (perTransaction: string, budget: string): Authority => ({
      actions: ['pay:card'],
      maxDelegationDepth: 0,
      limits: { perTransaction: { amount: perTransaction, currency: 'USD' }, budget: { amount: budget, currency: 'USD', period: 'P30D' } },
    });
    const delegate = (authority: Authority) => delegateMandate(w.store, c.agents[0]!, { parentJwt: c.mandates[0]!.jwt, to, authority, baseUrl: w.baseUrl });
    await expect(delegate(child('0.005', '50'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'authority.limits.perTransaction.amount' } });
    await expect(delegate(child('5', '99.999'))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', details: { field: 'authority.limits.budget.amount' } });
    await expect(delegate(child('0.01', '99.990'))).resolves.toMatchObject({ id: expect.any(String) });
  });

  it('a mandate signed with such a limit (before this check, or by another tool) fails closed: INVALID_CREDENTIAL, never a throw', async () => {
    expect(readAuthority(jpy('0.5', '100'))).toEqual({ reasons: [{ code: 'INVALID_CREDENTIAL', message: expect.stringContaining('JPY has no decimals') }] });
    const tag = randomUUID();
    const [principal, operator, agent] = [w.issuer(`p-${tag}`), w.issuer(`o-${tag}`), w.issuer(`a-${tag}`)];
    const root = await signLink(w, principal, agent.did, { ...jpy('0.5', '100'), maxDelegationDepth: 0 });
    const identity = (await issueAgentIdentity(w.store, operator, { agent: agent.did, name: 'shopper' })).jwt;
    const present = (nonce = randomUUID()) => createAgentPresentation({ agent, identity, chain: [root], aud: AUD, nonce });

    const nonce = randomUUID();
    const d = await verifyAgent(await present(nonce), {
      aud: AUD,
      nonce,
      resolver: w.resolver,
      status: w.status(),
      action: 'pay:card',
      amount: '1 JPY',
      trust: { principals: [principal.did] },
    });
    expect(d.ok).toBe(false);
    expect(d.reasons.map((r) => r.code)).toContain('INVALID_CREDENTIAL');

    const verifier = createVerifier({ aud: AUD, store: w.store, resolver: w.resolver, status: w.status(), http: false });
    let ran = false;
    const r = await guardTransaction(await present(), { verifier, action: 'pay:card', amount: '1 JPY', trust: { principals: [principal.did] } }, async () => {
      ran = true;
    });
    expect(r.ok).toBe(false);
    expect(ran).toBe(false);
    if (!r.ok) expect(r.reasons.map((x) => x.code)).toContain('INVALID_CREDENTIAL');
  });
});

describe('spend requests finer than the minor unit, through the guard', () => {
  let w: World;
  beforeAll(async () => {
    w = await openWorld();
  });
  afterAll(async () => {
    await w.close();
  });

  async function setup(limit: string, currency: string) {
    const c = await buildChain(w, 1, {
      actions: ['pay:*'],
      maxDelegationDepth: 0,
      limits: { perTransaction: { amount: limit, currency }, budget: { amount: limit, currency, period: 'P1D' } },
    });
    const verifier = createVerifier({ aud: AUD, store: w.store, resolver: w.resolver, status: w.status(), http: false });
    const present = (nonce = randomUUID()) => createAgentPresentation({ agent: c.agents[0]!, identity: c.identity, chain: c.mandates.map((m) => m.jwt), aud: AUD, nonce });
    const trust = { principals: [c.principal.did] };
    return { c, verifier, present, trust };
  }

  it.each([
    ['100', '0.4 JPY'],
    ['100', '99.5 JPY'],
    ['1', '0.0049 USD'],
    ['1', '0.0004 BHD'],
    ['1', '0.00001 CLF'],
  ])('limit %s: %j is a 400 INVALID_ARGUMENT, fn never runs, nothing is spent', async (limit, ask) => {
    const currency = ask.split(' ')[1]!;
    const s = await setup(limit, currency);
    let ran = 0;
    const fn = async () => {
      ran++;
      return 'charged';
    };
    const refused = await guardTransaction(await s.present(), { verifier: s.verifier, action: 'pay:card', amount: ask, trust: s.trust }, fn);
    expect(refused).toMatchObject({ ok: false, status: 400, reasons: [{ code: 'INVALID_ARGUMENT', message: expect.stringContaining('ISO 4217 minor unit') }] });
    const asNumber = await guardTransaction(
      await s.present(),
      { verifier: s.verifier, action: 'pay:card', amount: { amount: Number(ask.split(' ')[0]), currency }, trust: s.trust },
      fn,
    );
    expect(asNumber).toMatchObject({ ok: false, status: 400, reasons: [{ code: 'INVALID_ARGUMENT' }] });
    expect(ran).toBe(0);
    // Nothing was counted: the whole budget is still there, in one spend.
    const whole = await guardTransaction(await s.present(), { verifier: s.verifier, action: 'pay:card', amount: `${limit} ${currency}`, trust: s.trust }, fn);
    expect(whole).toMatchObject({ ok: true, value: 'charged', spend: 'committed' });
  });

  it('verifyAgent throws INVALID_ARGUMENT for such an amount (misuse: the request is malformed)', async () => {
    const s = await setup('100', 'JPY');
    const nonce = randomUUID();
    await expect(
      verifyAgent(await s.present(nonce), { aud: AUD, nonce, resolver: w.resolver, status: w.status(), action: 'pay:card', amount: '0.4 JPY', trust: s.trust }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it.each([
    ['100', '10.00 JPY'],
    ['1', '0.01 USD'],
    ['1', '0.010 USD'],
    ['1', '0.001 BHD'],
    ['1', '0.0001 CLF'],
    ['1', '0.000001 XAU'],
  ])('limit %s: %j, at the minor unit, is allowed and committed', async (limit, ask) => {
    const s = await setup(limit, ask.split(' ')[1]!);
    const r = await guardTransaction(await s.present(), { verifier: s.verifier, action: 'pay:card', amount: ask, trust: s.trust }, async (d) => d.amount);
    expect(r).toMatchObject({ ok: true, spend: 'committed' });
  });

  it('250 spends of 0.4 JPY can no longer pass as 100 JPY: each is refused, and the budget still holds 100 whole yen', async () => {
    const s = await setup('100', 'JPY');
    let charged = 0;
    for (let i = 0; i < 5; i++) {
      const r = await guardTransaction(await s.present(), { verifier: s.verifier, action: 'pay:card', amount: '0.4 JPY', trust: s.trust }, async () => {
        charged += 1;
      });
      expect(r).toMatchObject({ ok: false, status: 400 });
    }
    expect(charged).toBe(0);
    for (let i = 0; i < 100; i += 50) {
      expect(await guardTransaction(await s.present(), { verifier: s.verifier, action: 'pay:card', amount: '50 JPY', trust: s.trust }, async () => 'ok')).toMatchObject({
        ok: true,
      });
    }
    expect(await guardTransaction(await s.present(), { verifier: s.verifier, action: 'pay:card', amount: '1 JPY', trust: s.trust }, async () => 'ok')).toMatchObject({
      ok: false,
      reasons: [{ code: 'BUDGET_EXCEEDED' }],
    });
  });
});
