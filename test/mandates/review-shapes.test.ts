import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { hashAscii, verifyMandateChain, type VerifyMandateOptions } from '../../src/mandates/index.js';
import { disclose, ref, sdJwt } from '../../src/mandates/issue-common.js';
import { splitChain } from '../../src/mandates/ap2.js';
import { AP2_MERCHANT, viWorld, type ViWorld } from '../guard/chains.js';
import { ap2Checkout, ap2Open, ap2Pay, AP2_INSTRUMENT, rawDisclosure, TW, viActionRaw, viOpen, type Ap2Open } from '../guard/mandate-build.js';
import { INSTRUMENT } from './helpers.js';

/**
 * What a chain may not hide or say twice: AP2 constraints withheld as whole
 * array elements, duplicate member names inside a disclosure, a VI L3 with
 * more than its one mandate, an AP2 open mandate without the constraint its
 * schema requires.
 */
const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
const T = Math.floor(NOW.getTime() / 1000);
const codes = (d: { reasons: { code: string }[] }) => d.reasons.map((r) => r.code);

const ap2Opts = (w: Ap2Open, o: Partial<VerifyMandateOptions> = {}): VerifyMandateOptions => ({
  profile: 'ap2',
  trust: { issuers: [w.root.publicJwk] },
  now: NOW,
  paymentAud: 'psp',
  allowMissingNonce: true,
  ...o,
});

/** An AP2 root open payment mandate whose constraints are each an SD array element (RFC 9901 §4.2.4.2). */
async function sdOpenPayment(w: Ap2Open, constraints: Record<string, unknown>[], keep: (i: number) => boolean): Promise<string> {
  const cs = constraints.map((c) => disclose(c));
  const m = disclose({ vct: 'mandate.payment.open.1', constraints: cs.map(ref), cnf: { jwk: w.agent.publicJwk }, iat: T, exp: T + 86400 });
  const root = await sdJwt({ typ: 'dc+sd-jwt' }, { iss: w.root.issuer.did, iat: T, delegate_payload: [ref(m)], _sd_alg: 'sha-256' }, [...cs, m], w.root.signer, w.root.kid);
  const [jwt, ...discs] = root.split('~');
  const dropped = new Set(cs.filter((_, i) => !keep(i)).map((d) => d.encoded));
  return [jwt, ...discs.filter((d) => !dropped.has(d))].join('~');
}

describe('AP2: a constraint withheld as a whole array element is refused (finding 5)', () => {
  let w: Ap2Open;
  let all: Record<string, unknown>[];
  beforeAll(async () => {
    w = await ap2Open(NOW, (r) => [{ type: 'payment.reference', conditional_transaction_id: r }]);
    all = [
      { type: 'payment.reference', conditional_transaction_id: hashAscii(w.openCheckout) },
      { type: 'payment.amount_range', currency: 'USD', max: 20000, min: 0 },
      { type: 'payment.allowed_payees', allowed: [AP2_MERCHANT] },
      { type: 'payment.budget', max: 1000, currency: 'USD' },
    ];
  });
  const run = async (keep: (i: number) => boolean, minor = 10000) => {
    const c = await ap2Checkout(w, NOW);
    const open = await sdOpenPayment(w, all, keep);
    return verifyMandateChain({ payment: await ap2Pay(w, c.hash, 'psp', NOW, { payment_amount: { amount: minor, currency: 'USD' } }, open), checkout: c.checkout }, ap2Opts(w));
  };

  it('every element shown: accepted, and a payment over the range still refused', async () => {
    expect(codes(await run(() => true))).toEqual([]);
    expect(codes(await run(() => true, 5_000_000))).toContain('AUTHORITY_EXCEEDED');
  });

  it.each([
    ['the amount range', [1]],
    ['the budget', [3]],
    ['the payee list', [2]],
    ['the range and the budget', [1, 3]],
    ['every constraint but the reference', [1, 2, 3]],
  ])('%s withheld: CONSTRAINT_VIOLATED, whatever the amount', async (_what, hidden) => {
    for (const minor of [100, 5_000_000]) expect(codes(await run((i) => !(hidden as number[]).includes(i), minor))).toEqual(['CONSTRAINT_VIOLATED']);
  });

  it('the reference withheld too: still refused (never read as a list without the hidden one)', async () => {
    expect(codes(await run((i) => i !== 0))).toEqual(['CONSTRAINT_VIOLATED']);
  });

  it('a withheld element in the open checkout mandate is refused the same way', async () => {
    const co = [
      { type: 'checkout.line_items', items: [{ id: 'line_1', acceptable_items: [{ id: 'shoe-9', title: 'SuperShoe 9' }], quantity: 1 }] },
      { type: 'checkout.allowed_merchants', allowed: [AP2_MERCHANT] },
    ].map((c) => disclose(c));
    const m = disclose({ vct: 'mandate.checkout.open.1', constraints: co.map(ref), cnf: { jwk: w.agent.publicJwk }, iat: T, exp: T + 86400 });
    const root = await sdJwt({ typ: 'dc+sd-jwt' }, { iss: w.root.issuer.did, iat: T, delegate_payload: [ref(m)], _sd_alg: 'sha-256' }, [...co, m], w.root.signer, w.root.kid);
    const hidden = root.replace(`~${co[1]!.encoded}~`, '~');
    const own = { ...w, openCheckout: hidden };
    const c = await ap2Checkout(own, NOW);
    const d = await verifyMandateChain(c.checkout, { ...ap2Opts(w), aud: 'merchant', nonce: 'n-merchant' });
    expect(codes(d)).toEqual(['CONSTRAINT_VIOLATED']);
  });
});

