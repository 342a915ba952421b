import { beforeAll, describe, expect, it } from 'vitest';
import { closeAp2Mandate, hashAscii, issueAp2OpenMandate, verifyMandateChain, type VerifyMandateOptions } from '../../src/mandates/index.js';
import { disclose, ref, sdJwt } from '../../src/mandates/issue-common.js';
import { freshParty, signCompact, type Party } from './helpers.js';

/**
 * AP2 v0.2 constraint edges that mutation testing of src/mandates/ap2.ts and
 * ap2-constraints.ts found untested: each case changes one thing in an
 * otherwise accepted chain and asserts the exact refusal (and, beside it,
 * the accepted neighbour), so a check that is weakened, dropped or turned
 * around fails here.
 */
const T0 = 1_800_000_000;
const NOW = new Date((T0 + 60) * 1000);
const MERCHANT = { id: 'merchant_1', name: 'Demo Merchant' };
const INSTRUMENT = { id: 'card-1', type: 'card' };

let root: Party;
let agent: Party;
let merchant: Party;
beforeAll(() => {
  root = freshParty('provider-key-1');
  agent = freshParty();
  merchant = freshParty('merchant-key-1');
});

const open = (kind: 'payment' | 'checkout', constraints: Record<string, unknown>[], preset?: Record<string, unknown>) =>
  issueAp2OpenMandate({ issuer: root.issuer, kind, agent: { jwk: agent.publicJwk }, constraints, now: new Date(T0 * 1000), expiresIn: 3600, ...(preset ? { preset } : {}) });
const at = new Date((T0 + 30) * 1000);

/** A checkout JWT the pinned merchant signed. */
const order = (o: { merchant?: Record<string, unknown>; items?: { id: string; quantity: number }[] } = {}) =>
  signCompact(
    { typ: 'JWT' },
    {
      order_id: 'order-1',
      merchant: o.merchant ?? MERCHANT,
      line_items: (o.items ?? [{ id: 'shoe-9', quantity: 1 }]).map((i) => ({ id: 'line_1', item: { id: i.id, title: i.id, price: 100 }, quantity: i.quantity })),
      currency: 'USD',
    },
    merchant,
  );

const LINE_ITEMS = { type: 'checkout.line_items', items: [{ id: 'line_1', acceptable_items: [{ id: 'shoe-9', title: 'Shoe' }], quantity: 1 }] };

/** A checkout chain (open, closed) verified on its own; codes of the decision. */
async function checkoutCodes(constraints: Record<string, unknown>[], o: Parameters<typeof order>[0] = {}): Promise<string[]> {
  const oc = await open('checkout', constraints);
  const jwt = await order(o);
  const chain = await closeAp2Mandate({
    chain: oc,
    signer: agent.signer,
    mandate: { vct: 'mandate.checkout.1', checkout_jwt: jwt, checkout_hash: hashAscii(jwt) },
    aud: 'merchant',
    nonce: 'n-m',
    now: at,
  });
  const d = await verifyMandateChain(chain, { profile: 'ap2', trust: { issuers: [root.publicJwk], merchants: [merchant.publicJwk] }, now: NOW, aud: 'merchant', nonce: 'n-m' });
  return d.reasons.map((r) => r.code);
}

const TX = hashAscii('the.checkout.jwt');
const OPEN_CHECKOUT = hashAscii('the.open.checkout');
const REFERENCE = { type: 'payment.reference', conditional_transaction_id: OPEN_CHECKOUT };

