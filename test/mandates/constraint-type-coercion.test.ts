import { describe, expect, it } from 'vitest';
import { closeAp2Mandate, issueAp2OpenMandate, verifyMandateChain } from '../../src/mandates/index.js';
import { freshParty } from './helpers.js';
import { NOW, T0, viAutonomous, viPay, viVerifyOptions, viWorld } from './worlds.js';

/**
 * A constraint whose `type` is not a string (an object with its own
 * non-callable toString, an array holding one, a number, null) is refused
 * as an unknown constraint (a decision with reasons), never a TypeError out
 * of the verifier: the per-constraint report must not coerce what the
 * checkers refused. The signer of the layer is honest-but-hostile here: the
 * user signs VI L2, the pinned root signs the AP2 open mandate.
 */
const POISON: unknown[] = [{ toString: 1 }, [{ toString: 1 }], { valueOf: 1, toString: 1 }, 42, null, true, ['a'], { type: 'x' }];

describe('VI: a constraint type that is not a string', () => {
  const chain = async (extra: unknown[]) => {
    const w = await viWorld();
    const intent = await viAutonomous(w, extra as Record<string, unknown>[]);
    return verifyMandateChain({ l1: w.l1, l2: intent.l2, ...(await viPay(w, intent)) }, viVerifyOptions(w, { aud: 'https://agent.example.com', nonce: 'n-l2' }));
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
