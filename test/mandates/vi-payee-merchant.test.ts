import { describe, expect, it } from 'vitest';
import { createResolver } from '../../src/did/index.js';
import { guardMandatePayment } from '../../src/guard/transaction.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { issueViAction, issueViIntent, verifyMandateChain, type IssuedViIntent } from '../../src/mandates/index.js';
import { checkoutJwt, INSTRUMENT, MERCHANTS } from './helpers.js';
import { NOW, T0, viVerifyOptions, viWorld, type ViWorld } from './worlds.js';

/*
 * Verifiable Intent: the payment pays the merchant whose checkout it is for, as AP2 settles it
 * (CHECKOUT_MISMATCH). The checkout is the merchant's word (signed, pinned); the L3a payee the agent's.
 * Matching is VI's (constraints.md §4.3): by id when both have one, else by name and website.
 */

const [A, B] = [MERCHANTS[0]!, MERCHANTS[1]!];
const codes = (d: { reasons: { code: string }[] }) => d.reasons.map((r) => r.code);

/** An intent allowing both merchants as payees and checkout merchants: only the payee-merchant binding tells them apart. */
function intentForBoth(w: ViWorld): Promise<IssuedViIntent> {
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
      payees: [A, B],
      merchants: [A, B],
      budget: { amount: '5000', currency: 'USD' },
      lineItems: [{ id: 'line-1', acceptable: [{ id: 'BAB86345', title: 'Babolat Pure Aero' }], quantity: 1 }],
    },
  });
}

/** The agent pays `payee` for a checkout the merchant signed naming `merchant` (or none). */
async function pays(w: ViWorld, intent: IssuedViIntent, payee: typeof A, merchant: Record<string, unknown> | undefined, paymentAud = 'https://network.example.com') {
  const co = await checkoutJwt(w.merchant, { iat: T0, items: [{ id: 'BAB86345', quantity: 1 }], ...(merchant ? { merchantObj: merchant } : {}) });
  const action = await issueViAction({
    signer: w.agent.signer,
    kid: w.agent.kid,
    iss: 'https://agent.example.com',
    intent,
    merchant: payee,
    itemIds: ['BAB86345'],
    checkoutJwt: co,
    amount: { amount: '279.99', currency: 'USD' },
    instrument: INSTRUMENT,
    payment: { aud: paymentAud, nonce: 'n-l3a' },
    checkout: { aud: 'https://shop.example', nonce: 'n-l3b' },
    now: new Date(T0 * 1000),
  });
  return { l1: w.l1, l2: intent.l2, ...action };
}

describe("VI autonomous: the L3a payee must be the merchant-signed checkout's merchant", () => {
  it("merchant A's checkout, paid to B (both allowed by the user): CHECKOUT_MISMATCH; paid to A: ok", async () => {
    const w = await viWorld();
    const intent = await intentForBoth(w);
    const bad = await verifyMandateChain(await pays(w, intent, B, A), viVerifyOptions(w));
    expect(codes(bad)).toEqual(['CHECKOUT_MISMATCH']);
    expect(bad.reasons[0]!.ref).toBe('L3a (payment)');
    expect(codes(await verifyMandateChain(await pays(w, intent, A, A), viVerifyOptions(w)))).toEqual([]);
    // and the other way round
    expect(codes(await verifyMandateChain(await pays(w, intent, A, B), viVerifyOptions(w)))).toEqual(['CHECKOUT_MISMATCH']);
  });

  it.each([
    ["B's id beside A's name and website", { id: B.id, name: A.name, website: A.website }],
    ["A's id in another case", { id: A.id.toUpperCase(), name: A.name, website: A.website }],
    ["B's name and website, no id", { name: B.name, website: B.website }],
    ["A's name with B's website, no id", { name: A.name, website: B.website }],
    ["A's website only, no id and no name", { website: A.website }],
    ['an empty merchant object', {}],
  ])('the checkout names %s, the payee is A: CHECKOUT_MISMATCH', async (_, merchant) => {
    const w = await viWorld();
    const intent = await intentForBoth(w);
    expect(codes(await verifyMandateChain(await pays(w, intent, A, merchant), viVerifyOptions(w)))).toEqual(['CHECKOUT_MISMATCH']);
  });

  it('a checkout naming A by id only, or by name and website only, is paid to A and not to B', async () => {
    const w = await viWorld();
    const intent = await intentForBoth(w);
    for (const merchant of [{ id: A.id }, { name: A.name, website: A.website }]) {
      expect(codes(await verifyMandateChain(await pays(w, intent, A, merchant), viVerifyOptions(w)))).toEqual([]);
      expect(codes(await verifyMandateChain(await pays(w, intent, B, merchant), viVerifyOptions(w)))).toEqual(['CHECKOUT_MISMATCH']);
    }
  });

  it("through the guard (the review probe): the guard names payee B, the checkout is A's: 403 CHECKOUT_MISMATCH and the payment never runs", async () => {
    const w = await viWorld();
    const intent = await intentForBoth(w);
    const store = await openSqliteStore(':memory:');
    try {
      const verifier = createVerifier({ aud: 'https://psp.example', store, resolver: createResolver(), http: false });
      let ran = 0;
      const trust = { issuers: [w.issuer.publicJwk], merchants: [w.merchant.publicJwk] };
      const request = { verifier, profile: 'verifiable-intent' as const, trust, now: NOW, amount: '279.99 USD' };
      const r = await guardMandatePayment(await pays(w, intent, B, A, 'https://psp.example'), { ...request, payee: B.id }, () => ran++);
      expect(r).toMatchObject({ ok: false, status: 403 });
      expect(r.ok ? [] : r.reasons.map((x) => x.code)).toEqual(['CHECKOUT_MISMATCH']);
      expect(ran).toBe(0);
    } finally {
      await store.close();
    }
  });
});

describe("VI immediate: the user's payee must be the merchant-signed checkout's merchant", () => {
  it("A's checkout with B as payee: CHECKOUT_MISMATCH; with A: ok", async () => {
    const w = await viWorld();
    const co = await checkoutJwt(w.merchant, { iat: T0, items: [{ id: 'BAB86345', quantity: 1 }], merchantObj: A });
    const decide = async (payee: typeof A) => {
      const im = await issueViIntent({
        issuer: w.user.issuer,
        l1: w.l1,
        aud: 'https://network.example.com',
        nonce: 'n-im',
        now: new Date(T0 * 1000),
        immediate: { checkoutJwt: co, instrument: INSTRUMENT, payee, amount: { amount: '279.99', currency: 'USD' } },
      });
      return verifyMandateChain({ l1: w.l1, l2: im.l2 }, viVerifyOptions(w, { aud: 'https://network.example.com', nonce: 'n-im' }));
    };
    const bad = await decide(B);
    expect(codes(bad)).toEqual(['CHECKOUT_MISMATCH']);
    expect(bad.reasons[0]!.ref).toBe('L2');
    expect(codes(await decide(A))).toEqual([]);
  });
});
