import { CharterError, type CharterErrorCode, type Reason, shown } from '../errors.js';
import type { JwsAlg } from '../keys/types.js';
import { nowOf } from '../credentials/time.js';
import { anchorFault, keyFromJwk, trustedKeysFor, jwkThumbprint, type TrustedKey } from './trust.js';
import { verifyLayer, type SdLayer } from './sd.js';
import type { MandateDecision, MandateLayer, MandateParty, MandateProfile, VerifyMandateOptions } from './types.js';

/** A refusal that ends the walk of a chain: later checks would build on a layer that failed. */
export class Refusal extends Error {
  constructor(readonly reason: Reason) {
    super(reason.message);
  }
}

export function refuse(code: CharterErrorCode, message: string, ref?: string): never {
  throw new Refusal(ref === undefined ? { code, message } : { code, message, ref });
}

/** Runs `fn`, turning a thrown CharterError into a refusal with its code (or `fallback`). */
export function guard<T>(fn: () => T, ref: string, fallback?: CharterErrorCode): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof Refusal) throw e;
    if (e instanceof CharterError) refuse(fallback ?? e.code, e.message, ref);
    throw e;
  }
}

export interface Ctx {
  opts: VerifyMandateOptions;
  /** Seconds since the epoch. */
  now: number;
  skew: number;
  algorithms: readonly JwsAlg[];
  decision: MandateDecision;
  /** The payee identifiers the user's payee constraints bound (see FinalPayment.boundPayees); undefined when none applied. */
  boundPayees?: string[];
}

const MAX_SKEW = 300;

/**
 * `trust.issuers` and `trust.merchants` are lists (of JWKs or DIDs). A single key or a JWKS object
 * given instead has no `length`, and would have read as "no merchant pinned", which turns the
 * checkout signature check off; an empty `merchants` list pins no one, so it says nothing either.
 */
export function checkAnchorLists(who: string, t: { issuers?: unknown; merchants?: unknown }): void {
  if (t.issuers !== undefined && !Array.isArray(t.issuers)) throw new TypeError(`${who}: trust.issuers must be a list of keys (JWKs) or DIDs`);
  if (t.merchants !== undefined && (!Array.isArray(t.merchants) || t.merchants.length === 0))
    throw new TypeError(`${who}: trust.merchants must be a non-empty list of the merchants' keys (JWKs) or DIDs, or absent (checkout signatures then not checked)`);
}

const JWS_ALGS: ReadonlySet<string> = new Set<JwsAlg>(['ES256', 'ES256K', 'EdDSA']);

/**
 * `algorithms` narrows what every layer may be signed with, so it must say exactly which: a non-empty list of
 * the JWS names Charter verifies (RFC 7518 §3.1, RFC 8037 §3.1, RFC 8812 §3.2). A string would be read with
 * String.prototype.includes ('ES256K' also taking ES256, a substring of it); a misspelt or unknown name
 * ('es256', 'Ed25519', 'none') would silently leave the list other than the caller meant.
 */
function checkAlgorithms(a: unknown): void {
  if (a === undefined) return;
  if (!Array.isArray(a) || a.length === 0 || a.some((x) => typeof x !== 'string' || !JWS_ALGS.has(x)))
    throw new TypeError(`verifyMandateChain: algorithms must be a non-empty list of ${[...JWS_ALGS].join(', ')}`);
}

/**
 * `requireStatus` asks for a chain its issuer can revoke. AP2 (v0.2) defines no status for a mandate, so no AP2
 * chain can meet it: refused when the verifier is built, never read as "no status to check" while an
 * unrevocable chain pays (a revocability requirement met by switching to the profile that has none).
 */
const AP2_NO_STATUS = (who: string): string =>
  `${who}: requireStatus is for Verifiable Intent (an L1 with a Token Status List status); AP2 defines no status, so no AP2 chain can be revoked and none could meet it`;

/**
 * A demand only one profile can carry out, given with the other, is a TypeError where the verifier is built,
 * never a check silently left undone (the presenter does not pick the profile, but a verifier configured for
 * both, or switched from one to the other, would think it still holds): `requireStatus` (above) and `l1Vct`
 * are Verifiable Intent's (AP2 has no status and no L1); `openCheckoutHash` is AP2's `payment.reference`
 * (a VI payment names its checkout by `transaction_id`, which `checkoutHash` pins for both).
 */
