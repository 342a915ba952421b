import { CharterError, shown } from '../errors.js';
import type { Signer } from '../keys/types.js';
import { jsonTextProblem } from '../encoding/json.js';

/** Header parameters we understand; `crit` naming anything else is refused (RFC 7515 §4.1.11). */
const UNDERSTOOD_CRIT = new Set<string>();
const ALGS = new Set(['EdDSA', 'ES256', 'ES256K']);
export const DEFAULT_MAX_JWT = 64 * 1024;

export interface JwtHeader {
  alg: string;
  typ?: string;
  kid?: string;
  cty?: string;
  crit?: string[];
  [k: string]: unknown;
}

export interface DecodedJwt {
  header: JwtHeader;
  payload: Record<string, unknown>;
  signingInput: Uint8Array;
  signature: Uint8Array;
}

const enc = new TextEncoder();

export async function signJwt(header: Record<string, unknown>, payload: object, signer: Signer, kid: string): Promise<string> {
  const h = Buffer.from(JSON.stringify({ ...header, alg: signer.alg, kid })).toString('base64url');
  const p = Buffer.from(JSON.stringify(payload)).toString('base64url');
  const input = `${h}.${p}`;
  return `${input}.${Buffer.from(await signer.sign(enc.encode(input))).toString('base64url')}`;
}

// ignoreBOM: a leading U+FEFF stays in the text, so JSON.parse refuses it (RFC 8259 §8.1: no BOM in JSON
// text a producer signs; a reader that strips it would see another token than one that does not).
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The bytes of a base64url part (RFC 7515 §2: no padding, no line breaks), or
 * undefined. Node's decoder skips characters outside the alphabet and also
 * reads `+`, `/` and `=`; encoding the result again and comparing refuses all
 * of those and non-zero pad bits (RFC 4648 §3.5), so a part has exactly one
 * spelling. (On a 10 KB presentation this is a few times faster than a regular
 * expression over the text before decoding it.)
 */
function base64urlPart(s: string): Buffer | undefined {
  const bytes = Buffer.from(s, 'base64url');
  return bytes.toString('base64url') === s ? bytes : undefined;
}

/**
 * base64urlPart into a buffer reused by every call, for the header and
 * payload, whose bytes are only read as text: a token no longer costs a
 * new buffer for each (Node's 8 KiB pool is used up every few payloads).
 * The view is valid until the next call (decoding is synchronous).
 */
let scratch = Buffer.allocUnsafe(0);
function base64urlScratch(s: string): Buffer | undefined {
  const most = Math.ceil((s.length * 3) / 4);
  // A part larger than a default-sized token (a caller's own maxBytes) gets a buffer of its own: the kept one stays small.
  if (most > DEFAULT_MAX_JWT) return base64urlPart(s);
  if (scratch.length < most) scratch = Buffer.allocUnsafe(Math.max(most, 4096));
  const bytes = scratch.subarray(0, scratch.write(s, 0, 'base64url'));
  return bytes.toString('base64url') === s ? bytes : undefined;
}

