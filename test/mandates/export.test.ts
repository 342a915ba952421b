import { beforeAll, describe, expect, it } from 'vitest';
import { closeAp2Mandate, exportMandate, hashAscii, issueViAction, verifyMandateChain, type ExportMandateInput } from '../../src/mandates/index.js';
import { checkoutJwt, freshParty, INSTRUMENT, makeL1, MERCHANTS, signCompact, type Party } from './helpers.js';

/** A Charter principal's authorization written as a VI L2 or an AP2 open mandate, then used and verified as those formats are. */
const NOW = new Date();
const t = Math.floor(NOW.getTime() / 1000);
const ITEMS = [{ id: 'line-1', acceptable: [{ id: 'BAB86345', title: 'Babolat Pure Aero' }], quantity: 1 }];
const codes = (d: { reasons: { code: string }[] }) => d.reasons.map((r) => r.code);

let principal: Party;
let agent: Party;
let cardIssuer: Party;
let merchant: Party;
let l1: string;
beforeAll(async () => {
  principal = freshParty();
  agent = freshParty('agent-key-1');
  cardIssuer = freshParty('issuer-key-1');
  merchant = freshParty('merchant-key-1');
  l1 = await makeL1(cardIssuer, principal.publicJwk, { iat: t - 60, exp: t + 365 * 86400, cardId: INSTRUMENT.id });
});

const input = (o: Partial<ExportMandateInput> = {}): ExportMandateInput => ({
  format: 'verifiable-intent',
  issuer: principal.issuer,
  agent: { jwk: agent.publicJwk, kid: agent.kid },
  limits: { perTransaction: { amount: '400', currency: 'USD' }, budget: { amount: '500', currency: 'USD', period: { calendar: 'month', timeZone: 'UTC' } } },
  intent: { instrument: INSTRUMENT, payees: [MERCHANTS[0]!], merchants: MERCHANTS, lineItems: ITEMS },
  validUntil: new Date(NOW.getTime() + 7 * 86_400_000),
  now: NOW,
  l1,
  aud: 'https://agent.example.com',
  nonce: 'n-agent',
  ...o,
});