export function checkProfileOptions(who: string, profile: unknown, o: { requireStatus?: unknown; l1Vct?: unknown; openCheckoutHash?: unknown }): void {
  if (profile === 'ap2' && o.requireStatus === true) throw new TypeError(AP2_NO_STATUS(who));
  if (profile === 'ap2' && o.l1Vct !== undefined) throw new TypeError(`${who}: l1Vct is the Verifiable Intent L1's vct; an AP2 chain has no L1, so it would pin nothing`);
  if (profile === 'verifiable-intent' && o.openCheckoutHash !== undefined)
    throw new TypeError(
      `${who}: openCheckoutHash is AP2's payment.reference; a Verifiable Intent chain has none, so it would bind nothing (checkoutHash pins the checkout for both)`,
    );
}

export function makeCtx(profile: MandateProfile, opts: VerifyMandateOptions): Ctx {
  const skew = opts.skewSeconds ?? 60;
  if (!Number.isFinite(skew) || skew < 0 || skew > MAX_SKEW) throw new CharterError('INVALID_ARGUMENT', `skewSeconds must be from 0 to ${MAX_SKEW}`);
  const at = nowOf(opts.now, 'verifyMandateChain');
  if (!(at instanceof Date) || Number.isNaN(at.getTime())) throw new CharterError('INVALID_ARGUMENT', 'now must be a valid Date');
  if (opts.trust === null || typeof opts.trust !== 'object') throw new TypeError('verifyMandateChain needs options.trust');
  checkAnchorLists('verifyMandateChain', opts.trust);
  if (opts.status !== undefined && typeof opts.status !== 'function') throw new TypeError('verifyMandateChain: status must be a status checker (createTokenStatusChecker)');
  if (opts.requireStatus !== undefined && typeof opts.requireStatus !== 'boolean') throw new TypeError('verifyMandateChain: requireStatus must be a boolean');
  checkProfileOptions('verifyMandateChain', profile, opts);
  checkAlgorithms(opts.algorithms);
  if (opts.calendarTimeZone !== undefined) {
    try {
      new Intl.DateTimeFormat('en', { timeZone: opts.calendarTimeZone });
    } catch {
      throw new CharterError('INVALID_ARGUMENT', `unknown time zone ${JSON.stringify(shown(opts.calendarTimeZone, 40))}`);
    }
  }
  return {
    opts,
    // Seconds, not floored: an expiry is judged to the millisecond, as credentials are (windowReasons).
    now: at.getTime() / 1000,
    skew,
    algorithms: opts.algorithms ?? ['ES256'],
    decision: {
      ok: false,
      profile,
      reasons: [],
      issuerVerification: 'failed',
      merchantSignature: 'not-checked',
      layers: [],
      constraints: [],
      mandates: [],
      links: [],
    },
  };
}

export function addLayer(ctx: Ctx, layer: SdLayer, name: string): MandateLayer {
  const p = layer.payload;
  const l: MandateLayer = { name, checks: [] };
  if (typeof layer.header.typ === 'string') l.typ = layer.header.typ;
  if (typeof p.iat === 'number') l.iat = p.iat;
  if (typeof p.exp === 'number') l.exp = p.exp;
  if (typeof p.aud === 'string') l.aud = p.aud;
  if (typeof p.nonce === 'string') l.nonce = p.nonce;
  ctx.decision.layers.push(l);
  return l;
}

function timeClaim(p: Record<string, unknown>, claim: string, what: string, required: boolean): number | undefined {
  const v = p[claim];
  if (v === undefined) {
    if (required) refuse('INVALID_CREDENTIAL', `${what} has no ${claim}`, what);
    return undefined;
  }
  // DESIGN.md "Time": a time claim of the wrong type is refused, never ignored.
  if (typeof v !== 'number' || !Number.isSafeInteger(v)) refuse('INVALID_CREDENTIAL', `${what} ${claim} must be an integer NumericDate`, what);
  return v;
}

