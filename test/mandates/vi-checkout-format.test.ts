import { beforeAll, describe, expect, it } from 'vitest';
import { RECEIPT_TYP, CHECKPOINT_TYP, signCanonical } from '../../src/audit/jws.js';
import { signJwt } from '../../src/credentials/jws.js';
import {
  closeAp2Mandate,
  hashAscii,
  issueAp2OpenMandate,
  issueViAction,
  issueViIntent,
  verifyMandateChain,
  viPresentation,
  type IssuedViIntent,
  type VerifyMandateOptions,
} from '../../src/mandates/index.js';
import { readCheckout } from '../../src/mandates/checkout.js';
import { makeCtx, Refusal } from '../../src/mandates/common.js';
import { disclose, ref, sdJwt } from '../../src/mandates/issue-common.js';
import { checkoutJwt, freshParty, INSTRUMENT, makeL1, MERCHANTS, signCompact } from './helpers.js';

/**
 * The checkout JWT is what the merchant signed for this purchase. A JWS the
 * pinned merchant key signed for anything else (a Charter decision receipt its
 * guard hands to every caller, a credential it issued, a status list...) is no
 * checkout: it is refused, `merchantSignature` never reads `checked` for it,
 * and the agent's own L3b line items never stand in for the checkout's.
 */
const T0 = 1_800_000_000;
const NOW = new Date((T0 + 60) * 1000);
const issuer = freshParty('issuer-key-1');
const user = freshParty();
const agent = freshParty('agent-key-1');
const merchant = freshParty('merchant-key-1');
const MAUD = 'https://tennis-warehouse.com';
const codes = (d: { reasons: { code: string }[] }) => d.reasons.map((r) => r.code);
const FOREIGN = ['INVALID_TYP', 'INVALID_CREDENTIAL'];

/** An honest checkout payload (UCP line_items), to which a case adds or from which it removes members. */
const CHECKOUT = {
  iss: MAUD,
  iat: T0,
  exp: T0 + 3600,
  merchant: MERCHANTS[0],
  line_items: [{ id: 'line-1', item: { id: 'HEA23102', title: 'Head Speed', price: 27999 }, quantity: 1 }],
  currency: 'USD',
  total: 27999,
};
const signed = (header: Record<string, unknown>, payload: Record<string, unknown>) => signCompact(header, payload, merchant);
const without = (k: string) => Object.fromEntries(Object.entries(CHECKOUT).filter(([key]) => key !== k));

/** Tokens the merchant key signs for other purposes; none lists line items of its own. */
async function foreignTokens(): Promise<[string, string][]> {
  const t = new Date(T0 * 1000);
  const receipt = {
    iss: merchant.issuer.did,
    jti: 'urn:uuid:r1',
    iat: T0,
    time: t.toISOString(),
    kind: 'decision',
    verifier: MAUD,
    decision: 'allow',
    status: 200,
    reasons: [],
    request: { none: true },
    policy: { kind: 'presentation' },
    credentials: [],
    chain: [],
    log: { chain: 'urn:uuid:c', seq: 1, prev: null },
  };
  const vc2 = {
    '@context': ['https://www.w3.org/ns/credentials/v2'],
    type: ['VerifiableCredential', 'EmailCredential'],
    issuer: merchant.issuer.did,
    credentialSubject: { id: 'did:example:x', email: 'a@b' },
  };
  return [
    ['charter decision receipt', (await signCanonical(RECEIPT_TYP, receipt, merchant.issuer)).jws],
    [
      'charter audit checkpoint',
      (await signCanonical(CHECKPOINT_TYP, { iss: merchant.issuer.did, iat: T0, time: t.toISOString(), chain: 'c', seq: 1, head: 'h' }, merchant.issuer)).jws,
    ],
    ['vc+jwt credential (VC 2.0)', await signJwt({ typ: 'vc+jwt', cty: 'vc' }, vc2, merchant.signer, merchant.kid)],
    ['VC-JWT 1.1 credential (typ JWT, vc claim)', await signed({ typ: 'JWT' }, { iss: merchant.issuer.did, sub: 'did:example:x', iat: T0, vc: vc2 })],
    [
      'VC-JWT 1.1 presentation (typ JWT, vp claim)',
      await signed({ typ: 'JWT' }, { iss: merchant.issuer.did, iat: T0, vp: { type: ['VerifiablePresentation'], verifiableCredential: [] } }),
    ],
    ['vp+jwt presentation', await signed({ typ: 'vp+jwt' }, { '@context': ['https://www.w3.org/ns/credentials/v2'], type: ['VerifiablePresentation'], verifiableCredential: [] })],
    ['kb+jwt key binding', await signed({ typ: 'kb+jwt' }, { iat: T0, aud: MAUD, nonce: 'n', sd_hash: 'x' })],
    ['dc+sd-jwt credential', await signed({ typ: 'dc+sd-jwt' }, { iss: MAUD, iat: T0, vct: 'https://example.com/vct', _sd: [], _sd_alg: 'sha-256' })],
    ['statuslist+jwt', await signed({ typ: 'statuslist+jwt' }, { sub: 'https://x/status/1', iat: T0, status_list: { bits: 1, lst: 'eNrbuRgAAhcBXQ' } })],
    ['charter-payout+jwt', await signed({ typ: 'charter-payout+jwt' }, { iss: merchant.issuer.did, iat: T0, statement: { total: 1 } })],
    ['an untyped JWS with no line items', await signed({}, { iss: MAUD, iat: T0, merchant: MERCHANTS[0], total: 27999, currency: 'USD' })],
  ];
}

