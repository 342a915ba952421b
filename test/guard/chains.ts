import { randomUUID } from 'node:crypto';
import { closeAp2Mandate, hashAscii, issueAp2OpenMandate, issueViAction, issueViIntent, type IssuedViIntent, type ViChainInput } from '../../src/mandates/index.js';
import { checkoutJwt, freshParty, INSTRUMENT, makeL1, MERCHANTS, signCompact, type Party } from '../mandates/helpers.js';

/**
 * Payment mandate chains for the guard tests, built at run time through the
 * library's issuing side (VI: an L1 from a pinned card issuer, the user's L2,
 * the agent's L3; AP2: a root open mandate, the agent's closed ones), every
 * payment bound to the guard's `aud` with a fresh nonce.
 */
export interface ViWorld {
  issuer: Party;
  user: Party;
  agent: Party;
  merchant: Party;
  l1: string;
}

export async function viWorld(now: Date): Promise<ViWorld> {
  const t = Math.floor(now.getTime() / 1000);
  const issuer = freshParty('issuer-key-1');
  const user = freshParty();
  const agent = freshParty('agent-key-1');
  const merchant = freshParty('merchant-key-1');
  return { issuer, user, agent, merchant, l1: await makeL1(issuer, user.publicJwk, { iat: t - 86400, exp: t + 365 * 86400, cardId: INSTRUMENT.id }) };
}

export function viIntent(w: ViWorld, now: Date, extra: Partial<NonNullable<Parameters<typeof issueViIntent>[0]['autonomous']>> = {}): Promise<IssuedViIntent> {
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
      payees: [MERCHANTS[0]!],
      merchants: MERCHANTS,
      lineItems: [{ id: 'line-1', acceptable: [{ id: 'BAB86345', title: 'Babolat Pure Aero' }], quantity: 1 }],
      ...extra,
    },
  });
}

/** The agent's payment under an intent: L3a for `aud` (the guard) with a fresh nonce, L3b for the merchant. */
export async function viPayment(w: ViWorld, intent: IssuedViIntent, o: { amount: string; aud: string; now: Date; nonce?: string; signer?: Party }): Promise<ViChainInput> {
  const jwt = await checkoutJwt(w.merchant, { iat: Math.floor(o.now.getTime() / 1000), items: [{ id: 'BAB86345', quantity: 1 }], merchantObj: MERCHANTS[0] });
  const action = await issueViAction({
    signer: (o.signer ?? w.agent).signer,
    kid: w.agent.kid,
    iss: 'https://agent.example.com',
    intent,
    merchant: MERCHANTS[0]!,
    itemIds: ['BAB86345'],
    checkoutJwt: jwt,
    amount: { amount: o.amount, currency: 'USD' },
    instrument: INSTRUMENT,
    payment: { aud: o.aud, nonce: o.nonce ?? randomUUID() },
    checkout: { aud: 'https://tennis-warehouse.com', nonce: 'n-merchant' },
    now: o.now,
  });
  return { l1: w.l1, l2: intent.l2, ...action };
}

export const AP2_MERCHANT = { id: 'merchant_1', name: 'Demo Merchant', website: 'https://demo-merchant.example' };
const AP2_INSTRUMENT = { id: 'b3f1c8a2', type: 'card', description: 'Card 4444' };

export interface Ap2World {
  root: Party;
  agent: Party;
  merchant: Party;
  /** The root's open payment and checkout mandates (signed once; every payment closes them again). */
  openPayment: string;
  openCheckout: string;
}

/** An AP2 user (root) delegating to an agent: at most 200 USD a payment, 1,000 USD over the mandate's life, reusable (agent_recurrence). */
export async function ap2World(now: Date, budgetMajor = 1000): Promise<Ap2World> {
  const root = freshParty();
  const agent = freshParty();
  const merchant = freshParty();
  const openCheckout = await issueAp2OpenMandate({
    issuer: root.issuer,
    kind: 'checkout',
    agent: { jwk: agent.publicJwk },
    constraints: [
      { type: 'checkout.line_items', items: [{ id: 'line_1', acceptable_items: [{ id: 'shoe-9', title: 'SuperShoe 9' }], quantity: 1 }] },
      { type: 'checkout.allowed_merchants', allowed: [AP2_MERCHANT] },
    ],
    now,
    expiresIn: 86400,
  });
  const openPayment = await issueAp2OpenMandate({
    issuer: root.issuer,
    kind: 'payment',
    agent: { jwk: agent.publicJwk },
    constraints: [
      { type: 'payment.reference', conditional_transaction_id: hashAscii(openCheckout) },
      { type: 'payment.amount_range', currency: 'USD', max: 20000, min: 0 },
      { type: 'payment.allowed_payees', allowed: [AP2_MERCHANT] },
      { type: 'payment.budget', max: budgetMajor, currency: 'USD' },
      // AP2: without agent_recurrence an open payment mandate pays once; with it, as often as the budget allows.
      { type: 'payment.agent_recurrence', frequency: 'ON_DEMAND' },
    ],
    now,
    expiresIn: 86400,
  });
  return { root, agent, merchant, openPayment, openCheckout };
}

/** One purchase: a fresh merchant checkout, the agent's closed checkout (for the merchant) and closed payment (for `aud`). */
export async function ap2Payment(w: Ap2World, o: { minor: number; aud: string; now: Date; nonce?: string }): Promise<{ payment: string; checkout: string }> {
  const checkout = await signCompact(
    { typ: 'JWT' },
    { order_id: randomUUID(), merchant: AP2_MERCHANT, line_items: [{ id: 'line_1', item: { id: 'shoe-9', title: 'shoe-9', price: o.minor }, quantity: 1 }], currency: 'USD' },
    w.merchant,
  );
  const hash = hashAscii(checkout);
  return {
    checkout: await closeAp2Mandate({
      chain: w.openCheckout,
      signer: w.agent.signer,
      mandate: { vct: 'mandate.checkout.1', checkout_jwt: checkout, checkout_hash: hash },
      aud: 'merchant',
      nonce: 'n-merchant',
      now: o.now,
    }),
    payment: await closeAp2Mandate({
      chain: w.openPayment,
      signer: w.agent.signer,
      mandate: { vct: 'mandate.payment.1', transaction_id: hash, payee: AP2_MERCHANT, payment_amount: { amount: o.minor, currency: 'USD' }, payment_instrument: AP2_INSTRUMENT },
      aud: o.aud,
      nonce: o.nonce ?? randomUUID(),
      now: o.now,
    }),
  };
}