describe('AP2: an open mandate without the constraint its schema requires (finding 8)', () => {
  it.each([
    ['constraints: []', () => []],
    ['no payment.reference', () => [{ type: 'payment.amount_range', currency: 'USD', max: 20000 }]],
    ['a reference with another type spelling', (r: string) => [{ type: 'payment.Reference', conditional_transaction_id: r }]],
  ])('an open payment mandate with %s is refused', async (_what, cs) => {
    const w = await ap2Open(NOW, cs as (r: string) => Record<string, unknown>[]);
    const c = await ap2Checkout(w, NOW);
    const d = await verifyMandateChain(
      { payment: await ap2Pay(w, c.hash, 'psp', NOW, { payment_amount: { amount: 99999999, currency: 'USD' } }), checkout: c.checkout },
      ap2Opts(w),
    );
    expect(d.ok).toBe(false);
    expect(codes(d)[0]).toMatch(/INVALID_CREDENTIAL|UNKNOWN_CONSTRAINT/);
  });

  it('an open checkout mandate without checkout.line_items is refused (INVALID_CREDENTIAL)', async () => {
    const w = await ap2Open(NOW, (r) => [{ type: 'payment.reference', conditional_transaction_id: r }], [{ type: 'checkout.allowed_merchants', allowed: [AP2_MERCHANT] }]);
    const c = await ap2Checkout(w, NOW);
    expect(codes(await verifyMandateChain(c.checkout, { ...ap2Opts(w), aud: 'merchant', nonce: 'n-merchant' }))).toEqual(['INVALID_CREDENTIAL']);
  });
});

