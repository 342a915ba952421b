import { CharterError } from '../errors.js';
import type { JwsAlg, KeyType, PrivateJwk, PublicJwk } from './types.js';

const B64U = /^[A-Za-z0-9_-]+$/;
/** Coordinate / key lengths in bytes per curve. */
const SIZE: Record<KeyType, number> = { Ed25519: 32, 'P-256': 32, secp256k1: 32 };
const ALG: Record<KeyType, JwsAlg> = { Ed25519: 'EdDSA', 'P-256': 'ES256', secp256k1: 'ES256K' };
const BY_ALG: Record<string, KeyType> = { EdDSA: 'Ed25519', ES256: 'P-256', ES256K: 'secp256k1' };

export function algForKeyType(t: KeyType): JwsAlg {
  return ALG[t];
}

/** RFC 8037 / RFC 7518: the one alg each key type may sign with. Throws UNSUPPORTED_ALG. */
export function keyTypeForAlg(alg: string): KeyType {
  const t = Object.prototype.hasOwnProperty.call(BY_ALG, alg) ? BY_ALG[alg] : undefined;
  if (!t) throw new CharterError('UNSUPPORTED_ALG', `algorithm "${String(alg).slice(0, 20)}" is not allowed (EdDSA, ES256, ES256K)`);
  return t;
}

export function keyTypeOfJwk(jwk: PublicJwk): KeyType {
  return jwk.crv;
}

function coord(v: unknown, size: number, name: string): string {
  if (typeof v !== 'string' || !B64U.test(v) || Buffer.from(v, 'base64url').length !== size) {
    throw new CharterError('INVALID_KEY', `JWK "${name}" must be ${size} bytes of base64url`);
  }
  return v;
}

/** Narrows unknown input to a supported public JWK; drops every other member. */
export function validatePublicJwk(input: unknown): PublicJwk {
  if (typeof input !== 'object' || input === null) throw new CharterError('INVALID_KEY', 'a JWK must be a JSON object');
  const j = input as Record<string, unknown>;
  if (j.kty === 'OKP' && j.crv === 'Ed25519') return { kty: 'OKP', crv: 'Ed25519', x: coord(j.x, 32, 'x') };
  if (j.kty === 'EC' && (j.crv === 'P-256' || j.crv === 'secp256k1')) {
    return { kty: 'EC', crv: j.crv, x: coord(j.x, SIZE[j.crv], 'x'), y: coord(j.y, SIZE[j.crv], 'y') };
  }
  throw new CharterError('UNSUPPORTED_KEY_TYPE', `unsupported JWK (kty ${String(j.kty).slice(0, 10)}, crv ${String(j.crv).slice(0, 12)}): use Ed25519, P-256 or secp256k1`);
}

export function validatePrivateJwk(input: unknown): PrivateJwk {
  const pub = validatePublicJwk(input);
  const d = (input as Record<string, unknown>).d;
  return { ...pub, d: coord(d, SIZE[pub.crv], 'd') };
}

export function publicJwkOf(jwk: PrivateJwk): PublicJwk {
  return jwk.y === undefined ? { kty: jwk.kty, crv: jwk.crv, x: jwk.x } : { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
}
