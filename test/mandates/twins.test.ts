import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reserveLinks } from '../../src/agents/ledger.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { canonicalJws, jwsSpellings } from '../../src/credentials/index.js';
import { createSigner, generateKeyPair, importVerificationKey, publicJwkOf, verifySignature } from '../../src/keys/index.js';
import {
  closeAp2Mandate,
  hashAscii,
  issueAp2OpenMandate,
  issueViAction,
  issueViIntent,
  verifyMandateChain,
  type MandateDecision,
  type VerifyMandateOptions,
} from '../../src/mandates/index.js';
import { checkoutJwt, freshParty, INSTRUMENT, makeL1, MERCHANTS, signCompact } from './helpers.js';

/*
 * An ES256 signature (r, s) verifies as (r, n - s) too (RFC 7518 §3.4 picks
 * neither; honest signers emit both), so anyone holding an ES256 token can
 * spell it a second way without the key. What the ledger counts per token
 * (an AP2 mandate's budget and uses, a checkout paid once) is keyed by the
 * token's one spelling (canonicalJws): the twin lands on the same key.
 */

const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
const sOf = (jws: string) =>
  BigInt(
    `0x${Buffer.from(jws.slice(jws.lastIndexOf('.') + 1), 'base64url')
      .subarray(32)
      .toString('hex')}`,
  );
/** The other spelling, made by hand (what an attacker does). */
function twin(jws: string): string {
  const dot = jws.lastIndexOf('.');
  const sig = Buffer.from(jws.slice(dot + 1), 'base64url');
  const s = (N - sOf(jws)).toString(16).padStart(64, '0');
  return `${jws.slice(0, dot)}.${Buffer.concat([sig.subarray(0, 32), Buffer.from(s, 'hex')]).toString('base64url')}`;
}
const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');
const verifies = (jws: string, pub: ReturnType<typeof publicJwkOf>) => {
  const dot = jws.lastIndexOf('.');
  return verifySignature(importVerificationKey(pub), 'ES256', Buffer.from(jws.slice(0, dot)), Buffer.from(jws.slice(dot + 1), 'base64url'));
};

describe('canonicalJws / jwsSpellings', () => {
  const kp = generateKeyPair('P-256');
  const signer = createSigner(kp.privateJwk);
  const pub = publicJwkOf(kp.privateJwk);
  const sign = async (payload: unknown) => {
    const input = `${b64({ alg: 'ES256', typ: 'JWT' })}.${b64(payload)}`;
    return `${input}.${Buffer.from(await signer.sign(new TextEncoder().encode(input))).toString('base64url')}`;
  };

  it('both spellings verify, share one canonical spelling (low s), and the canonical spelling is a fixed point', async () => {
    await fc.assert(
      fc.asyncProperty(fc.jsonValue(), async (payload) => {
        const jws = await sign(payload);
        const other = twin(jws);
        expect(verifies(jws, pub) && verifies(other, pub)).toBe(true);
        const c = canonicalJws(jws);
        expect(canonicalJws(other)).toBe(c);
        expect(canonicalJws(c)).toBe(c);
        expect(sOf(c) <= N >> 1n).toBe(true);
        expect([jws, other]).toContain(c);
        expect(new Set(jwsSpellings(jws))).toEqual(new Set([jws, other]));
        expect(new Set(jwsSpellings(other))).toEqual(new Set([jws, other]));
      }),
      { numRuns: 60 },
    );
  });

  it('a detached ES256 JWS (header..signature) has its twin too', async () => {
    const jws = await sign({ a: 1 });
    const [h, , s] = jws.split('.');
    const detached = `${h}..${s}`;
    expect(canonicalJws(twin(detached))).toBe(canonicalJws(detached));
  });

  it.each(['Ed25519', 'secp256k1'] as const)('a %s token has one spelling', async (type) => {
    const k = generateKeyPair(type);
    const sg = createSigner(k.privateJwk);
    const input = `${b64({ alg: sg.alg })}.${b64({ a: 1 })}`;
    const jws = `${input}.${Buffer.from(await sg.sign(new TextEncoder().encode(input))).toString('base64url')}`;
    expect(canonicalJws(jws)).toBe(jws);
    expect(jwsSpellings(jws)).toEqual([jws]);
  });

  it('anything that is not an ES256 compact JWS with a 64-byte signature in range is left as it is', () => {
    const h = b64({ alg: 'ES256' });
    const p = b64({ a: 1 });
    const sig = (s: bigint) => Buffer.concat([Buffer.alloc(32, 7), Buffer.from(s.toString(16).padStart(64, '0'), 'hex')]).toString('base64url');
    for (const x of [
      '',
      'abc',
      `${h}.${p}`,
      `${h}.${p}.`,
      `${h}.${p}.${Buffer.alloc(63, 1).toString('base64url')}`,
      `${h}.${p}.${Buffer.alloc(65, 1).toString('base64url')}`,
      `${h}.${p}.${sig(0n)}`,
      `${h}.${p}.${sig(N)}`,
      `not-json.${p}.${sig(N - 1n)}`,
      `${b64({ alg: 'es256' })}.${p}.${sig(N - 1n)}`,
      `${b64(['ES256'])}.${p}.${sig(N - 1n)}`,
      `${b64(null)}.${p}.${sig(N - 1n)}`,
    ]) {
      expect(canonicalJws(x)).toBe(x);
      expect(jwsSpellings(x)).toEqual([x]);
    }
  });
});

