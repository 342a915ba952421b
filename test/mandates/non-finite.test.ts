import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { closeAp2Mandate, hashAscii, issueAp2OpenMandate, verifyMandateChain, type VerifyMandateOptions } from '../../src/mandates/index.js';
import { sameJsonData } from '../../src/mandates/json.js';
import { freshParty, signCompact, type Party } from './helpers.js';

/**
 * An AP2 closed payment mandate whose payment_instrument (pre-set by the
 * open mandate) holds a number beyond a double (1e400, read as Infinity) or
 * a value canonical JSON cannot encode: the chain is refused with a reason,
 * never a raw TypeError out of verifyMandateChain.
 */

const T0 = 1_800_000_000;
const NOW = new Date((T0 + 60) * 1000);
const MERCHANT = { id: 'merchant_1', name: 'Demo Merchant', website: 'https://demo-merchant.example' };
const INSTRUMENT = { id: 'b3f1c8a2', type: 'card', description: 'Card 4444' };

interface Parties {
  root: Party;
  agent: Party;
  merchant: Party;
}
let p: Parties;

const opts = (): VerifyMandateOptions => ({
  profile: 'ap2',
  trust: { issuers: [p.root.publicJwk], merchants: [p.merchant.publicJwk] },
  now: NOW,
  paymentAud: 'psp',
  paymentNonce: 'n-psp',
  checkoutAud: 'merchant',
  checkoutNonce: 'n-merchant',
});

/** The AP2 object input { payment, checkout }, the closed payment's instrument being `instrument`. */
async function chain(instrument: Record<string, unknown>): Promise<{ payment: string; checkout: string }> {
  const issue = (kind: 'checkout' | 'payment', constraints: Record<string, unknown>[], preset?: Record<string, unknown>) =>
    issueAp2OpenMandate({ issuer: p.root.issuer, kind, agent: { jwk: p.agent.publicJwk }, constraints, ...(preset ? { preset } : {}), now: new Date(T0 * 1000), expiresIn: 3600 });
  const oc = await issue('checkout', [
    { type: 'checkout.line_items', items: [{ id: 'line_1', acceptable_items: [{ id: 'shoe-9', title: 'SuperShoe 9' }], quantity: 1 }] },
    { type: 'checkout.allowed_merchants', allowed: [MERCHANT] },
  ]);
  const op = await issue(
    'payment',
    [
      { type: 'payment.reference', conditional_transaction_id: hashAscii(oc) },
      { type: 'payment.amount_range', currency: 'USD', max: 20000, min: 0 },
      { type: 'payment.allowed_payees', allowed: [MERCHANT] },
    ],
    { payment_instrument: INSTRUMENT },
  );
  const checkoutJwt = await signCompact(
    { typ: 'JWT' },
    { order_id: 'order-1', merchant: MERCHANT, line_items: [{ id: 'line_1', item: { id: 'shoe-9', title: 'shoe-9', price: 19900 }, quantity: 1 }], currency: 'USD' },
    p.merchant,
  );
  const checkoutHash = hashAscii(checkoutJwt);
  const at = new Date((T0 + 30) * 1000);
  return {
    checkout: await closeAp2Mandate({
      chain: oc,
      signer: p.agent.signer,
      mandate: { vct: 'mandate.checkout.1', checkout_jwt: checkoutJwt, checkout_hash: checkoutHash },
      aud: 'merchant',
      nonce: 'n-merchant',
      now: at,
    }),
    payment: await closeAp2Mandate({
      chain: op,
      signer: p.agent.signer,
      mandate: { vct: 'mandate.payment.1', transaction_id: checkoutHash, payee: MERCHANT, payment_amount: { amount: 19900, currency: 'USD' }, payment_instrument: instrument },
      aud: 'psp',
      nonce: 'n-psp',
      now: at,
    }),
  };
}

