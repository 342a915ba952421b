import { decodeJwt } from '../credentials/jws.js';
import { canonicalJws, jwsSpellings } from '../credentials/twins.js';
import { canonicalJson, jsonDataProblem } from '../encoding/json.js';
import { refuse, checkExp, type Ctx } from './common.js';
import { anchorFault, trustedKeysFor } from './trust.js';
import { hashAscii, verifyLayer } from './sd.js';
import { isInt, isObj } from './constraint-check.js';

/**
 * The merchant-signed checkout (VI credential-format §6.3, AP2 checkout
 * mandate: `checkout_jwt`). A compact JWS, or a detached one
 * (`header..signature`, RFC 7515 Appendix F) over the RFC 8785 form of the
 * checkout object without its `ap2` member, as UCP's AP2 extension signs
 * `ap2.merchant_authorization`. The signature is checked against the
 * merchants the caller pinned; without any, it is reported as not checked.
 */
export async function readCheckout(ctx: Ctx, checkoutJwt: string, what: string, detached?: Record<string, unknown>): Promise<Record<string, unknown>> {
  const jwt = attachedCheckout(checkoutJwt, what, detached);
  let d;
  try {
    d = decodeJwt(jwt, { maxBytes: 256 * 1024 });
  } catch (e) {
    refuse('INVALID_CREDENTIAL', `${what} checkout_jwt is not a JWS: ${(e as Error).message}`, what);
  }
  const merchants = ctx.opts.trust.merchants ?? [];
  // Refused before the signature: a token the merchant signed for another purpose is never its checkout.
  if (merchants.length > 0) ctx.decision.merchantSignature = 'failed';
  checkoutShape(d.header, d.payload, what);
  if (merchants.length > 0) {
    const faults: unknown[] = [];
    const keys = await trustedKeysFor(merchants, d.header, { resolver: ctx.opts.trust.resolver, now: new Date(ctx.now * 1000), faults });
    ctx.decision.merchantSignature = 'failed';
    // AP2 specification §Payment Mandate: a deterministic scheme (Ed25519) would let a hash be guessed; algorithms default to ES256.
    if (!keys.some((k) => verifyLayer(d, k.key, ctx.algorithms))) {
      const fault = anchorFault(faults, `${what} checkout`);
      if (fault) refuse(fault.code, fault.message, what);
      if (keys.length === 0) refuse('UNTRUSTED_ISSUER', `${what} checkout is signed by a merchant key that is not pinned`, what);
      refuse('INVALID_SIGNATURE', `${what} merchant checkout signature verification failed`, what);
    }
    ctx.decision.merchantSignature = 'checked';
  }
  checkExp(ctx, d.payload, `${what} checkout`, false);
  return d.payload;
}

/**
 * The compact JWS the merchant signed: `checkoutJwt` itself, or, for a detached one (`header..signature`),
 * the same with the RFC 8785 form of the checkout object (without `ap2`) put back as its payload.
 */
export function attachedCheckout(checkoutJwt: string, what: string, detached?: Record<string, unknown>): string {
  const parts = checkoutJwt.split('.');
  if (parts.length !== 3 || parts[1] !== '') return checkoutJwt;
  if (!detached) refuse('INVALID_CREDENTIAL', `${what} checkout_jwt is a detached JWS but no checkout object came with it`, what);
  const { ap2: _ignored, ...body } = detached;
  // RFC 8785 canonicalises JSON data only; readAp2Input refuses anything else, checked again where it is signed.
  const problem = jsonDataProblem(body);
  if (problem !== undefined) refuse('INVALID_CREDENTIAL', `${what} checkout object is not JSON data: it holds ${problem}`, what);
  return `${parts[0]}.${Buffer.from(canonicalJson(body)).toString('base64url')}.${parts[2]}`;
}

/**
 * The checkout a payment is for, as the ledger pays it once: what the merchant's signature commits to
 * (protected header, payload bytes signed, signature), however the agent spelled it. One signed checkout
 * has four spellings that verify: attached (`h.p.s`) and detached (`h..s` with the object, RFC 7515
 * Appendix F), each with its ES256 twin (credentials/twins.ts). The hash of each, so the same checkout
 * paid under any of them, or named by any of them as a caller's checkoutHash, meets a link already
 * used; the first is the low-s attached spelling, the signature's own.
 */
export function checkoutKeys(checkoutJwt: string, what: string, detached?: Record<string, unknown>): string[] {
  const signed = canonicalJws(attachedCheckout(checkoutJwt, what, detached));
  const [header, , signature] = signed.split('.');
  return [...new Set([...jwsSpellings(signed), ...jwsSpellings(`${header}..${signature}`)])].map(hashAscii);
}

/** JWS `typ` values a checkout may carry (RFC 7515 §4.1.9, compared without case and without `application/`): none, the generic ones, or one naming a checkout. */
const CHECKOUT_TYPS = new Set(['jwt', 'jose', 'checkout+jwt']);

