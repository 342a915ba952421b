import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import type { JwsAlg, PublicJwk, VerificationKey } from './types.js';
import { algForKeyType, assertVerifyUse, validatePublicJwk } from './jwk.js';

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

/**
 * Parses a public JWK once into a native key for the hot verification path. INVALID_KEY unless the key is
 * acceptable, and (RFC 7517 §4.2-4.3, assertVerifyUse) unless it is for verifying: every key Charter
 * verifies with passes here, so a JWK marked for encryption verifies nothing even where a caller forgot
 * the check before (validatePublicJwk, below, drops the mark).
 */
export function importVerificationKey(publicJwk: PublicJwk): VerificationKey {
  assertVerifyUse(publicJwk);
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

/**
 * Verifies a JWS signature. Returns false (never throws) on a bad signature,
 * a wrong length, an alg that does not belong to the key type, or a key that
 * importVerificationKey did not produce.
 */
export function verifySignature(key: VerificationKey, alg: string, data: Uint8Array, sig: Uint8Array): boolean {
  try {
    if (typeof alg !== 'string' || !ALGS.has(alg) || !consistent(key, alg)) return false;
    if (sig.length !== 64) return false;
    if (alg === 'EdDSA') return nodeVerify(null, data, key.keyObject, sig);
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

/**
 * verifySignature off the event loop: the same checks, with the curve
 * arithmetic run by Node in the libuv thread pool (crypto.verify with a
 * callback), so a server verifying one signature per request keeps its main
 * thread for parsing and I/O and uses the machine's other cores.
 */
export function verifySignatureAsync(key: VerificationKey, alg: string, data: Uint8Array, sig: Uint8Array): Promise<boolean> {
  try {
    if (typeof alg !== 'string' || !ALGS.has(alg) || !consistent(key, alg) || sig.length !== 64) return Promise.resolve(false);
    if (alg === 'ES256K') {
      let s = 0n;
      for (let i = 32; i < 64; i++) s = (s << 8n) | BigInt(sig[i]!);
      if (s > SECP256K1_HALF_N) return Promise.resolve(false);
    }
    return new Promise((resolve) => {
      const done = (err: Error | null, ok: boolean) => resolve(err === null && ok === true);
      try {
        if (alg === 'EdDSA') nodeVerify(null, data, key.keyObject, sig, done);
        else nodeVerify('sha256', data, { key: key.keyObject, dsaEncoding: 'ieee-p1363' }, sig, done);
      } catch {
        resolve(false);
      }
    });
  } catch {
    return Promise.resolve(false);
  }
}