let it0: IssuedViIntent;
let l1: string;

beforeAll(async () => {
  l1 = await makeL1(issuer, user.publicJwk, { iat: T0 - 86_400, exp: T0 + 365 * 86_400, cardId: INSTRUMENT.id });
  it0 = await issueViIntent({
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
    },
  });
});

/** With `null`: no merchant pinned (checkout signatures not checked). */
const opts = (merchants: VerifyMandateOptions['trust']['merchants'] | null = [merchant.publicJwk]): VerifyMandateOptions => ({
  profile: 'verifiable-intent',
  trust: { issuers: [issuer.publicJwk], ...(merchants !== null ? { merchants } : {}) },
  now: NOW,
  aud: 'https://agent.example.com',
  nonce: 'n-l2',
  paymentAud: 'https://network.example.com',
  paymentNonce: 'n-l3a',
  checkoutAud: MAUD,
  checkoutNonce: 'n-l3b',
});

/** The autonomous chain closing on `jwt`; with `agentLines`, the agent's L3b carries those line_items of its own. */
async function chain(jwt: string, agentLines?: unknown[]) {
  const act = await issueViAction({
    signer: agent.signer,
    kid: agent.kid,
    iss: 'https://agent.example.com',
    intent: it0,
    merchant: MERCHANTS[0]!,
    itemIds: ['HEA23102'],
    checkoutJwt: jwt,
    amount: { amount: '279.99', currency: 'USD' },
    instrument: INSTRUMENT,
    payment: { aud: 'https://network.example.com', nonce: 'n-l3a' },
    checkout: { aud: MAUD, nonce: 'n-l3b' },
    now: new Date(T0 * 1000),
  });
  const input = { l1, l2: it0.l2, ...act };
  if (agentLines === undefined) return input;
  const item = it0.disclosures.items.find((x) => Buffer.from(x, 'base64url').toString().includes('HEA23102'))!;
  const coView = viPresentation(it0.base, [it0.disclosures.checkout, item]);
  const co = disclose({ vct: 'mandate.checkout.1', checkout_jwt: jwt, checkout_hash: hashAscii(jwt), line_items: agentLines });
  const claims = {
    nonce: 'n-l3b',
    aud: MAUD,
    sd_hash: hashAscii(coView),
    iat: T0,
    exp: T0 + 300,
    iss: 'https://agent.example.com',
    delegate_payload: [ref(co)],
    _sd_alg: 'sha-256',
  };
  return { ...input, l3_checkout: await sdJwt({ typ: 'kb-sd-jwt' }, claims, [co], agent.signer, agent.kid), l2_checkout_serialized: coView };
}

const AGENT_LINES = [{ id: 'line-1', item: { id: 'HEA23102', title: 'Head Speed' }, quantity: 1 }];

