import { describe, expect, it } from 'vitest';
import { closeAp2Mandate, hashAscii, issueAp2OpenMandate, verifyMandateChain, type VerifyMandateOptions } from '../../src/mandates/index.js';
import { disclose, ref, sdJwt } from '../../src/mandates/issue-common.js';
import { ap2World, AP2_MERCHANT, NOW, T0 } from './worlds.js';

/**
 * What an AP2 v0.2 open mandate may carry: the members of its schema
 * (open_payment_mandate.json, open_checkout_mandate.json) and the registered
 * claims the verifier reads. A member the user signed and the verifier
 * ignored (a `max_amount`, a mandate-level `allowed_payees`, a preset `pisp`)
 * would read as no restriction: Charter's issuer refuses to sign one, the
 * verifier refuses one (UNKNOWN_CONSTRAINT), and a preset `pisp` binds the
 * closed mandate like every other preset.
 */
const codes = (d: { reasons: { code: string }[] }) => d.reasons.map((r) => r.code);
const PISP_A = { domain_name: 'pisp-a.example', legal_name: 'PISP A Ltd', brand_name: 'A' };
const PISP_B = { domain_name: 'evil-pisp.example', legal_name: 'Evil Ltd', brand_name: 'E' };
const INSTRUMENT = { id: 'b3f1c8a2', type: 'card', description: 'Card 4444' };
const AT = new Date((T0 + 30) * 1000);
const opts: VerifyMandateOptions = {
  profile: 'ap2',
  trust: { issuers: [] },
  now: NOW,
  paymentAud: 'psp',
  paymentNonce: 'n-psp',
  checkoutAud: 'merchant',
  checkoutNonce: 'n-merchant',
};

type World = ReturnType<typeof ap2World>;
const paymentConstraints = (oc: string) => [
  { type: 'payment.reference', conditional_transaction_id: hashAscii(oc) },
  { type: 'payment.amount_range', currency: 'USD', max: 20000, min: 0 },
];
const checkoutConstraints = [{ type: 'checkout.line_items', items: [{ id: 'line_1', acceptable_items: [{ id: 'shoe-9', title: 'SuperShoe 9' }], quantity: 1 }] }];

/** An open mandate signed by the world's root as the AP2 SDK writes it (in delegate_payload), or with the mandate as the payload itself. */
async function rawOpen(w: World, mandate: Record<string, unknown>, form: 'delegate' | 'payload' = 'delegate'): Promise<string> {
  const full = { cnf: { jwk: w.agent.publicJwk }, iat: T0, exp: T0 + 3600, ...mandate };
  if (form === 'payload') return sdJwt({ typ: 'dc+sd-jwt' }, { iss: w.root.issuer.did, ...full, _sd_alg: 'sha-256' }, [], w.root.signer, w.root.kid);
  const m = disclose(full);
  return sdJwt({ typ: 'dc+sd-jwt' }, { iss: w.root.issuer.did, iat: T0, delegate_payload: [ref(m)], _sd_alg: 'sha-256' }, [m], w.root.signer, w.root.kid);
}

/** Pays order o1 (199 USD) under the open payment mandate `op` for the open checkout `oc`; `closed` adds to the closed payment mandate. */
async function pay(w: World, oc: string, op: string, closed: Record<string, unknown> = {}) {
  const order = await w.order('o1', 19900);
  const checkout = await w.closeCheckout(oc, order, 'n-merchant');
  const payment = await closeAp2Mandate({
    chain: op,
    signer: w.agent.signer,
    aud: 'psp',
    nonce: 'n-psp',
    now: AT,
    mandate: {
      vct: 'mandate.payment.1',
      transaction_id: hashAscii(order),
      payee: AP2_MERCHANT,
      payment_amount: { amount: 19900, currency: 'USD' },
      payment_instrument: INSTRUMENT,
      ...closed,
    },
  });
  return verifyMandateChain({ payment, checkout }, { ...opts, trust: w.trust });
}

const issuePayment = (w: World, oc: string, preset?: unknown) =>
  issueAp2OpenMandate({
    issuer: w.root.issuer,
    kind: 'payment',
    agent: { jwk: w.agent.publicJwk },
    now: new Date(T0 * 1000),
    expiresIn: 3600,
    constraints: paymentConstraints(oc),
    ...(preset !== undefined ? { preset: preset as Record<string, unknown> } : {}),
  });