/** A payment chain (open, closed) verified on its own against TX and OPEN_CHECKOUT; the decision. */
async function pay(
  constraints: Record<string, unknown>[],
  closed: Record<string, unknown> = {},
  o: { preset?: Record<string, unknown>; verify?: Partial<VerifyMandateOptions> } = {},
) {
  const op = await open('payment', [REFERENCE, ...constraints], o.preset);
  const mandate = { vct: 'mandate.payment.1', transaction_id: TX, payee: MERCHANT, payment_amount: { amount: 1000, currency: 'USD' }, payment_instrument: INSTRUMENT, ...closed };
  for (const [k, v] of Object.entries(mandate)) if (v === undefined) delete (mandate as Record<string, unknown>)[k];
  const chain = await closeAp2Mandate({ chain: op, signer: agent.signer, mandate, aud: 'psp', nonce: 'n-p', now: at });
  return verifyMandateChain(chain, {
    profile: 'ap2',
    trust: { issuers: [root.publicJwk], merchants: [merchant.publicJwk] },
    now: NOW,
    aud: 'psp',
    nonce: 'n-p',
    checkoutHash: TX,
    openCheckoutHash: OPEN_CHECKOUT,
    ...o.verify,
  });
}
const payCodes = async (...a: Parameters<typeof pay>) => (await pay(...a)).reasons.map((r) => r.code);

describe('AP2 ids: a match needs the same non-empty string id on both sides', () => {
  it('allowed_payment_instruments: an empty id matches nothing, even an empty id', async () => {
    expect(await payCodes([{ type: 'payment.allowed_payment_instruments', allowed: [INSTRUMENT] }])).toEqual([]);
    expect(await payCodes([{ type: 'payment.allowed_payment_instruments', allowed: [{ id: '', type: 'card' }] }], { payment_instrument: { id: '', type: 'card' } })).toEqual([
      'CONSTRAINT_VIOLATED',
    ]);
    // Another instrument than the one allowed, and an allowed list that reveals none.
    expect(await payCodes([{ type: 'payment.allowed_payment_instruments', allowed: [INSTRUMENT] }], { payment_instrument: { id: 'card-2', type: 'card' } })).toEqual([
      'CONSTRAINT_VIOLATED',
    ]);
    expect(await payCodes([{ type: 'payment.allowed_payment_instruments', allowed: [] }])).toEqual(['CONSTRAINT_VIOLATED']);
  });

  it('allowed_merchants: a merchant whose id is not a string (a number, null, true) is never in the list, whatever the list says', async () => {
    expect(await checkoutCodes([LINE_ITEMS, { type: 'checkout.allowed_merchants', allowed: [MERCHANT] }])).toEqual([]);
    for (const id of [7, null, true, 0]) {
      const m = { id, name: 'Demo Merchant' };
      expect(await checkoutCodes([LINE_ITEMS, { type: 'checkout.allowed_merchants', allowed: [m] }], { merchant: m }), String(id)).toEqual(['COUNTERPARTY_NOT_ALLOWED']);
    }
    expect(await checkoutCodes([LINE_ITEMS, { type: 'checkout.allowed_merchants', allowed: [{ id: '', name: 'x' }] }], { merchant: { id: '', name: 'x' } })).toEqual([
      'COUNTERPARTY_NOT_ALLOWED',
    ]);
  });
});

describe('AP2 constraint types: only the table own entries are types', () => {
  it('a constraint typed with an Object.prototype name is unknown (UNKNOWN_CONSTRAINT), not a constraint checked by nothing', async () => {
    for (const type of ['constructor', 'toString', '__proto__', 'hasOwnProperty', 'valueOf']) {
      expect(await payCodes([{ type }]), type).toEqual(['UNKNOWN_CONSTRAINT']);
      expect(await checkoutCodes([LINE_ITEMS, { type }]), type).toEqual(['UNKNOWN_CONSTRAINT']);
    }
  });
});