function part(s: string, what: string): Record<string, unknown> {
  const bytes = base64urlScratch(s);
  if (bytes === undefined) throw new CharterError('MALFORMED_JWT', `JWT ${what} is not base64url (or not in its canonical spelling)`);
  let text: string;
  let v: unknown;
  try {
    // RFC 7515 §5.2 step 3-4 / RFC 7519 §7.2 step 10: UTF-8 JSON. Invalid bytes are refused, not replaced by U+FFFD.
    text = utf8.decode(bytes);
    v = JSON.parse(text);
  } catch {
    throw new CharterError('MALFORMED_JWT', `JWT ${what} is not UTF-8 JSON`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new CharterError('MALFORMED_JWT', `JWT ${what} is not a JSON object`);
  // RFC 7515 §5.2 step 4 / RFC 7519 §4: duplicate names are refused, since parsers disagree on which one counts.
  const problem = jsonTextProblem(text);
  if (problem !== undefined) throw new CharterError('MALFORMED_JWT', `JWT ${what} ${problem}`);
  return v as Record<string, unknown>;
}

/** Registered claims RFC 7519 §5.3 lets a header replicate. */
const REPLICABLE = ['iss', 'sub', 'aud', 'exp', 'nbf', 'iat', 'jti'] as const;

/**
 * RFC 7519 §5.3 (which VC-JOSE-COSE §3.1.3 applies): a claim replicated as a
 * header parameter must equal the claim; a library that reads the header copy
 * would otherwise see another issuer, audience or expiry. Returns the names
 * that differ.
 */
export function replicatedClaimConflicts(d: Pick<DecodedJwt, 'header' | 'payload'>): string[] {
  return REPLICABLE.filter((k) => Object.hasOwn(d.header, k) && JSON.stringify(d.header[k]) !== JSON.stringify(d.payload[k]));
}

/**
 * Strict compact JWS decoding (RFC 7515 §7.1) with the checks that need no key:
 * size cap, three base64url parts, JSON object header and payload, allowed alg,
 * no unknown critical header. Throws CharterError.
 */
export function decodeJwt(jwt: string, opts: { maxBytes?: number } = {}): DecodedJwt {
  if (typeof jwt !== 'string') throw new CharterError('MALFORMED_JWT', 'a JWT must be a string');
  if (jwt.length > (opts.maxBytes ?? DEFAULT_MAX_JWT)) throw new CharterError('INPUT_TOO_LARGE', `JWT is larger than ${opts.maxBytes ?? DEFAULT_MAX_JWT} bytes`);
  const a = jwt.indexOf('.');
  const b = jwt.indexOf('.', a + 1);
  if (a < 1 || b < 0 || jwt.indexOf('.', b + 1) !== -1 || b === a + 1) {
    throw new CharterError('MALFORMED_JWT', 'not a compact JWS (three non-empty base64url parts)');
  }
  const header = part(jwt.slice(0, a), 'header') as JwtHeader;
  // An Unsecured JWS (RFC 7515 Appendix A.5: alg "none", an empty signature) is refused for its alg,
  // as README's UNSUPPORTED_ALG says, not as a malformed token; any empty signature is refused below.
  if (b === jwt.length - 1) {
    if (typeof header.alg !== 'string' || !ALGS.has(header.alg))
      throw new CharterError('UNSUPPORTED_ALG', `algorithm "${shown(header.alg, 20)}" is not allowed (EdDSA, ES256, ES256K)`);
    throw new CharterError('MALFORMED_JWT', 'not a compact JWS (three non-empty base64url parts)');
  }
  if (typeof header.alg !== 'string' || !ALGS.has(header.alg)) {
    throw new CharterError('UNSUPPORTED_ALG', `algorithm "${shown(header.alg, 20)}" is not allowed (EdDSA, ES256, ES256K)`);
  }
  if (header.crit !== undefined) {
    if (!Array.isArray(header.crit) || header.crit.length === 0 || header.crit.some((c) => typeof c !== 'string' || !UNDERSTOOD_CRIT.has(c))) {
      throw new CharterError('UNKNOWN_CRITICAL', 'the JWT marks a header parameter critical that Charter does not understand');
    }
  }
  // RFC 7797 §3, §6: "b64": false signs the payload unencoded, a different signing input; Charter signs and reads
  // base64url payloads only, so a header asking otherwise (or not a boolean) is refused, whether or not crit names it.
  if (header.b64 !== undefined && header.b64 !== true) throw new CharterError('MALFORMED_JWT', 'JWT "b64" other than true (RFC 7797 unencoded payload) is not supported');
  if (header.kid !== undefined && typeof header.kid !== 'string') throw new CharterError('MALFORMED_JWT', 'JWT "kid" must be a string');
  const payload = part(jwt.slice(a + 1, b), 'payload');
  // RFC 4648 §3.5 lets a decoder refuse pad bits that are not zero: one signature then has one spelling,
  // so a token cannot be re-spelt into another string (another hash, another cache key) that still verifies.
  // (Not so for ECDSA itself: an ES256 signature (r, s) has a twin (r, n - s) that verifies. RFC 7518 allows
  // both and other signers emit high s, so only ES256K, whose ecosystem requires low s, refuses it.)
  const signature = base64urlPart(jwt.slice(b + 1));
  if (signature === undefined) throw new CharterError('MALFORMED_JWT', 'JWT signature is not base64url (or not in its canonical spelling)');
  // The signing input is ASCII (both parts passed base64urlPart), so latin1 copies it byte for byte.
  return { header, payload, signingInput: Buffer.from(jwt.slice(0, b), 'latin1'), signature };
}
