import { constants, createPublicKey, verify as nodeVerify, type KeyObject } from 'node:crypto';
import { CharterError, shown } from '../errors.js';
import { assertVerifyUse, importVerificationKey, verifySignature } from '../keys/index.js';
import type { PublicJwk, Signer, VerificationKey } from '../keys/types.js';
import { jwkThumbprint } from './thumbprint.js';

/**
 * The RFC 9421 §3.3 algorithms Charter verifies: its own key types (which it
 * also signs with), and RSA keys as Web Bot Auth agents and the RFC's own
 * vectors use them (verified only).
 */
export type HttpSigAlgorithm = 'ed25519' | 'ecdsa-p256-sha256' | 'rsa-pss-sha512' | 'rsa-v1_5-sha256';

/** RFC 9421 §6.2.2, the registry's initial contents: known names, of which Charter supports four. */
const REGISTERED = new Set(['rsa-pss-sha512', 'rsa-v1_5-sha256', 'hmac-sha256', 'ecdsa-p256-sha256', 'ecdsa-p384-sha384', 'ed25519']);
const SUPPORTED = new Set<string>(['ed25519', 'ecdsa-p256-sha256', 'rsa-pss-sha512', 'rsa-v1_5-sha256']);

/** What a JWK's own `alg` member may say for each algorithm (HTTP names, or the JOSE names of RFC 8037 / RFC 7518). */
const JWK_ALGS: Record<HttpSigAlgorithm, readonly string[]> = {
  ed25519: ['ed25519', 'EdDSA', 'Ed25519'],
  'ecdsa-p256-sha256': ['ecdsa-p256-sha256', 'ES256'],
  'rsa-pss-sha512': ['rsa-pss-sha512', 'PS512'],
  'rsa-v1_5-sha256': ['rsa-v1_5-sha256', 'RS256'],
};

/** An RSA public key as a JWK (RFC 7518 §6.3.1): only the public members. */
export interface RsaPublicJwk {
  kty: 'RSA';
  n: string;
  e: string;
}

/** A public key ready to verify HTTP message signatures. */
export interface HttpSigKey {
  /** The key's algorithm: for an RSA key whose JWK names none, the first of `algs`. */
  alg: HttpSigAlgorithm;
  /**
   * Every algorithm the key verifies: one, except for an RSA JWK without
   * `alg`, which RFC 9421 lets sign with either RSA algorithm; a signature
   * must then name its own (`alg` parameter), or nothing determines it.
   */
  algs: readonly HttpSigAlgorithm[];
  keyType: 'Ed25519' | 'P-256' | 'RSA';
  /** Charter's own key types (Ed25519, P-256), through src/keys. */
  key?: VerificationKey;
  /** An RSA key, parsed once. */
  rsa?: KeyObject;
  publicJwk: PublicJwk | RsaPublicJwk;
  /** RFC 7638 thumbprint: Web Bot Auth's `keyid`. */
  thumbprint: string;
  /** The JWK's own `kid`, when it has one. */
  kid?: string;
}

const B64URL = /^[A-Za-z0-9_-]+$/;
const RSA_PRIVATE = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth'] as const;
/** Below 2048 bits an RSA signature is no longer safe (NIST SP 800-131A); beyond 8192 only costs verifiers time. */
const RSA_MIN_BITS = 2048;
const RSA_MAX_BITS = 8192;

/**
 * An RSA public JWK, refused unless sound: only public members (a JWK holding
 * `d` or the CRT members leaks its key), `n` and `e` in base64url without
 * leading zero octets (RFC 7518 §6.3.1, Base64urlUInt), 2048 to 8192 bits,
 * and an odd exponent above 2^16 (FIPS 186-5 §A.1.1: e = 1 would make every
 * message its own signature).
 */