export function checkExp(ctx: Ctx, p: Record<string, unknown>, what: string, required = true): void {
  const exp = timeClaim(p, 'exp', what, required);
  if (exp !== undefined && ctx.now - ctx.skew >= exp) refuse('CREDENTIAL_EXPIRED', `${what} expired at ${exp}`, what);
  const nbf = timeClaim(p, 'nbf', what, false);
  if (nbf !== undefined && nbf > ctx.now + ctx.skew) refuse('CREDENTIAL_NOT_YET_VALID', `${what} is not valid before ${nbf}`, what);
}

export function checkIat(ctx: Ctx, p: Record<string, unknown>, what: string, required = true): void {
  const iat = timeClaim(p, 'iat', what, required);
  if (iat !== undefined && iat > ctx.now + ctx.skew) refuse('ISSUED_IN_FUTURE', `${what} iat is in the future: ${iat}`, what);
}

export function checkAud(p: Record<string, unknown>, what: string, expected: string | undefined): void {
  if (expected === undefined) return;
  if (p.aud !== expected) refuse('AUDIENCE_MISMATCH', `${what} is for another audience than ${JSON.stringify(expected.slice(0, 100))}`, what);
}

export function checkNonce(p: Record<string, unknown>, what: string, expected: string | undefined): void {
  if (expected === undefined) return;
  if (p.nonce !== expected) refuse('NONCE_MISMATCH', `${what} nonce is not the expected one`, what);
}

export function party(jwk: unknown, extra: Partial<MandateParty> = {}): MandateParty {
  const key = keyFromJwk(jwk);
  return { ...extra, key: jwkThumbprint(key.publicJwk), jwk: key.publicJwk };
}

/**
 * The root layer's signature under a key the caller pinned. A root that
 * verifies only under a key it names itself (its own `cnf` or a header
 * `jwk`) is refused as UNTRUSTED_ISSUER: that is self-signed, not trusted.
 */
export async function verifyRoot(ctx: Ctx, layer: SdLayer, what: string, selfNamed: unknown[]): Promise<TrustedKey | undefined> {
  if (ctx.opts.skipIssuerVerification === true) {
    if (!ctx.algorithms.includes(layer.header.alg as JwsAlg)) refuse('UNSUPPORTED_ALG', `${what} alg ${shown(layer.header.alg, 10)} is not accepted`, what);
    ctx.decision.issuerVerification = 'skipped';
    return undefined;
  }
  const anchors = ctx.opts.trust.issuers ?? [];
  if (anchors.length === 0) {
    refuse('UNTRUSTED_ISSUER', `no issuer key is pinned (trust.issuers) to verify ${what}; pass skipIssuerVerification: true only in tests`, what);
  }
  const faults: unknown[] = [];
  const keys = await trustedKeysFor(anchors, layer.header, { resolver: ctx.opts.trust.resolver, now: new Date(ctx.now * 1000), faults });
  const ok = keys.find((k) => verifyLayer(layer, k.key, ctx.algorithms));
  if (ok) {
    ctx.decision.issuerVerification = 'verified';
    return ok;
  }
  // A pinned DID whose key could not be had: the token may be its, so neither untrusted nor forged.
  const fault = anchorFault(faults, what);
  if (fault) refuse(fault.code, fault.message, what);
  if (keys.length === 0) refuse('UNTRUSTED_ISSUER', `${what} names a key (kid ${JSON.stringify(shown(layer.header.kid ?? '', 60))}) that is not among the pinned issuers`, what);
  const self = [...selfNamed, layer.header.jwk].some((j) => {
    try {
      return j !== undefined && verifyLayer(layer, keyFromJwk(j), ctx.algorithms);
    } catch {
      return false;
    }
  });
  if (self) refuse('UNTRUSTED_ISSUER', `${what} is signed by a key it names itself, not by a pinned issuer`, what);
  if (layer.header.x5c !== undefined && !keys.some((k) => k.viaX5c))
    refuse('UNTRUSTED_ISSUER', `${what} carries a certificate chain that does not end in a pinned certificate`, what);
  refuse('INVALID_SIGNATURE', `${what} signature verification failed`, what);
}