describe('payment.amount_range: a bound that is not a non-negative integer makes the constraint fail, never pass', () => {
  it('max as a string, a fraction, null, missing, negative; min as a string or negative: CONSTRAINT_VIOLATED', async () => {
    const range = (o: Record<string, unknown>) => [{ type: 'payment.amount_range', currency: 'USD', ...o }];
    expect(await payCodes(range({ max: 20000, min: 0 }))).toEqual([]);
    for (const max of ['20000', '1e9', 20000.5, null, true, -1]) expect(await payCodes(range({ max })), JSON.stringify(max)).toEqual(['CONSTRAINT_VIOLATED']);
    expect(await payCodes([{ type: 'payment.amount_range', currency: 'USD' }])).toEqual(['CONSTRAINT_VIOLATED']);
    for (const min of ['0', -1, 0.5]) expect(await payCodes(range({ max: 20000, min })), JSON.stringify(min)).toEqual(['CONSTRAINT_VIOLATED']);
    for (const currency of ['usd', 'US', 'USDT', 840])
      expect(await payCodes([{ type: 'payment.amount_range', currency, max: 20000 }]), String(currency)).toEqual(['CONSTRAINT_VIOLATED']);
  });

  it('the bounds are inclusive: min and max themselves are allowed, one minor unit past either is not', async () => {
    const range = [{ type: 'payment.amount_range', currency: 'USD', min: 500, max: 1000 }];
    expect(await payCodes(range, { payment_amount: { amount: 1000, currency: 'USD' } })).toEqual([]);
    expect(await payCodes(range, { payment_amount: { amount: 500, currency: 'USD' } })).toEqual([]);
    expect(await payCodes(range, { payment_amount: { amount: 1001, currency: 'USD' } })).toEqual(['AUTHORITY_EXCEEDED']);
    expect(await payCodes(range, { payment_amount: { amount: 499, currency: 'USD' } })).toEqual(['CONSTRAINT_VIOLATED']);
    expect(await payCodes(range, { payment_amount: { amount: 1000, currency: 'EUR' } })).toEqual(['CURRENCY_MISMATCH']);
  });
});

