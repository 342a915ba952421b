import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reserveLinks } from '../../src/agents/ledger.js';
import { canonicalJws } from '../../src/credentials/index.js';
import { canonicalJson } from '../../src/encoding/json.js';
import { createResolver } from '../../src/did/index.js';
import { authorizeMandatePayment } from '../../src/guard/transaction.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { closeAp2Mandate, hashAscii, verifyMandateChain, type MandateDecision, type MandateLedgerLink, type VerifyMandateOptions } from '../../src/mandates/index.js';
import { tempDir } from '../helpers.js';
import { MERCHANTS } from './helpers.js';
import { ap2World, NOW, T0, viAutonomous, viPay, viWorld } from './worlds.js';

/*
 * One merchant-signed checkout is paid once, whichever mandate pays it (README, "the checkout paid"). The
 * merchant's signature has four spellings that verify: attached (`h.p.s`) and detached (`h..s` with the
 * checkout object, RFC 7515 Appendix F, as UCP's AP2 extension signs), each with its ES256 twin (r, n - s).
 * The agent picks the spelling and the profile; the ledger must see one checkout.
 */

const N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
/** The other ES256 spelling of `jws`, made by hand (what an attacker does). */
function twin(jws: string): string {
  const dot = jws.lastIndexOf('.');
  const sig = Buffer.from(jws.slice(dot + 1), 'base64url');
  const s = (N - BigInt(`0x${sig.subarray(32).toString('hex')}`)).toString(16).padStart(64, '0');
  return `${jws.slice(0, dot)}.${Buffer.concat([sig.subarray(0, 32), Buffer.from(s, 'hex')]).toString('base64url')}`;
}

const MERCHANT = MERCHANTS[0]!;
const INSTRUMENT = { id: 'b3f1c8a2', type: 'card' };
const AMOUNT = 27999;
type Spelling = 'attached' | 'attached twin' | 'detached' | 'detached twin';
const SPELLINGS: Spelling[] = ['attached', 'attached twin', 'detached', 'detached twin'];
/** Every ordered pair of spellings of different forms (attached then detached, detached then attached), twins included. */
const FORM_SWITCHES = SPELLINGS.flatMap((a) => SPELLINGS.filter((b) => a.split(' ')[0] !== b.split(' ')[0]).map((b) => [a, b] as const));

let store: Store;
beforeAll(async () => {
  store = await openSqliteStore(join(tempDir('charter-checkout-once-'), 'ledger.db'));
});
afterAll(async () => store.close());

const w = ap2World();
const trust = { issuers: [w.root.publicJwk], merchants: [w.merchant.publicJwk] };

/** The merchant signs one checkout (its RFC 8785 form) and the agent may spell it four ways. */
async function merchantCheckout(orderId: string) {
  const body = {
    order_id: orderId,
    merchant: MERCHANT,
    line_items: [{ id: 'line-1', item: { id: 'BAB86345', title: 'Babolat Pure Aero', price: AMOUNT }, quantity: 1 }],
    currency: 'USD',
    total: AMOUNT,
  };
  const h = Buffer.from(JSON.stringify({ alg: 'ES256', typ: 'JWT', kid: w.merchant.kid })).toString('base64url');
  const p = Buffer.from(canonicalJson(body)).toString('base64url');
  const s = Buffer.from(await w.merchant.signer.sign(new TextEncoder().encode(`${h}.${p}`))).toString('base64url');
  const attached = canonicalJws(`${h}.${p}.${s}`);
  const detached = `${h}..${attached.split('.')[2]}`;
  const spelled: Record<Spelling, string> = { attached, 'attached twin': twin(attached), detached, 'detached twin': twin(detached) };
  return { body, spelled };
}

/** A reusable AP2 mandate (budget and agent_recurrence): only the checkout link stops a second payment. */
async function ap2Mandates() {
  const oc = await w.open('checkout', [
    { type: 'checkout.line_items', items: [{ id: 'line-1', acceptable_items: [{ id: 'BAB86345', title: 'Babolat Pure Aero' }], quantity: 1 }] },
    { type: 'checkout.allowed_merchants', allowed: [MERCHANT] },
  ]);
  const op = await w.open('payment', [
    { type: 'payment.reference', conditional_transaction_id: hashAscii(oc) },
    { type: 'payment.amount_range', currency: 'USD', max: 30000, min: 0 },
    { type: 'payment.allowed_payees', allowed: [MERCHANT] },
    { type: 'payment.budget', max: 10000.0, currency: 'USD' },
    { type: 'payment.agent_recurrence', frequency: 'ON_DEMAND', max_occurrences: 50 },
  ]);
  return { oc, op };
}