describe('a member named twice inside a disclosure is refused (finding 6)', () => {
  let w: Ap2Open;
  beforeAll(async () => {
    w = await ap2Open(NOW, (r) => [
      { type: 'payment.reference', conditional_transaction_id: r },
      { type: 'payment.amount_range', currency: 'USD', max: 20000 },
    ]);
  });
  const closedWith = async (text: (h: string) => string) => {
    const c = await ap2Checkout(w, NOW);
    const disc = rawDisclosure(text(c.hash));
    const prev = splitChain(w.openPayment).at(-1)!;
    const hop = await sdJwt(
      { typ: 'kb+sd-jwt' },
      { iat: T, aud: 'psp', nonce: randomUUID(), sd_hash: hashAscii(prev), delegate_payload: [ref(disc)], _sd_alg: 'sha-256' },
      [disc],
      w.agent.signer,
      undefined,
    );
    return verifyMandateChain({ payment: `${w.openPayment.replace(/~$/, '')}~~${hop}`, checkout: c.checkout }, ap2Opts(w));
  };
  const m = (h: string, amount: string) =>
    `{"vct":"mandate.payment.1","transaction_id":"${h}","payee":${JSON.stringify(AP2_MERCHANT)},${amount},"payment_instrument":${JSON.stringify(AP2_INSTRUMENT)}}`;

  it('the same construction without a duplicate is accepted', async () => {
    expect(codes(await closedWith((h) => `["c2FsdHNhbHRzYWx0",${m(h, '"payment_amount":{"amount":10000,"currency":"USD"}')}]`))).toEqual([]);
  });

  it.each([
    ['payment_amount twice', '"payment_amount":{"amount":500000000,"currency":"USD"},"payment_amount":{"amount":10000,"currency":"USD"}'],
    ['amount twice inside payment_amount', '"payment_amount":{"amount":500000000,"amount":10000,"currency":"USD"}'],
    ['a name spelled with an escape', '"payment_amount":{"amount":500000000,"\\u0061mount":10000,"currency":"USD"}'],
  ])('%s: INVALID_CREDENTIAL', async (_what, amount) => {
    expect(codes(await closedWith((h) => `["c2FsdHNhbHRzYWx0",${m(h, amount)}]`))).toEqual(['INVALID_CREDENTIAL']);
  });

  it('a duplicate inside a VI L3a payment mandate disclosure: INVALID_CREDENTIAL', async () => {
    const w2 = await viWorld(NOW);
    const intent = await viOpen(w2, NOW);
    const chain = await viActionRaw(w2, intent, {
      aud: 'psp',
      now: NOW,
      payee: TW,
      amountMinor: 100,
      rawPay: (h) =>
        `["c2FsdA",{"vct":"mandate.payment.1","transaction_id":"${h}","payee":${JSON.stringify({ ...TW, name: 'x' })},"payee":${JSON.stringify(TW)},"payment_amount":{"amount":100,"currency":"USD"},"payment_instrument":${JSON.stringify(INSTRUMENT)}}]`,
    });
    const d = await verifyMandateChain(chain, { profile: 'verifiable-intent', trust: { issuers: [w2.issuer.publicJwk] }, now: NOW, paymentAud: 'psp', allowMissingNonce: true });
    expect(codes(d)).toEqual(['INVALID_CREDENTIAL']);
  });
});

describe('VI: an L3 carries exactly one mandate, of its own kind (finding 7)', () => {
  let w: ViWorld;
  beforeAll(async () => {
    w = await viWorld(NOW);
  });
  const verify = (chain: Parameters<typeof verifyMandateChain>[0]) =>
    // Shapes, not the binding: the L3a's aud and nonce are not this test's.
    verifyMandateChain(chain, { profile: 'verifiable-intent', trust: { issuers: [w.issuer.publicJwk] }, now: NOW, allowMissingNonce: true });
  const second = (o: Record<string, unknown> = {}) => ({
    vct: 'mandate.payment.1',
    transaction_id: 'another-checkout',
    payee: { id: 'm-2', name: 'Babolat', website: 'https://babolat.com' },
    payment_amount: { amount: 300000000, currency: 'USD' },
    payment_instrument: INSTRUMENT,
    ...o,
  });

  it('one payment mandate: accepted', async () => {
    expect(codes(await verify(await viActionRaw(w, await viOpen(w, NOW), { aud: 'psp', now: NOW, payee: TW, amountMinor: 30000 })))).toEqual([]);
  });

  it.each([
    ['a second payment mandate (unconstrained, 3,000,000 USD)', [second()]],
    ['a second payment mandate identical to the first but for its amount', [second({ payee: TW, amount: undefined })]],
    ['a checkout mandate beside the payment', [{ vct: 'mandate.checkout.1', checkout_jwt: 'x.y.z', checkout_hash: 'h' }]],
    ['an open mandate beside the payment', [{ vct: 'mandate.payment.open.1', constraints: [] }]],
  ])('an L3a with %s: INVALID_CREDENTIAL', async (_what, extraPay) => {
    const chain = await viActionRaw(w, await viOpen(w, NOW), { aud: 'psp', now: NOW, payee: TW, amountMinor: 30000, extraPay: extraPay as Record<string, unknown>[] });
    const d = await verify(chain);
    expect(codes(d)).toEqual(['INVALID_CREDENTIAL']);
    expect(d.payment).toBeUndefined();
  });

  it('an L3b with a second checkout mandate: INVALID_CREDENTIAL', async () => {
    const chain = await viActionRaw(w, await viOpen(w, NOW), {
      aud: 'psp',
      now: NOW,
      payee: TW,
      amountMinor: 30000,
      l3bExtra: [{ vct: 'mandate.checkout.1', checkout_jwt: 'a.b.c', checkout_hash: hashAscii('a.b.c') }],
    });
    expect(codes(await verify(chain))).toEqual(['INVALID_CREDENTIAL']);
  });
});
