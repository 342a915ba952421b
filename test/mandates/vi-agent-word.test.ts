import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { issueViIntent, verifyMandateChain, viPresentation } from '../../src/mandates/index.js';
import { disclose, ref, sdJwt } from '../../src/mandates/issue-common.js';
import { hashAscii } from '../../src/mandates/sd.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { guardMandatePayment } from '../../src/guard/transaction.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { tempDir } from '../helpers.js';
import { checkoutJwt, freshParty, INSTRUMENT, makeL1, MERCHANTS } from './helpers.js';

/**
 * The closing layers (L3a, L3b) are the agent's word. Nothing in them may
 * stand in for what the user signed (L2) or the merchant signed (the
 * checkout JWT): an allow-list of its own, a payee list the agent withheld,
 * line items of its own, or a checkout other than the one the caller pays.
 */
const T0 = Math.floor(Date.now() / 1000);
const issuer = freshParty('issuer-key-1');
const user = freshParty();
const agent = freshParty('agent-key-1');
const merchant = freshParty('merchant-key-1');
const EVIL = { id: 'evil-merchant', name: 'Evil Shop', website: 'https://evil.example' };
const AUD = 'https://psp.example';
const MAUD = 'https://tennis-warehouse.com';
const codes = (d: { reasons: { code: string }[] }) => d.reasons.map((r) => r.code);

async function intent() {
  const l1 = await makeL1(issuer, user.publicJwk, { iat: T0 - 86_400, exp: T0 + 365 * 86_400, cardId: INSTRUMENT.id });
  const it = await issueViIntent({
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
      lineItems: [{ id: 'line-1', acceptable: [{ id: 'BAB86345', title: 'Babolat Pure Aero' }], quantity: 1 }],
    },
  });
  return { l1, it };
}

const closing = (aud: string, nonce: string, view: string, discs: ReturnType<typeof disclose>[]) =>
  sdJwt(
    { typ: 'kb-sd-jwt' },
    { nonce, aud, sd_hash: hashAscii(view), iat: T0, exp: T0 + 300, iss: 'https://agent.example.com', delegate_payload: discs.map(ref), _sd_alg: 'sha-256' },
    discs,
    agent.signer,
    agent.kid,
  );

async function payment(o: { payee: Record<string, unknown>; extra?: Record<string, unknown>; withheld?: boolean; nonce: string }) {
  const { l1, it } = await intent();
  const view = viPresentation(it.base, o.withheld ? [it.disclosures.payment] : [it.disclosures.payment, ...it.disclosures.merchants]);
  const jwt = await checkoutJwt(merchant, { iat: T0, items: [{ id: 'BAB86345', quantity: 1 }], merchantObj: o.payee });
  const pay = disclose({
    vct: 'mandate.payment.1',
    transaction_id: hashAscii(jwt),
    payee: o.payee,
    payment_amount: { currency: 'USD', amount: 30_000 },
    payment_instrument: INSTRUMENT,
    ...o.extra,
  });
  return { chain: { l1, l2: o.withheld ? view : it.l2, l3_payment: await closing(AUD, o.nonce, view, [pay]), l2_payment_serialized: view }, checkoutHash: hashAscii(jwt) };
}

const opts = (nonce: string) => ({ profile: 'verifiable-intent' as const, trust: { issuers: [issuer.publicJwk] }, paymentAud: AUD, paymentNonce: nonce });

async function guard(chain: Awaited<ReturnType<typeof payment>>['chain'], extra: Record<string, unknown> = {}) {
  const store = await openSqliteStore(join(tempDir('charter-vi-agent-'), 'g.db'));
  try {
    const verifier = createVerifier({ aud: AUD, store, http: false });
    let ran = 0;
    const r = await guardMandatePayment(
      chain,
      { verifier, profile: 'verifiable-intent', trust: { issuers: [issuer.publicJwk], merchants: [merchant.publicJwk] }, ...extra },
      () => ran++,
    );
    return { r, ran };
  } finally {
    await store.close();
  }
}

