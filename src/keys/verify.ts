import { createPublicKey, verify as nodeVerify, type KeyObject, type VerifyKeyObjectInput } from 'node:crypto';
import type { JwsAlg, PublicJwk, VerificationKey } from './types.js';
import { algForKeyType, validatePublicJwk } from './jwk.js';

/** secp256k1 group order / 2: a larger S is the malleable twin (BIP 62 low-S rule). */
const SECP256K1_HALF_N = 0x7fffffffffffffffffffffffffffffff5d576e7357a4501ddfe92f46681b20a0n;

/**
 * The alg of each native key this module built, so verifySignature never runs
 * crypto with a key that skipped the acceptance rule (a hand-built object
 * holding a small-order Ed25519 key, say). Spreading a VerificationKey keeps
 * its keyObject, so keys the resolver decorates still qualify.
 */
const imported = new WeakMap<object, JwsAlg>();
const ALGS = new Set<string>(['EdDSA', 'ES256', 'ES256K']);

/** Parses a public JWK once into a native key for the hot verification path. INVALID_KEY unless the key is acceptable. */
export function importVerificationKey(publicJwk: PublicJwk): VerificationKey {
  const jwk = validatePublicJwk(publicJwk);
  const alg = algForKeyType(jwk.crv);
  const keyObject = createPublicKey({ key: { ...jwk }, format: 'jwk' });
  imported.set(keyObject, alg);
  return Object.freeze({ alg, keyType: jwk.crv, publicJwk: jwk, keyObject });
}

/** The alg, the key type, the JWK and the native key all name one algorithm (EdDSA-Ed25519, ES256-P-256, ES256K-secp256k1). */
function consistent(key: VerificationKey, alg: string): boolean {
  return imported.get(key.keyObject) === alg && key.alg === alg && algForKeyType(key.keyType) === alg && key.publicJwk?.crv === key.keyType;
}

/** The node:crypto arguments for one verification, or false when the rules already refuse it. */
function verifyArgs(key: VerificationKey, alg: string, sig: Uint8Array): [string | null, KeyObject | VerifyKeyObjectInput] | false {
  if (typeof alg !== 'string' || !ALGS.has(alg) || !consistent(key, alg)) return false;
  if (sig.length !== 64) return false;
  if (alg === 'EdDSA') return [null, key.keyObject];
  if (alg === 'ES256K') {
    let s = 0n;
    for (let i = 32; i < 64; i++) s = (s << 8n) | BigInt(sig[i]!);
    if (s > SECP256K1_HALF_N) return false;
  }
  return ['sha256', { key: key.keyObject, dsaEncoding: 'ieee-p1363' }];
}

/**
 * Verifies a JWS signature. Returns false (never throws) on a bad signature,
 * a wrong length, an alg that does not belong to the key type, or a key that
 * importVerificationKey did not produce.
 */
export function verifySignature(key: VerificationKey, alg: string, data: Uint8Array, sig: Uint8Array): boolean {
  try {
    const a = verifyArgs(key, alg, sig);
    return a !== false && nodeVerify(a[0], data, a[1], sig);
  } catch {
    return false;
  }
}

/**
 * verifySignature on libuv's thread pool (node:crypto's callback form), with
 * the same rules and the same never-throws contract. For bulk work (importing
 * many attestations): many in flight use every core while the event loop
 * parses the next ones. A single call is slower than verifySignature.
 */
export function verifySignatureAsync(key: VerificationKey, alg: string, data: Uint8Array, sig: Uint8Array): Promise<boolean> {
  return new Promise((resolve) => {
    try {
      const a = verifyArgs(key, alg, sig);
      if (a === false) return resolve(false);
      nodeVerify(a[0], data, a[1], sig, (err, ok) => resolve(err === null && ok === true));
    } catch {
      resolve(false);
    }
  });
}