const T0 = 1_800_000_000;
const NOW = new Date((T0 + 60) * 1000);
let store: Store;
beforeAll(async () => {
  store = await openSqliteStore(':memory:');
});
afterAll(async () => {
  await store.close();
});
/** The codes a reservation was refused with, each once (a checkout refuses on each of its spellings' links). */
const reserve = async (d: MandateDecision) => {
  expect([d.ok, d.reasons]).toEqual([true, []]);
  const r = await reserveLinks(store, d.links, d.payment!.amount, { now: NOW });
  return r.ok ? [] : [...new Set(r.reasons.map((x) => x.code))];
};

describe('AP2: the twin of a mandate or of a checkout is the same mandate, the same checkout', () => {
  const MERCHANT = { id: 'merchant_1', name: 'Demo Merchant', website: 'https://demo-merchant.example' };
  const AP2_INSTRUMENT = { id: 'b3f1c8a2', type: 'card', description: 'Card 4444' };
  const root = freshParty('provider-key-1');
  const agent = freshParty();
  const merchant = freshParty('merchant-key-1');
  const open = (kind: 'checkout' | 'payment', constraints: unknown[]) =>
    issueAp2OpenMandate({ issuer: root.issuer, kind, agent: { jwk: agent.publicJwk }, now: new Date(T0 * 1000), expiresIn: 3600, constraints: constraints as never });
  const openCheckout = () =>
    open('checkout', [
      { type: 'checkout.line_items', items: [{ id: 'line_1', acceptable_items: [{ id: 'shoe-9', title: 'SuperShoe 9' }], quantity: 1 }] },
      { type: 'checkout.allowed_merchants', allowed: [MERCHANT] },
    ]);
  const order = (id: string, price: number) =>
    signCompact(
      { typ: 'JWT' },
      { order_id: id, merchant: MERCHANT, line_items: [{ id: 'line_1', item: { id: 'shoe-9', title: 'x', price }, quantity: 1 }], currency: 'USD' },
      merchant,
    );
  /** The agent closes both chains over `co` (any spelling it likes) and pays `cents`. */
  async function pay(oc: string, op: string, co: string, cents: number, nonce: string) {
    const at = new Date((T0 + 30) * 1000);
    const ch = hashAscii(co);
    const checkout = await closeAp2Mandate({
      chain: oc,
      signer: agent.signer,
      mandate: { vct: 'mandate.checkout.1', checkout_jwt: co, checkout_hash: ch },
      aud: 'merchant',
      nonce: `m-${nonce}`,
      now: at,
    });
    const payment = await closeAp2Mandate({
      chain: op,
      signer: agent.signer,
      mandate: { vct: 'mandate.payment.1', transaction_id: ch, payee: MERCHANT, payment_amount: { amount: cents, currency: 'USD' }, payment_instrument: AP2_INSTRUMENT },
      aud: 'psp',
      nonce: `p-${nonce}`,
      now: at,
    });
    return verifyMandateChain(
      { payment, checkout },
      {
        profile: 'ap2',
        trust: { issuers: [root.publicJwk], merchants: [merchant.publicJwk] },
        now: NOW,
        paymentAud: 'psp',
        paymentNonce: `p-${nonce}`,
        checkoutAud: 'merchant',
        checkoutNonce: `m-${nonce}`,
      },
    );
  }
  const twinIssuerJwt = (sdJwt: string) => {
    const [iss, ...rest] = sdJwt.split('~');
    return [twin(iss!), ...rest].join('~');
  };

  it.each([
    ['as signed, then its twin', false],
    ['its twin first, then as signed', true],
  ])("an open payment mandate's budget and single use are spent once: %s", async (_, twinFirst) => {
    const oc = await openCheckout();
    const op = await open('payment', [
      { type: 'payment.reference', conditional_transaction_id: hashAscii(oc) },
      { type: 'payment.amount_range', currency: 'USD', max: 20000, min: 0 },
      { type: 'payment.allowed_payees', allowed: [MERCHANT] },
      { type: 'payment.budget', max: 200.0, currency: 'USD' },
    ]);
    const [first, second] = twinFirst ? [twinIssuerJwt(op), op] : [op, twinIssuerJwt(op)];
    const a = await pay(oc, first, await order(`o-${twinFirst}-1`, 19900), 19900, `a${twinFirst}`);
    expect(await reserve(a)).toEqual([]);
    const b = await pay(oc, second, await order(`o-${twinFirst}-2`, 19900), 19900, `b${twinFirst}`);
    expect(b.links[0]!.id).toBe(a.links[0]!.id);
    expect(await reserve(b)).toEqual(expect.arrayContaining(['BUDGET_EXCEEDED']));
  });

  it.each([
    ['as signed, then its twin', false],
    ['its twin first, then as signed', true],
  ])('one merchant-signed checkout is paid once: %s', async (_, twinFirst) => {
    const oc = await openCheckout();
    const op = await open('payment', [
      { type: 'payment.reference', conditional_transaction_id: hashAscii(oc) },
      { type: 'payment.amount_range', currency: 'USD', max: 20000, min: 0 },
      { type: 'payment.allowed_payees', allowed: [MERCHANT] },
      { type: 'payment.budget', max: 1000.0, currency: 'USD' },
      { type: 'payment.agent_recurrence', frequency: 'ON_DEMAND', max_occurrences: 5 },
    ]);
    const co = await order(`same-${twinFirst}`, 100);
    const [first, second] = twinFirst ? [twin(co), co] : [co, twin(co)];
    const a = await pay(oc, op, first, 100, `c${twinFirst}`);
    expect(await reserve(a)).toEqual([]);
    const b = await pay(oc, op, second, 100, `d${twinFirst}`);
    expect(b.checkout!.hash).not.toBe(a.checkout!.hash);
    expect([...b.checkout!.keys].sort()).toEqual([...a.checkout!.keys].sort());
    expect(await reserve(b)).toEqual(['RATE_EXCEEDED']);
    // Another order of the same merchant is still paid.
    expect(await reserve(await pay(oc, op, await order(`other-${twinFirst}`, 100), 100, `e${twinFirst}`))).toEqual([]);
  });
});

