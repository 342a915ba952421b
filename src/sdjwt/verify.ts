import { readOptions, type OptionSpec } from '../encoding/options.js';
import { CharterError, toReason, type Reason, shown } from '../errors.js';
import { decodeJwt, type DecodedJwt } from '../credentials/index.js';
import { replicatedClaimConflicts } from '../credentials/jws.js';
import { isMediaType } from '../credentials/media.js';
import { isNumericDate, MAX_SKEW_SECONDS, nowOf, windowReasons } from '../credentials/time.js';
import { statusAnswer } from '../credentials/verify.js';
import type { TokenStatusReference } from '../status/token-issuer.js';
import { isSdHashAlg } from './hash.js';
import { parseDisclosure, processDisclosures, type Processed } from './disclosures.js';
import { checkIssuerSignature } from './issuer-key.js';
import { checkKeyBinding, holderKeyOf } from './keybinding.js';
import { SD_JWT_VC_TYP, SD_JWT_VC_TYP_LEGACY, type SdHashAlg, type SdJwtVcVerification, type VerifySdJwtVcOptions } from './types.js';

export const DEFAULT_MAX_SD_JWT = 256 * 1024;
const MAX_DISCLOSURES = 1024;
const DEFAULT_SKEW = 60;
const DEFAULT_MAX_KB_AGE = 300;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Charter's skew rule (DESIGN.md "Time"): default 60 s, never more than 300 s. */
function skewOf(s: number | undefined): number {
  if (s === undefined) return DEFAULT_SKEW;
  if (!Number.isFinite(s) || s < 0) throw new TypeError('skewSeconds must be a non-negative number');
  return Math.min(s, MAX_SKEW_SECONDS);
}

/**
 * The KB-JWT age bound, checked like skewSeconds: NaN, Infinity or a negative
 * number would turn `now - iat > maxAge` into a comparison that is never
 * true, switching the freshness check off, so each is a misuse (TypeError).
 */
export function maxKeyBindingAgeOf(s: number | undefined): number {
  if (s === undefined) return DEFAULT_MAX_KB_AGE;
  if (typeof s !== 'number' || !Number.isFinite(s) || s < 0) throw new TypeError('maxKeyBindingAgeSeconds must be a finite, non-negative number of seconds');
  return s;
}

/**
 * draft-ietf-oauth-sd-jwt-vc "JOSE Header": typ `dc+sd-jwt` (or the older
 * `vc+sd-jwt`), read as RFC 7515 §4.1.9 has a recipient read a media type:
 * case-insensitive, with or without the `application/` prefix.
 */
export function isSdJwtVcTyp(typ: unknown): boolean {
  return isMediaType(typ, SD_JWT_VC_TYP) || isMediaType(typ, SD_JWT_VC_TYP_LEGACY);
}

export interface SplitSdJwt {
  jwt: string;
  disclosures: string[];
  /** The KB-JWT, when the last component is not empty. */
  kbJwt?: string;
  /** Everything up to and including the last `~` (what sd_hash covers). */
  presented: string;
}

/**
 * RFC 9901 §4: `<issuer-jwt>~<disclosure>~...~<disclosure>~[<kb-jwt>]`. A
 * token without a `~`, or with an empty disclosure, is malformed.
 */
export function splitSdJwt(token: string, maxBytes = DEFAULT_MAX_SD_JWT): SplitSdJwt {
  if (typeof token !== 'string') throw new CharterError('MALFORMED_JWT', 'an SD-JWT must be a string');
  if (token.length > maxBytes) throw new CharterError('INPUT_TOO_LARGE', `the SD-JWT is larger than ${maxBytes} bytes`);
  const last = token.lastIndexOf('~');
  if (last < 0) throw new CharterError('MALFORMED_JWT', 'not an SD-JWT: it has no "~" (a plain JWT?)');
  const parts = token.slice(0, last).split('~');
  const jwt = parts[0]!;
  const disclosures = parts.slice(1);
  if (disclosures.length > MAX_DISCLOSURES) throw new CharterError('INPUT_TOO_LARGE', `an SD-JWT carries at most ${MAX_DISCLOSURES} disclosures`);
  if (disclosures.some((d) => d.length === 0)) throw new CharterError('MALFORMED_JWT', 'an SD-JWT has an empty disclosure ("~~")');
  const kb = token.slice(last + 1);
  return { jwt, disclosures, ...(kb.length > 0 ? { kbJwt: kb } : {}), presented: token.slice(0, last + 1) };
}