let nonces = 0;
const closePayment = (op: string, tx: string, nonce: string) =>
  closeAp2Mandate({
    chain: op,
    signer: w.agent.signer,
    aud: 'psp',
    nonce,
    now: new Date((T0 + 30) * 1000),
    mandate: { vct: 'mandate.payment.1', transaction_id: tx, payee: MERCHANT, payment_amount: { amount: AMOUNT, currency: 'USD' }, payment_instrument: INSTRUMENT },
  });

/** The AP2 agent closes both chains over `jwt`, sending the checkout object along when `jwt` is detached. */
async function ap2Chain(m: { oc: string; op: string }, jwt: string, body: Record<string, unknown>) {
  const n = `n${++nonces}`;
  const input = {
    payment: await closePayment(m.op, hashAscii(jwt), `p-${n}`),
    checkout: await w.closeCheckout(m.oc, jwt, `m-${n}`),
    ...(jwt.split('.')[1] === '' ? { checkout_object: body } : {}),
  };
  const opts: VerifyMandateOptions = { profile: 'ap2', trust, now: NOW, paymentAud: 'psp', paymentNonce: `p-${n}`, checkoutAud: 'merchant', checkoutNonce: `m-${n}` };
  return { input, opts };
}

async function ap2Pays(m: { oc: string; op: string }, jwt: string, body: Record<string, unknown>): Promise<MandateDecision> {
  const { input, opts } = await ap2Chain(m, jwt, body);
  return verifyMandateChain(input, opts);
}

/** A Verifiable Intent world paying through the same pinned merchant (VI carries the checkout JWT attached only). */
async function viPayer() {
  const vw = { ...(await viWorld()), merchant: w.merchant };
  const intent = await viAutonomous(vw);
  const opts: VerifyMandateOptions = {
    profile: 'verifiable-intent',
    trust: { issuers: [vw.issuer.publicJwk], merchants: [w.merchant.publicJwk] },
    now: NOW,
    aud: 'https://agent.example.com',
    nonce: 'n-l2',
    paymentAud: 'https://network.example.com',
    paymentNonce: 'n-l3a',
    checkoutAud: 'https://shop.example',
    checkoutNonce: 'n-l3b',
  };
  return async (jwt: string) => verifyMandateChain({ l1: vw.l1, l2: intent.l2, ...(await viPay(vw, intent, jwt)) }, opts);
}

/** The codes a reservation was refused with, each once. */
async function reserve(d: MandateDecision): Promise<string[]> {
  expect([d.ok, d.reasons]).toEqual([true, []]);
  const r = await reserveLinks(store, d.links, d.payment!.amount, { now: NOW });
  return r.ok ? [] : [...new Set(r.reasons.map((x) => x.code))];
}
const checkoutLinks = (d: MandateDecision) => d.links.filter((l) => l.id.startsWith('urn:charter:checkout:'));

describe('the checkout key is what the merchant signed, not how the agent spelled it', () => {
  it('all four spellings give the same keys, the low-s attached spelling (the signature itself) first', async () => {
    const m = await ap2Mandates();
    const { body, spelled } = await merchantCheckout('keys');
    const decisions = await Promise.all(SPELLINGS.map((s) => ap2Pays(m, spelled[s], body)));
    for (const d of decisions) {
      expect(codes(d)).toEqual([]);
      expect(d.merchantSignature).toBe('checked');
      expect(d.checkout!.keys[0]).toBe(hashAscii(spelled.attached));
      expect(new Set(d.checkout!.keys)).toEqual(new Set(SPELLINGS.map((s) => hashAscii(spelled[s]))));
    }
    // checkout_hash stays the hash of the JWT as the chain carries it
    expect(decisions.map((d) => d.checkout!.hash)).toEqual(SPELLINGS.map((s) => hashAscii(spelled[s])));
  });
});

