import { decodeJwt } from '../credentials/jws.js';
import { canonicalJson } from '../encoding/json.js';
import { refuse, checkExp, type Ctx } from './common.js';
import { trustedKeysFor } from './trust.js';
import { verifyLayer } from './sd.js';
import { isInt, isObj } from './constraint-check.js';
import { jsonDataProblem } from './json.js';

/**
 * The merchant-signed checkout (VI credential-format §6.3, AP2 checkout
 * mandate: `checkout_jwt`). A compact JWS, or a detached one
 * (`header..signature`, RFC 7515 Appendix F) over the RFC 8785 form of the
 * checkout object without its `ap2` member, as UCP's AP2 extension signs
 * `ap2.merchant_authorization`. The signature is checked against the
 * merchants the caller pinned; without any, it is reported as not checked.
 */
export async function readCheckout(ctx: Ctx, checkoutJwt: string, what: string, detached?: Record<string, unknown>): Promise<Record<string, unknown>> {
  let jwt = checkoutJwt;
  const parts = checkoutJwt.split('.');
  if (parts.length === 3 && parts[1] === '') {
    if (!detached) refuse('INVALID_CREDENTIAL', `${what} checkout_jwt is a detached JWS but no checkout object came with it`, what);
    const { ap2: _ignored, ...body } = detached;
    // RFC 8785 canonicalises JSON data only; readAp2Input refuses anything else, checked again where it is signed.
    const problem = jsonDataProblem(body);
    if (problem !== undefined) refuse('INVALID_CREDENTIAL', `${what} checkout object is not JSON data: it holds ${problem}`, what);
    jwt = `${parts[0]}.${Buffer.from(canonicalJson(body)).toString('base64url')}.${parts[2]}`;
  }
  let d;
  try {
    d = decodeJwt(jwt, { maxBytes: 256 * 1024 });
  } catch (e) {
    refuse('INVALID_CREDENTIAL', `${what} checkout_jwt is not a JWS: ${(e as Error).message}`, what);
  }
  const merchants = ctx.opts.trust.merchants ?? [];
  if (merchants.length > 0) {
    const keys = await trustedKeysFor(merchants, d.header, { resolver: ctx.opts.trust.resolver, now: new Date(ctx.now * 1000) });
    ctx.decision.merchantSignature = 'failed';
    if (keys.length === 0) refuse('UNTRUSTED_ISSUER', `${what} checkout is signed by a merchant key that is not pinned`, what);
    // AP2 specification §Payment Mandate: a deterministic scheme (Ed25519) would let a hash be guessed; algorithms default to ES256.
    if (!keys.some((k) => verifyLayer(d, k.key, ctx.algorithms))) refuse('INVALID_SIGNATURE', `${what} merchant checkout signature verification failed`, what);
    ctx.decision.merchantSignature = 'checked';
  }
  checkExp(ctx, d.payload, `${what} checkout`, false);
  return d.payload;
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
