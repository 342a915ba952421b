import { createPrivateKey, sign as nodeSign } from 'node:crypto';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import type { LocalSigner, PrivateJwk } from './types.js';
import { algForKeyType, validatePrivateJwk } from './jwk.js';

/**
 * A JWS signer. Ed25519 and P-256 sign with Node's native crypto (ES256 as raw
 * r||s, RFC 7518 §3.4); secp256k1 signs with @noble/curves, which emits low-S
 * signatures that did-jwt and other noble-based verifiers require.
 */
export function createSigner(privateJwk: PrivateJwk): LocalSigner {
  const jwk = validatePrivateJwk(privateJwk);
  const keyType = jwk.crv;
  const alg = algForKeyType(keyType);
  if (keyType === 'secp256k1') {
    const d = new Uint8Array(Buffer.from(jwk.d, 'base64url'));
    return Object.freeze({ alg, keyType, sign: (data: Uint8Array) => secp256k1.sign(data, d, { lowS: true }) });
  }
  const key = createPrivateKey({ key: { ...jwk }, format: 'jwk' });
  const offThread =
    (algorithm: string | null, k: Parameters<typeof nodeSign>[2]) =>
    (data: Uint8Array): Promise<Uint8Array> =>
      new Promise((resolve, reject) => nodeSign(algorithm, data, k, (err, sig) => (err ? reject(err) : resolve(new Uint8Array(sig)))));
  if (keyType === 'Ed25519') return Object.freeze({ alg, keyType, sign: (data: Uint8Array) => new Uint8Array(nodeSign(null, data, key)), signOffThread: offThread(null, key) });
  const es = { key, dsaEncoding: 'ieee-p1363' as const };
  return Object.freeze({
    alg,
    keyType,
    sign: (data: Uint8Array) => new Uint8Array(nodeSign('sha256', data, es)),
    signOffThread: offThread('sha256', es),
  });
}