describe('AP2: one checkout paid as a detached JWS and again attached (or the other way), twins included', () => {
  it.each(FORM_SWITCHES)('%s, then %s: the second payment is RATE_EXCEEDED on the checkout link', async (first, second) => {
    const m = await ap2Mandates();
    const { body, spelled } = await merchantCheckout(`switch-${first}-${second}`);
    expect(await reserve(await ap2Pays(m, spelled[first], body))).toEqual([]);
    const again = await ap2Pays(m, spelled[second], body);
    const r = await reserveLinks(store, again.links, again.payment!.amount, { now: NOW });
    expect(r.ok).toBe(false);
    expect(new Set(r.reasons.map((x) => x.code))).toEqual(new Set(['RATE_EXCEEDED']));
    expect(r.reasons.every((x) => x.ref?.startsWith('urn:charter:checkout:'))).toBe(true);
    // Another checkout under the same mandate is still paid: the mandate itself was not used up.
    const other = await merchantCheckout(`other-${first}-${second}`);
    expect(await reserve(await ap2Pays(m, other.spelled[second], other.body))).toEqual([]);
  });

  it.each([
    ['attached', 'detached'],
    ['attached twin', 'detached twin'],
    ['detached', 'attached'],
    ['detached twin', 'attached twin'],
  ] as const)("paid with its checkout chain %s, then with the payment chain alone naming the %s spelling (the caller's checkoutHash): RATE_EXCEEDED", async (first, named) => {
    const m = await ap2Mandates();
    const { body, spelled } = await merchantCheckout(`chainless-${first}-${named}`);
    expect(await reserve(await ap2Pays(m, spelled[first], body))).toEqual([]);
    const ch = hashAscii(spelled[named]);
    const n = `n${++nonces}`;
    const b = await verifyMandateChain(
      { payment: await closePayment(m.op, ch, `p-${n}`) },
      { profile: 'ap2', trust, now: NOW, paymentAud: 'psp', paymentNonce: `p-${n}`, checkoutHash: ch, openCheckoutHash: hashAscii(m.oc) },
    );
    expect(await reserve(b)).toEqual(['RATE_EXCEEDED']);
  });
});

describe('one checkout, paid under Verifiable Intent and again under AP2 (or the other way)', () => {
  it.each([
    ['verifiable-intent', 'attached', 'ap2', 'attached'],
    ['verifiable-intent', 'attached', 'ap2', 'detached'],
    ['verifiable-intent', 'attached twin', 'ap2', 'detached twin'],
    ['ap2', 'attached', 'verifiable-intent', 'attached'],
    ['ap2', 'detached', 'verifiable-intent', 'attached'],
    ['ap2', 'detached twin', 'verifiable-intent', 'attached twin'],
  ] as const)('%s (%s), then %s (%s): RATE_EXCEEDED, on links with the same ids', async (p1, s1, p2, s2) => {
    const m = await ap2Mandates();
    const vi = await viPayer();
    const { body, spelled } = await merchantCheckout(`cross-${p1}-${s1}-${s2}`);
    const pay = (p: string, s: Spelling) => (p === 'ap2' ? ap2Pays(m, spelled[s], body) : vi(spelled[s]));
    const a = await pay(p1, s1);
    expect(await reserve(a)).toEqual([]);
    const b = await pay(p2, s2);
    expect(b.profile).toBe(p2);
    expect(new Set(checkoutLinks(b).map((l) => l.id))).toEqual(new Set(checkoutLinks(a).map((l) => l.id)));
    expect(await reserve(b)).toEqual(['RATE_EXCEEDED']);
  });

  it('the checkout link ids name no profile (urn:charter:checkout:<hash>), beside the 0.1 ids for both profiles', async () => {
    const vi = await viPayer();
    const { spelled } = await merchantCheckout('ids');
    const ids = checkoutLinks(await vi(spelled.attached)).map((l) => l.id.replace(/[A-Za-z0-9_-]{43}$/, 'H'));
    expect(ids).toEqual([
      ...Array<string>(4).fill('urn:charter:checkout:H'),
      ...Array<string>(4).fill('urn:charter:checkout:verifiable-intent:H'),
      ...Array<string>(4).fill('urn:charter:checkout:ap2:H'),
    ]);
  });
});