describe('the closed hop as written by hand: its _sd_alg and typ', () => {
  /** The closed payment hop over a fresh open mandate, with `_sd_alg` (undefined: left out) and the header `typ` (null: left out) as given. */
  const hop = async (
    alg: string | undefined,
    typ: string | null = 'kb+sd-jwt',
    binding?: (op: string, other: string) => Record<string, unknown>,
    more: Record<string, unknown> = {},
  ) => {
    const op = await open('payment', [REFERENCE]);
    const mandate = { vct: 'mandate.payment.1', transaction_id: TX, payee: MERCHANT, payment_amount: { amount: 1000, currency: 'USD' }, payment_instrument: INSTRUMENT, ...more };
    const m = disclose(mandate);
    // `other`: another open mandate of the same root to the same agent, as a second chain would hold it.
    const bound = binding ? binding(op, await open('payment', [REFERENCE])) : { sd_hash: hashAscii(op) };
    const payload = { iat: T0 + 30, aud: 'psp', nonce: 'n-p', ...bound, delegate_payload: [ref(m)], ...(alg !== undefined ? { _sd_alg: alg } : {}) };
    return `${op.replace(/~$/, '')}~~${await sdJwt(typ === null ? {} : { typ }, payload, [m], agent.signer, undefined)}`;
  };

  it('a closed hop marked sha-512 (its digests sha-256): INVALID_CREDENTIAL', async () => {
    const verify = async (chain: string) =>
      (
        await verifyMandateChain(chain, {
          profile: 'ap2',
          trust: { issuers: [root.publicJwk], merchants: [merchant.publicJwk] },
          now: NOW,
          aud: 'psp',
          nonce: 'n-p',
          checkoutHash: TX,
          openCheckoutHash: OPEN_CHECKOUT,
        })
      ).reasons.map((r) => r.code);
    expect(await verify(await hop('sha-256'))).toEqual([]);
    expect(await verify(await hop(undefined))).toEqual([]);
    for (const alg of ['sha-512', 'SHA-256', 'sha-384', '']) expect(await verify(await hop(alg)), alg).toEqual(['INVALID_CREDENTIAL']);
  });

  it('a later hop must be typed kb+sd-jwt (or kb+sd-jwt+kb): any other typ, or none, is INVALID_TYP', async () => {
    const verify = async (chain: string) =>
      (
        await verifyMandateChain(chain, {
          profile: 'ap2',
          trust: { issuers: [root.publicJwk], merchants: [merchant.publicJwk] },
          now: NOW,
          aud: 'psp',
          nonce: 'n-p',
          checkoutHash: TX,
          openCheckoutHash: OPEN_CHECKOUT,
        })
      ).reasons.map((r) => r.code);
    expect(await verify(await hop('sha-256', 'kb-sd-jwt'))).toEqual([]);
    for (const typ of [null, 'JWT', 'dc+sd-jwt', 'vc+sd-jwt', 'KB+SD-JWT', 'kb+jwt']) expect(await verify(await hop('sha-256', typ)), String(typ)).toEqual(['INVALID_TYP']);
  });
  it('a later hop is bound to the token before it: by sd_hash or issuer_jwt_hash of that token, exactly one of them', async () => {
    const verify = async (chain: string) =>
      (
        await verifyMandateChain(chain, {
          profile: 'ap2',
          trust: { issuers: [root.publicJwk], merchants: [merchant.publicJwk] },
          now: NOW,
          aud: 'psp',
          nonce: 'n-p',
          checkoutHash: TX,
          openCheckoutHash: OPEN_CHECKOUT,
        })
      ).reasons.map((r) => r.code);
    const issuerJwt = (t: string) => t.split('~')[0]!;
    expect(await verify(await hop('sha-256', 'kb+sd-jwt', (op) => ({ sd_hash: hashAscii(op) })))).toEqual([]);
    expect(await verify(await hop('sha-256', 'kb+sd-jwt', (op) => ({ issuer_jwt_hash: hashAscii(issuerJwt(op)) })))).toEqual([]);
    const broken: Array<[string, (op: string, other: string) => Record<string, unknown>]> = [
      // A closed hop the agent made for another open mandate, spliced onto this one.
      ['sd_hash of another open mandate', (_op, other) => ({ sd_hash: hashAscii(other) })],
      ['issuer_jwt_hash of another open mandate', (_op, other) => ({ issuer_jwt_hash: hashAscii(issuerJwt(other)) })],
      ['sd_hash over the issuer JWT only', (op) => ({ sd_hash: hashAscii(issuerJwt(op)) })],
      ['issuer_jwt_hash over the whole token', (op) => ({ issuer_jwt_hash: hashAscii(op) })],
      ['both, each right', (op) => ({ sd_hash: hashAscii(op), issuer_jwt_hash: hashAscii(issuerJwt(op)) })],
      ['both, the sd_hash right', (op, other) => ({ sd_hash: hashAscii(op), issuer_jwt_hash: hashAscii(issuerJwt(other)) })],
      ['neither', () => ({})],
      ['an empty sd_hash', () => ({ sd_hash: '' })],
    ];
    for (const [name, b] of broken) expect(await verify(await hop('sha-256', 'kb+sd-jwt', b)), name).toEqual(['DELEGATION_BROKEN']);
  });
  it('a closed hop needs iat, and a non-empty aud and nonce even when the verifier does not ask for them', async () => {
    const verify = async (chain: string, allowMissingNonce: boolean) =>
      (
        await verifyMandateChain(chain, {
          profile: 'ap2',
          trust: { issuers: [root.publicJwk], merchants: [merchant.publicJwk] },
          now: NOW,
          checkoutHash: TX,
          openCheckoutHash: OPEN_CHECKOUT,
          ...(allowMissingNonce ? { allowMissingNonce: true } : { aud: 'psp', nonce: 'n-p' }),
        })
      ).reasons.map((r) => r.code);
    const with_ = (more: Record<string, unknown>) => hop('sha-256', 'kb+sd-jwt', (op) => ({ sd_hash: hashAscii(op), ...more }));
    expect(await verify(await with_({}), true)).toEqual([]);
    expect(await verify(await with_({ iat: undefined }), false)).not.toEqual([]);
    for (const more of [{ aud: '' }, { nonce: '' }, { aud: undefined }, { nonce: undefined }]) {
      expect(await verify(await with_(more), true), JSON.stringify(more)).toEqual(['INVALID_CREDENTIAL']);
    }
  });
  it('the last hop is terminal: typed kb+sd-jwt and without cnf; typed as intermediate, or carrying cnf, it is refused', async () => {
    const verify = async (chain: string) =>
      (
        await verifyMandateChain(chain, {
          profile: 'ap2',
          trust: { issuers: [root.publicJwk], merchants: [merchant.publicJwk] },
          now: NOW,
          aud: 'psp',
          nonce: 'n-p',
          checkoutHash: TX,
          openCheckoutHash: OPEN_CHECKOUT,
        })
      ).reasons.map((r) => r.code);
    const cnf = { jwk: freshParty().publicJwk };
    expect(await verify(await hop('sha-256', 'kb+sd-jwt+kb'))).toEqual(['INVALID_CREDENTIAL']);
    expect(await verify(await hop('sha-256', 'kb-sd-jwt+kb'))).toEqual(['INVALID_CREDENTIAL']);
    expect(await verify(await hop('sha-256', 'kb+sd-jwt', undefined, { cnf }))).toEqual(['INVALID_CREDENTIAL']);
    expect(await verify(await hop('sha-256', 'kb-sd-jwt', undefined, { cnf }))).toEqual(['INVALID_CREDENTIAL']);
  });
});