describe('AP2: a preset pisp binds the closed payment mandate', () => {
  it('the same PISP: accepted, and the decision reports it', async () => {
    const w = ap2World();
    const oc = await w.openCheckout();
    const d = await pay(w, oc, await issuePayment(w, oc, { pisp: PISP_A }), { pisp: PISP_A });
    expect(codes(d)).toEqual([]);
    expect(d.payment?.pisp).toEqual(PISP_A);
  });

  it('the same PISP with its members in another order: accepted', async () => {
    const w = ap2World();
    const oc = await w.openCheckout();
    const d = await pay(w, oc, await issuePayment(w, oc, { pisp: PISP_A }), { pisp: { brand_name: 'A', legal_name: 'PISP A Ltd', domain_name: 'pisp-a.example' } });
    expect(codes(d)).toEqual([]);
  });

  it('another PISP, none, one with a changed member or an extra one: CONSTRAINT_VIOLATED', async () => {
    const w = ap2World();
    const oc = await w.openCheckout();
    const op = await issuePayment(w, oc, { pisp: PISP_A });
    for (const closed of [{ pisp: PISP_B }, {}, { pisp: { ...PISP_A, domain_name: 'pisp-a.example.evil' } }, { pisp: { ...PISP_A, account: 'x' } }]) {
      const d = await pay(w, oc, op, closed);
      expect(d.ok).toBe(false);
      expect(codes(d)).toEqual(['CONSTRAINT_VIOLATED']);
      expect(d.reasons[0]!.message).toMatch(/PISP/);
    }
  });

  it('a closed pisp that is not an object: INVALID_CREDENTIAL; with no preset an object pisp is the agent’s choice, reported', async () => {
    const w = ap2World();
    const oc = await w.openCheckout();
    const op = await issuePayment(w, oc);
    for (const pisp of ['pisp-a.example', ['pisp-a.example'], 1]) expect(codes(await pay(w, oc, op, { pisp }))).toEqual(['INVALID_CREDENTIAL']);
    const d = await pay(w, oc, op, { pisp: PISP_B });
    expect(codes(d)).toEqual([]);
    expect(d.payment?.pisp).toEqual(PISP_B);
    expect((await pay(w, oc, op)).payment).not.toHaveProperty('pisp');
  });

  it('a hand-written open mandate with a preset pisp is enforced as well', async () => {
    const w = ap2World();
    const oc = await w.openCheckout();
    const op = await rawOpen(w, { vct: 'mandate.payment.open.1', constraints: paymentConstraints(oc), pisp: PISP_A });
    expect(codes(await pay(w, oc, op, { pisp: PISP_A }))).toEqual([]);
    expect(codes(await pay(w, oc, op, { pisp: PISP_B }))).toEqual(['CONSTRAINT_VIOLATED']);
  });
});

