import { CharterError } from '../errors.js';
import type { Signer } from '../keys/types.js';

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
const B64U = /^[A-Za-z0-9_-]+$/;

export async function signJwt(header: Record<string, unknown>, payload: object, signer: Signer, kid: string): Promise<string> {
  const h = Buffer.from(JSON.stringify({ ...header, alg: signer.alg, kid })).toString('base64url');
  const p = Buffer.from(JSON.stringify(payload)).toString('base64url');
  const input = `${h}.${p}`;
  return `${input}.${Buffer.from(await signer.sign(enc.encode(input))).toString('base64url')}`;
}

function part(s: string, what: string): Record<string, unknown> {
  if (!B64U.test(s)) throw new CharterError('MALFORMED_JWT', `JWT ${what} is not base64url`);
  let v: unknown;
  try {
    v = JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
  } catch {
    throw new CharterError('MALFORMED_JWT', `JWT ${what} is not JSON`);
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new CharterError('MALFORMED_JWT', `JWT ${what} is not a JSON object`);
  return v as Record<string, unknown>;
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
  if (a < 1 || b < 0 || jwt.indexOf('.', b + 1) !== -1 || b === a + 1 || b === jwt.length - 1) {
    throw new CharterError('MALFORMED_JWT', 'not a compact JWS (three non-empty base64url parts)');
  }
  const header = part(jwt.slice(0, a), 'header') as JwtHeader;
  if (typeof header.alg !== 'string' || !ALGS.has(header.alg)) {
    throw new CharterError('UNSUPPORTED_ALG', `algorithm "${String(header.alg).slice(0, 20)}" is not allowed (EdDSA, ES256, ES256K)`);
  }
  if (header.crit !== undefined) {
    if (!Array.isArray(header.crit) || header.crit.length === 0 || header.crit.some((c) => typeof c !== 'string' || !UNDERSTOOD_CRIT.has(c))) {
      throw new CharterError('UNKNOWN_CRITICAL', 'the JWT marks a header parameter critical that Charter does not understand');
    }
  }
  if (header.kid !== undefined && typeof header.kid !== 'string') throw new CharterError('MALFORMED_JWT', 'JWT "kid" must be a string');
  const payload = part(jwt.slice(a + 1, b), 'payload');
  const sigPart = jwt.slice(b + 1);
  if (!B64U.test(sigPart)) throw new CharterError('MALFORMED_JWT', 'JWT signature is not base64url');
  return { header, payload, signingInput: enc.encode(jwt.slice(0, b)), signature: Buffer.from(sigPart, 'base64url') };
}