describe('AP2: one checkout, paid with its checkout chain and then with the payment chain alone', () => {
  const MERCHANT = { id: 'merchant_1', name: 'Demo Merchant', website: 'https://demo-merchant.example' };
  const AP2_INSTRUMENT = { id: 'b3f1c8a2', type: 'card', description: 'Card 4444' };
  const root = freshParty('provider-key-1');
  const agent = freshParty();
  const merchant = freshParty('merchant-key-1');
  const open = (kind: 'checkout' | 'payment', constraints: unknown[]) =>
    issueAp2OpenMandate({ issuer: root.issuer, kind, agent: { jwk: agent.publicJwk }, now: new Date(T0 * 1000), expiresIn: 3600, constraints: constraints as never });
  const trust = { issuers: [root.publicJwk], merchants: [merchant.publicJwk] };

  // The merchant's own signature may have either s: both cases, and the agent closing over either spelling.
  it.each([
    ['high', 'as signed'],
    ['high', 'twin'],
    ['low', 'as signed'],
    ['low', 'twin'],
  ])("merchant's s %s, the agent's checkout chain over the JWT %s: the payment-only second payment is RATE_EXCEEDED", async (merchantS, closedOver) => {
    const oc = await open('checkout', [
      { type: 'checkout.line_items', items: [{ id: 'line_1', acceptable_items: [{ id: 'shoe-9', title: 'SuperShoe 9' }], quantity: 1 }] },
      { type: 'checkout.allowed_merchants', allowed: [MERCHANT] },
    ]);
    const op = await open('payment', [
      { type: 'payment.reference', conditional_transaction_id: hashAscii(oc) },
      { type: 'payment.amount_range', currency: 'USD', max: 20000, min: 0 },
      { type: 'payment.allowed_payees', allowed: [MERCHANT] },
      { type: 'payment.budget', max: 1000.0, currency: 'USD' },
      { type: 'payment.agent_recurrence', frequency: 'ON_DEMAND', max_occurrences: 5 },
    ]);
    let merchants = await signCompact(
      { typ: 'JWT' },
      {
        order_id: `o-${merchantS}-${closedOver}`,
        merchant: MERCHANT,
        line_items: [{ id: 'line_1', item: { id: 'shoe-9', title: 'x', price: 100 }, quantity: 1 }],
        currency: 'USD',
      },
      merchant,
    );
    const isLow = canonicalJws(merchants) === merchants;
    if (isLow !== (merchantS === 'low')) merchants = twin(merchants);
    const co = closedOver === 'twin' ? twin(merchants) : merchants;
    const at = new Date((T0 + 30) * 1000);
    const payment = (nonce: string, tx: string) =>
      closeAp2Mandate({
        chain: op,
        signer: agent.signer,
        aud: 'psp',
        nonce,
        now: at,
        mandate: { vct: 'mandate.payment.1', transaction_id: tx, payee: MERCHANT, payment_amount: { amount: 100, currency: 'USD' }, payment_instrument: AP2_INSTRUMENT },
      });
    const checkout = await closeAp2Mandate({
      chain: oc,
      signer: agent.signer,
      mandate: { vct: 'mandate.checkout.1', checkout_jwt: co, checkout_hash: hashAscii(co) },
      aud: 'merchant',
      nonce: `m-${merchantS}-${closedOver}`,
      now: at,
    });
    const a = await verifyMandateChain(
      { payment: await payment(`p1-${merchantS}-${closedOver}`, hashAscii(co)), checkout },
      { profile: 'ap2', trust, now: NOW, paymentAud: 'psp', paymentNonce: `p1-${merchantS}-${closedOver}`, checkoutAud: 'merchant', checkoutNonce: `m-${merchantS}-${closedOver}` },
    );
    expect(await reserve(a)).toEqual([]);
    // The PSP names the checkout it processes by the hash of the merchant's JWT as the merchant signed it.
    const ch = hashAscii(merchants);
    const b = await verifyMandateChain(
      { payment: await payment(`p2-${merchantS}-${closedOver}`, ch) },
      { profile: 'ap2', trust, now: NOW, paymentAud: 'psp', paymentNonce: `p2-${merchantS}-${closedOver}`, checkoutHash: ch, openCheckoutHash: hashAscii(oc) },
    );
    expect(await reserve(b)).toEqual(['RATE_EXCEEDED']);
  });
});

