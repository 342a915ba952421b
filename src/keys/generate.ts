import { generateKeyPairSync } from 'node:crypto';
import type { KeyPair, KeyType, PrivateJwk } from './types.js';
import { publicJwkOf, validatePrivateJwk } from './jwk.js';

/** A fresh key pair from Node's CSPRNG-backed generator. */
export function generateKeyPair(type: KeyType = 'Ed25519'): KeyPair {
  const { privateKey } = type === 'Ed25519' ? generateKeyPairSync('ed25519') : generateKeyPairSync('ec', { namedCurve: type === 'P-256' ? 'prime256v1' : 'secp256k1' });
  const privateJwk: PrivateJwk = validatePrivateJwk(privateKey.export({ format: 'jwk' }));
  return { type, privateJwk, publicJwk: publicJwkOf(privateJwk) };
}