describe('VI autonomous: a checkout_jwt the pinned merchant signed for something else', () => {
  it('control: the honest checkout verifies, its signature checked, its own line items reported (with and without agreeing L3b lines)', async () => {
    const jwt = await signed({ typ: 'JWT' }, CHECKOUT);
    for (const lines of [undefined, AGENT_LINES]) {
      const d = await verifyMandateChain(await chain(jwt, lines), opts());
      expect([lines, codes(d)]).toEqual([lines, []]);
      expect(d.merchantSignature).toBe('checked');
      expect(d.checkout?.lineItems).toEqual([{ id: 'HEA23102', quantity: 1 }]);
      expect(d.checkout?.merchant).toEqual(MERCHANTS[0]);
    }
    // The VI reference's cart.items form and the test helper's checkout verify too.
    const cart = await signed(
      { typ: 'JWT' },
      { iss: MAUD, sub: 'cart_checkout', iat: T0, exp: T0 + 3600, cart: { items: [{ sku: 'HEA23102', name: 'Head Speed', quantity: 1, unitPrice: 279.99 }] } },
    );
    const helper = await checkoutJwt(merchant, { iat: T0, items: [{ id: 'HEA23102', quantity: 1 }], merchantObj: MERCHANTS[0] });
    for (const jwt2 of [cart, helper]) {
      const d = await verifyMandateChain(await chain(jwt2), opts());
      expect(codes(d)).toEqual([]);
      expect(d.merchantSignature).toBe('checked');
    }
  });

  it('each foreign token kind is refused, whether or not the L3b lists line items of its own; never merchantSignature checked', async () => {
    for (const [name, jwt] of await foreignTokens()) {
      for (const lines of [AGENT_LINES, undefined]) {
        const d = await verifyMandateChain(await chain(jwt, lines), opts());
        const tag = `${name} / agent lines ${lines ? 'present' : 'absent'}`;
        expect([tag, d.ok]).toEqual([tag, false]);
        expect([tag, d.merchantSignature]).toEqual([tag, 'failed']);
        expect(d.checkout).toBeUndefined();
        expect(FOREIGN, `${tag}: ${JSON.stringify(d.reasons)}`).toContain(codes(d)[0]);
      }
    }
  });

  it('without pinned merchants a foreign token is still no checkout (and is reported not checked)', async () => {
    for (const [name, jwt] of await foreignTokens()) {
      const d = await verifyMandateChain(await chain(jwt, AGENT_LINES), opts(null));
      expect([name, d.ok, d.merchantSignature]).toEqual([name, false, 'not-checked']);
      expect(FOREIGN).toContain(codes(d)[0]);
    }
  });

  it('a checkout payload under a foreign typ, in any spelling, is refused', async () => {
    const typs = ['vc+jwt', 'VC+JWT', 'application/vc+jwt', 'Application/VC+JWT', 'vp+jwt', 'kb+jwt', 'dc+sd-jwt', 'vc+sd-jwt', 'statuslist+jwt', 'application/statuslist+jwt'];
    typs.push(RECEIPT_TYP, 'CHARTER-RECEIPT+JWT', 'application/charter-receipt+jwt', 'charter-checkpoint+jwt', 'charter-pool-join+jwt', 'at+jwt', 'dpop+jwt', '');
    for (const typ of [...typs, 42, null, ['JWT']]) {
      const jwt = await signed({ typ }, CHECKOUT);
      for (const lines of [AGENT_LINES, undefined]) {
        const d = await verifyMandateChain(await chain(jwt, lines), opts());
        expect([typ, d.ok, d.merchantSignature, codes(d)]).toEqual([typ, false, 'failed', ['INVALID_TYP']]);
      }
    }
    // a cty (nested JWT, vc, vp...) is no plain checkout either
    for (const cty of ['JWT', 'vc', 'vp']) {
      const d = await verifyMandateChain(await chain(await signed({ typ: 'JWT', cty }, CHECKOUT)), opts());
      expect([cty, codes(d)]).toEqual([cty, ['INVALID_TYP']]);
    }
  });

  it('the right typ over a payload that is (also) a credential, presentation, SD-JWT, status list or receipt is refused', async () => {
    const extras: Record<string, unknown>[] = [
      { vc: { type: ['VerifiableCredential'] } },
      { vp: { type: ['VerifiablePresentation'] } },
      { '@context': ['https://www.w3.org/ns/credentials/v2'] },
      { type: ['VerifiableCredential'] },
      { type: 'VerifiablePresentation' },
      { credentialSubject: { id: 'x' } },
      { verifiableCredential: [] },
      { _sd: [], _sd_alg: 'sha-256' },
      { vct: 'mandate.checkout.1' },
      { cnf: { jwk: agent.publicJwk } },
      { sd_hash: 'x' },
      { delegate_payload: [] },
      { status_list: { bits: 1, lst: 'x' } },
      { status: { status_list: { idx: 1, uri: 'https://x' } } },
      { decision: 'allow', verifier: MAUD, policy: {}, log: {} },
      { statement: {} },
    ];
    for (const extra of extras) {
      for (const typ of ['JWT', undefined]) {
        const jwt = await signed(typ ? { typ } : {}, { ...CHECKOUT, ...extra });
        const d = await verifyMandateChain(await chain(jwt, AGENT_LINES), opts());
        expect([extra, typ, d.ok, d.merchantSignature, codes(d)]).toEqual([extra, typ, false, 'failed', ['INVALID_CREDENTIAL']]);
      }
    }
  });

  it('a merchant-signed checkout listing no line items is refused, never completed from the L3b', async () => {
    const shapes: Record<string, unknown>[] = [
      without('line_items'),
      { ...CHECKOUT, line_items: [] },
      { ...CHECKOUT, line_items: 'HEA23102' },
      { ...CHECKOUT, line_items: ['HEA23102'] },
      { ...CHECKOUT, line_items: [{ quantity: 1 }] },
      { ...without('line_items'), cart: { items: [] } },
      { ...without('line_items'), cart: {} },
      { ...CHECKOUT, merchant: 'merchant-uuid-1' },
    ];
    for (const payload of shapes) {
      for (const lines of [AGENT_LINES, undefined]) {
        const d = await verifyMandateChain(await chain(await signed({ typ: 'JWT' }, payload), lines), opts());
        expect([payload, lines !== undefined, d.ok, d.merchantSignature, codes(d)]).toEqual([payload, lines !== undefined, false, 'failed', ['INVALID_CREDENTIAL']]);
        expect(d.checkout).toBeUndefined();
      }
    }
  });

  it('readCheckout itself: honest typs pass, foreign ones and checkouts without items are refused before any signature is called checked', async () => {
    const o = opts();
    for (const typ of [undefined, 'JWT', 'jwt', 'application/jwt', 'JOSE', 'checkout+jwt', 'application/checkout+jwt']) {
      const ctx = makeCtx('verifiable-intent', o);
      const jwt = await signed(typ === undefined ? {} : { typ }, CHECKOUT);
      await expect(readCheckout(ctx, jwt, 'checkout')).resolves.toMatchObject({ line_items: CHECKOUT.line_items });
      expect([typ, ctx.decision.merchantSignature]).toEqual([typ, 'checked']);
    }
    for (const [name, jwt] of await foreignTokens()) {
      const ctx = makeCtx('verifiable-intent', o);
      await expect(readCheckout(ctx, jwt, 'checkout'), name).rejects.toBeInstanceOf(Refusal);
      expect([name, ctx.decision.merchantSignature]).toEqual([name, 'failed']);
    }
  });

  it('immediate mode: a foreign token as the L2 checkout_jwt is refused', async () => {
    const [, receipt] = (await foreignTokens())[0]!;
    const im = await issueViIntent({
      issuer: user.issuer,
      l1,
      aud: 'https://network.example.com',
      nonce: 'n-im',
      now: new Date(T0 * 1000),
      immediate: { checkoutJwt: receipt, instrument: INSTRUMENT, payee: MERCHANTS[0]!, amount: { amount: '279.99', currency: 'USD' } },
    });
    const d = await verifyMandateChain({ l1, l2: im.l2 }, { ...opts(), aud: 'https://network.example.com', nonce: 'n-im' });
    expect([d.ok, d.merchantSignature, codes(d)]).toEqual([false, 'failed', ['INVALID_TYP']]);
  });
});

