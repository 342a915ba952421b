import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson, MAX_JSON_DEPTH, jsonDataProblem } from '../../src/encoding/json.js';
import { closeAp2Mandate, hashAscii, issueAp2OpenMandate, verifyMandateChain, type VerifyMandateOptions } from '../../src/mandates/index.js';
import { readCheckout } from '../../src/mandates/checkout.js';
import { makeCtx, Refusal } from '../../src/mandates/common.js';
import { parseTrustAnchor } from '../../src/mandates/trust.js';
import { readMandateInput } from '../../src/mandates/wire.js';
import { freshParty, signCompact, type Party } from './helpers.js';

/**
 * AP2 and VI input given as JSON text or as objects: text with a member
 * named twice or nested beyond MAX_JSON_DEPTH, and a programmatic
 * checkout_object that is not JSON data (a Date, a BigInt, a cycle, a deep
 * nest), are refused with a CharterError code; never a raw RangeError or
 * TypeError, and never a last-wins reading of a detached merchant signature.
 */

const T0 = 1_800_000_000;
const NOW = new Date((T0 + 60) * 1000);
const MERCHANT = { id: 'merchant_1', name: 'Demo Merchant', website: 'https://demo-merchant.example' };
const LINE_ITEMS = [{ id: 'line_1', item: { id: 'shoe-9', title: 'SuperShoe 9', price: 19900 }, quantity: 1 }];
const CHECKOUT = { id: 'chk_1', status: 'ready_for_complete', currency: 'USD', merchant: MERCHANT, line_items: LINE_ITEMS };

interface Parties {
  root: Party;
  agent: Party;
  merchant: Party;
}

/** A payment and a checkout chain whose checkout_jwt is `checkoutJwt` (as the AP2 SDK's tests build them). */
async function chains(p: Parties, checkoutJwt: string): Promise<{ payment: string; checkout: string }> {
  const issue = (kind: 'checkout' | 'payment', constraints: Record<string, unknown>[]) =>
    issueAp2OpenMandate({ issuer: p.root.issuer, kind, agent: { jwk: p.agent.publicJwk }, constraints, now: new Date(T0 * 1000), expiresIn: 3600 });
  const oc = await issue('checkout', [
    { type: 'checkout.line_items', items: [{ id: 'line_1', acceptable_items: [{ id: 'shoe-9', title: 'SuperShoe 9' }], quantity: 1 }] },
    { type: 'checkout.allowed_merchants', allowed: [MERCHANT] },
  ]);
  const op = await issue('payment', [
    { type: 'payment.reference', conditional_transaction_id: hashAscii(oc) },
    { type: 'payment.amount_range', currency: 'USD', max: 20000, min: 0 },
    { type: 'payment.allowed_payees', allowed: [MERCHANT] },
  ]);
  const checkoutHash = hashAscii(checkoutJwt);
  const at = new Date((T0 + 30) * 1000);
  const payment = {
    vct: 'mandate.payment.1',
    transaction_id: checkoutHash,
    payee: MERCHANT,
    payment_amount: { amount: 19900, currency: 'USD' },
    payment_instrument: { id: 'b3f1c8a2', type: 'card', description: 'Card 4444' },
  };
  return {
    checkout: await closeAp2Mandate({
      chain: oc,
      signer: p.agent.signer,
      mandate: { vct: 'mandate.checkout.1', checkout_jwt: checkoutJwt, checkout_hash: checkoutHash },
      aud: 'merchant',
      nonce: 'n-merchant',
      now: at,
    }),
    payment: await closeAp2Mandate({ chain: op, signer: p.agent.signer, mandate: payment, aud: 'psp', nonce: 'n-psp', now: at }),
  };
}

/** A detached merchant JWS (`header..signature`, RFC 7515 Appendix F) over the RFC 8785 form of `checkout`. */
async function detachedOver(checkout: Record<string, unknown>, merchant: Party): Promise<string> {
  const [h, , s] = (await signCompact({}, JSON.parse(canonicalJson(checkout)) as Record<string, unknown>, merchant)).split('.');
  return `${h}..${s}`;
}