describe('a payment mandate repeating agent_recurrence: every copy binds', () => {
  const MERCHANT = { id: 'merchant_1', name: 'Demo Merchant', website: 'https://demo-merchant.example' };
  const AP2_INSTRUMENT = { id: 'b3f1c8a2', type: 'card', description: 'Card 4444' };
  const root = freshParty('provider-key-1');
  const agent = freshParty();
  const merchant = freshParty('merchant-key-1');
  const open = (kind: 'checkout' | 'payment', constraints: unknown[]) =>
    issueAp2OpenMandate({ issuer: root.issuer, kind, agent: { jwk: agent.publicJwk }, now: new Date(T0 * 1000), expiresIn: 3600, constraints: constraints as never });
  it.each([
    [
      'one use, then five',
      [
        { frequency: 'ON_DEMAND', max_occurrences: 1 },
        { frequency: 'ON_DEMAND', max_occurrences: 5 },
      ],
    ],
    [
      'five uses, then one',
      [
        { frequency: 'ON_DEMAND', max_occurrences: 5 },
        { frequency: 'ON_DEMAND', max_occurrences: 1 },
      ],
    ],
    [
      'daily, then on demand',
      [
        { frequency: 'DAILY', max_occurrences: 5 },
        { frequency: 'ON_DEMAND', max_occurrences: 5 },
      ],
    ],
    [
      'on demand, then daily',
      [
        { frequency: 'ON_DEMAND', max_occurrences: 5 },
        { frequency: 'DAILY', max_occurrences: 5 },
      ],
    ],
    ['no count, then one use', [{ frequency: 'ON_DEMAND' }, { frequency: 'ON_DEMAND', max_occurrences: 1 }]],
  ])('%s: the second payment the same day is RATE_EXCEEDED', async (name, recs) => {
    const oc = await open('checkout', [
      { type: 'checkout.line_items', items: [{ id: 'line_1', acceptable_items: [{ id: 'shoe-9', title: 'SuperShoe 9' }], quantity: 1 }] },
      { type: 'checkout.allowed_merchants', allowed: [MERCHANT] },
    ]);
    const op = await open('payment', [
      { type: 'payment.reference', conditional_transaction_id: hashAscii(oc) },
      { type: 'payment.amount_range', currency: 'USD', max: 20000, min: 0 },
      { type: 'payment.allowed_payees', allowed: [MERCHANT] },
      { type: 'payment.budget', max: 1000.0, currency: 'USD' },
      ...recs.map((r) => ({ type: 'payment.agent_recurrence', ...r })),
    ]);
    const outcomes: string[][] = [];
    for (const k of [1, 2]) {
      const co = await signCompact(
        { typ: 'JWT' },
        { order_id: `${name}-${k}`, merchant: MERCHANT, line_items: [{ id: 'line_1', item: { id: 'shoe-9', title: 'x', price: 100 }, quantity: 1 }], currency: 'USD' },
        merchant,
      );
      const ch = hashAscii(co);
      const at = new Date((T0 + 30) * 1000);
      const nonce = `${name}-${k}`;
      const checkout = await closeAp2Mandate({
        chain: oc,
        signer: agent.signer,
        mandate: { vct: 'mandate.checkout.1', checkout_jwt: co, checkout_hash: ch },
        aud: 'merchant',
        nonce: `m-${nonce}`,
        now: at,
      });
      const payment = await closeAp2Mandate({
        chain: op,
        signer: agent.signer,
        aud: 'psp',
        nonce: `p-${nonce}`,
        now: at,
        mandate: { vct: 'mandate.payment.1', transaction_id: ch, payee: MERCHANT, payment_amount: { amount: 100, currency: 'USD' }, payment_instrument: AP2_INSTRUMENT },
      });
      const d = await verifyMandateChain(
        { payment, checkout },
        {
          profile: 'ap2',
          trust: { issuers: [root.publicJwk], merchants: [merchant.publicJwk] },
          now: NOW,
          paymentAud: 'psp',
          paymentNonce: `p-${nonce}`,
          checkoutAud: 'merchant',
          checkoutNonce: `m-${nonce}`,
        },
      );
      outcomes.push(await reserve(d));
    }
    expect(outcomes).toEqual([[], ['RATE_EXCEEDED']]);
  });
});

