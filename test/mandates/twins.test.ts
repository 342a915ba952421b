import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reserveLinks } from '../../src/agents/ledger.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { canonicalJws, jwsSpellings } from '../../src/credentials/index.js';
import { createSigner, generateKeyPair, importVerificationKey, publicJwkOf, verifySignature } from '../../src/keys/index.js';
import { hashAscii, verifyMandateChain, type MandateDecision, type VerifyMandateOptions } from '../../src/mandates/index.js';
import { ap2World, NOW, viAutonomous, viPay, viWorld } from './worlds.js';

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
const ORDERS = [
  ['as signed, then its twin', false],
  ['its twin first, then as signed', true],
] as const;

describe('AP2: the twin of a mandate or of a checkout is the same mandate, the same checkout', () => {
  const w = ap2World();
  /** The agent closes both chains over `co` (any spelling it likes) and pays `cents`. */
  async function pay(oc: string, op: string, co: string, cents: number, nonce: string) {
    const checkout = await w.closeCheckout(oc, co, `m-${nonce}`);
    const payment = await w.closePayment(op, hashAscii(co), cents, `p-${nonce}`);
    return verifyMandateChain(
      { payment, checkout },
      { profile: 'ap2', trust: w.trust, now: NOW, paymentAud: 'psp', paymentNonce: `p-${nonce}`, checkoutAud: 'merchant', checkoutNonce: `m-${nonce}` },
    );
  }
  const twinIssuerJwt = (sdJwt: string) => {
    const [iss, ...rest] = sdJwt.split('~');
    return [twin(iss!), ...rest].join('~');
  };

  it.each(ORDERS)("an open payment mandate's budget and single use are spent once: %s", async (_, twinFirst) => {
    const oc = await w.openCheckout();
    const op = await w.openPayment(oc, [{ type: 'payment.budget', max: 200.0, currency: 'USD' }]);
    const [first, second] = twinFirst ? [twinIssuerJwt(op), op] : [op, twinIssuerJwt(op)];
    const a = await pay(oc, first, await w.order(`o-${twinFirst}-1`, 19900), 19900, `a${twinFirst}`);
    expect(await reserve(a)).toEqual([]);
    const b = await pay(oc, second, await w.order(`o-${twinFirst}-2`, 19900), 19900, `b${twinFirst}`);
    expect(b.links[0]!.id).toBe(a.links[0]!.id);
    expect(await reserve(b)).toEqual(expect.arrayContaining(['BUDGET_EXCEEDED']));
  });

  it.each(ORDERS)('one merchant-signed checkout is paid once: %s', async (_, twinFirst) => {
    const oc = await w.openCheckout();
    const op = await w.openPayment(oc, [
      { type: 'payment.budget', max: 1000.0, currency: 'USD' },
      { type: 'payment.agent_recurrence', frequency: 'ON_DEMAND', max_occurrences: 5 },
    ]);
    const co = await w.order(`same-${twinFirst}`, 100);
    const [first, second] = twinFirst ? [twin(co), co] : [co, twin(co)];
    const a = await pay(oc, op, first, 100, `c${twinFirst}`);
    expect(await reserve(a)).toEqual([]);
    const b = await pay(oc, op, second, 100, `d${twinFirst}`);
    expect(b.checkout!.hash).not.toBe(a.checkout!.hash);
    expect([...b.checkout!.keys].sort()).toEqual([...a.checkout!.keys].sort());
    expect(await reserve(b)).toEqual(['RATE_EXCEEDED']);
    // Another order of the same merchant is still paid.
    expect(await reserve(await pay(oc, op, await w.order(`other-${twinFirst}`, 100), 100, `e${twinFirst}`))).toEqual([]);
  });
});