const opts = (p: Parties): VerifyMandateOptions => ({
  profile: 'ap2',
  trust: { issuers: [p.root.publicJwk], merchants: [p.merchant.publicJwk] },
  now: NOW,
  paymentAud: 'psp',
  paymentNonce: 'n-psp',
  checkoutAud: 'merchant',
  checkoutNonce: 'n-merchant',
});
const codes = (d: { reasons: { code: string }[] }) => d.reasons.map((r) => r.code);

/** What verifyMandateChain does with `input`: its reason codes, or the CharterError code / raw error it throws. */
async function outcome(input: unknown, o: VerifyMandateOptions): Promise<string> {
  try {
    const d = await verifyMandateChain(input, o);
    return d.ok ? 'ok' : codes(d).join(',');
  } catch (e) {
    const err = e as { code?: unknown; constructor: { name: string }; message: string };
    return typeof err.code === 'string' && err.constructor.name === 'CharterError' ? `throws ${err.code}` : `raw ${err.constructor.name}: ${err.message.slice(0, 60)}`;
  }
}

/** `depth` arrays one inside the other, innermost `leaf`. */
function nested(depth: number, leaf: unknown = 1): unknown {
  let v = leaf;
  for (let i = 0; i < depth; i++) v = [v];
  return v;
}

let p: Parties;
let detached: string;
let chain: { payment: string; checkout: string };
/** The AP2 input as JSON text, its checkout_object written as `checkoutText`. */
const asText = (checkoutText: string) => `{"payment":${JSON.stringify(chain.payment)},"checkout":${JSON.stringify(chain.checkout)},"checkout_object":${checkoutText}}`;

beforeAll(async () => {
  p = { root: freshParty('provider-key-1'), agent: freshParty(), merchant: freshParty('merchant-key-1') };
  detached = await detachedOver(CHECKOUT, p.merchant);
  chain = await chains(p, detached);
});

describe('AP2 JSON text input: duplicate member names and excessive nesting are refused (INVALID_ARGUMENT)', () => {
  it('the baseline verifies, as an object and as its JSON text', async () => {
    expect(await outcome({ ...chain, checkout_object: CHECKOUT }, opts(p))).toBe('ok');
    expect(await outcome(asText(JSON.stringify(CHECKOUT)), opts(p))).toBe('ok');
  });

  it('a checkout_object naming currency twice is refused, whichever of the two the signature covers', async () => {
    const body = (c: string) => JSON.stringify(CHECKOUT).replace('"currency":"USD"', c);
    // The signed value last (JSON.parse's pick), the signed value first (another parser's pick), and an escaped spelling.
    for (const c of ['"currency":"EUR","currency":"USD"', '"currency":"USD","currency":"EUR"', '"currency":"EUR","curr\\u0065ncy":"USD"']) {
      expect(await outcome(asText(body(c)), opts(p)), c).toBe('throws INVALID_ARGUMENT');
    }
    // The message names the member.
    await expect(verifyMandateChain(asText(body('"currency":"EUR","currency":"USD"')), opts(p))).rejects.toThrow(/names "currency" twice/);
  });

  it('duplicates anywhere in the input text are refused: a nested merchant, a line item, the chains themselves', async () => {
    const dupMerchant = JSON.stringify(CHECKOUT).replace('"id":"merchant_1"', '"id":"evil","id":"merchant_1"');
    const dupLine = JSON.stringify(CHECKOUT).replace('"price":19900', '"price":1,"price":19900');
    expect(await outcome(asText(dupMerchant), opts(p))).toBe('throws INVALID_ARGUMENT');
    expect(await outcome(asText(dupLine), opts(p))).toBe('throws INVALID_ARGUMENT');
    const twice = `{"payment":${JSON.stringify('x~~y')},"payment":${JSON.stringify(chain.payment)},"checkout":${JSON.stringify(chain.checkout)},"checkout_object":${JSON.stringify(CHECKOUT)}}`;
    expect(await outcome(twice, opts(p))).toBe('throws INVALID_ARGUMENT');
    const twiceObject = asText(`${JSON.stringify({ ...CHECKOUT, currency: 'EUR' })},"checkout_object":${JSON.stringify(CHECKOUT)}`);
    expect(await outcome(twiceObject, opts(p))).toBe('throws INVALID_ARGUMENT');
  });

  it('a checkout_object nested 100, 5,000 or 200,000 levels deep is refused, not a stack overflow', async () => {
    for (const depth of [100, 5000, 200_000]) {
      const text = asText(`{"x":${'['.repeat(depth)}${']'.repeat(depth)}}`);
      expect(await outcome(text, opts(p)), String(depth)).toBe('throws INVALID_ARGUMENT');
    }
  });

  it('nesting up to MAX_JSON_DEPTH verifies (a signed deep member); one level more is refused', async () => {
    // The input object, checkout_object and its "x" member take 2 levels; "x" holds the rest.
    const fits = { ...CHECKOUT, x: nested(MAX_JSON_DEPTH - 2) };
    const sig = await detachedOver(fits, p.merchant);
    const c = await chains(p, sig);
    const text = (x: unknown) => `{"payment":${JSON.stringify(c.payment)},"checkout":${JSON.stringify(c.checkout)},"checkout_object":${JSON.stringify({ ...CHECKOUT, x })}}`;
    expect(await outcome(text(nested(MAX_JSON_DEPTH - 2)), opts(p))).toBe('ok');
    expect(await outcome(text(nested(MAX_JSON_DEPTH - 1)), opts(p))).toBe('throws INVALID_ARGUMENT');
    expect(await outcome({ ...c, checkout_object: fits }, opts(p))).toBe('ok');
  });

  it('VI JSON text with a member named twice is refused the same way', async () => {
    const vi = { ...opts(p), profile: 'verifiable-intent' as const };
    expect(await outcome('{"l1":"a~","l1":"b~","l2":"c~"}', vi)).toBe('throws INVALID_ARGUMENT');
    expect(await outcome(`{"l1":"a~","l2":"c~","x":${'['.repeat(5000)}${']'.repeat(5000)}}`, vi)).toBe('throws INVALID_ARGUMENT');
  });
});

