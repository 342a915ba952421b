import { describe, expect, it } from 'vitest';
import { hashAscii, issueViIntent, verifyMandateChain, type VerifyMandateOptions } from '../../src/mandates/index.js';
import { INSTRUMENT, MERCHANTS } from './helpers.js';
import { NOW, T0, viAutonomous, viPay, viWorld } from './worlds.js';

/*
 * Verifiable Intent: the layer that pays (L3a, or an L2 no L3 follows) is
 * checked against this verifier's aud and nonce, as AP2's closed mandates
 * are: a verifier that leaves either out gets NONCE_MISMATCH (not "ok" for a
 * layer closed for someone else, or replayed), unless it says
 * allowMissingNonce. L3b is closed for the merchant: checked when given.
 */

const codes = (d: { reasons: { code: string }[] }) => d.reasons.map((r) => r.code);

describe('VI: the paying layer is bound to this verifier', () => {
  it('autonomous: L3a without paymentAud or paymentNonce is NONCE_MISMATCH; with both, or allowMissingNonce, it verifies; L3b is checked when given', async () => {
    const w = await viWorld();
    const intent = await viAutonomous(w);
    const chain = { l1: w.l1, l2: intent.l2, ...(await viPay(w, intent)) };
    const base: VerifyMandateOptions = { profile: 'verifiable-intent', trust: { issuers: [w.issuer.publicJwk] }, now: NOW };
    const pay = { paymentAud: 'https://network.example.com', paymentNonce: 'n-l3a' };
    const run = async (o: Partial<VerifyMandateOptions>) => codes(await verifyMandateChain(chain, { ...base, ...o }));
    expect(await run({})).toEqual(['NONCE_MISMATCH']);
    expect(await run({ paymentAud: pay.paymentAud })).toEqual(['NONCE_MISMATCH']);
    expect(await run({ paymentNonce: pay.paymentNonce })).toEqual(['NONCE_MISMATCH']);
    expect(await run({ aud: 'https://agent.example.com', nonce: 'n-l2' })).toEqual(['NONCE_MISMATCH']);
    expect(await run(pay)).toEqual([]);
    expect(await run({ allowMissingNonce: true })).toEqual([]);
    // Given, each is checked: the payment's, and the merchant's L3b.
    expect(await run({ ...pay, paymentAud: 'https://other-psp.example' })).toEqual(['AUDIENCE_MISMATCH']);
    expect(await run({ ...pay, paymentNonce: 'replayed' })).toEqual(['NONCE_MISMATCH']);
    expect(await run({ ...pay, checkoutAud: 'https://shop.example', checkoutNonce: 'n-l3b' })).toEqual([]);
    expect(await run({ ...pay, checkoutAud: 'https://other-shop.example', checkoutNonce: 'n-l3b' })).toEqual(['AUDIENCE_MISMATCH']);
    expect(await run({ allowMissingNonce: true, paymentAud: 'https://other-psp.example', paymentNonce: 'n-l3a' })).toEqual(['AUDIENCE_MISMATCH']);
  });

  it('immediate: L2 (no L3 follows) without aud or nonce is NONCE_MISMATCH; with both, or allowMissingNonce, it verifies', async () => {
    const w = await viWorld();
    const im = await issueViIntent({
      issuer: w.user.issuer,
      l1: w.l1,
      aud: 'https://network.example.com',
      nonce: 'n-im',
      now: new Date(T0 * 1000),
      immediate: { checkoutJwt: w.co, instrument: INSTRUMENT, payee: MERCHANTS[0]!, amount: { amount: '279.99', currency: 'USD' } },
    });
    const base: VerifyMandateOptions = { profile: 'verifiable-intent', trust: { issuers: [w.issuer.publicJwk] }, now: NOW };
    const run = async (o: Partial<VerifyMandateOptions>) => codes(await verifyMandateChain({ l1: w.l1, l2: im.l2 }, { ...base, ...o }));
    expect(await run({})).toEqual(['NONCE_MISMATCH']);
    expect(await run({ aud: 'https://network.example.com' })).toEqual(['NONCE_MISMATCH']);
    expect(await run({ nonce: 'n-im' })).toEqual(['NONCE_MISMATCH']);
    expect(await run({ aud: 'https://network.example.com', nonce: 'n-im' })).toEqual([]);
    expect(await run({ allowMissingNonce: true })).toEqual([]);
    expect(await run({ aud: 'https://elsewhere.example', nonce: 'n-im' })).toEqual(['AUDIENCE_MISMATCH']);
  });
});

describe('VI: an open payment mandate names one checkout mandate (credential-format §4.5.3)', () => {
  it.each([
    ['naming a checkout mandate that was never presented', (own: string) => [{ type: 'mandate.payment.reference', conditional_transaction_id: hashAscii(`other ${own}`) }]],
    ['naming the checkout mandate of another intent of the same user', (own: string) => [{ type: 'mandate.payment.reference', conditional_transaction_id: own }]],
    ['with no conditional_transaction_id', () => [{ type: 'mandate.payment.reference' }]],
  ])('a second mandate.payment.reference %s: INVALID_CREDENTIAL', async (_, extra) => {
    const w = await viWorld();
    const opts: VerifyMandateOptions = { profile: 'verifiable-intent', trust: { issuers: [w.issuer.publicJwk] }, now: NOW, aud: 'https://agent.example.com', nonce: 'n-l2' };
    // An honest intent verifies; the reference it carries names a checkout mandate a copy can point at.
    const honest = await verifyMandateChain({ l1: w.l1, l2: (await viAutonomous(w)).l2 }, opts);
    expect(codes(honest)).toEqual([]);
    const ref = honest.constraints.find((c) => c.type === 'mandate.payment.reference')!;
    const own = String((ref.constraint as { conditional_transaction_id: string }).conditional_transaction_id);
    const d = await verifyMandateChain({ l1: w.l1, l2: (await viAutonomous(w, extra(own))).l2 }, opts);
    expect([d.ok, codes(d)]).toEqual([false, ['INVALID_CREDENTIAL']]);
  });
});