describe('AP2: one checkout, paid with its checkout chain and then with the payment chain alone', () => {
  const w = ap2World();
  // The merchant's own signature may have either s: both cases, and the agent closing over either spelling.
  it.each([
    ['high', 'as signed'],
    ['high', 'twin'],
    ['low', 'as signed'],
    ['low', 'twin'],
  ])("merchant's s %s, the agent's checkout chain over the JWT %s: the payment-only second payment is RATE_EXCEEDED", async (merchantS, closedOver) => {
    const oc = await w.openCheckout();
    const op = await w.openPayment(oc, [
      { type: 'payment.budget', max: 1000.0, currency: 'USD' },
      { type: 'payment.agent_recurrence', frequency: 'ON_DEMAND', max_occurrences: 5 },
    ]);
    const tag = `${merchantS}-${closedOver}`;
    let merchants = await w.order(`o-${tag}`, 100);
    if ((canonicalJws(merchants) === merchants) !== (merchantS === 'low')) merchants = twin(merchants);
    const co = closedOver === 'twin' ? twin(merchants) : merchants;
    const a = await verifyMandateChain(
      { payment: await w.closePayment(op, hashAscii(co), 100, `p1-${tag}`), checkout: await w.closeCheckout(oc, co, `m-${tag}`) },
      { profile: 'ap2', trust: w.trust, now: NOW, paymentAud: 'psp', paymentNonce: `p1-${tag}`, checkoutAud: 'merchant', checkoutNonce: `m-${tag}` },
    );
    expect(await reserve(a)).toEqual([]);
    // The PSP names the checkout it processes by the hash of the merchant's JWT as the merchant signed it.
    const ch = hashAscii(merchants);
    const b = await verifyMandateChain(
      { payment: await w.closePayment(op, ch, 100, `p2-${tag}`) },
      { profile: 'ap2', trust: w.trust, now: NOW, paymentAud: 'psp', paymentNonce: `p2-${tag}`, checkoutHash: ch, openCheckoutHash: hashAscii(oc) },
    );
    expect(await reserve(b)).toEqual(['RATE_EXCEEDED']);
  });
});

describe('a payment mandate repeating agent_recurrence: every copy binds', () => {
  const w = ap2World();
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
    const oc = await w.openCheckout();
    const op = await w.openPayment(oc, [{ type: 'payment.budget', max: 1000.0, currency: 'USD' }, ...recs.map((r) => ({ type: 'payment.agent_recurrence', ...r }))]);
    const outcomes: string[][] = [];
    for (const k of [1, 2]) {
      const co = await w.order(`${name}-${k}`, 100);
      const nonce = `${name}-${k}`;
      const d = await verifyMandateChain(
        { payment: await w.closePayment(op, hashAscii(co), 100, `p-${nonce}`), checkout: await w.closeCheckout(oc, co, `m-${nonce}`) },
        { profile: 'ap2', trust: w.trust, now: NOW, paymentAud: 'psp', paymentNonce: `p-${nonce}`, checkoutAud: 'merchant', checkoutNonce: `m-${nonce}` },
      );
      outcomes.push(await reserve(d));
    }
    expect(outcomes).toEqual([[], ['RATE_EXCEEDED']]);
  });
});

describe('Verifiable Intent: one merchant checkout is paid once, whichever spelling the agent closes over', () => {
  it.each(ORDERS)('%s', async (_, twinFirst) => {
    const w = await viWorld();
    const intent = await viAutonomous(w);
    const opts: VerifyMandateOptions = {
      profile: 'verifiable-intent',
      trust: { issuers: [w.issuer.publicJwk], merchants: [w.merchant.publicJwk] },
      now: NOW,
      aud: 'https://agent.example.com',
      nonce: 'n-l2',
      paymentAud: 'https://network.example.com',
      paymentNonce: 'n-l3a',
      checkoutAud: 'https://shop.example',
      checkoutNonce: 'n-l3b',
    };
    const decide = async (c: string) => verifyMandateChain({ l1: w.l1, l2: intent.l2, ...(await viPay(w, intent, c)) }, opts);
    const [first, second] = twinFirst ? [twin(w.co), w.co] : [w.co, twin(w.co)];
    expect(await reserve(await decide(first))).toEqual([]);
    expect(await reserve(await decide(second))).toEqual(['RATE_EXCEEDED']);
  });
});