/** verifyMandateChain's reason codes, or what it threw. */
async function outcome(input: unknown): Promise<string> {
  try {
    const d = await verifyMandateChain(input, opts());
    return d.ok ? 'ok' : d.reasons.map((r) => r.code).join(',');
  } catch (e) {
    return `threw ${(e as Error).constructor.name}: ${(e as Error).message.slice(0, 60)}`;
  }
}

/** Runs `f` with JSON.stringify writing the string "@@N@@" as the bare number literal `literal`. */
async function writingNumber<T>(literal: string, f: () => Promise<T>): Promise<T> {
  const stringify = JSON.stringify.bind(JSON);
  const spy = vi.spyOn(JSON, 'stringify').mockImplementation(((...a: Parameters<typeof JSON.stringify>) => {
    const s = stringify(...a) as string | undefined;
    return typeof s === 'string' ? s.replaceAll('"@@N@@"', literal) : s;
  }) as typeof JSON.stringify);
  try {
    return await f();
  } finally {
    spy.mockRestore();
  }
}

beforeAll(() => {
  p = { root: freshParty('provider-key-1'), agent: freshParty(), merchant: freshParty('merchant-key-1') };
});
afterEach(() => vi.restoreAllMocks());

describe('AP2: a pre-set payment instrument holding a value canonical JSON cannot encode', () => {
  it('the baseline chain verifies', async () => {
    expect(await outcome(await chain(INSTRUMENT))).toBe('ok');
  });

  it.each([
    ['1e400', '1e400'],
    ['-1e400', '-1e400'],
    ['a 401-digit integer', '1' + '0'.repeat(400)],
  ])('a disclosure carrying %s is refused (INVALID_CREDENTIAL), not thrown', async (_l, n) => {
    const c = await writingNumber(n, () => chain({ ...INSTRUMENT, n: '@@N@@' }));
    // The literal reached the signed text as written.
    expect(c.payment.split('~').some((d) => Buffer.from(d, 'base64url').toString().includes(`"n":${n}`))).toBe(true);
    expect(await outcome(c)).toBe('INVALID_CREDENTIAL');
  });

  it('an underflow to 0 (1e-400) is an ordinary number: refused only as a different instrument', async () => {
    const c = await writingNumber('1e-400', () => chain({ ...INSTRUMENT, n: '@@N@@' }));
    expect(await outcome(c)).toBe('CONSTRAINT_VIOLATED');
  });

  it.each([
    ['Infinity', Number.POSITIVE_INFINITY],
    ['NaN', Number.NaN],
    ['a BigInt', 1n],
  ])('an instrument that reads as holding %s (as a library caller may hand over) is a refusal, not a throw', async (_name, value) => {
    const c = await chain({ ...INSTRUMENT, n: '@@V@@' });
    // The text carries a string; what the verifier reads in its place is the value canonical JSON cannot encode.
    const parse = JSON.parse.bind(JSON);
    vi.spyOn(JSON, 'parse').mockImplementation(((text: string, reviver?: (this: unknown, k: string, v: unknown) => unknown) =>
      parse(text, function (this: unknown, k: string, v: unknown) {
        const w = v === '@@V@@' ? value : v;
        return reviver ? reviver.call(this, k, w) : w;
      })) as typeof JSON.parse);
    expect(await outcome(c)).toBe('CONSTRAINT_VIOLATED');
  });

  it('sameJsonData: equal JSON data only; anything canonical JSON refuses is never the same', () => {
    expect(sameJsonData({ a: 1, b: [2] }, { b: [2], a: 1 })).toBe(true);
    expect(sameJsonData({ a: 1 }, { a: 2 })).toBe(false);
    for (const bad of [Infinity, -Infinity, NaN, 1n, new Date(0), undefined, { a: Infinity }, [1n]]) {
      expect(sameJsonData(bad, bad)).toBe(false);
      expect(sameJsonData({ a: 1 }, bad)).toBe(false);
    }
  });
});
