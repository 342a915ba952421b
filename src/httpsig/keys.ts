import { CharterError } from '../errors.js';
import { importVerificationKey, verifySignature } from '../keys/index.js';
import type { PublicJwk, Signer, VerificationKey } from '../keys/types.js';
import { jwkThumbprint } from './thumbprint.js';

/** The RFC 9421 §3.3 algorithms Charter signs and verifies with: its own key types. */
export type HttpSigAlgorithm = 'ed25519' | 'ecdsa-p256-sha256';

/** RFC 9421 §6.2.2, the registry's initial contents: known names, of which Charter supports two. */
const REGISTERED = new Set(['rsa-pss-sha512', 'rsa-v1_5-sha256', 'hmac-sha256', 'ecdsa-p256-sha256', 'ecdsa-p384-sha384', 'ed25519']);

/** What a JWK's own `alg` member may say for each algorithm (HTTP names, or the JOSE names of RFC 8037 / RFC 7518). */
const JWK_ALGS: Record<HttpSigAlgorithm, readonly string[]> = {
  ed25519: ['ed25519', 'EdDSA', 'Ed25519'],
  'ecdsa-p256-sha256': ['ecdsa-p256-sha256', 'ES256'],
};

/** A public key ready to verify HTTP message signatures. */
export interface HttpSigKey {
  alg: HttpSigAlgorithm;
  key: VerificationKey;
  publicJwk: PublicJwk;
  /** RFC 7638 thumbprint: Web Bot Auth's `keyid`. */
  thumbprint: string;
  /** The JWK's own `kid`, when it has one. */
  kid?: string;
}

/**
 * Imports a JWK through Charter's key rules (src/keys: curve checks, and the
 * small-order Ed25519 refusal where keys enter) and binds it to its one
 * HTTP signature algorithm. Throws CharterError (INVALID_KEY,
 * UNSUPPORTED_KEY_TYPE, ALG_KEY_MISMATCH).
 */
export function importHttpSigKey(jwk: unknown): HttpSigKey {
  const key = importVerificationKey(jwk as PublicJwk);
  const alg: HttpSigAlgorithm | undefined = key.keyType === 'Ed25519' ? 'ed25519' : key.keyType === 'P-256' ? 'ecdsa-p256-sha256' : undefined;
  if (!alg) throw new CharterError('UNSUPPORTED_KEY_TYPE', `RFC 9421 defines no signature algorithm for ${key.keyType} keys`);
  const raw = jwk as { kid?: unknown; alg?: unknown; use?: unknown };
  if (raw.alg !== undefined && !JWK_ALGS[alg].includes(String(raw.alg))) {
    throw new CharterError('ALG_KEY_MISMATCH', `the key says alg ${String(raw.alg).slice(0, 24)}, which does not fit a ${key.keyType} key`);
  }
  if (raw.use !== undefined && raw.use !== 'sig') throw new CharterError('INVALID_KEY', 'the key is not for signatures (use is not "sig")');
  const out: HttpSigKey = { alg, key, publicJwk: key.publicJwk, thumbprint: jwkThumbprint(key.publicJwk) };
  if (typeof raw.kid === 'string') out.kid = raw.kid;
  return out;
}

/** RFC 9421 §3.2 step 6: an `alg` parameter must be a supported algorithm; null when it is. */
export function unsupportedAlgorithm(alg: string | undefined): string | null {
  if (alg === undefined || alg === 'ed25519' || alg === 'ecdsa-p256-sha256') return null;
  return REGISTERED.has(alg) ? `algorithm ${alg} is not supported (ed25519, ecdsa-p256-sha256)` : `unknown algorithm ${alg.slice(0, 30)}`;
}

/** The algorithm a Charter signer produces, by its key type. */
export function algorithmOfSigner(signer: Signer): HttpSigAlgorithm {
  if (signer.keyType === 'Ed25519') return 'ed25519';
  if (signer.keyType === 'P-256') return 'ecdsa-p256-sha256';
  throw new TypeError(`RFC 9421 defines no signature algorithm for ${String(signer.keyType)} keys: sign with Ed25519 or P-256`);
}

/**
 * HTTP_VERIFY of RFC 9421 §3.3.4 / §3.3.6: ECDSA P-256 takes r||s (the JOSE
 * ES256 form), Ed25519 the 64-byte R||S; both over the base's ASCII bytes.
 */
export function verifyBase(k: HttpSigKey, base: string, signature: Uint8Array): boolean {
  return verifySignature(k.key, k.alg === 'ed25519' ? 'EdDSA' : 'ES256', Buffer.from(base, 'ascii'), signature);
}