/**
 * Claims that mark a JWS as another format the same key may sign: a VC or VP
 * (VC-JWT 1.1 `vc`/`vp`, VC 2.0 JOSE), an SD-JWT, key binding or mandate
 * (`_sd`, `sd_hash`, `cnf`, `vct`, `delegate_payload`), a token status list,
 * a Charter decision receipt, audit checkpoint, access report or payout.
 */
const FOREIGN_MEMBERS = [
  'vc',
  'vp',
  '@context',
  'credentialSubject',
  'verifiableCredential',
  'credentialStatus',
  'credentialSchema',
  'proof',
  '_sd',
  '_sd_alg',
  'sd_hash',
  'cnf',
  'vct',
  'delegate_payload',
  'status_list',
  'decision',
  'verifier',
  'policy',
  'receipts',
  'head',
  'log',
  'statement',
];

/**
 * A checkout JWT must be one (VI credential-format §6.3: the merchant-signed
 * cart; AP2/UCP: the checkout object): no `typ`/`cty` naming another format,
 * none of another format's claims, and the items being bought (UCP
 * `line_items` or the VI reference's `cart.items`), a non-empty list of
 * objects each naming its item. Whatever else the merchant's key signed is refused.
 */
function checkoutShape(header: Record<string, unknown>, payload: Record<string, unknown>, what: string): void {
  const typ = header.typ;
  if (typ !== undefined) {
    const t = typeof typ === 'string' ? typ.toLowerCase().replace(/^application\//, '') : undefined;
    if (t === undefined || !CHECKOUT_TYPS.has(t)) {
      refuse('INVALID_TYP', `${what} checkout_jwt is not a checkout: its typ is ${JSON.stringify(typ).slice(0, 60)}`, what);
    }
  }
  if (header.cty !== undefined) refuse('INVALID_TYP', `${what} checkout_jwt is not a checkout: it names a content type (cty)`, what);
  const foreign = FOREIGN_MEMBERS.find((k) => Object.hasOwn(payload, k));
  if (foreign !== undefined) refuse('INVALID_CREDENTIAL', `${what} checkout_jwt is not a checkout: it carries "${foreign}"`, what);
  const types = Array.isArray(payload.type) ? payload.type : [payload.type];
  if (types.some((t) => typeof t === 'string' && /verifiable(credential|presentation)|statuslist/i.test(t))) {
    refuse('INVALID_CREDENTIAL', `${what} checkout_jwt is not a checkout: it is typed as a credential`, what);
  }
  if (isObj(payload.status)) refuse('INVALID_CREDENTIAL', `${what} checkout_jwt is not a checkout: its status is a status-list reference`, what);
  const list = Array.isArray(payload.line_items) ? payload.line_items : isObj(payload.cart) && Array.isArray(payload.cart.items) ? payload.cart.items : undefined;
  if (list === undefined || list.length === 0) {
    refuse('INVALID_CREDENTIAL', `${what} checkout_jwt is not a checkout: it lists no line items (line_items or cart.items)`, what);
  }
  if (!list.every(isObj) || checkoutLines(payload)!.some((l) => l.id === '')) {
    refuse('INVALID_CREDENTIAL', `${what} checkout_jwt line items must each be an object naming its item`, what);
  }
  if (payload.merchant !== undefined && !isObj(payload.merchant)) refuse('INVALID_CREDENTIAL', `${what} checkout_jwt merchant must be an object`, what);
}

/** The checkout's merchant: `merchant` as in UCP and the AP2 examples. */
export function checkoutMerchant(payload: Record<string, unknown>): Record<string, unknown> | undefined {
  return isObj(payload.merchant) ? payload.merchant : undefined;
}

/**
 * Line items as `{ id, quantity }`: UCP `line_items[].item.id`, the AP2
 * example's `line_items[].product.id`, or a `cart.items[].sku` list as in
 * the VI reference's checkout JWT. Undefined when the checkout lists none.
 */
export function checkoutLines(payload: Record<string, unknown>): { id: string; quantity: number }[] | undefined {
  const fromList = (list: unknown[], idOf: (li: Record<string, unknown>) => unknown) =>
    list.map((li) => {
      const o = isObj(li) ? li : {};
      const id = idOf(o);
      return { id: typeof id === 'string' ? id : '', quantity: isInt(o.quantity) ? o.quantity : -1 };
    });
  if (Array.isArray(payload.line_items)) {
    return fromList(payload.line_items, (li) => (isObj(li.item) ? li.item.id : isObj(li.product) ? li.product.id : (li.sku ?? li.id)));
  }
  if (isObj(payload.cart) && Array.isArray(payload.cart.items)) return fromList(payload.cart.items, (li) => li.sku ?? li.id);
  return undefined;
}
