import { createPublicKey } from 'node:crypto';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { createResolver } from '../../src/did/index.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { guardMandatePayment } from '../../src/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { tempDir } from '../helpers.js';
import {
  issueViAction,
  issueViIntent,
  mandateLimits,
  verifyMandateChain,
  viPresentation,
  type IssuedViIntent,
  type VerifyMandateOptions,
  type ViChainInput,
} from '../../src/mandates/index.js';
import { checkoutJwt, freshParty, INSTRUMENT, makeL1, MERCHANTS, viParty, type Party } from './helpers.js';
import { optionsFor, vi } from './vectors.js';

const T0 = 1_800_000_000;
const NOW = new Date((T0 + 60) * 1000);

interface World {
  issuer: Party;
  user: Party;
  agent: Party;
  merchant: Party;
  l1: string;
}

async function world(): Promise<World> {
  const issuer = freshParty('issuer-key-1');
  const user = freshParty();
  const agent = freshParty('agent-key-1');
  const merchant = freshParty('merchant-key-1');
  const l1 = await makeL1(issuer, user.publicJwk, { iat: T0 - 86400, exp: T0 + 365 * 86400, cardId: INSTRUMENT.id });
  return { issuer, user, agent, merchant, l1 };
}

async function intent(w: World, extra: Partial<NonNullable<Parameters<typeof issueViIntent>[0]['autonomous']>> = {}): Promise<IssuedViIntent> {
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
      lineItems: [
        {
          id: 'line-1',
          acceptable: [
            { id: 'BAB86345', title: 'Babolat Pure Aero' },
            { id: 'HEA23102', title: 'Head Speed' },
          ],
          quantity: 1,
        },
      ],
      ...extra,
    },
  });
}

async function action(
  w: World,
  it: IssuedViIntent,
  o: { amount?: string; merchant?: (typeof MERCHANTS)[number]; items?: { id: string; quantity: number }[]; signer?: Party } = {},
) {
  const items = o.items ?? [{ id: 'BAB86345', quantity: 1 }];
  const jwt = await checkoutJwt(w.merchant, { iat: T0, items, merchantObj: o.merchant ?? MERCHANTS[0] });
  const signer = o.signer ?? w.agent;
  return issueViAction({
    signer: signer.signer,
    kid: w.agent.kid,
    iss: 'https://agent.example.com',
    intent: it,
    merchant: o.merchant ?? MERCHANTS[0]!,
    itemIds: items.map((i) => i.id),
    checkoutJwt: jwt,
    amount: { amount: o.amount ?? '279.99', currency: 'USD' },
    instrument: INSTRUMENT,
    payment: { aud: 'https://network.example.com', nonce: 'n-l3a' },
    checkout: { aud: 'https://tennis-warehouse.com', nonce: 'n-l3b' },
    now: new Date(T0 * 1000),
  });
}

function opts(w: World, more: Partial<VerifyMandateOptions> = {}): VerifyMandateOptions {
  return {
    profile: 'verifiable-intent',
    trust: { issuers: [w.issuer.publicJwk] },
    now: NOW,
    aud: 'https://agent.example.com',
    nonce: 'n-l2',
    paymentAud: 'https://network.example.com',
    paymentNonce: 'n-l3a',
    checkoutAud: 'https://tennis-warehouse.com',
    checkoutNonce: 'n-l3b',
    ...more,
  };
}

const codes = (d: { reasons: { code: string }[] }) => d.reasons.map((r) => r.code);

