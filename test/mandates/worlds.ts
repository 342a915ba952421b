import { closeAp2Mandate, hashAscii, issueAp2OpenMandate, issueViAction, issueViIntent, type IssuedViIntent, type VerifyMandateOptions } from '../../src/mandates/index.js';
import { checkoutJwt, freshParty, INSTRUMENT, makeL1, MERCHANTS, signCompact, type Party } from './helpers.js';

/** Fixtures shared by the ledger-key and binding tests: an AP2 world and a VI world at T0, fresh keys each. */
export const T0 = 1_800_000_000;
export const NOW = new Date((T0 + 60) * 1000);

export const AP2_MERCHANT = { id: 'merchant_1', name: 'Demo Merchant', website: 'https://demo-merchant.example' };
const AP2_INSTRUMENT = { id: 'b3f1c8a2', type: 'card', description: 'Card 4444' };

/** An AP2 provider (root), its agent and a merchant; open mandates, merchant orders and the agent's closings. */
export function ap2World() {
  const root = freshParty('provider-key-1');
  const agent = freshParty();
  const merchant = freshParty('merchant-key-1');
  const open = (kind: 'checkout' | 'payment', constraints: unknown[]) =>
    issueAp2OpenMandate({ issuer: root.issuer, kind, agent: { jwk: agent.publicJwk }, now: new Date(T0 * 1000), expiresIn: 3600, constraints: constraints as never });
  const openCheckout = () =>
    open('checkout', [
      { type: 'checkout.line_items', items: [{ id: 'line_1', acceptable_items: [{ id: 'shoe-9', title: 'SuperShoe 9' }], quantity: 1 }] },
      { type: 'checkout.allowed_merchants', allowed: [AP2_MERCHANT] },
    ]);
  /** An open payment mandate for `oc`'s checkouts, up to 200 USD each, with `extra` constraints. */
  const openPayment = (oc: string, extra: unknown[]) =>
    open('payment', [
      { type: 'payment.reference', conditional_transaction_id: hashAscii(oc) },
      { type: 'payment.amount_range', currency: 'USD', max: 20000, min: 0 },
      { type: 'payment.allowed_payees', allowed: [AP2_MERCHANT] },
      ...extra,
    ]);
  const order = (id: string, price: number) =>
    signCompact(
      { typ: 'JWT' },
      { order_id: id, merchant: AP2_MERCHANT, line_items: [{ id: 'line_1', item: { id: 'shoe-9', title: 'x', price }, quantity: 1 }], currency: 'USD' },
      merchant,
    );
  const at = new Date((T0 + 30) * 1000);
  const closeCheckout = (oc: string, co: string, nonce: string) =>
    closeAp2Mandate({ chain: oc, signer: agent.signer, mandate: { vct: 'mandate.checkout.1', checkout_jwt: co, checkout_hash: hashAscii(co) }, aud: 'merchant', nonce, now: at });
  const closePayment = (op: string, tx: string, cents: number, nonce: string) =>
    closeAp2Mandate({
      chain: op,
      signer: agent.signer,
      aud: 'psp',
      nonce,
      now: at,
      mandate: { vct: 'mandate.payment.1', transaction_id: tx, payee: AP2_MERCHANT, payment_amount: { amount: cents, currency: 'USD' }, payment_instrument: AP2_INSTRUMENT },
    });
  const trust = { issuers: [root.publicJwk], merchants: [merchant.publicJwk] };
  return { root, agent, merchant, open, openCheckout, openPayment, order, closeCheckout, closePayment, trust };
}

export interface ViWorld {
  issuer: Party;
  user: Party;
  agent: Party;
  merchant: Party;
  l1: string;
  /** A merchant-signed checkout of one BAB86345. */
  co: string;
}

/** Verifying a chain of `w`: its card issuer and merchant pinned, the paying layer's aud and nonce as viPay writes them; `over` adds or replaces. */
export const viVerifyOptions = (w: Pick<ViWorld, 'issuer' | 'merchant'>, over: Partial<VerifyMandateOptions> = {}): VerifyMandateOptions => ({
  profile: 'verifiable-intent',
  trust: { issuers: [w.issuer.publicJwk], merchants: [w.merchant.publicJwk] },
  now: NOW,
  paymentAud: 'https://network.example.com',
  paymentNonce: 'n-l3a',
  ...over,
});

/** A VI card issuer, user, agent and merchant, the user's L1 and one merchant checkout. */
export async function viWorld(): Promise<ViWorld> {
  const issuer = freshParty('issuer-key-1');
  const user = freshParty();
  const agent = freshParty('agent-key-1');
  const merchant = freshParty('merchant-key-1');
  const l1 = await makeL1(issuer, user.publicJwk, { iat: T0 - 86400, exp: T0 + 365 * 86400, cardId: INSTRUMENT.id });
  const co = await checkoutJwt(merchant, { iat: T0, items: [{ id: 'BAB86345', quantity: 1 }], merchantObj: MERCHANTS[0] });
  return { issuer, user, agent, merchant, l1, co };
}

/** The user's autonomous L2 for its agent (aud agent.example.com, nonce n-l2): one racquet, 100-400 USD, a 5000 USD budget. */
export function viAutonomous(w: ViWorld, extraPaymentConstraints?: Record<string, unknown>[]): Promise<IssuedViIntent> {
  return issueViIntent({
    issuer: w.user.issuer,
    l1: w.l1,
    aud: 'https://agent.example.com',
    nonce: 'n-l2',
    now: new Date(T0 * 1000),
    autonomous: {
      agent: { jwk: w.agent.publicJwk, kid: w.agent.kid },
      instrument: INSTRUMENT,
      maxAmount: { amount: '400', currency: 'USD' },
      minAmount: { amount: '100', currency: 'USD' },
      payees: [MERCHANTS[0]!],
      merchants: MERCHANTS,
      budget: { amount: '5000', currency: 'USD' },
      lineItems: [{ id: 'line-1', acceptable: [{ id: 'BAB86345', title: 'Babolat Pure Aero' }], quantity: 1 }],
      ...(extraPaymentConstraints ? { extraPaymentConstraints } : {}),
    },
  });
}

/** The agent's L3a (aud network.example.com, nonce n-l3a) and L3b (aud shop.example, nonce n-l3b) paying `checkout`. */
export function viPay(w: ViWorld, intent: IssuedViIntent, checkout = w.co) {
  return issueViAction({
    signer: w.agent.signer,
    kid: w.agent.kid,
    iss: 'https://agent.example.com',
    intent,
    merchant: MERCHANTS[0]!,
    itemIds: ['BAB86345'],
    checkoutJwt: checkout,
    amount: { amount: '279.99', currency: 'USD' },
    instrument: INSTRUMENT,
    payment: { aud: 'https://network.example.com', nonce: 'n-l3a' },
    checkout: { aud: 'https://shop.example', nonce: 'n-l3b' },
    now: new Date(T0 * 1000),
  });
}