function importRsaKey(raw: Record<string, unknown>): Pick<HttpSigKey, 'rsa' | 'publicJwk'> {
  const bad = (why: string) => new CharterError('INVALID_KEY', `the RSA key ${why}`);
  if (RSA_PRIVATE.some((m) => raw[m] !== undefined)) throw bad('holds private key members: publish only n and e');
  const { n, e } = raw;
  if (typeof n !== 'string' || typeof e !== 'string' || !B64URL.test(n) || !B64URL.test(e)) throw bad('needs n and e in base64url');
  const nBytes = Buffer.from(n, 'base64url');
  const eBytes = Buffer.from(e, 'base64url');
  if (nBytes.toString('base64url') !== n || eBytes.toString('base64url') !== e) throw bad('has n or e that is not canonical base64url');
  if (nBytes[0] === 0 || eBytes[0] === 0) throw bad('has n or e with a leading zero octet');
  const bits = nBytes.length * 8 - Math.clz32(nBytes[0]!) + 24;
  // Well formed but outside what Charter verifies with: unsupported (a directory skips it), not broken.
  if (bits < RSA_MIN_BITS || bits > RSA_MAX_BITS) throw new CharterError('UNSUPPORTED_KEY_TYPE', `the RSA key has ${bits} bits: Charter verifies 2048 to 8192`);
  const exponent = BigInt(`0x${eBytes.toString('hex')}`);
  if (exponent % 2n === 0n || exponent <= 65536n || eBytes.length > 32) throw bad('has an exponent that is not an odd number from 65537 below 2^256');
  let rsa: KeyObject;
  try {
    rsa = createPublicKey({ key: { kty: 'RSA', n, e }, format: 'jwk' });
  } catch (cause) {
    throw new CharterError('INVALID_KEY', 'the RSA key cannot be read', { cause });
  }
  return { rsa, publicJwk: Object.freeze({ kty: 'RSA' as const, n, e }) };
}

/**
 * Imports a JWK through Charter's key rules (src/keys: curve checks, and the
 * small-order Ed25519 refusal where keys enter) and binds it to its one
 * HTTP signature algorithm. Throws CharterError (INVALID_KEY,
 * UNSUPPORTED_KEY_TYPE, ALG_KEY_MISMATCH).
 */
export function importHttpSigKey(jwk: unknown): HttpSigKey {
  const raw = (typeof jwk === 'object' && jwk !== null ? jwk : {}) as { kty?: unknown; kid?: unknown; alg?: unknown; use?: unknown };
  // RFC 7517 §4.2, §4.3: a key for encryption, or whose key_ops leave out verify, verifies no signature.
  assertVerifyUse(jwk);
  // RFC 7517 §4.4: alg is a string (["PS512"] must not read as PS512).
  if (raw.alg !== undefined && typeof raw.alg !== 'string') throw new CharterError('INVALID_KEY', 'the key names its alg with something other than a string');
  let out: HttpSigKey;
  if (raw.kty === 'RSA') {
    const { rsa, publicJwk } = importRsaKey(raw as Record<string, unknown>);
    const algs = (['rsa-pss-sha512', 'rsa-v1_5-sha256'] as const).filter((a) => raw.alg === undefined || JWK_ALGS[a].includes(String(raw.alg)));
    if (algs.length === 0) throw new CharterError('ALG_KEY_MISMATCH', `the key says alg ${shown(raw.alg, 24)}, which does not fit an RSA key`);
    out = { alg: algs[0]!, algs, keyType: 'RSA', rsa, publicJwk, thumbprint: jwkThumbprint(publicJwk) };
  } else {
    // The JWK's alg is judged below against the HTTP algorithm (ALG_KEY_MISMATCH: a key for another
    // algorithm, such as ECDH-ES, is one a directory leaves aside), so the keys layer reads the key alone.
    const { alg: _alg, ...material } = jwk as Record<string, unknown>;
    const key = importVerificationKey(material as unknown as PublicJwk);
    const alg: HttpSigAlgorithm | undefined = key.keyType === 'Ed25519' ? 'ed25519' : key.keyType === 'P-256' ? 'ecdsa-p256-sha256' : undefined;
    if (!alg) throw new CharterError('UNSUPPORTED_KEY_TYPE', `RFC 9421 defines no signature algorithm for ${key.keyType} keys`);
    if (raw.alg !== undefined && !JWK_ALGS[alg].includes(String(raw.alg))) {
      throw new CharterError('ALG_KEY_MISMATCH', `the key says alg ${shown(raw.alg, 24)}, which does not fit a ${key.keyType} key`);
    }
    out = { alg, algs: [alg], keyType: key.keyType as 'Ed25519' | 'P-256', key, publicJwk: key.publicJwk, thumbprint: jwkThumbprint(key.publicJwk) };
  }
  if (typeof raw.kid === 'string') out.kid = raw.kid;
  return out;
}