describe('Verifiable Intent: a Charter principal issues L2, a Charter agent L3, the verifier accepts', () => {
  let w: World;
  let it0: IssuedViIntent;
  let input: ViChainInput;
  beforeAll(async () => {
    w = await world();
    it0 = await intent(w);
    input = { l1: w.l1, l2: it0.l2, ...(await action(w, it0)) };
  });

  it('verifies the autonomous chain and reports who, what and the constraints', async () => {
    const d = await verifyMandateChain(input, opts(w, { trust: { issuers: [w.issuer.publicJwk], merchants: [w.merchant.publicJwk] } }));
    expect(codes(d)).toEqual([]);
    expect(d.ok).toBe(true);
    expect(d.mode).toBe('autonomous');
    expect(d.issuerVerification).toBe('verified');
    expect(d.merchantSignature).toBe('checked');
    expect(d.principal?.key).toMatch(/^urn:ietf:params:oauth:jwk-thumbprint:sha-256:/);
    expect(d.agent?.kid).toBe('agent-key-1');
    expect(d.payment).toMatchObject({ amount: { amount: '279.99', currency: 'USD' }, minorUnits: 27999 });
    expect(d.checkout?.lineItems).toEqual([{ id: 'BAB86345', quantity: 1 }]);
    expect(d.constraints.map((c) => [c.type, c.status])).toEqual([
      ['mandate.payment.allowed_payees', 'satisfied'],
      ['mandate.payment.amount_range', 'satisfied'],
      ['mandate.payment.reference', 'satisfied'],
      ['mandate.checkout.allowed_merchants', 'satisfied'],
      ['mandate.checkout.line_items', 'satisfied'],
    ]);
  });

  it('maps the open payment mandate to a ledger link (per-transaction max, minimum, payees), paid once, for one checkout paid once', async () => {
    const d = await verifyMandateChain(input, opts(w));
    expect(d.links).toHaveLength(14);
    const link = d.links[0]!;
    // credential-format §8.3: one L3 pair per mandate pair (no budget, no recurrence); the checkout once, whoever
    // pays it, under each spelling of the merchant's signature (attached, detached, each with its ES256 twin: a link
    // each), and under 0.1's per-profile ids too.
    const once = { rate: { count: 1, period: 'P100Y' } };
    expect(d.links.slice(1).map((l) => [l.id.replace(link.id, 'M').replace(/:[A-Za-z0-9_-]{43}$/, ':H'), l.authority.limits])).toEqual([
      ['M#uses', once],
      ...Array(4).fill(['urn:charter:checkout:H', once]),
      ...Array(4).fill(['urn:charter:checkout:verifiable-intent:H', once]),
      ...Array(4).fill(['urn:charter:checkout:ap2:H', once]),
    ]);
    expect(link.id).toMatch(/^urn:vi:mandate:[A-Za-z0-9_-]{43}$/);
    expect(link.issuer).toBe(d.principal!.key);
    expect(link.subject).toBe(d.agent!.key);
    expect(link.authority).toEqual({
      actions: ['payments:verifiable-intent'],
      limits: { perTransaction: { amount: '400', currency: 'USD' }, minPerTransaction: { amount: '100', currency: 'USD' }, counterparties: ['merchant-uuid-1'] },
      maxDelegationDepth: 0,
    });
    expect(mandateLimits(d)).toEqual(d.links);
    // the same mandate presented again maps to the same link id (the ledger accumulates)
    const again = await verifyMandateChain({ l1: w.l1, l2: it0.l2, ...(await action(w, it0, { amount: '150' })) }, opts(w));
    expect(again.links[0]!.id).toBe(link.id);
  });

  it('refuses an amount over the mandate maximum (AUTHORITY_EXCEEDED) and under the minimum (CONSTRAINT_VIOLATED)', async () => {
    const over = await verifyMandateChain({ l1: w.l1, l2: it0.l2, ...(await action(w, it0, { amount: '400.01' })) }, opts(w));
    expect(codes(over)).toEqual(['AUTHORITY_EXCEEDED']);
    expect(over.links).toEqual([]);
    const under = await verifyMandateChain({ l1: w.l1, l2: it0.l2, ...(await action(w, it0, { amount: '99.99' })) }, opts(w));
    expect(codes(under)).toEqual(['CONSTRAINT_VIOLATED']);
  });

  it('refuses a payee outside allowed_payees (COUNTERPARTY_NOT_ALLOWED)', async () => {
    const d = await verifyMandateChain({ l1: w.l1, l2: it0.l2, ...(await action(w, it0, { merchant: MERCHANTS[1] })) }, opts(w));
    expect(codes(d)).toEqual(['COUNTERPARTY_NOT_ALLOWED']);
  });

  it('refuses items the line_items constraint does not allow (CONSTRAINT_VIOLATED)', async () => {
    const d = await verifyMandateChain({ l1: w.l1, l2: it0.l2, ...(await action(w, it0, { items: [{ id: 'BAB86345', quantity: 2 }] })) }, opts(w));
    expect(codes(d)).toEqual(['CONSTRAINT_VIOLATED', 'CONSTRAINT_VIOLATED']);
  });

  it('refuses an L3 the delegated agent key did not sign (INVALID_SIGNATURE)', async () => {
    const d = await verifyMandateChain({ l1: w.l1, l2: it0.l2, ...(await action(w, it0, { signer: freshParty() })) }, opts(w));
    expect(codes(d)).toEqual(['INVALID_SIGNATURE']);
    expect(d.reasons[0]!.ref).toBe('L3a (payment)');
  });

  it('refuses a checkout the pinned merchant did not sign (INVALID_SIGNATURE); without pinned merchants reports not-checked', async () => {
    const d = await verifyMandateChain(input, opts(w, { trust: { issuers: [w.issuer.publicJwk], merchants: [freshParty('merchant-key-1').publicJwk] } }));
    expect(codes(d)).toEqual(['INVALID_SIGNATURE']);
    expect(d.merchantSignature).toBe('failed');
    expect((await verifyMandateChain(input, opts(w))).merchantSignature).toBe('not-checked');
  });

  it('refuses a chain whose L1 the pinned issuer did not sign: tampered (INVALID_SIGNATURE), self-signed (UNTRUSTED_ISSUER)', async () => {
    // the hole: L1 signed by the user's own key, naming that key in cnf; never trusted
    const selfSigned = await makeL1(w.user, w.user.publicJwk, { iat: T0 - 60, exp: T0 + 86400, cardId: INSTRUMENT.id });
    const it1 = await issueViIntent({
      issuer: w.user.issuer,
      l1: selfSigned,
      aud: 'https://agent.example.com',
      nonce: 'n-l2',
      now: new Date(T0 * 1000),
      immediate: { checkoutJwt: 'x.y.z', instrument: INSTRUMENT, payee: MERCHANTS[0]!, amount: { amount: '1', currency: 'USD' } },
    });
    const d = await verifyMandateChain({ l1: selfSigned, l2: it1.l2 }, opts(w));
    expect(codes(d)).toEqual(['UNTRUSTED_ISSUER']);
    expect(d.issuerVerification).toBe('failed');
    const other = await makeL1(freshParty('issuer-key-1'), w.user.publicJwk, { iat: T0 - 60, exp: T0 + 86400 });
    expect(codes(await verifyMandateChain({ l1: other, l2: it1.l2 }, opts(w)))).toEqual(['INVALID_SIGNATURE']);
    // a JWKS whose kids do not name the L1 key: untrusted, not merely a bad signature
    expect(codes(await verifyMandateChain(input, opts(w, { trust: { issuers: [{ keys: [{ ...w.issuer.publicJwk, kid: 'another' }] }] } })))).toEqual(['UNTRUSTED_ISSUER']);
  });

  it('accepts the issuer as a JWKS (by kid), a DID through a resolver, or a PEM public key', async () => {
    expect((await verifyMandateChain(input, opts(w, { trust: { issuers: [{ keys: [freshParty('x').publicJwk, { ...w.issuer.publicJwk, kid: 'issuer-key-1' }] }] } }))).ok).toBe(
      true,
    );
    expect((await verifyMandateChain(input, opts(w, { trust: { issuers: [w.issuer.issuer.did.replace(/#.*/, '')], resolver: createResolver() } }))).ok).toBe(true);
    const pem = createPublicKey({ key: { ...w.issuer.publicJwk }, format: 'jwk' })
      .export({ type: 'spki', format: 'pem' })
      .toString();
    expect((await verifyMandateChain(input, opts(w, { trust: { issuers: [pem] } }))).ok).toBe(true);
  });

  it('skipIssuerVerification must be explicit and is reported', async () => {
    const none = await verifyMandateChain(input, opts(w, { trust: {} }));
    expect(codes(none)).toEqual(['UNTRUSTED_ISSUER']);
    const skipped = await verifyMandateChain(input, opts(w, { trust: {}, skipIssuerVerification: true }));
    expect(skipped.ok).toBe(true);
    expect(skipped.issuerVerification).toBe('skipped');
  });

  it('checks the L3 aud and nonce it is given for, and refuses an L3 for another audience (AUDIENCE_MISMATCH / NONCE_MISMATCH)', async () => {
    expect(codes(await verifyMandateChain(input, opts(w, { checkoutAud: 'https://other.example' })))).toEqual(['AUDIENCE_MISMATCH']);
    expect(codes(await verifyMandateChain(input, opts(w, { paymentNonce: 'replayed' })))).toEqual(['NONCE_MISMATCH']);
  });

  it('refuses a swapped selective presentation and one that is not a view of this L2 (DELEGATION_BROKEN)', async () => {
    const swapped = { ...input, l2_payment_serialized: input.l2_checkout_serialized };
    expect(codes(await verifyMandateChain(swapped, opts(w)))).toEqual(['DELEGATION_BROKEN']);
  });

  it('refuses an L3 whose own mandate L2 withholds: a payment without the payment mandate, a checkout without the checkout mandate (DELEGATION_BROKEN)', async () => {
    const ds = it0.disclosures;
    // The agent shows L2 without the open payment mandate and signs an L3a over that view: any amount, any card.
    const noPayment = viPresentation(it0.base, [...ds.merchants, ...ds.items, ds.checkout]);
    const jwt = await checkoutJwt(w.merchant, { iat: T0, items: [{ id: 'BAB86345', quantity: 1 }], merchantObj: MERCHANTS[0] });
    const forged = await issueViAction({
      signer: w.agent.signer,
      kid: w.agent.kid,
      iss: 'https://agent.example.com',
      intent: { ...it0, disclosures: { ...ds, payment: ds.checkout } },
      merchant: MERCHANTS[0]!,
      itemIds: ['BAB86345'],
      checkoutJwt: jwt,
      amount: { amount: '99999.99', currency: 'USD' },
      instrument: { type: 'other.card', id: 'attacker-card' },
      payment: { aud: 'https://network.example.com', nonce: 'n-l3a' },
      checkout: { aud: 'https://tennis-warehouse.com', nonce: 'n-l3b' },
      now: new Date(T0 * 1000),
    });
    const d = await verifyMandateChain({ l1: w.l1, l2: noPayment, l3_payment: forged.l3_payment, l2_payment_serialized: forged.l2_payment_serialized }, opts(w));
    expect([d.ok, codes(d), d.payment]).toEqual([false, ['DELEGATION_BROKEN'], undefined]);
    expect(d.reasons[0]!.message).toMatch(/payment mandate/);
    // The merchant's half without the checkout mandate: its L3b is refused the same way.
    const noCheckout = viPresentation(it0.base, [...ds.merchants, ...ds.items, ds.payment]);
    const d2 = await verifyMandateChain({ l1: w.l1, l2: noCheckout, l3_checkout: input.l3_checkout, l2_checkout_serialized: input.l2_checkout_serialized }, opts(w));
    expect(d2.ok).toBe(false);
    // The honest chain, each L3 with the mandate it answers, still verifies.
    expect(codes(await verifyMandateChain(input, opts(w)))).toEqual([]);
  });

  it('refuses a layer that expired or is dated in the future', async () => {
    expect(codes(await verifyMandateChain(input, opts(w, { now: new Date((T0 + 86400 + 1000) * 1000) })))).toEqual(['CREDENTIAL_EXPIRED']);
    expect(codes(await verifyMandateChain(input, opts(w, { now: new Date((T0 - 1000) * 1000) })))).toEqual(['ISSUED_IN_FUTURE']);
  });

  it('a tampered character anywhere in any layer is refused', async () => {
    const fields = ['l1', 'l2', 'l3_payment', 'l3_checkout', 'l2_payment_serialized', 'l2_checkout_serialized'] as const;
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_~.';
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...fields), fc.nat(), fc.nat(alphabet.length - 1), async (field, pos, ci) => {
        const s = input[field]!;
        const i = pos % s.length;
        const c = alphabet[ci]!;
        fc.pre(s[i] !== c);
        const tampered = { ...input, [field]: s.slice(0, i) + c + s.slice(i + 1) };
        const d = await verifyMandateChain(tampered, opts(w));
        expect(d.ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});

describe('Verifiable Intent: constraints, modes and fail-closed rules', () => {
  let w: World;
  beforeAll(async () => {
    w = await world();
  });

  it('any amount above the maximum is refused, any within the range accepted', async () => {
    const it0 = await intent(w);
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 10000, max: 80000 }), async (cents) => {
        const amount = (cents / 100).toFixed(2);
        const d = await verifyMandateChain({ l1: w.l1, l2: it0.l2, ...(await action(w, it0, { amount })) }, opts(w));
        if (cents > 40000) expect(codes(d)).toEqual(['AUTHORITY_EXCEEDED']);
        else expect(d.ok).toBe(true);
      }),
      { numRuns: 40 },
    );
  });

  it('reports budget and cumulative spend for the network and maps them onto the ledger (lifetime and calendar periods)', async () => {
    const it0 = await intent(w, { budget: { amount: '1000', currency: 'USD' }, cumulative: { amount: '500', currency: 'USD', period: 'MONTHLY' } });
    const d = await verifyMandateChain({ l1: w.l1, l2: it0.l2, ...(await action(w, it0)) }, opts(w, { calendarTimeZone: 'Europe/Paris' }));
    expect(codes(d)).toEqual([]);
    expect(d.constraints.filter((c) => c.enforcedBy === 'network').map((c) => [c.type, c.status])).toEqual([
      ['mandate.payment.budget', 'reported'],
      ['payment.cumulative', 'reported'],
    ]);
    // A total over several payments: only the money limits bound how many (no #uses link).
    expect(d.links.filter((l) => l.authority.limits.budget).map((l) => [l.id.endsWith('#lifetime'), l.authority.limits.budget])).toEqual([
      [false, { amount: '500', currency: 'USD', period: { calendar: 'month', timeZone: 'Europe/Paris' } }],
      [true, { amount: '1000', currency: 'USD', period: 'PT87000S' }],
    ]);
    expect(d.links.map((l) => (l.id.startsWith('urn:charter:checkout:') ? 'checkout' : (l.id.split('#')[1] ?? '')))).toEqual(['', 'lifetime', ...Array(12).fill('checkout')]);
    expect(d.authority?.limits.perTransaction).toEqual({ amount: '400', currency: 'USD' });
  });

  it('three budgets in one mandate (lifetime, monthly, daily): a link each, with its own id, and each enforced', async () => {
    const it3 = await intent(w, {
      budget: { amount: '5000', currency: 'USD' },
      cumulative: { amount: '1000', currency: 'USD', period: 'MONTHLY' },
      extraPaymentConstraints: [{ type: 'payment.cumulative', max_total: 20000, currency: 'USD', period: 'DAILY' }],
    });
    const d = await verifyMandateChain({ l1: w.l1, l2: it3.l2, ...(await action(w, it3, { amount: '150' })) }, opts(w));
    expect(codes(d)).toEqual([]);
    const ids = d.links.map((l) => l.id);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids.length).toBe(15);
    expect(ids.filter((x) => x.startsWith('urn:charter:checkout:'))).toHaveLength(12);
    expect(
      ids
        .filter((x) => x.includes('#'))
        .map((x) => x.split('#')[1])
        .sort(),
    ).toEqual(['lifetime', 'month']);
    // Through the guard, on a real ledger, at the real time: 150 USD a payment against a 200 USD day:
    // the second is refused (not thrown).
    const T = Math.floor(Date.now() / 1000) - 10;
    const [issuer, user, agent, merchant] = [freshParty('issuer-key-1'), freshParty(), freshParty('agent-key-1'), freshParty('merchant-key-1')];
    const l1 = await makeL1(issuer, user.publicJwk, { iat: T - 86400, exp: T + 365 * 86400, cardId: INSTRUMENT.id });
    const live = await issueViIntent({
      issuer: user.issuer,
      l1,
      aud: 'https://agent.example.com',
      nonce: 'n-l2',
      now: new Date(T * 1000),
      autonomous: {
        agent: { jwk: agent.publicJwk, kid: agent.kid },
        instrument: INSTRUMENT,
        maxAmount: { amount: '400', currency: 'USD' },
        budget: { amount: '5000', currency: 'USD' },
        cumulative: { amount: '1000', currency: 'USD', period: 'MONTHLY' },
        extraPaymentConstraints: [{ type: 'payment.cumulative', max_total: 20000, currency: 'USD', period: 'DAILY' }],
        payees: [MERCHANTS[0]!],
        merchants: MERCHANTS,
        lineItems: [{ id: 'line-1', acceptable: [{ id: 'BAB86345', title: 'Babolat Pure Aero' }], quantity: 1 }],
      },
    });
    const store = await openSqliteStore(join(tempDir(), 'three-budgets.db'));
    try {
      const verifier = createVerifier({ aud: 'https://network.example.com', store, resolver: createResolver(), http: false });
      const pay = async (nonce: string) => {
        const a = await issueViAction({
          signer: agent.signer,
          kid: agent.kid,
          iss: 'https://agent.example.com',
          intent: live,
          merchant: MERCHANTS[0]!,
          itemIds: ['BAB86345'],
          checkoutJwt: await checkoutJwt(merchant, { iat: T, items: [{ id: 'BAB86345', quantity: 1 }], merchantObj: MERCHANTS[0] }),
          amount: { amount: '150', currency: 'USD' },
          instrument: INSTRUMENT,
          payment: { aud: 'https://network.example.com', nonce },
          checkout: { aud: 'https://tennis-warehouse.com', nonce: 'x' },
          now: new Date(T * 1000),
        });
        const chain = { l1, l2: live.l2, l3_payment: a.l3_payment, l2_payment_serialized: a.l2_payment_serialized };
        return guardMandatePayment(chain, { verifier, profile: 'verifiable-intent', trust: { issuers: [issuer.publicJwk] } }, () => 'paid');
      };
      const first = await pay('n-pay-1');
      expect(first.ok ? [] : first.reasons).toEqual([]);
      const second = await pay('n-pay-2');
      expect([second.ok, second.ok ? [] : second.reasons.map((r) => r.code)]).toEqual([false, ['BUDGET_EXCEEDED']]);
    } finally {
      await store.close();
    }
  });

  it('refuses an open mandate carrying a constraint type it does not understand (UNKNOWN_CONSTRAINT), with or without L3', async () => {
    const it0 = await intent(w, { extraPaymentConstraints: [{ type: 'mandate.payment.velocity', max_per_hour: 2 }] });
    expect(codes(await verifyMandateChain({ l1: w.l1, l2: it0.l2 }, opts(w)))).toEqual(['UNKNOWN_CONSTRAINT']);
    expect(codes(await verifyMandateChain({ l1: w.l1, l2: it0.l2, ...(await action(w, it0)) }, opts(w)))).toEqual(['UNKNOWN_CONSTRAINT']);
    const extraField = await intent(w, { extraPaymentConstraints: [{ type: 'mandate.payment.budget', currency: 'USD', max: 100000, per_merchant: true }] });
    expect(codes(await verifyMandateChain({ l1: w.l1, l2: extraField.l2 }, opts(w)))).toEqual(['UNKNOWN_CONSTRAINT']);
  });

  it('refuses a malformed money constraint even with nothing to evaluate it against (CONSTRAINT_VIOLATED), on its layer', async () => {
    const it0 = await intent(w, { extraPaymentConstraints: [{ type: 'payment.cumulative', max_total: 500.5, currency: 'USD', period: 'MONTHLY' }] });
    const d = await verifyMandateChain({ l1: w.l1, l2: it0.l2 }, opts(w));
    expect(codes(d)).toEqual(['CONSTRAINT_VIOLATED']);
    expect(d.layers.map((l) => [l.name, l.checks.map((c) => c.code)])).toEqual([
      ['L1', []],
      ['L2', ['CONSTRAINT_VIOLATED']],
    ]);
    await expect(verifyMandateChain({ l1: w.l1, l2: it0.l2 }, opts(w, { calendarTimeZone: 'Mars/Olympus' }))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('immediate mode: a final checkout and payment the user confirmed; one link of exactly that amount', async () => {
    const jwt = await checkoutJwt(w.merchant, { iat: T0, items: [{ id: 'BAB86345', quantity: 1 }] });
    const im = await issueViIntent({
      issuer: w.user.issuer,
      l1: w.l1,
      aud: 'https://network.example.com',
      nonce: 'n-im',
      now: new Date(T0 * 1000),
      immediate: { checkoutJwt: jwt, instrument: INSTRUMENT, payee: MERCHANTS[0]!, amount: { amount: '279.99', currency: 'USD' } },
    });
    const d = await verifyMandateChain({ l1: w.l1, l2: im.l2 }, opts(w, { aud: 'https://network.example.com', nonce: 'n-im' }));
    expect(codes(d)).toEqual([]);
    expect(d.mode).toBe('immediate');
    expect(d.links.map((l) => l.authority.limits)).toEqual([
      { perTransaction: { amount: '279.99', currency: 'USD' }, budget: { amount: '279.99', currency: 'USD', period: 'PT1500S' }, counterparties: ['merchant-uuid-1'] },
      { rate: { count: 1, period: 'P100Y' } },
      ...Array(12).fill({ rate: { count: 1, period: 'P100Y' } }),
    ]);
    // L3 given for an immediate L2 is a caller error
    expect(codes(await verifyMandateChain({ l1: w.l1, l2: im.l2, l3_payment: im.l2 }, opts(w, { aud: 'https://network.example.com', nonce: 'n-im' })))).toEqual([
      'INVALID_ARGUMENT',
    ]);
  });

  it('refuses a payment with another card than the one L1 binds (DELEGATION_BROKEN)', async () => {
    const it0 = await intent(w, { instrument: { ...INSTRUMENT, id: 'another-card' } });
    expect(codes(await verifyMandateChain({ l1: w.l1, l2: it0.l2 }, opts(w)))).toEqual(['DELEGATION_BROKEN']);
  });

  it('refuses an L2 signed by another key than the one L1 binds (INVALID_SIGNATURE), and one bound to another L1 (DELEGATION_BROKEN)', async () => {
    const stranger = freshParty();
    const it0 = await issueViIntent({ ...(await baseIntentInput(w)), issuer: stranger.issuer });
    expect(codes(await verifyMandateChain({ l1: w.l1, l2: it0.l2 }, opts(w)))).toEqual(['INVALID_SIGNATURE']);
    const l1b = await makeL1(w.issuer, w.user.publicJwk, { iat: T0 - 10, exp: T0 + 86400, cardId: INSTRUMENT.id });
    const it1 = await issueViIntent({ ...(await baseIntentInput(w)), l1: l1b });
    expect(codes(await verifyMandateChain({ l1: w.l1, l2: it1.l2 }, opts(w)))).toEqual(['DELEGATION_BROKEN']);
  });

  it('refuses EdDSA by default (VI v0.1 signs ES256), and the issuing side refuses a non-P-256 principal', async () => {
    await expect(issueViIntent({ ...(await baseIntentInput(w)), issuer: freshParty(undefined, 'Ed25519').issuer })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('replays a reference vector through the same entry with the reference keys (JWK with kid pinned)', async () => {
    const s = vi.verification_conformance.chain_scenarios.find((x) => x.name === 'autonomous_valid')!;
    const d = await verifyMandateChain(s, {
      ...optionsFor(s),
      trust: { issuers: [{ ...(vi.keys.issuer.public as Record<string, string>), kid: vi.keys.issuer.kid } as never], merchants: [viParty('merchant').publicJwk] },
    });
    expect(codes(d)).toEqual([]);
    expect(d.merchantSignature).toBe('checked');
    expect(d.links[0]!.authority.limits).toEqual({
      perTransaction: { amount: '400', currency: 'USD' },
      minPerTransaction: { amount: '100', currency: 'USD' },
      counterparties: ['merchant-uuid-1'],
    });
  });
});

async function baseIntentInput(w: World) {
  return {
    issuer: w.user.issuer,
    l1: w.l1,
    aud: 'https://agent.example.com',
    nonce: 'n-l2',
    now: new Date(T0 * 1000),
    autonomous: {
      agent: { jwk: w.agent.publicJwk, kid: w.agent.kid },
      instrument: INSTRUMENT,
      maxAmount: { amount: '400', currency: 'USD' },
      payees: [MERCHANTS[0]!],
      merchants: MERCHANTS,
      lineItems: [{ id: 'line-1', acceptable: [{ id: 'BAB86345', title: 'Babolat Pure Aero' }], quantity: 1 }],
    },
  };
}
