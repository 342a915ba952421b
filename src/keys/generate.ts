import { ed25519 } from '@noble/curves/ed25519.js';
import { p256 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import type { KeyPair, KeyType, PrivateJwk } from './types.js';
import { publicJwkOf, validatePrivateJwk } from './jwk.js';

const b64u = (u: Uint8Array): string => Buffer.from(u).toString('base64url');

/**
 * A fresh key pair: the secret from the platform's CSPRNG
 * (`crypto.getRandomValues`, through @noble/curves' randomSecretKey), the
 * public key computed from it. Not Node's generateKeyPairSync: on Node 20, a
 * KeyGenJob collected by the garbage collector while a key's JWK is being
 * exported (ExportJWKEdKey holds the key's mutex, the job's destructor takes
 * it again) deadlocks the process for good; `charter agent create` hung that
 * way under load. Signing and verifying still use Node's native crypto.
 */
export function generateKeyPair(type: KeyType = 'Ed25519'): KeyPair {
  let jwk: Record<string, string>;
  if (type === 'Ed25519') {
    const sk = ed25519.utils.randomSecretKey();
    jwk = { kty: 'OKP', crv: 'Ed25519', x: b64u(ed25519.getPublicKey(sk)), d: b64u(sk) };
  } else {
    const curve = type === 'P-256' ? p256 : secp256k1;
    const sk = curve.utils.randomSecretKey();
    // Uncompressed SEC 1 point: 0x04 || x || y, 32 bytes each.
    const pub = curve.getPublicKey(sk, false);
    jwk = { kty: 'EC', crv: type, x: b64u(pub.subarray(1, 33)), y: b64u(pub.subarray(33, 65)), d: b64u(sk) };
  }
  const privateJwk: PrivateJwk = validatePrivateJwk(jwk);
  return { type, privateJwk, publicJwk: publicJwkOf(privateJwk) };
}