describe('AP2: the same check on the closed checkout mandate', () => {
  const AP2_MERCHANT = { id: 'merchant_1', name: 'Demo Merchant', website: 'https://demo-merchant.example' };
  const root = freshParty();

  async function ap2(jwt: string) {
    const oc = await issueAp2OpenMandate({
      issuer: root.issuer,
      kind: 'checkout',
      agent: { jwk: agent.publicJwk },
      constraints: [{ type: 'checkout.line_items', items: [{ id: 'line_1', acceptable_items: [{ id: 'shoe-9', title: 'SuperShoe 9' }], quantity: 1 }] }],
      now: new Date(T0 * 1000),
      expiresIn: 3600,
    });
    const checkout = await closeAp2Mandate({
      chain: oc,
      signer: agent.signer,
      mandate: { vct: 'mandate.checkout.1', checkout_jwt: jwt, checkout_hash: hashAscii(jwt) },
      aud: 'merchant',
      nonce: 'n-merchant',
      now: new Date((T0 + 30) * 1000),
    });
    return verifyMandateChain(
      { checkout },
      { profile: 'ap2', trust: { issuers: [root.publicJwk], merchants: [merchant.publicJwk] }, now: NOW, checkoutAud: 'merchant', checkoutNonce: 'n-merchant' },
    );
  }

  it('an honest checkout verifies; a receipt, a credential or a checkout-typed credential does not', async () => {
    const honest = {
      order_id: 'o-1',
      merchant: AP2_MERCHANT,
      line_items: [{ id: 'line_1', item: { id: 'shoe-9', title: 'SuperShoe 9', price: 19900 }, quantity: 1 }],
      currency: 'USD',
    };
    const ok = await ap2(await signed({ typ: 'JWT' }, honest));
    expect([codes(ok), ok.merchantSignature]).toEqual([[], 'checked']);
    const tokens = new Map(await foreignTokens());
    const receipt = tokens.get('charter decision receipt')!;
    const vc = tokens.get('vc+jwt credential (VC 2.0)')!;
    for (const jwt of [receipt, vc, await signed({ typ: 'JWT' }, { ...honest, vc: { type: ['VerifiableCredential'] } }), await signed({ typ: 'application/vc+jwt' }, honest)]) {
      const d = await ap2(jwt);
      expect([d.ok, d.merchantSignature]).toEqual([false, 'failed']);
      expect(FOREIGN).toContain(codes(d)[0]);
    }
  });
});