describe('a ledger written before the upgrade (0.1 checkout ids, per profile and per spelling presented)', () => {
  /** What 0.1 reserved for a payment under `profile` of the checkout spelled `jwt` (it and its twin, hashed twice). */
  const legacyLinks = (profile: string, jwt: string): MandateLedgerLink[] =>
    [jwt, twin(jwt)].map((s) => ({
      id: `urn:charter:checkout:${profile}:${createHash('sha256').update(hashAscii(s), 'utf8').digest('base64url')}`,
      issuer: 'urn:charter:checkout',
      authority: { actions: [`payments:${profile}`], limits: { rate: { count: 1, period: 'P100Y' } }, maxDelegationDepth: 0 },
      unmapped: [],
    }));

  it.each([
    ['ap2', 'detached', 'verifiable-intent', 'attached'],
    ['verifiable-intent', 'attached', 'ap2', 'detached twin'],
    ['ap2', 'attached twin', 'verifiable-intent', 'attached'],
  ] as const)('paid under 0.1 as %s (%s), now under %s (%s): RATE_EXCEEDED', async (oldProfile, oldSpelling, profile, spelling) => {
    const { body, spelled } = await merchantCheckout(`legacy-${oldProfile}-${oldSpelling}-${spelling}`);
    const r0 = await reserveLinks(store, legacyLinks(oldProfile, spelled[oldSpelling]), { amount: '279.99', currency: 'USD' }, { now: NOW });
    expect(r0.ok).toBe(true);
    const d = profile === 'ap2' ? await ap2Pays(await ap2Mandates(), spelled[spelling], body) : await (await viPayer())(spelled[spelling]);
    expect(await reserve(d)).toEqual(['RATE_EXCEEDED']);
  });
});

describe('concurrent payments of one checkout, every spelling and both profiles, on one SQLite store', () => {
  it('twelve payments race (Promise.all): exactly one is reserved, the rest RATE_EXCEEDED', async () => {
    const m = await ap2Mandates();
    const vi = await viPayer();
    const { body, spelled } = await merchantCheckout('race');
    const decisions = await Promise.all([
      ...SPELLINGS.flatMap((s) => [ap2Pays(m, spelled[s], body), ap2Pays(m, spelled[s], body)]),
      vi(spelled.attached),
      vi(spelled['attached twin']),
      vi(spelled.attached),
      vi(spelled['attached twin']),
    ]);
    for (const d of decisions) expect([d.ok, d.reasons]).toEqual([true, []]);
    const results = await Promise.all(decisions.map((d) => reserveLinks(store, d.links, d.payment!.amount, { now: NOW })));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    for (const r of results.filter((x) => !x.ok)) expect(new Set(r.reasons.map((x) => x.code))).toEqual(new Set(['RATE_EXCEEDED']));
  });

  it('through the guard, two verifiers sharing the store: AP2 payments over the four spellings, one paid', async () => {
    const [a, b] = [0, 1].map(() => createVerifier({ aud: 'psp', store, resolver: createResolver(), http: false }));
    const m = await ap2Mandates();
    const { body, spelled } = await merchantCheckout('race-guard');
    const chains = await Promise.all(SPELLINGS.flatMap((s) => [ap2Chain(m, spelled[s], body), ap2Chain(m, spelled[s], body)]));
    const results = await Promise.all(chains.map(({ input }, i) => authorizeMandatePayment(input, { verifier: i % 2 ? a! : b!, profile: 'ap2', trust, now: NOW })));
    expect(results.filter((r) => r.ok)).toHaveLength(1);
    for (const r of results.filter((x) => !x.ok)) {
      expect(r.status).toBe(403);
      expect(r.reasons.length).toBeGreaterThan(0);
      expect(r.reasons.every((x) => x.code === 'RATE_EXCEEDED' && x.ref?.startsWith('urn:charter:checkout:'))).toBe(true);
    }
  });
});

function codes(d: MandateDecision): string[] {
  return d.reasons.map((r) => r.code);
}
