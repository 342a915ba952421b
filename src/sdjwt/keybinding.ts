import { toReason, type Reason } from '../errors.js';
import { assertVerifyUse, importVerificationKey, verifySignature } from '../keys/index.js';
import type { PublicJwk, VerificationKey } from '../keys/types.js';
import { decodeJwt, type DecodedJwt } from '../credentials/index.js';
import { replicatedClaimConflicts } from '../credentials/jws.js';
import { isMediaType } from '../credentials/media.js';
import { isNumericDate, windowReasons } from '../credentials/time.js';
import { sdDigest } from './hash.js';
import { KB_JWT_TYP, type SdHashAlg } from './types.js';

/** A presentation's window codes (credentials/present.ts): stale or from the future, not an expired credential. */
const PRESENTATION_CODE = { CREDENTIAL_EXPIRED: 'PRESENTATION_STALE', CREDENTIAL_NOT_YET_VALID: 'ISSUED_IN_FUTURE' } as const;

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * RFC 7800 §3.2 as SD-JWT VC uses it: `cnf: { jwk }`, parsed through the keys layer (every key rule
 * applies). The holder proves possession by signing (RFC 9901 §4.3), so a key the issuer bound for
 * encryption (RFC 7517 §4.2 `use: "enc"`, §4.3 key_ops without "verify") proves nothing: INVALID_KEY,
 * as for a DID method's key agreement key (did/select.ts).
 */
export function holderKeyOf(cnf: unknown): { key?: VerificationKey; reason?: Reason } {
  if (!isObj(cnf) || !isObj(cnf.jwk))
    return { reason: { code: 'KEY_BINDING_INVALID', message: 'cnf must carry the holder key as "jwk" (other confirmation methods are not supported)' } };
  try {
    assertVerifyUse(cnf.jwk, 'the holder key (cnf.jwk)');
    return { key: importVerificationKey(cnf.jwk as unknown as PublicJwk) };
  } catch (e) {
    return { reason: toReason(e, 'INVALID_KEY') };
  }
}

/**
 * RFC 9901 §4.3: a KB-JWT has typ `kb+jwt`, read as RFC 7515 §4.1.9 has a
 * recipient read a media type: case-insensitive, `application/` optional.
 * (For a transport's pre-check too, so it and this verifier agree.)
 */
export function isKbJwtTyp(typ: unknown): boolean {
  return isMediaType(typ, KB_JWT_TYP);
}

export interface KeyBindingCheck {
  kbJwt: string;
  holder: VerificationKey;
  /** The presentation up to and including the last `~`, which sd_hash covers. */
  presented: string;
  sdAlg: SdHashAlg;
  aud: string | undefined;
  nonce: string | undefined;
  now: number;
  skewMs: number;
  maxAgeMs: number;
}

/**
 * RFC 9901 §7.3: the KB-JWT is a `kb+jwt` signed by the `cnf` key with that
 * key's alg, for this audience and nonce, recent (`iat`), over exactly these
 * bytes (`sd_hash`). Returns refusals and, when valid, its claims.
 */
export function checkKeyBinding(c: KeyBindingCheck): { reasons: Reason[]; claims?: { aud: string; nonce: string; iat: number } } {
  // Checked where the options enter (verifySdJwtVc); here too, since NaN would switch the age check off.
  if (!Number.isFinite(c.maxAgeMs) || c.maxAgeMs < 0 || !Number.isFinite(c.skewMs) || c.skewMs < 0)
    throw new TypeError('checkKeyBinding needs finite, non-negative maxAgeMs and skewMs');
  let d: DecodedJwt;
  try {
    d = decodeJwt(c.kbJwt);
  } catch (e) {
    return { reasons: [toReason(e, 'MALFORMED_JWT')] };
  }
  if (!isKbJwtTyp(d.header.typ)) return { reasons: [{ code: 'INVALID_TYP', message: `the key binding JWT must have typ ${KB_JWT_TYP}` }] };
  if (d.header.alg !== c.holder.alg)
    return { reasons: [{ code: 'ALG_KEY_MISMATCH', message: `the key binding alg ${d.header.alg} does not fit the holder's ${c.holder.keyType} key` }] };
  if (!verifySignature(c.holder, d.header.alg, d.signingInput, d.signature)) {
    return { reasons: [{ code: 'KEY_BINDING_INVALID', message: 'the key binding JWT is not signed by the key in cnf' }] };
  }
  const p = d.payload;
  const reasons: Reason[] = [];
  // RFC 7519 §5.3: a header copy of aud, iat... must equal the claim.
  for (const k of replicatedClaimConflicts(d))
    reasons.push({ code: 'KEY_BINDING_INVALID', message: `the key binding JWT header parameter "${k}" differs from its claim (RFC 7519 §5.3)` });
  if (typeof p.sd_hash !== 'string' || p.sd_hash !== sdDigest(c.sdAlg, c.presented)) {
    reasons.push({ code: 'KEY_BINDING_INVALID', message: 'sd_hash does not match the presented SD-JWT and disclosures' });
  }
  // RFC 9901 §4.3: "aud: REQUIRED. The value MUST be a single string". RFC 7519 §4.1.3 lets a JWT carry
  // an array, but this profile narrows it, so ["<aud>"] is refused like any other non-string.
  // No expected audience means no audience is acceptable.
  if (typeof p.aud !== 'string' || c.aud === undefined || p.aud !== c.aud)
    reasons.push({
      code: 'AUDIENCE_MISMATCH',
      message: c.aud === undefined ? 'the presentation names an audience but none was expected (pass aud)' : 'the presentation is meant for another audience',
    });
  if (typeof p.nonce !== 'string' || c.nonce === undefined || p.nonce !== c.nonce)
    reasons.push({
      code: 'NONCE_MISMATCH',
      message: c.nonce === undefined ? 'the presentation answers a nonce but none was expected (pass nonce)' : 'the presentation answers another nonce',
    });
  for (const k of ['iat', 'exp', 'nbf'] as const) {
    if (p[k] !== undefined && !isNumericDate(p[k]))
      reasons.push({ code: 'KEY_BINDING_INVALID', message: `the key binding JWT "${k}" must be a NumericDate (a number of seconds, within the range of a date)` });
  }
  if (!isNumericDate(p.iat)) {
    if (p.iat === undefined) reasons.push({ code: 'KEY_BINDING_INVALID', message: 'the key binding JWT has no "iat"' });
  } else if (c.now - p.iat * 1000 > c.maxAgeMs + c.skewMs) {
    // The same code as a stale vp+jwt (credentials/present.ts), so a platform reads one condition one way in both formats.
    reasons.push({ code: 'PRESENTATION_STALE', message: 'the presentation is too old' });
  }
  const ms = (v: unknown) => (isNumericDate(v) ? v * 1000 : undefined);
  // The KB-JWT is the presentation, not a credential: out of its exp/nbf window it is stale or from the
  // future, as verifyPresentation maps a vp+jwt's window (one meaning per code: 401, not 403).
  for (const r of windowReasons(c.now, c.skewMs, { from: ms(p.nbf), until: ms(p.exp), iat: ms(p.iat) }, 'the presentation')) {
    reasons.push({ ...r, code: PRESENTATION_CODE[r.code as keyof typeof PRESENTATION_CODE] ?? r.code });
  }
  if (reasons.length > 0) return { reasons };
  return { reasons, claims: { aud: p.aud as string, nonce: p.nonce as string, iat: p.iat as number } };
}
