import { CharterError, isCharterError } from '../errors.js';
import { decodeMulticodec, encodeMulticodec, multibaseDecode, multibaseEncode } from '../encoding/multibase.js';
import type { KeyType, PrivateJwk, PublicJwk } from './types.js';
import { publicPartOf, validatePrivateJwk } from './jwk.js';
import { assertEd25519PublicKey, derivePublic, ecPointFromBytes } from './curves.js';

/** Multicodec table codes (multiformats/multicodec table.csv). */
export const PUB_CODEC: Record<KeyType, number> = { Ed25519: 0xed, 'P-256': 0x1200, secp256k1: 0xe7 };
export const PRIV_CODEC: Record<KeyType, number> = { Ed25519: 0x1300, 'P-256': 0x1306, secp256k1: 0x1301 };
/**
 * Length of the raw public key inside a Multikey / did:key value: Ed25519 is
 * 32 bytes (RFC 8032 §5.1.5), the EC curves their 33-byte compressed point
 * (did:key §3.1.3, Multikey in Controlled Identifiers §2.2.2).
 */
export const MULTIKEY_PUBLIC_LENGTH: Record<KeyType, number> = { Ed25519: 32, 'P-256': 33, secp256k1: 33 };

/** The longest key here is 2 + 33 bytes, about 48 base58 characters. */
const MAX_MULTIBASE_KEY = 128;

const b64u = (b: Uint8Array) => Buffer.from(b).toString('base64url');
const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'base64url'));
const typeOfCode = (table: Record<KeyType, number>, code: number) => (Object.keys(table) as KeyType[]).find((t) => table[t] === code);

/** Raw public key bytes: 32 for Ed25519, the 33-byte compressed point otherwise. */
export function publicKeyBytes(jwk: PublicJwk): Uint8Array {
  const j = publicPartOf(jwk);
  if (j.crv === 'Ed25519') return bytes(j.x);
  const x = bytes(j.x);
  const y = bytes(j.y!);
  const out = new Uint8Array(33);
  out[0] = (y[31]! & 1) === 0 ? 0x02 : 0x03;
  out.set(x, 1);
  return out;
}

/**
 * A public JWK from raw key bytes: 32 bytes for Ed25519; SEC 1 compressed (33)
 * or uncompressed (65) bytes for P-256 and secp256k1. The key must pass its
 * curve's acceptance rule (curves.ts), else INVALID_KEY.
 */
export function publicJwkFromBytes(type: KeyType, raw: Uint8Array): PublicJwk {
  if (!(raw instanceof Uint8Array)) throw new CharterError('INVALID_KEY', 'a public key is a byte array');
  if (type === 'Ed25519') {
    assertEd25519PublicKey(raw);
    return { kty: 'OKP', crv: 'Ed25519', x: b64u(raw) };
  }
  if (type !== 'P-256' && type !== 'secp256k1') throw new CharterError('UNSUPPORTED_KEY_TYPE', 'use Ed25519, P-256 or secp256k1');
  const { x, y } = ecPointFromBytes(type, raw);
  return { kty: 'EC', crv: type, x: b64u(x), y: b64u(y) };
}

export function publicJwkToMultibase(jwk: PublicJwk): string {
  const j = publicPartOf(jwk);
  return multibaseEncode(encodeMulticodec(PUB_CODEC[j.crv], publicKeyBytes(j)));
}

/** Multibase + multicodec framing, refused with INVALID_KEY when malformed or not in its one canonical spelling. */
function decodeFramed(mb: string, what: string): { code: number; raw: Uint8Array } {
  // base58 decoding is quadratic: a 90 kB publicKeyMultibase in a did:web document costs seconds of CPU.
  if (typeof mb !== 'string' || mb.length > MAX_MULTIBASE_KEY) throw new CharterError('INVALID_KEY', `a multibase ${what} is a string of at most ${MAX_MULTIBASE_KEY} characters`);
  let code: number;
  let raw: Uint8Array;
  try {
    ({ code, bytes: raw } = decodeMulticodec(multibaseDecode(mb)));
  } catch (e) {
    throw isCharterError(e) && e.code !== 'INVALID_ARGUMENT' ? e : new CharterError('INVALID_KEY', `not a base58btc multibase ${what}`, { cause: e });
  }
  if (multibaseEncode(encodeMulticodec(code, raw)) !== mb) throw new CharterError('INVALID_KEY', `the multibase ${what} is not in its canonical encoding`);
  return { code, raw };
}

/**
 * Multikey `publicKeyMultibase` / did:key value -> public JWK. Only the forms
 * the Multikey format defines: base58btc, a known public-key codec, the exact
 * length for it (EC keys compressed), and a key that passes its curve's rule.
 */
export function multibaseToPublicJwk(mb: string): PublicJwk {
  const { code, raw } = decodeFramed(mb, 'public key');
  const type = typeOfCode(PUB_CODEC, code);
  if (!type) throw new CharterError('UNSUPPORTED_KEY_TYPE', `unsupported multicodec key type 0x${code.toString(16)}`);
  if (raw.length !== MULTIKEY_PUBLIC_LENGTH[type]) throw new CharterError('INVALID_KEY', `a ${type} Multikey is ${MULTIKEY_PUBLIC_LENGTH[type]} bytes`);
  return publicJwkFromBytes(type, raw);
}

export function privateJwkToMultibase(jwk: PrivateJwk): string {
  const j = validatePrivateJwk(jwk);
  return multibaseEncode(encodeMulticodec(PRIV_CODEC[j.crv], bytes(j.d)));
}

/** Multikey secret key -> private JWK, with the public key derived from it (and checked like any other). */
export function multibaseToPrivateJwk(mb: string): PrivateJwk {
  const { code, raw: d } = decodeFramed(mb, 'private key');
  const type = typeOfCode(PRIV_CODEC, code);
  if (!type || d.length !== 32) throw new CharterError('UNSUPPORTED_KEY_TYPE', 'unsupported multicodec private key');
  const pub = derivePublic(type, d);
  const jwk = type === 'Ed25519' ? { kty: 'OKP', crv: type, x: b64u(pub.x), d: b64u(d) } : { kty: 'EC', crv: type, x: b64u(pub.x), y: b64u(pub.y!), d: b64u(d) };
  return validatePrivateJwk(jwk);
}