describe('AP2: issueAp2OpenMandate signs only the presets of the schema', () => {
  it('unknown members, and members the issuer writes itself, are refused (INVALID_ARGUMENT)', async () => {
    const w = ap2World();
    const oc = await w.openCheckout();
    for (const preset of [
      { max_amount: { amount: 100, currency: 'USD' } },
      { allowed_payees: [{ id: 'someone_else', name: 'x' }] },
      { payee: AP2_MERCHANT, max_amount: { amount: 100, currency: 'USD' } },
      { cnf: { jwk: w.root.publicJwk } },
      { vct: 'mandate.payment.1' },
      { constraints: [] },
      { iat: T0 + 10 },
      { exp: T0 + 10 ** 9 },
      JSON.parse('{"__proto__": {"payee": {"id": "merchant_1", "name": "x"}}}') as Record<string, unknown>,
    ]) {
      await expect(issuePayment(w, oc, preset), JSON.stringify(preset)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
  });

  it('presets of the wrong shape are refused (INVALID_ARGUMENT)', async () => {
    const w = ap2World();
    const oc = await w.openCheckout();
    for (const preset of [
      { payee: [{ id: 'someone_else' }] },
      { payee: {} },
      { payee: { id: '', name: 'x' } },
      { payee: 'merchant_1' },
      { payment_amount: 100 },
      { payment_amount: { amount: '100', currency: 'USD' } },
      { payment_amount: { amount: 1.5, currency: 'USD' } },
      { payment_instrument: { id: 'x' } },
      { pisp: 'pisp-a.example' },
      { pisp: {} },
      { execution_date: 1 },
      { risk_data: 'low' },
      null,
      [],
      'payee',
    ]) {
      await expect(issuePayment(w, oc, preset), JSON.stringify(preset)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
  });

  it('an open checkout mandate has no presets', async () => {
    const w = ap2World();
    for (const preset of [{ payee: AP2_MERCHANT }, { max_quantity: 1 }]) {
      await expect(
        issueAp2OpenMandate({ issuer: w.root.issuer, kind: 'checkout', agent: { jwk: w.agent.publicJwk }, constraints: checkoutConstraints, preset }),
      ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    await expect(
      issueAp2OpenMandate({ issuer: w.root.issuer, kind: 'checkout', agent: { jwk: w.agent.publicJwk }, constraints: checkoutConstraints, preset: {} }),
    ).resolves.toMatch(/~$/);
  });

  it('every schema preset is still signed and enforced', async () => {
    const w = ap2World();
    const oc = await w.openCheckout();
    const preset = {
      payee: AP2_MERCHANT,
      payment_amount: { amount: 19900, currency: 'USD' },
      payment_instrument: INSTRUMENT,
      pisp: PISP_A,
      execution_date: '2020-01-01',
      risk_data: { device: 'trusted' },
    };
    const op = await issuePayment(w, oc, preset);
    expect(codes(await pay(w, oc, op, { pisp: PISP_A, execution_date: '2020-01-01' }))).toEqual([]);
    expect(codes(await pay(w, oc, op, { pisp: PISP_A }))).toEqual(['CONSTRAINT_VIOLATED']);
  });
});

describe('AP2: the verifier refuses members of an open mandate it does not understand', () => {
  const extras: [string, Record<string, unknown>][] = [
    ['a max_amount', { max_amount: { amount: 100, currency: 'USD' } }],
    ['a mandate-level allowed_payees', { allowed_payees: [{ id: 'someone_else', name: 'x' }] }],
    ['a status-list reference it does not check', { status: { status_list: { idx: 1, uri: 'https://example.com/sl' } } }],
    ['an aud inside the mandate', { aud: 'psp' }],
  ];

  it.each(extras)('an open payment mandate with %s: UNKNOWN_CONSTRAINT, in the SDK form and the payload form', async (_, extra) => {
    const w = ap2World();
    const oc = await w.openCheckout();
    const d = await pay(w, oc, await rawOpen(w, { vct: 'mandate.payment.open.1', constraints: paymentConstraints(oc), ...extra }));
    expect(d.ok).toBe(false);
    expect(codes(d)).toEqual(['UNKNOWN_CONSTRAINT']);
    expect(d.reasons[0]!.message).toContain(JSON.stringify(Object.keys(extra)[0]));
    if (!Object.hasOwn(extra, 'aud')) {
      const p = await pay(w, oc, await rawOpen(w, { vct: 'mandate.payment.open.1', constraints: paymentConstraints(oc), ...extra }, 'payload'));
      expect(codes(p)).toEqual(['UNKNOWN_CONSTRAINT']);
    }
  });

  it('an open checkout mandate with a member it does not understand (or a payment preset): UNKNOWN_CONSTRAINT', async () => {
    const w = ap2World();
    for (const extra of [{ max_quantity: 1 }, { payee: AP2_MERCHANT }, { allowed_merchants: [AP2_MERCHANT] }]) {
      const oc = await rawOpen(w, { vct: 'mandate.checkout.open.1', constraints: checkoutConstraints, ...extra });
      const d = await pay(w, oc, await issuePayment(w, oc));
      expect(codes(d)).toEqual(['UNKNOWN_CONSTRAINT']);
      expect(d.reasons[0]!.ref).toMatch(/^AP2 checkout #0/);
    }
  });

  it('honest open mandates still verify: every schema member and registered claim, in both forms', async () => {
    const w = ap2World();
    const registered = { iss: w.root.issuer.did, sub: 'user-1', jti: 'm-1', nbf: T0 };
    const oc = await rawOpen(w, { vct: 'mandate.checkout.open.1', constraints: checkoutConstraints, ...registered });
    const full = {
      vct: 'mandate.payment.open.1',
      constraints: paymentConstraints(oc),
      payee: AP2_MERCHANT,
      payment_amount: { amount: 19900, currency: 'USD' },
      payment_instrument: INSTRUMENT,
      pisp: PISP_A,
      execution_date: '2020-01-01',
      risk_data: { device: 'trusted' },
      ...registered,
    };
    const closed = { pisp: PISP_A, execution_date: '2020-01-01' };
    expect(codes(await pay(w, oc, await rawOpen(w, full), closed))).toEqual([]);
    expect(codes(await pay(w, oc, await rawOpen(w, full, 'payload'), closed))).toEqual([]);
    const ocPayload = await rawOpen(w, { vct: 'mandate.checkout.open.1', constraints: checkoutConstraints }, 'payload');
    expect(codes(await pay(w, ocPayload, await issuePayment(w, ocPayload)))).toEqual([]);
    // and the open mandates Charter's own issuer writes
    const charterOc = await w.openCheckout();
    expect(codes(await pay(w, charterOc, await w.openPayment(charterOc, [])))).toEqual([]);
  });

  it('a registered claim the verifier reads is still checked there (nbf in the future)', async () => {
    const w = ap2World();
    const oc = await w.openCheckout();
    const d = await pay(w, oc, await rawOpen(w, { vct: 'mandate.payment.open.1', constraints: paymentConstraints(oc), nbf: T0 + 10 ** 6 }));
    expect(codes(d)).toEqual(['CREDENTIAL_NOT_YET_VALID']);
  });
});