describe('Verifiable Intent: one merchant checkout is paid once, whichever spelling the agent closes over', () => {
  it.each([
    ['as signed, then its twin', false],
    ['its twin first, then as signed', true],
  ])('%s', async (_, twinFirst) => {
    const issuer = freshParty('issuer-key-1');
    const user = freshParty();
    const agent = freshParty('agent-key-1');
    const merchant = freshParty('merchant-key-1');
    const l1 = await makeL1(issuer, user.publicJwk, { iat: T0 - 86400, exp: T0 + 365 * 86400, cardId: INSTRUMENT.id });
    const intent = await issueViIntent({
      issuer: user.issuer,
      l1,
      aud: 'https://agent.example.com',
      nonce: 'n-l2',
      now: new Date(T0 * 1000),
      autonomous: {
        agent: { jwk: agent.publicJwk, kid: agent.kid },
        instrument: INSTRUMENT,
        maxAmount: { amount: '400', currency: 'USD' },
        minAmount: { amount: '100', currency: 'USD' },
        payees: [MERCHANTS[0]!],
        merchants: MERCHANTS,
        budget: { amount: '5000', currency: 'USD' },
        lineItems: [{ id: 'line-1', acceptable: [{ id: 'BAB86345', title: 'Babolat Pure Aero' }], quantity: 1 }],
      },
    });
    const co = await checkoutJwt(merchant, { iat: T0, items: [{ id: 'BAB86345', quantity: 1 }], merchantObj: MERCHANTS[0] });
    const opts: VerifyMandateOptions = {
      profile: 'verifiable-intent',
      trust: { issuers: [issuer.publicJwk], merchants: [merchant.publicJwk] },
      now: NOW,
      aud: 'https://agent.example.com',
      nonce: 'n-l2',
      paymentAud: 'https://network.example.com',
      paymentNonce: 'n-l3a',
      checkoutAud: 'https://tennis-warehouse.com',
      checkoutNonce: 'n-l3b',
    };
    const decide = async (c: string) => {
      const act = await issueViAction({
        signer: agent.signer,
        kid: agent.kid,
        iss: 'https://agent.example.com',
        intent,
        merchant: MERCHANTS[0]!,
        itemIds: ['BAB86345'],
        checkoutJwt: c,
        amount: { amount: '279.99', currency: 'USD' },
        instrument: INSTRUMENT,
        payment: { aud: 'https://network.example.com', nonce: 'n-l3a' },
        checkout: { aud: 'https://tennis-warehouse.com', nonce: 'n-l3b' },
        now: new Date(T0 * 1000),
      });
      return verifyMandateChain({ l1, l2: intent.l2, ...act }, opts);
    };
    const [first, second] = twinFirst ? [twin(co), co] : [co, twin(co)];
    expect(await reserve(await decide(first))).toEqual([]);
    expect(await reserve(await decide(second))).toEqual(['RATE_EXCEEDED']);
  });
});