/**
 * RFC 9421 §3.2 steps 6.3-6.4 and §3.3.7: the algorithm a signature is
 * checked with. Its `alg` parameter must be one the key verifies; without
 * one, the key must determine it (an RSA JWK naming no alg does not).
 * A reason (ALG_KEY_MISMATCH) otherwise.
 */
export function signatureAlgorithm(k: HttpSigKey, param: string | undefined): { alg: HttpSigAlgorithm } | { mismatch: string } {
  if (param !== undefined)
    return (k.algs as readonly string[]).includes(param) ? { alg: param as HttpSigAlgorithm } : { mismatch: `alg ${param.slice(0, 30)} does not fit the ${k.keyType} key` };
  if (k.algs.length === 1) return { alg: k.algs[0]! };
  return { mismatch: `the ${k.keyType} key names no alg and neither does the signature: name it (rsa-pss-sha512 or rsa-v1_5-sha256) in either` };
}

/** RFC 9421 §3.2 step 6: an `alg` parameter must be a supported algorithm; null when it is. */
export function unsupportedAlgorithm(alg: string | undefined): string | null {
  if (alg === undefined || SUPPORTED.has(alg)) return null;
  return REGISTERED.has(alg) ? `algorithm ${alg} is not supported (${[...SUPPORTED].join(', ')})` : `unknown algorithm ${alg.slice(0, 30)}`;
}

/** The algorithm a Charter signer produces, by its key type. */
export function algorithmOfSigner(signer: Signer): HttpSigAlgorithm {
  if (signer.keyType === 'Ed25519') return 'ed25519';
  if (signer.keyType === 'P-256') return 'ecdsa-p256-sha256';
  throw new TypeError(`RFC 9421 defines no signature algorithm for ${String(signer.keyType)} keys: sign with Ed25519 or P-256`);
}

/**
 * HTTP_VERIFY of RFC 9421 §3.3, over the base's ASCII bytes, with the
 * algorithm signatureAlgorithm chose: Ed25519 takes the 64-byte R||S
 * (§3.3.6), ECDSA P-256 r||s (§3.3.4, the JOSE ES256 form), RSASSA-PSS
 * SHA-512 with MGF1-SHA-512 and a 64-byte salt (§3.3.1; the salt length is
 * checked, not guessed), RSASSA-PKCS1-v1_5 SHA-256 (§3.3.2). False on any
 * mismatch between the algorithm and the key.
 */
export function verifyBase(k: HttpSigKey, alg: HttpSigAlgorithm, base: string, signature: Uint8Array): boolean {
  if (!k.algs.includes(alg)) return false;
  const data = Buffer.from(base, 'ascii');
  if (alg === 'ed25519' || alg === 'ecdsa-p256-sha256') return k.key !== undefined && verifySignature(k.key, alg === 'ed25519' ? 'EdDSA' : 'ES256', data, signature);
  if (k.rsa === undefined) return false;
  try {
    if (alg === 'rsa-pss-sha512') return nodeVerify('sha512', data, { key: k.rsa, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 }, signature);
    return nodeVerify('sha256', data, { key: k.rsa, padding: constants.RSA_PKCS1_PADDING }, signature);
  } catch {
    return false;
  }
}