describe('a programmatic checkout_object must be JSON data (INVALID_ARGUMENT), never a raw TypeError or RangeError', () => {
  const cyclic = () => {
    const c: Record<string, unknown> = { ...CHECKOUT };
    c.self = c;
    return c;
  };
  const cases: Array<[string, () => Record<string, unknown>]> = [
    ['a Date', () => ({ ...CHECKOUT, when: new Date(T0 * 1000) })],
    ['a BigInt', () => ({ ...CHECKOUT, n: 1n })],
    ['a Map', () => ({ ...CHECKOUT, m: new Map([['a', 1]]) })],
    ['a class instance', () => ({ ...CHECKOUT, merchant: new (class Merchant {})() })],
    ['a URL', () => ({ ...CHECKOUT, website: new URL('https://demo-merchant.example') })],
    ['NaN', () => ({ ...CHECKOUT, total: NaN })],
    ['Infinity', () => ({ ...CHECKOUT, total: Infinity })],
    ['a function', () => ({ ...CHECKOUT, f: () => 1 })],
    ['a symbol', () => ({ ...CHECKOUT, s: Symbol('x') })],
    ['a hole in an array', () => ({ ...CHECKOUT, line_items: [LINE_ITEMS[0], , LINE_ITEMS[0]] })], // eslint-disable-line no-sparse-arrays
    ['undefined in an array', () => ({ ...CHECKOUT, line_items: [undefined] })],
    ['a cycle', cyclic],
    ['10,000 nested arrays', () => ({ ...CHECKOUT, x: nested(10_000) })],
    ['65 nested objects', () => ({ ...CHECKOUT, x: JSON.parse('{"a":'.repeat(MAX_JSON_DEPTH) + '1' + '}'.repeat(MAX_JSON_DEPTH)) as unknown })],
    ['a Date deep inside', () => ({ ...CHECKOUT, line_items: [{ ...LINE_ITEMS[0], item: { id: 'shoe-9', at: new Date() } }] })],
  ];

  it.each(cases)('refuses %s', async (_what, make) => {
    expect(await outcome({ ...chain, checkout_object: make() }, opts(p))).toBe('throws INVALID_ARGUMENT');
    await expect(verifyMandateChain({ ...chain, checkout_object: make() }, opts(p))).rejects.toThrow(/checkout_object must be JSON data/);
  });

  it('a member set to undefined is left out, as JSON.stringify and RFC 8785 leave it out: still verifies', async () => {
    expect(await outcome({ ...chain, checkout_object: { ...CHECKOUT, note: undefined } }, opts(p))).toBe('ok');
    expect(await outcome({ ...chain, checkout_object: Object.assign(Object.create(null) as object, CHECKOUT) }, opts(p))).toBe('ok');
  });

  it('readCheckout refuses a non-JSON detached body itself (INVALID_CREDENTIAL), before canonicalising it', async () => {
    const ctx = makeCtx('ap2', opts(p));
    for (const [what, make] of cases) {
      const run = readCheckout(ctx, detached, 'checkout mandate', make());
      await expect(run, what).rejects.toBeInstanceOf(Refusal);
      await expect(run, what).rejects.toMatchObject({ reason: { code: 'INVALID_CREDENTIAL', ref: 'checkout mandate' } });
    }
    await expect(readCheckout(ctx, detached, 'checkout mandate', CHECKOUT)).resolves.toMatchObject({ currency: 'USD' });
  });

  it('the wire reader (guards) refuses the same objects as INVALID_PRESENTATION, before measuring them with JSON.stringify', () => {
    for (const [what, make] of cases) {
      expect(() => readMandateInput('ap2', { ...chain, checkout_object: make() }), what).toThrow(expect.objectContaining({ code: 'INVALID_PRESENTATION' }) as Error);
    }
    expect(() => readMandateInput('ap2', asText(JSON.stringify(CHECKOUT).replace('"currency":"USD"', '"currency":"EUR","currency":"USD"')))).toThrow(
      expect.objectContaining({ code: 'INVALID_PRESENTATION' }) as Error,
    );
    expect(readMandateInput('ap2', { ...chain, checkout_object: CHECKOUT })).toMatchObject({ checkout_object: CHECKOUT });
  });
});