describe("Verifiable Intent: the agent's closing layers never widen what the user or the merchant signed", () => {
  it("the guard's payee is the payee's id when it has one: a website the agent wrote beside the allowed id names no one", async () => {
    const payee = { id: 'merchant-uuid-1', name: 'Tennis Warehouse', website: 'https://evil.example' };
    for (const [asked, ok] of [
      ['https://evil.example', false],
      ['https://tennis-warehouse.com', false],
      ['merchant-uuid-1', true],
    ] as const) {
      const { chain } = await payment({ payee, nonce: `p-${asked}` });
      const g = await guard(chain, { amount: '300 USD', payee: asked });
      const why = 'reasons' in g.r ? codes(g.r as { reasons: { code: string }[] }) : [];
      expect([asked, g.r.ok, g.ran, why]).toEqual([asked, ok, ok ? 1 : 0, ok ? [] : ['COUNTERPARTY_NOT_ALLOWED']]);
    }
    // A payee with no id is known by its website.
    const { chain } = await payment({ payee: { name: 'Tennis Warehouse', website: 'https://tennis-warehouse.com' }, nonce: 'p-web' });
    const d = await verifyMandateChain(chain, opts('p-web'));
    if (d.ok) {
      const { chain: again } = await payment({ payee: { name: 'Tennis Warehouse', website: 'https://tennis-warehouse.com' }, nonce: 'p-web-g' });
      expect((await guard(again, { amount: '300 USD', payee: 'https://tennis-warehouse.com' })).r.ok).toBe(true);
    }
  });

  it("an allowed_merchants list the agent adds to its own L3a is not the user's allow-list", async () => {
    for (const extra of [{ allowed_merchants: [EVIL] }, { allowed_merchants: [EVIL, MERCHANTS[0]] }, {}]) {
      const { chain } = await payment({ payee: EVIL, extra, nonce: 'n1' });
      const d = await verifyMandateChain(chain, opts('n1'));
      expect(codes(d)).toContain('COUNTERPARTY_NOT_ALLOWED');
      expect(d.constraints.find((c) => c.type === 'mandate.payment.allowed_payees')?.status).toBe('violated');
      const { chain: again } = await payment({ payee: EVIL, extra, nonce: 'n-g' });
      const g = await guard(again, { amount: '300 USD', payee: 'evil-merchant' });
      expect([g.r.ok, g.ran]).toEqual([false, 0]);
    }
    // The control: the user's own payee is paid.
    const { chain } = await payment({ payee: MERCHANTS[0]!, nonce: 'n1' });
    expect(codes(await verifyMandateChain(chain, opts('n1')))).toEqual([]);
  });

  it('an allow-list the agent withheld entirely allows nobody (as in AP2), however the payee is named', async () => {
    for (const payee of [EVIL, MERCHANTS[0]!]) {
      const { chain } = await payment({ payee, withheld: true, nonce: 'n1' });
      const d = await verifyMandateChain(chain, opts('n1'));
      expect(d.ok).toBe(false);
      expect(codes(d)).toContain('COUNTERPARTY_NOT_ALLOWED');
      const { chain: again } = await payment({ payee, withheld: true, nonce: 'n-g' });
      const g = await guard(again, { amount: '300 USD', payee: String(payee.id) });
      expect([g.r.ok, g.ran]).toEqual([false, 0]);
    }
  });

  it("the L3b's own line_items never replace the merchant-signed checkout's: they must agree, and the checkout's are what is checked", async () => {
    const { l1, it } = await intent();
    const jwt = await checkoutJwt(merchant, { iat: T0, items: [{ id: 'GOLD-WATCH', quantity: 3 }], merchantObj: MERCHANTS[0] });
    const h = hashAscii(jwt);
    const payView = viPresentation(it.base, [it.disclosures.payment, it.disclosures.merchants[0]!]);
    const coView = viPresentation(it.base, [it.disclosures.checkout, ...it.disclosures.items]);
    const build = async (lines: unknown, nonce: string) => {
      const pay = disclose({
        vct: 'mandate.payment.1',
        transaction_id: h,
        payee: MERCHANTS[0],
        payment_amount: { currency: 'USD', amount: 29_999 },
        payment_instrument: INSTRUMENT,
      });
      const co = disclose({ vct: 'mandate.checkout.1', checkout_jwt: jwt, checkout_hash: h, ...(lines !== undefined ? { line_items: lines } : {}) });
      return {
        l1,
        l2: it.l2,
        l3_payment: await closing(AUD, nonce, payView, [pay]),
        l3_checkout: await closing(MAUD, 'n-m', coView, [co]),
        l2_payment_serialized: payView,
        l2_checkout_serialized: coView,
      };
    };
    const o = { ...opts('n1'), trust: { issuers: [issuer.publicJwk], merchants: [merchant.publicJwk] }, checkoutAud: MAUD, checkoutNonce: 'n-m' };
    for (const lines of [undefined, [{ id: 'BAB86345', quantity: 1 }], [{ id: 'GOLD-WATCH', quantity: 1 }]]) {
      const d = await verifyMandateChain(await build(lines, 'n1'), o);
      expect([lines, d.ok]).toEqual([lines, false]);
      expect(codes(d)).toContain('CONSTRAINT_VIOLATED');
      const g = await guard(await build(lines, 'n-g'));
      expect([g.r.ok, g.ran]).toEqual([false, 0]);
    }
  });

  it('checkoutHash is held for VI as for AP2: a payment for another checkout is CHECKOUT_MISMATCH', async () => {
    const { chain } = await payment({ payee: MERCHANTS[0]!, nonce: 'n-g' });
    const g = await guard(chain, { amount: '300 USD', checkoutHash: hashAscii('another checkout') });
    expect([g.r.ok, g.ran, g.r.ok ? [] : codes(g.r)]).toEqual([false, 0, ['CHECKOUT_MISMATCH']]);
    const { chain: same, checkoutHash } = await payment({ payee: MERCHANTS[0]!, nonce: 'n-g2' });
    const ok = await guard(same, { amount: '300 USD', checkoutHash });
    expect([ok.r.ok, ok.ran]).toEqual([true, 1]);
  });
});
