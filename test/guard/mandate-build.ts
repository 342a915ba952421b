import { createHash, randomUUID } from 'node:crypto';
import { closeAp2Mandate, hashAscii, issueAp2OpenMandate, issueViIntent, type IssuedViIntent, type ViChainInput } from '../../src/mandates/index.js';
import { disclose, ref, sdJwt, type Disc } from '../../src/mandates/issue-common.js';
import { checkoutJwt, freshParty, INSTRUMENT, signCompact, type Party } from '../mandates/helpers.js';
import { AP2_MERCHANT, type ViWorld } from './chains.js';

/**
 * Builders for the mandate review tests: AP2 worlds with any open payment
 * constraints, VI intents with any payees and constraints, and VI actions
 * whose L3a carries the agent's own words (its payee, extra mandates, a raw
 * disclosure), the way an attacker would write them.
 */
export const AP2_INSTRUMENT = { id: 'b3f1c8a2', type: 'card' };

export interface Ap2Open {
  root: Party;
  agent: Party;
  merchant: Party;
  openCheckout: string;
  openPayment: string;
}

export async function ap2Open(now: Date, payment: (openCheckoutHash: string) => Record<string, unknown>[], checkout?: Record<string, unknown>[]): Promise<Ap2Open> {
  const [root, agent, merchant] = [freshParty(), freshParty(), freshParty()];
  const openCheckout = await issueAp2OpenMandate({
    issuer: root.issuer,
    kind: 'checkout',
    agent: { jwk: agent.publicJwk },
    now,
    expiresIn: 90 * 86400,
    constraints: checkout ?? [
      { type: 'checkout.line_items', items: [{ id: 'line_1', acceptable_items: [{ id: 'shoe-9', title: 'SuperShoe 9' }], quantity: 1 }] },
      { type: 'checkout.allowed_merchants', allowed: [AP2_MERCHANT] },
    ],
  });
  const openPayment = await issueAp2OpenMandate({
    issuer: root.issuer,
    kind: 'payment',
    agent: { jwk: agent.publicJwk },
    now,
    expiresIn: 90 * 86400,
    constraints: payment(hashAscii(openCheckout)),
  });
  return { root, agent, merchant, openCheckout, openPayment };
}

/** A fresh merchant checkout and its closed checkout mandate (for the merchant). */
export async function ap2Checkout(w: Pick<Ap2Open, 'agent' | 'merchant' | 'openCheckout'>, now: Date): Promise<{ hash: string; checkout: string }> {
  const jwt = await signCompact(
    { typ: 'JWT' },
    { order_id: randomUUID(), merchant: AP2_MERCHANT, line_items: [{ id: 'line_1', item: { id: 'shoe-9', title: 'x', price: 1 }, quantity: 1 }], currency: 'USD' },
    w.merchant,
  );
  const hash = hashAscii(jwt);
  const checkout = await closeAp2Mandate({
    chain: w.openCheckout,
    signer: w.agent.signer,
    mandate: { vct: 'mandate.checkout.1', checkout_jwt: jwt, checkout_hash: hash },
    aud: 'merchant',
    nonce: 'n-merchant',
    now,
  });
  return { hash, checkout };
}

/** The agent's closed payment for `aud` under the world's open payment mandate (or `chain`). */
export function ap2Pay(
  w: Pick<Ap2Open, 'agent' | 'openPayment'>,
  hash: string,
  aud: string,
  now: Date,
  closed: Record<string, unknown> = {},
  chain = w.openPayment,
): Promise<string> {
  return closeAp2Mandate({
    chain,
    signer: w.agent.signer,
    aud,
    nonce: randomUUID(),
    now,
    mandate: {
      vct: 'mandate.payment.1',
      transaction_id: hash,
      payee: AP2_MERCHANT,
      payment_amount: { amount: 10000, currency: 'USD' },
      payment_instrument: AP2_INSTRUMENT,
      ...closed,
    },
  });
}

export const TW = { name: 'Tennis Warehouse', website: 'https://tennis-warehouse.com' };

