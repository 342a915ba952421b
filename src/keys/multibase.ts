import { createPrivateKey, createPublicKey } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { CharterError } from '../errors.js';
import { decodeMulticodec, encodeMulticodec, multibaseDecode, multibaseEncode } from '../encoding/multibase.js';
import type { KeyType, PrivateJwk, PublicJwk } from './types.js';
import { validatePrivateJwk, validatePublicJwk } from './jwk.js';

/** Multicodec table codes (multiformats/multicodec table.csv). */
export const PUB_CODEC: Record<KeyType, number> = { Ed25519: 0xed, 'P-256': 0x1200, secp256k1: 0xe7 };
export const PRIV_CODEC: Record<KeyType, number> = { Ed25519: 0x1300, 'P-256': 0x1306, secp256k1: 0x1301 };

const b64u = (b: Uint8Array) => Buffer.from(b).toString('base64url');
const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'base64url'));
const curve = (t: KeyType) => (t === 'P-256' ? p256 : secp256k1);

/** Raw public key bytes: 32 for Ed25519, the 33-byte compressed point otherwise. */
export function publicKeyBytes(jwk: PublicJwk): Uint8Array {
  const j = validatePublicJwk(jwk);
  if (j.crv === 'Ed25519') return bytes(j.x);
  const x = bytes(j.x);
  const y = bytes(j.y!);
  const out = new Uint8Array(33);
  out[0] = (y[31]! & 1) === 0 ? 0x02 : 0x03;
  out.set(x, 1);
  return out;
}

export function publicJwkFromBytes(type: KeyType, raw: Uint8Array): PublicJwk {
  if (type === 'Ed25519') {
    if (raw.length !== 32) throw new CharterError('INVALID_KEY', 'an Ed25519 public key is 32 bytes');
    return { kty: 'OKP', crv: 'Ed25519', x: b64u(raw) };
  }
  let point;
  try {
    point = curve(type).Point.fromBytes(raw).toAffine();
  } catch {
    throw new CharterError('INVALID_KEY', `not a valid ${type} public key`);
  }
  const hex = (n: bigint) => Buffer.from(n.toString(16).padStart(64, '0'), 'hex');
  return { kty: 'EC', crv: type, x: b64u(hex(point.x)), y: b64u(hex(point.y)) };
}

export function publicJwkToMultibase(jwk: PublicJwk): string {
  return multibaseEncode(encodeMulticodec(PUB_CODEC[jwk.crv], publicKeyBytes(jwk)));
}

export function multibaseToPublicJwk(mb: string): PublicJwk {
  const { code, bytes: raw } = decodeMulticodec(multibaseDecode(mb));
  const type = (Object.keys(PUB_CODEC) as KeyType[]).find((t) => PUB_CODEC[t] === code);
  if (!type) throw new CharterError('UNSUPPORTED_KEY_TYPE', `unsupported multicodec key type 0x${code.toString(16)}`);
  return publicJwkFromBytes(type, raw);
}

export function privateJwkToMultibase(jwk: PrivateJwk): string {
  const j = validatePrivateJwk(jwk);
  return multibaseEncode(encodeMulticodec(PRIV_CODEC[j.crv], bytes(j.d)));
}

export function multibaseToPrivateJwk(mb: string): PrivateJwk {
  const { code, bytes: d } = decodeMulticodec(multibaseDecode(mb));
  const type = (Object.keys(PRIV_CODEC) as KeyType[]).find((t) => PRIV_CODEC[t] === code);
  if (!type || d.length !== 32) throw new CharterError('UNSUPPORTED_KEY_TYPE', 'unsupported multicodec private key');
  const pub =
    type === 'Ed25519'
      ? publicJwkFromBytes(type, edPublic(d))
      : publicJwkFromBytes(type, curve(type).getPublicKey(d, true));
  return { ...pub, d: b64u(d) };
}

function edPublic(d: Uint8Array): Uint8Array {
  // Derive via Node: wrap the seed in a PKCS#8 Ed25519 structure (RFC 8410).
  const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(d)]);
  const jwk = createPublicKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })).export({ format: 'jwk' });
  return bytes(jwk.x as string);
}