describe('payment.allowed_payees: one of the payees revealed, matched by id', () => {
  it('any one of several allowed payees passes; an empty list is a constraint that fails; another payee is not allowed', async () => {
    const other = { id: 'merchant_2', name: 'Other' };
    expect(await payCodes([{ type: 'payment.allowed_payees', allowed: [other, MERCHANT] }])).toEqual([]);
    expect(await payCodes([{ type: 'payment.allowed_payees', allowed: [MERCHANT, other] }])).toEqual([]);
    expect(await payCodes([{ type: 'payment.allowed_payees', allowed: [] }])).toEqual(['CONSTRAINT_VIOLATED']);
    expect(await payCodes([{ type: 'payment.allowed_payees', allowed: [other] }])).toEqual(['COUNTERPARTY_NOT_ALLOWED']);
    // The name is attacker-chosen: the same name under another id is another payee.
    expect(await payCodes([{ type: 'payment.allowed_payees', allowed: [{ id: 'merchant_9', name: MERCHANT.name }] }])).toEqual(['COUNTERPARTY_NOT_ALLOWED']);
  });
});

describe('payment.allowed_pisps: the PISP matches on domain, legal and brand name together', () => {
  it('all three the same passes; any one different, or no PISP named, fails (CONSTRAINT_VIOLATED)', async () => {
    const pisp = { domain_name: 'pisp.example', legal_name: 'PISP Ltd', brand_name: 'PayNow' };
    const allowed = (o: Record<string, unknown>) => [{ type: 'payment.allowed_pisps', allowed: [{ ...pisp, ...o }] }];
    expect(await payCodes(allowed({}), { pisp })).toEqual([]);
    expect(await payCodes(allowed({ domain_name: 'other.example' }), { pisp })).toEqual(['CONSTRAINT_VIOLATED']);
    expect(await payCodes(allowed({ legal_name: 'Other Ltd' }), { pisp })).toEqual(['CONSTRAINT_VIOLATED']);
    expect(await payCodes(allowed({ brand_name: 'PayLater' }), { pisp })).toEqual(['CONSTRAINT_VIOLATED']);
    expect(await payCodes(allowed({}))).toEqual(['CONSTRAINT_VIOLATED']);
  });
});

describe('one chain, one kind of mandate', () => {
  it('an open payment mandate closed by a checkout mandate: DELEGATION_BROKEN', async () => {
    const op = await open('payment', [REFERENCE]);
    const jwt = await order();
    const chain = await closeAp2Mandate({
      chain: op,
      signer: agent.signer,
      mandate: { vct: 'mandate.checkout.1', checkout_jwt: jwt, checkout_hash: hashAscii(jwt) },
      aud: 'psp',
      nonce: 'n-p',
      now: at,
    });
    const d = await verifyMandateChain(chain, { profile: 'ap2', trust: { issuers: [root.publicJwk], merchants: [merchant.publicJwk] }, now: NOW, aud: 'psp', nonce: 'n-p' });
    expect(d.reasons.map((r) => r.code)).toEqual(['DELEGATION_BROKEN']);
  });
});