function statusRef(v: unknown): TokenStatusReference | undefined {
  if (!isObj(v) || !isObj(v.status_list)) return undefined;
  const { idx, uri } = v.status_list;
  return Number.isSafeInteger(idx) && typeof uri === 'string' ? { idx: idx as number, uri } : undefined;
}

/**
 * Verifies an SD-JWT VC or a presentation of one (RFC 9901 §7,
 * draft-ietf-oauth-sd-jwt-vc "Verification and Processing") and returns a decision with every reason.
 * Fails closed: a token needs a plain `cnf` and a valid KB-JWT over it
 * (unless `allowMissingKeyBinding`), and one with `status` needs a status
 * checker that passes.
 */
const OPTIONS: OptionSpec<VerifySdJwtVcOptions> = {
  resolver: true,
  trustedIssuers: true,
  status: true,
  aud: true,
  nonce: true,
  allowMissingKeyBinding: 'boolean',
  maxKeyBindingAgeSeconds: true,
  sdAlgs: true,
  requireStatus: 'boolean',
  vct: true,
  now: true,
  skewSeconds: true,
  maxBytes: true,
};

export async function verifySdJwtVc(token: string, given: VerifySdJwtVcOptions): Promise<SdJwtVcVerification> {
  // encoding/options.ts: unknown keys (a misspelt `vct`) and non-boolean opt-outs are TypeErrors; read once.
  const options = readOptions('verifySdJwtVc', given, OPTIONS);
  if (!options || typeof options.resolver?.resolveKey !== 'function') throw new TypeError('verifySdJwtVc needs options.resolver');
  if (options.sdAlgs !== undefined && !(Array.isArray(options.sdAlgs) && !options.sdAlgs.some((a) => typeof a !== 'string'))) {
    throw new TypeError('verifySdJwtVc: sdAlgs must be a list of hash names such as sha-256');
  }
  for (const k of ['vct', 'aud', 'nonce'] as const) if (options[k] !== undefined && typeof options[k] !== 'string') throw new TypeError(`verifySdJwtVc: ${k} must be a string`);
  const skewMs = skewOf(options.skewSeconds) * 1000;
  const maxAgeMs = maxKeyBindingAgeOf(options.maxKeyBindingAgeSeconds) * 1000;
  const now = nowOf(options.now, 'verifySdJwtVc').getTime();
  let split: SplitSdJwt;
  let d: DecodedJwt;
  try {
    split = splitSdJwt(token, options.maxBytes);
    d = decodeJwt(split.jwt, { maxBytes: options.maxBytes ?? DEFAULT_MAX_SD_JWT });
  } catch (e) {
    return { ok: false, reasons: [toReason(e, 'MALFORMED_JWT')], token };
  }
  const p = d.payload;
  const reasons: Reason[] = [];
  const base: Partial<SdJwtVcVerification> = {};
  if (typeof p.iss === 'string') base.issuer = p.iss;
  if (typeof p.vct === 'string') base.vct = p.vct;
  if (typeof p.jti === 'string') base.id = p.jti;

  if (!isSdJwtVcTyp(d.header.typ)) {
    reasons.push({ code: 'INVALID_TYP', message: `typ "${shown(d.header.typ, 20)}" is not an SD-JWT VC (expected ${SD_JWT_VC_TYP})` });
  }
  // RFC 7519 §5.3, as on the vc+jwt path: a header copy of iss, sub, exp... must equal the claim, or a
  // library that reads the header sees another issuer, subject or expiry than the one this check judged.
  for (const k of replicatedClaimConflicts(d)) reasons.push({ code: 'INVALID_CREDENTIAL', message: `the header parameter "${k}" differs from the JWT claim (RFC 7519 §5.3)` });
  if (typeof p.vct !== 'string' || p.vct.length === 0) reasons.push({ code: 'INVALID_CREDENTIAL', message: 'an SD-JWT VC needs a "vct" string' });
  else if (options.vct !== undefined && p.vct !== options.vct) reasons.push({ code: 'INVALID_CREDENTIAL', message: `expected a ${options.vct.slice(0, 100)} credential` });
  // RFC 9901 §4.1.1: an absent _sd_alg means sha-256; a present one (null included) must name a hash the
  // verifier chose to accept. `??` would read `"_sd_alg": null` as absent.
  const sdAlg = Object.hasOwn(p, '_sd_alg') ? p._sd_alg : 'sha-256';
  const accepted: readonly SdHashAlg[] = options.sdAlgs ?? ['sha-256'];
  const alg: SdHashAlg | undefined = isSdHashAlg(sdAlg) && accepted.includes(sdAlg) ? sdAlg : undefined;
  if (alg === undefined) reasons.push({ code: 'UNSUPPORTED_ALG', message: `_sd_alg "${shown(sdAlg, 20)}" is not accepted (${accepted.join(', ')})` });

  let issuerKeys: Awaited<ReturnType<typeof checkIssuerSignature>>['issuerKeys'];
  if (typeof p.iss !== 'string' || p.iss.length === 0) {
    reasons.push({ code: 'INVALID_CREDENTIAL', message: 'Charter needs the issuer in "iss" (a DID or a trusted issuer)' });
  } else {
    const c = await checkIssuerSignature(d, p.iss, options);
    reasons.push(...c.reasons);
    issuerKeys = c.issuerKeys;
  }

  let processed: Processed | undefined;
  if (alg !== undefined) {
    try {
      processed = processDisclosures(
        p,
        split.disclosures.map((s) => parseDisclosure(s, alg)),
      );
    } catch (e) {
      reasons.push(toReason(e, 'DISCLOSURE_INVALID'));
    }
  }
  if (processed) {
    const c = processed.claims;
    if (typeof c.sub === 'string') base.subject = c.sub;
    // §7.1 step 6 on the processed payload; a time claim of the wrong type is refused, never ignored.
    for (const k of ['exp', 'nbf', 'iat'] as const) {
      if (c[k] !== undefined && !isNumericDate(c[k]))
        reasons.push({ code: 'INVALID_CREDENTIAL', message: `"${k}" must be a NumericDate (a number of seconds since the epoch, within the range of a date)` });
    }
    const ms = (v: unknown) => (isNumericDate(v) ? v * 1000 : undefined);
    reasons.push(...windowReasons(now, skewMs, { from: ms(c.nbf), until: ms(c.exp), iat: ms(c.iat) }, 'the credential'));
    if (isNumericDate(c.nbf)) base.validFrom = new Date(c.nbf * 1000).toISOString();
    if (isNumericDate(c.exp)) base.validUntil = new Date(c.exp * 1000).toISOString();
    reasons.push(...audienceReasons(c, options.aud));
    const status = statusRef(c.status);
    if (status) base.status = status;
    if (options.requireStatus === true && c.status === undefined) reasons.push({ code: 'STATUS_INVALID', message: 'the credential carries no status, so it cannot be revoked' });
  }

  // Key binding (RFC 9901 §7.3). Required unless the caller says otherwise: a credential without a plain
  // `cnf` proves nothing about who presents it, and one whose `cnf` was disclosable (refused when disclosed,
  // disclosures.ts) looks exactly like that once the disclosure is withheld. So the key binding is required
  // of every presentation, not only of those whose issuer left `cnf` in clear.
  const cnf = processed ? processed.claims.cnf : p.cnf;
  // A nonce asked for is answered only by a key binding JWT (RFC 9901 §4.3): without one, allowMissingKeyBinding
  // would drop the very check the caller asked for (a token copied from anywhere taken as fresh), so it is refused.
  if (split.kbJwt === undefined && options.nonce !== undefined && options.allowMissingKeyBinding === true)
    reasons.push({ code: 'KEY_BINDING_INVALID', message: 'a nonce was asked for and the presentation has no key binding JWT to answer it' });
  if (cnf === undefined) {
    if (split.kbJwt !== undefined) reasons.push({ code: 'KEY_BINDING_INVALID', message: 'a key binding JWT was given for a credential without "cnf"' });
    else if (options.allowMissingKeyBinding !== true)
      reasons.push({
        code: 'KEY_BINDING_INVALID',
        message: 'the credential carries no holder key ("cnf") in clear, so nothing proves who presents it (allowMissingKeyBinding accepts a bearer credential)',
      });
  } else {
    const { key, reason } = holderKeyOf(cnf);
    if (key) base.holderKey = key.publicJwk;
    if (reason) reasons.push(reason);
    else if (split.kbJwt === undefined) {
      if (options.allowMissingKeyBinding !== true)
        reasons.push({ code: 'KEY_BINDING_INVALID', message: 'the credential is bound to a holder key but the presentation has no key binding JWT' });
    } else if (alg !== undefined) {
      const kb = checkKeyBinding({
        kbJwt: split.kbJwt,
        holder: key!,
        presented: split.presented,
        sdAlg: alg,
        aud: options.aud,
        nonce: options.nonce,
        now,
        skewMs,
        maxAgeMs,
      });
      reasons.push(...kb.reasons);
      if (kb.claims) base.keyBinding = kb.claims;
    }
  }

  // Status last, and only for an authentic, valid token: no network for forgeries.
  if (processed && processed.claims.status !== undefined && reasons.length === 0) {
    if (!options.status) {
      reasons.push({ code: 'STATUS_UNAVAILABLE', message: 'the credential has a status claim but no status checker is configured' });
    } else {
      try {
        reasons.push(...statusAnswer(await options.status(processed.claims.status, { issuer: p.iss as string, ...(issuerKeys ? { issuerKeys } : {}), now: new Date(now) })));
      } catch (e) {
        reasons.push(toReason(e, 'STATUS_UNAVAILABLE'));
      }
    }
  }
  return {
    ok: reasons.length === 0,
    reasons,
    ...base,
    ...(processed ? { claims: processed.claims, disclosed: processed.disclosed, selective: processed.selective, withheld: processed.withheld } : {}),
    token,
  };
}