describe('exportMandate: Charter limits as Verifiable Intent or AP2', () => {
  it('VI: the L2 a Charter principal signs verifies, and its agent pays under it; limits map to amount_range and payment.cumulative', async () => {
    const out = await exportMandate(input());
    expect(out.format).toBe('verifiable-intent');
    const checkout = await checkoutJwt(merchant, { iat: t, items: [{ id: 'BAB86345', quantity: 1 }], merchantObj: MERCHANTS[0] });
    const action = await issueViAction({
      signer: agent.signer,
      kid: agent.kid,
      iss: 'https://agent.example.com',
      intent: out.intent!,
      merchant: MERCHANTS[0]!,
      itemIds: ['BAB86345'],
      checkoutJwt: checkout,
      amount: { amount: '250', currency: 'USD' },
      instrument: INSTRUMENT,
      payment: { aud: 'https://psp.example', nonce: 'n1' },
      checkout: { aud: 'https://shop.example', nonce: 'n2' },
      now: NOW,
    });
    const d = await verifyMandateChain(
      { l1, l2: out.mandate, ...action },
      {
        profile: 'verifiable-intent',
        trust: { issuers: [cardIssuer.publicJwk] },
        aud: 'https://agent.example.com',
        nonce: 'n-agent',
        paymentAud: 'https://psp.example',
        paymentNonce: 'n1',
        now: NOW,
      },
    );
    expect(codes(d)).toEqual([]);
    expect(d.links[0]!.authority.limits).toMatchObject({
      perTransaction: { amount: '400', currency: 'USD' },
      budget: { amount: '500', currency: 'USD', period: { calendar: 'month', timeZone: 'UTC' } },
    });
  });

  it('AP2: an open payment mandate referencing an open checkout mandate, closed by the agent, verifies with its budget', async () => {
    const out = await exportMandate(
      input({
        format: 'ap2',
        limits: { perTransaction: { amount: '200', currency: 'USD' }, budget: { amount: '1000.5', currency: 'USD' } },
        intent: {
          instrument: { id: 'card-1', type: 'card' },
          payees: [{ id: 'm1', name: 'Shop' }],
          lineItems: [{ id: 'l1', acceptable: [{ id: 'shoe', title: 'Shoe' }], quantity: 1 }],
        },
      }),
    );
    expect(out.checkout).toMatch(/~$/);
    const jwt = await signCompact(
      { typ: 'JWT' },
      { merchant: { id: 'm1', name: 'Shop' }, line_items: [{ id: 'l1', item: { id: 'shoe', title: 'Shoe', price: 9900 }, quantity: 1 }], currency: 'USD' },
      merchant,
    );
    const payment = await closeAp2Mandate({
      chain: out.mandate,
      signer: agent.signer,
      mandate: {
        vct: 'mandate.payment.1',
        transaction_id: hashAscii(jwt),
        payee: { id: 'm1', name: 'Shop' },
        payment_amount: { amount: 9900, currency: 'USD' },
        payment_instrument: { id: 'card-1', type: 'card' },
      },
      aud: 'psp',
      nonce: 'n',
    });
    const d = await verifyMandateChain(
      { payment },
      { profile: 'ap2', trust: { issuers: [principal.publicJwk] }, aud: 'psp', nonce: 'n', checkoutHash: hashAscii(jwt), openCheckoutHash: hashAscii(out.checkout!), now: NOW },
    );
    expect(codes(d)).toEqual([]);
    expect(d.links[0]!.authority.limits).toMatchObject({ perTransaction: { amount: '200', currency: 'USD' }, budget: { amount: '1000.5', currency: 'USD' } });
    // the instrument is pre-set: paying with another card is refused
    const other = await closeAp2Mandate({
      chain: out.mandate,
      signer: agent.signer,
      mandate: {
        vct: 'mandate.payment.1',
        transaction_id: hashAscii(jwt),
        payee: { id: 'm1', name: 'Shop' },
        payment_amount: { amount: 9900, currency: 'USD' },
        payment_instrument: { id: 'card-2', type: 'card' },
      },
      aud: 'psp',
      nonce: 'n',
    });
    expect(
      codes(
        await verifyMandateChain(
          { payment: other },
          { profile: 'ap2', trust: { issuers: [principal.publicJwk] }, aud: 'psp', nonce: 'n', checkoutHash: hashAscii(jwt), openCheckoutHash: hashAscii(out.checkout!), now: NOW },
        ),
      ),
    ).toEqual(['CONSTRAINT_VIOLATED']);
  });

  it.each<[string, Partial<ExportMandateInput>]>([
    ['an Ed25519 principal (these formats sign ES256)', { issuer: freshParty(undefined, 'Ed25519').issuer }],
    ['an agent whose key is not P-256', { agent: { jwk: freshParty(undefined, 'Ed25519').publicJwk } }],
    ['a rolling budget', { limits: { perTransaction: { amount: '1', currency: 'USD' }, budget: { amount: '9', currency: 'USD', period: 'P30D' } } }],
    [
      'a VI calendar budget in another zone than UTC',
      { limits: { perTransaction: { amount: '1', currency: 'USD' }, budget: { amount: '9', currency: 'USD', period: { calendar: 'month', timeZone: 'Europe/Paris' } } } },
    ],
    [
      'an AP2 calendar budget',
      { format: 'ap2', limits: { perTransaction: { amount: '1', currency: 'USD' }, budget: { amount: '9', currency: 'USD', period: { calendar: 'month', timeZone: 'UTC' } } } },
    ],
    ['a budget in another currency', { limits: { perTransaction: { amount: '1', currency: 'USD' }, budget: { amount: '9', currency: 'EUR' } } }],
    ['a budget below one payment', { limits: { perTransaction: { amount: '10', currency: 'USD' }, budget: { amount: '9', currency: 'USD' } } }],
    ['no line items', { intent: { instrument: INSTRUMENT, payees: [MERCHANTS[0]!] } }],
    ['VI without the L1', { l1: undefined }],
    ['a VI payee without a website (it could never be paid)', { intent: { instrument: INSTRUMENT, payees: [{ id: 'm', name: 'M' }], lineItems: ITEMS } }],
    ['an expiry in the past', { validUntil: new Date(NOW.getTime() - 1000) }],
  ])('refuses %s (INVALID_ARGUMENT), never writing something wider', async (_, o) => {
    await expect(exportMandate(input(o))).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