describe('jsonDataProblem agrees with canonicalJson', () => {
  it('accepts every JSON value within the depth bound, and canonicalJson reads it back', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 10 }), (v) => {
        expect(jsonDataProblem(v)).toBeUndefined();
        expect(JSON.parse(canonicalJson(v))).toEqual(JSON.parse(JSON.stringify(v)));
      }),
      { numRuns: 300 },
    );
  });

  it('whatever it lets through, canonicalJson canonicalises without throwing', () => {
    fc.assert(
      fc.property(fc.anything({ withBigInt: true, withDate: true, withMap: true, withSet: true, withTypedArray: true, withNullPrototype: true, withSparseArray: true }), (v) => {
        if (jsonDataProblem(v) === undefined) expect(() => canonicalJson(v)).not.toThrow();
      }),
      { numRuns: 500 },
    );
  });
});

describe('trust anchor files: JSON with a member named twice or nested too deep is refused (INVALID_ARGUMENT)', () => {
  it('a JWK naming "x" twice would pin one key here and another for a first-wins reader', () => {
    const jwk = p.merchant.publicJwk as unknown as Record<string, string>;
    const text = JSON.stringify(jwk).replace(`"x":"${jwk.x}"`, `"x":"${p.root.publicJwk.x}","x":"${jwk.x}"`);
    expect(() => parseTrustAnchor(text)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/names "x" twice/) as string }) as Error);
    expect(parseTrustAnchor(JSON.stringify(jwk))).toEqual(jwk);
  });

  it('a JWKS nested deeper than MAX_JSON_DEPTH, or listing keys with duplicate members, is refused', () => {
    expect(() => parseTrustAnchor(`{"keys":${'['.repeat(5000)}${']'.repeat(5000)}}`)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }) as Error);
    const jwks = JSON.stringify({ keys: [p.merchant.publicJwk] }).replace('"kty":"EC"', '"kty":"OKP","kty":"EC"');
    expect(() => parseTrustAnchor(jwks)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }) as Error);
    expect(parseTrustAnchor(JSON.stringify({ keys: [p.merchant.publicJwk] }))).toEqual({ keys: [p.merchant.publicJwk] });
  });
});