/** verifySdJwtVc for callers who want an exception: throws a CharterError with the first reason's code. */
export async function assertSdJwtVc(token: string, options: VerifySdJwtVcOptions): Promise<SdJwtVcVerification> {
  const v = await verifySdJwtVc(token, options);
  if (!v.ok) {
    const r = v.reasons[0]!;
    throw new CharterError(r.code, r.message, { details: { reasons: v.reasons } });
  }
  return v;
}

/**
 * RFC 7519 §4.1.3, as verifyCredential applies it to a vc+jwt: a credential
 * whose (processed) claims name an audience is accepted only by a verifier
 * named in it. `aud` is one string or a non-empty array of strings; any other
 * value names no verifier, so it is refused. The verifier is who `options.aud`
 * says (the key binding JWT's audience too): without one, a credential meant
 * for a named audience is refused.
 */
function audienceReasons(c: Record<string, unknown>, aud: string | undefined): Reason[] {
  if (!Object.hasOwn(c, 'aud')) return [];
  const a = c.aud;
  const named = typeof a === 'string' ? [a] : Array.isArray(a) && a.length > 0 && a.every((x) => typeof x === 'string') ? (a as string[]) : undefined;
  if (named === undefined) return [{ code: 'INVALID_CREDENTIAL', message: 'the credential\'s "aud" claim must be a string or an array of strings (RFC 7519 §4.1.3)' }];
  if (aud === undefined) return [{ code: 'AUDIENCE_MISMATCH', message: 'the credential is meant for a named audience: pass aud (who this verifier is) to verify it' }];
  return named.includes(aud) ? [] : [{ code: 'AUDIENCE_MISMATCH', message: 'the credential is meant for another audience' }];
}