/** A VI intent with free payees and extra payment constraints (the L2 the user signs). */
export function viOpen(w: ViWorld, now: Date, o: { payees?: Record<string, unknown>[]; extra?: Record<string, unknown>[]; budget?: string } = {}): Promise<IssuedViIntent> {
  return issueViIntent({
    issuer: w.user.issuer,
    l1: w.l1,
    aud: 'https://agent.example.com',
    nonce: 'n-l2',
    now,
    expiresIn: 60 * 86400,
    autonomous: {
      agent: { jwk: w.agent.publicJwk, kid: w.agent.kid },
      instrument: INSTRUMENT,
      maxAmount: { amount: '400', currency: 'USD' },
      payees: (o.payees ?? [TW]) as never,
      merchants: [TW as never],
      lineItems: [{ id: 'line-1', acceptable: [{ id: 'BAB86345', title: 'Babolat Pure Aero' }], quantity: 1 }],
      ...(o.budget ? { budget: { amount: o.budget, currency: 'USD' } } : {}),
      ...(o.extra ? { extraPaymentConstraints: o.extra } : {}),
    },
  });
}

const valueOf = (e: string): Record<string, unknown> => (JSON.parse(Buffer.from(e, 'base64url').toString('utf8')) as unknown[]).at(-1) as Record<string, unknown>;

/** A raw disclosure (any JSON text, duplicate names included) with its digest. */
export function rawDisclosure(text: string): Disc {
  const encoded = Buffer.from(text).toString('base64url');
  return { encoded, digest: createHash('sha256').update(encoded).digest('base64url') } as Disc;
}

/**
 * The agent's L3a/L3b written by hand: the payment mandate, its payee and any further mandates are
 * the agent's own word; `l3bExtra` adds mandates to the L3b.
 */
export async function viActionRaw(
  w: ViWorld,
  intent: IssuedViIntent,
  o: {
    aud: string;
    now: Date;
    payee: Record<string, unknown>;
    amountMinor: number;
    extraPay?: Record<string, unknown>[];
    l3bExtra?: Record<string, unknown>[];
    rawPay?: (checkoutHash: string) => string;
  },
): Promise<ViChainInput> {
  const now = Math.floor(o.now.getTime() / 1000);
  const ds = intent.disclosures;
  // The merchant-signed checkout names the merchant the payment pays (a VI payment to another is CHECKOUT_MISMATCH).
  const jwt = await checkoutJwt(w.merchant, {
    iat: now,
    items: [{ id: 'BAB86345', quantity: 1 }],
    merchantObj: { ...TW, id: typeof o.payee.id === 'string' ? o.payee.id : 'm-1' },
  });
  const h = hashAscii(jwt);
  const merchantDisc = ds.merchants[0]!;
  const itemDisc = ds.items.find((x) => valueOf(x).id === 'BAB86345')!;
  const payView = [intent.base, ds.payment, merchantDisc, ''].join('~');
  const coView = [intent.base, ds.checkout, itemDisc, ''].join('~');
  const merchant = disclose(valueOf(merchantDisc));
  const pay = o.rawPay
    ? rawDisclosure(o.rawPay(h))
    : disclose({ vct: 'mandate.payment.1', transaction_id: h, payee: o.payee, payment_amount: { amount: o.amountMinor, currency: 'USD' }, payment_instrument: INSTRUMENT });
  const extra = (o.extraPay ?? []).map((x) => disclose(x));
  const co = disclose({ vct: 'mandate.checkout.1', checkout_jwt: jwt, checkout_hash: h });
  const coExtra = (o.l3bExtra ?? []).map((x) => disclose(x));
  const claims = (aud: string, nonce: string, sdHash: string, discs: Disc[]) => ({
    nonce,
    aud,
    sd_hash: sdHash,
    iat: now,
    exp: now + 300,
    iss: 'https://agent.example.com',
    delegate_payload: discs.map(ref),
    _sd_alg: 'sha-256',
  });
  const payDiscs = [merchant, pay, ...extra];
  const coDiscs = [co, ...coExtra];
  return {
    l1: w.l1,
    l2: intent.l2,
    l3_payment: await sdJwt({ typ: 'kb-sd-jwt' }, claims(o.aud, randomUUID(), hashAscii(payView), payDiscs), payDiscs, w.agent.signer, w.agent.kid),
    l3_checkout: await sdJwt({ typ: 'kb-sd-jwt' }, claims('https://tennis-warehouse.com', 'n-merchant', hashAscii(coView), coDiscs), coDiscs, w.agent.signer, w.agent.kid),
    l2_payment_serialized: payView,
    l2_checkout_serialized: coView,
  };
}
