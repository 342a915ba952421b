import { CharterError } from '../errors.js';
import { decodeJwt } from '../credentials/jws.js';
import { readAp2Input, readViInput } from './verify.js';
import { jsonDataProblem } from '../encoding/json.js';
import { splitChain } from './ap2.js';
import type { Ap2ChainInput, MandateProfile, ViChainInput } from './types.js';

/**
 * How a mandate chain travels to a guard, and which of its layers binds it to
 * that guard. Neither profile defines one string for a whole chain over HTTP:
 * AP2's SDK writes the payment chain as `~~`-joined SD-JWTs (a valid RFC 6750
 * b64token as it is); a Verifiable Intent chain is the reference verifier's
 * JSON object (`l1`, `l2`, `l3_payment`, ...), so Charter carries it as
 * base64url of that JSON. A guard also takes the object itself, or its JSON
 * text (an MCP `_meta` value, a request body).
 */
export const MAX_MANDATE_INPUT = 512 * 1024;

const B64U = /^[A-Za-z0-9_-]+$/;

/** A chain as any of its wire forms, read into the profile's input (throws INVALID_PRESENTATION for anything else). */
export function readMandateInput(profile: MandateProfile, token: unknown): ViChainInput | Ap2ChainInput {
  let value = token;
  if (typeof value === 'string') {
    if (value.length > MAX_MANDATE_INPUT) throw new CharterError('INPUT_TOO_LARGE', `a mandate chain is larger than ${MAX_MANDATE_INPUT} bytes`);
    const t = value.trim();
    // base64url of the JSON object (what a Bearer header carries for VI): "{" encodes as "ey" and a chain's JWTs start "ey" too, but have "." or "~".
    if (B64U.test(t)) value = Buffer.from(t, 'base64url').toString('utf8');
  } else if (value !== null && typeof value === 'object') {
    // Measured as JSON text, so only JSON data (a cycle, a BigInt or a deep nest would throw out of JSON.stringify).
    const problem = jsonDataProblem(value);
    if (problem !== undefined) throw new CharterError('INVALID_PRESENTATION', `a mandate chain object must be JSON data, and holds ${problem}`);
    if (JSON.stringify(value).length > MAX_MANDATE_INPUT) throw new CharterError('INPUT_TOO_LARGE', `a mandate chain is larger than ${MAX_MANDATE_INPUT} bytes`);
  }
  try {
    if (profile === 'verifiable-intent') return readViInput(value);
    const ap2 = readAp2Input(value);
    // A bare chain is the payment chain: a guard charges a payment (a checkout chain alone authorizes none).
    return typeof ap2 === 'string' ? { payment: ap2 } : ap2;
  } catch (e) {
    if (e instanceof CharterError && e.code === 'INVALID_ARGUMENT') throw new CharterError('INVALID_PRESENTATION', e.message);
    throw e;
  }
}

/** The wire form a client sends in `Authorization: Bearer`: the AP2 payment chain as is, anything else as base64url(JSON). */
export function mandateToken(profile: MandateProfile, input: ViChainInput | Ap2ChainInput | string): string {
  if (typeof input === 'string') return profile === 'ap2' ? input.trim() : Buffer.from(input, 'utf8').toString('base64url');
  const o = input as Ap2ChainInput;
  if (profile === 'ap2' && o.payment !== undefined && o.checkout === undefined && o.checkout_object === undefined) return o.payment.trim();
  return Buffer.from(JSON.stringify(input), 'utf8').toString('base64url');
}

/** The layer of a chain that names its verifier (`aud`), its moment (`iat`) and its used-once `nonce`. */
export interface ClosingLayer {
  /** The layer's name as the chain verifier reports it. */
  name: string;
  payload: Record<string, unknown>;
  /**
   * Which aud/nonce options of verifyMandateChain check it: `payment` (VI L3a,
   * the AP2 payment chain's closed mandate) or `root` (a VI immediate L2,
   * signed by the user for this verifier).
   */
  checkedAs: 'payment' | 'root';
}

function payloadOf(sdJwt: string, what: string): Record<string, unknown> {
  const jwt = sdJwt.split('~')[0] ?? '';
  try {
    return decodeJwt(jwt, { maxBytes: MAX_MANDATE_INPUT }).payload;
  } catch (e) {
    throw new CharterError('MALFORMED_JWT', `${what}: ${e instanceof Error ? e.message : 'not a compact JWS'}`);
  }
}

/**
 * The closing layer of a payment, decoded but not verified (the guard checks
 * its binding before any signature): VI L3a when the agent acted
 * (autonomous), else L2 (immediate: the user confirmed one payment for this
 * verifier); the AP2 payment chain's last, closed mandate. A chain with no
 * payment authorizes nothing to charge: INVALID_PRESENTATION.
 */
export function closingLayer(profile: MandateProfile, input: ViChainInput | Ap2ChainInput): ClosingLayer {
  if (profile === 'verifiable-intent') {
    const vi = input as ViChainInput;
    if (typeof vi.l3_payment === 'string' && vi.l3_payment.length > 0) return { name: 'L3a (payment)', payload: payloadOf(vi.l3_payment, 'L3a (payment)'), checkedAs: 'payment' };
    if (typeof vi.l3_checkout === 'string' && vi.l3_checkout.length > 0) {
      throw new CharterError(
        'INVALID_PRESENTATION',
        "a Verifiable Intent payment is the agent's L3a (payment): this chain carries only the checkout (L3b), which is the merchant's",
      );
    }
    return { name: 'L2', payload: payloadOf(vi.l2, 'L2'), checkedAs: 'root' };
  }
  const ap2 = input as Ap2ChainInput;
  if (ap2.payment === undefined)
    throw new CharterError('INVALID_PRESENTATION', 'an AP2 payment is the payment chain (open payment mandate ~~ closed payment mandate): it is missing');
  let hops: string[];
  try {
    hops = splitChain(ap2.payment);
  } catch (e) {
    throw new CharterError('INPUT_TOO_LARGE', e instanceof Error ? e.message : 'the AP2 chain is too long');
  }
  const name = `AP2 payment #${hops.length - 1}`;
  return { name, payload: payloadOf(hops[hops.length - 1]!, name), checkedAs: 'payment' };
}
