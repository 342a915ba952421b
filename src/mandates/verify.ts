import { CharterError } from '../errors.js';
import { makeCtx, Refusal } from './common.js';
import { readOptions, type OptionSpec } from '../encoding/options.js';
import { jsonDataProblem } from '../encoding/json.js';
import { parseJsonText } from './json.js';
import { verifyVi } from './vi.js';
import { verifyAp2 } from './ap2.js';
import { CHECKOUT_LEDGER_ISSUER, mandateLimits } from './ledger.js';
import type { Ap2ChainInput, MandateDecision, VerifyMandateOptions, ViChainInput } from './types.js';

// A misspelt option (checkoutHash, paymentAud) would leave the check it names undone: a TypeError instead.
const MANDATE_OPTIONS: OptionSpec<VerifyMandateOptions> = {
  profile: true,
  trust: { issuers: true, merchants: true, resolver: true },
  aud: true,
  nonce: true,
  paymentAud: true,
  paymentNonce: true,
  checkoutAud: true,
  checkoutNonce: true,
  now: true,
  skewSeconds: true,
  skipIssuerVerification: 'boolean',
  algorithms: true,
  l1Vct: true,
  calendarTimeZone: true,
  checkoutHash: true,
  openCheckoutHash: true,
  allowMissingNonce: 'boolean',
  status: true,
  requireStatus: 'boolean',
};

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The VI input: an object with the reference's field names, or its JSON text. */
export function readViInput(input: unknown): ViChainInput {
  const v = typeof input === 'string' ? parseJson(input, 'the Verifiable Intent input') : input;
  if (!isObj(v) || typeof v.l1 !== 'string' || typeof v.l2 !== 'string') {
    throw new CharterError(
      'INVALID_ARGUMENT',
      'a Verifiable Intent input is { l1, l2, l3_payment?, l3_checkout?, l2_payment_serialized?, l2_checkout_serialized? }, each a "~"-serialized SD-JWT',
    );
  }
  const out: ViChainInput = { l1: v.l1, l2: v.l2 };
  for (const k of ['l3_payment', 'l3_checkout', 'l2_payment_serialized', 'l2_checkout_serialized'] as const) {
    const x = v[k];
    if (x === undefined || x === null) continue;
    if (typeof x !== 'string') throw new CharterError('INVALID_ARGUMENT', `${k} must be a "~"-serialized SD-JWT`);
    out[k] = x;
  }
  return out;
}

/** The AP2 input: one `~~`-joined chain (payment or checkout, told apart by its mandates), or `{ payment?, checkout?, checkout_object? }`. */
export function readAp2Input(input: unknown): Ap2ChainInput | string {
  if (typeof input === 'string') {
    const t = input.trim();
    if (!t.startsWith('{')) return t;
    input = parseJson(t, 'the AP2 input');
  }
  if (!isObj(input)) throw new CharterError('INVALID_ARGUMENT', 'an AP2 input is a "~~"-joined chain or { payment?, checkout?, checkout_object? }');
  const out: Ap2ChainInput = {};
  for (const k of ['payment', 'checkout'] as const) {
    const x = input[k];
    if (x === undefined || x === null) continue;
    if (typeof x !== 'string') throw new CharterError('INVALID_ARGUMENT', `${k} must be a "~~"-joined AP2 chain`);
    out[k] = x;
  }
  if (input.checkout_object !== undefined) {
    if (!isObj(input.checkout_object)) throw new CharterError('INVALID_ARGUMENT', 'checkout_object must be the checkout JSON object');
    // Its RFC 8785 form is what a detached merchant signature covers (checkout.ts): only JSON data has one.
    const problem = jsonDataProblem(input.checkout_object);
    if (problem !== undefined) throw new CharterError('INVALID_ARGUMENT', `checkout_object must be JSON data, and holds ${problem}`);
    out.checkout_object = input.checkout_object;
  }
  if (out.payment === undefined && out.checkout === undefined) throw new CharterError('INVALID_ARGUMENT', 'an AP2 input needs a payment or a checkout chain');
  return out;
}

/** Input text: JSON without duplicate member names or excessive nesting (parseJsonText), else INVALID_ARGUMENT. */
function parseJson(s: string, what: string): unknown {
  return parseJsonText(s, what, 'INVALID_ARGUMENT');
}

/**
 * Verifies an external agent payment mandate chain, Verifiable Intent or AP2,
 * statelessly, and maps its money constraints onto Charter ledger links.
 * Refusals are data (`ok: false` with reasons); misuse throws (TypeError,
 * CharterError INVALID_ARGUMENT), and so does a fault worth a retry (a CharterError whose
 * HTTP_STATUS is 503, such as a pinned DID's resolver being UNREACHABLE): it decides nothing. Budgets and recurrences are reported in
 * `constraints` for the ledger, never evaluated here.
 */
export async function verifyMandateChain(input: unknown, given: VerifyMandateOptions): Promise<MandateDecision> {
  if (!isObj(given)) throw new TypeError('verifyMandateChain(input, options) needs options');
  const options = readOptions('verifyMandateChain', given, MANDATE_OPTIONS);
  const profile = options.profile;
  if (profile !== 'verifiable-intent' && profile !== 'ap2') throw new CharterError('INVALID_ARGUMENT', 'profile must be "verifiable-intent" or "ap2"');
  const ctx = makeCtx(profile, options);
  try {
    if (profile === 'verifiable-intent') await verifyVi(ctx, readViInput(input));
    else await verifyAp2(ctx, readAp2Input(input));
  } catch (e) {
    if (!(e instanceof Refusal)) throw e;
    ctx.decision.reasons.unshift(e.reason);
  }
  const d = ctx.decision;
  d.ok = d.reasons.length === 0;
  if (d.ok) {
    try {
      d.links = mandateLimits(d, { calendarTimeZone: options.calendarTimeZone ?? 'UTC' });
    } catch (e) {
      // A figure the evaluators let through but the ledger cannot hold: refuse rather than map it loosely.
      if (!(e instanceof CharterError)) throw e;
      d.ok = false;
      d.reasons.push({ code: 'CONSTRAINT_VIOLATED', message: `the mandate's limits cannot be mapped to the ledger: ${e.message}` });
    }
    // The leaf mandate's own link: not a further budget, use count, spacing or checkout link of it.
    const leaf = d.links.filter((l) => !/#(lifetime|uses|frequency|day|week|month|year)(-\d+)?$/.test(l.id) && l.issuer !== CHECKOUT_LEDGER_ISSUER).at(-1);
    if (leaf) d.authority = leaf.authority;
  }
  // Each reason also on the layer it is about.
  for (const r of d.reasons) d.layers.find((l) => r.ref !== undefined && (l.name === r.ref || r.ref.startsWith(l.name + ' ')))?.checks.push({ code: r.code, message: r.message });
  return d;
}

/** verifyMandateChain that throws the first reason as a CharterError. */
export async function assertMandateChain(input: unknown, options: VerifyMandateOptions): Promise<MandateDecision> {
  const d = await verifyMandateChain(input, options);
  if (!d.ok) {
    const r = d.reasons[0]!;
    throw new CharterError(r.code, r.message, { details: { reasons: d.reasons } });
  }
  return d;
}
