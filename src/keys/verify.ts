import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import type { PublicJwk, VerificationKey } from './types.js';
import { algForKeyType, validatePublicJwk } from './jwk.js';

/** secp256k1 group order / 2: a larger S is the malleable twin (BIP 62 low-S rule). */
const SECP256K1_HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

/** Parses a public JWK once into a native key for the hot verification path. */
export function importVerificationKey(publicJwk: PublicJwk): VerificationKey {
  const jwk = validatePublicJwk(publicJwk);
  const keyObject = createPublicKey({ key: { ...jwk }, format: 'jwk' });
  return Object.freeze({ alg: algForKeyType(jwk.crv), keyType: jwk.crv, publicJwk: jwk, keyObject });
}

/**
 * Verifies a JWS signature. Returns false (never throws) on a bad signature,
 * a wrong length, or an alg that does not belong to the key type.
 */
export function verifySignature(key: VerificationKey, alg: string, data: Uint8Array, sig: Uint8Array): boolean {
  if (alg !== key.alg) return false;
  try {
    if (alg === 'EdDSA') return sig.length === 64 && nodeVerify(null, data, key.keyObject, sig);
    if (sig.length !== 64) return false;
    if (alg === 'ES256K') {
      let s = 0n;
      for (let i = 32; i < 64; i++) s = (s << 8n) | BigInt(sig[i]!);
      if (s > SECP256K1_HALF_N) return false;
    }
    return nodeVerify('sha256', data, { key: key.keyObject, dsaEncoding: 'ieee-p1363' }, sig);
  } catch {
    return false;
  }
}
