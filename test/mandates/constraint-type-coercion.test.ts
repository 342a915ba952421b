import { describe, expect, it } from 'vitest';
import { closeAp2Mandate, issueAp2OpenMandate, issueViAction, issueViIntent, verifyMandateChain } from '../../src/mandates/index.js';
import { checkoutJwt, freshParty, INSTRUMENT, makeL1, MERCHANTS } from './helpers.js';

/**
 * A constraint whose `type` is not a string (an object with its own
 * non-callable toString, an array holding one, a number, null) is refused
 * as an unknown constraint (a decision with reasons), never a TypeError out
 * of the verifier: the per-constraint report must not coerce what the
 * checkers refused. The signer of the layer is honest-but-hostile here: the
 * user signs VI L2, the pinned root signs the AP2 open mandate.
 */
const T0 = 1_800_000_000;
const NOW = new Date((T0 + 60) * 1000);
const POISON: unknown[] = [{ toString: 1 }, [{ toString: 1 }], { valueOf: 1, toString: 1 }, 42, null, true, ['a'], { type: 'x' }];

describe('VI: a constraint type that is not a string', () => {
  const issuer = freshParty('issuer-key-1');
  const user = freshParty();
  const agent = freshParty('agent-key-1');
  const merchant = freshParty('merchant-key-1');
  const chain = async (extra: unknown[]) => {
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
        payees: [MERCHANTS[0]!],
        merchants: MERCHANTS,
        lineItems: [{ id: 'line-1', acceptable: [{ id: 'BAB86345', title: 'B' }], quantity: 1 }],
        extraPaymentConstraints: extra as Record<string, unknown>[],
      },
    });
    const co = await checkoutJwt(merchant, { iat: T0, items: [{ id: 'BAB86345', quantity: 1 }], merchantObj: MERCHANTS[0] });
    const act = await issueViAction({
      signer: agent.signer,
      kid: agent.kid,
      iss: 'https://agent.example.com',
      intent,
      merchant: MERCHANTS[0]!,
      itemIds: ['BAB86345'],
      checkoutJwt: co,
      amount: { amount: '279.99', currency: 'USD' },
      instrument: INSTRUMENT,
      payment: { aud: 'https://network.example.com', nonce: 'n-l3a' },
      checkout: { aud: 'https://tennis-warehouse.com', nonce: 'n-l3b' },
      now: new Date(T0 * 1000),
    });
    return verifyMandateChain(
      { l1, l2: intent.l2, ...act },
      {
        profile: 'verifiable-intent',
        trust: { issuers: [issuer.publicJwk] },
        now: NOW,
        aud: 'https://agent.example.com',
        nonce: 'n-l2',
        paymentAud: 'https://network.example.com',
        paymentNonce: 'n-l3a',
        checkoutAud: 'https://tennis-warehouse.com',
        checkoutNonce: 'n-l3b',
      },
    );
  };

  it('the control: the chain without it verifies', async () => {
    expect((await chain([])).reasons).toEqual([]);
  });

  it.each(POISON.map((p) => [JSON.stringify(p), p]))('type %s: refused as a decision, never thrown', async (_, type) => {
    const d = await chain([{ type }]);
    expect(d.ok).toBe(false);
    expect(d.reasons.length).toBeGreaterThan(0);
    for (const c of d.constraints) expect(typeof c.type).toBe('string');
  });
});

describe('AP2: a constraint type that is not a string', () => {
  const root = freshParty('provider-key-1');
  const agent = freshParty();
  const MERCHANT = { id: 'm-1', name: 'Shop', website: 'https://shop.example' };
  const chain = async (extra: unknown[]) => {
    const op = await issueAp2OpenMandate({
      issuer: root.issuer,
      kind: 'payment',
      agent: { jwk: agent.publicJwk },
      constraints: [{ type: 'payment.amount_range', currency: 'USD', max: 50000 }, { type: 'payment.reference', conditional_transaction_id: 'abc' }, ...(extra as never[])],
      now: new Date(T0 * 1000),
      expiresIn: 3600,
    });
    const closed = {
      vct: 'mandate.payment.1',
      transaction_id: 'tx-1',
      payee: MERCHANT,
      payment_amount: { amount: 19900, currency: 'USD' },
      payment_instrument: { type: 'card', id: 'i-1', description: 'x' },
    };
    const payment = await closeAp2Mandate({ chain: op, signer: agent.signer, mandate: closed, aud: 'psp', nonce: 'n-psp', now: new Date((T0 + 30) * 1000) });
    return verifyMandateChain(
      { payment },
      { profile: 'ap2', trust: { issuers: [root.publicJwk] }, now: NOW, paymentAud: 'psp', paymentNonce: 'n-psp', checkoutHash: 'tx-1', openCheckoutHash: 'abc' },
    );
  };

  it('the control: the chain without it verifies', async () => {
    expect((await chain([])).reasons).toEqual([]);
  });

  it.each(POISON.map((p) => [JSON.stringify(p), p]))('type %s: refused as a decision, never thrown', async (_, type) => {
    const d = await chain([{ type }]);
    expect(d.ok).toBe(false);
    for (const c of d.constraints) expect(typeof c.type).toBe('string');
  });
});
