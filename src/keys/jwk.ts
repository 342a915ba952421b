import { CharterError, shown } from '../errors.js';
import type { JwsAlg, KeyType, PrivateJwk, PublicJwk } from './types.js';
import { assertEcPublicKey, assertEd25519PublicKey, derivePublic } from './curves.js';

const B64U = /^[A-Za-z0-9_-]+$/;
const ALG: Record<KeyType, JwsAlg> = { Ed25519: 'EdDSA', 'P-256': 'ES256', secp256k1: 'ES256K' };
const BY_ALG: Record<string, KeyType> = { EdDSA: 'Ed25519', ES256: 'P-256', ES256K: 'secp256k1' };
/** The `kty` each supported `crv` belongs to (RFC 8037 §2, RFC 7518 §6.2.1.1, RFC 8812 §3.1). */
const KTY: Record<KeyType, 'OKP' | 'EC'> = { Ed25519: 'OKP', 'P-256': 'EC', secp256k1: 'EC' };
/**
 * `alg` values a JWK may carry for its curve (RFC 7517 §4.4): the JWS alg
 * Charter verifies with, and for Ed25519 also the fully-specified "Ed25519"
 * (RFC 9864), which names the same algorithm.
 */
const JWK_ALG: Record<KeyType, readonly string[]> = { Ed25519: ['EdDSA', 'Ed25519'], 'P-256': ['ES256'], secp256k1: ['ES256K'] };
/** RFC 7518 §6.2.2, §6.3.2, §6.4 and RFC 8037 §2: members of the "Private" information class. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

const own = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

export function algForKeyType(t: KeyType): JwsAlg {
  return ALG[t];
}

/** RFC 8037 / RFC 7518: the one alg each key type may sign with. Throws UNSUPPORTED_ALG. */
export function keyTypeForAlg(alg: string): KeyType {
  const t = typeof alg === 'string' && own(BY_ALG, alg) ? BY_ALG[alg] : undefined;
  if (!t) throw new CharterError('UNSUPPORTED_ALG', `algorithm "${shown(alg, 20)}" is not allowed (EdDSA, ES256, ES256K)`);
  return t;
}

export function keyTypeOfJwk(jwk: PublicJwk): KeyType {
  return jwk.crv;
}

/**
 * A base64url member of exactly `size` bytes, in its one canonical spelling:
 * no padding, and no stray low bits in the last character (which would let
 * two strings name one key).
 */
function member(v: unknown, size: number, name: string): string {
  if (typeof v !== 'string' || !B64U.test(v)) throw new CharterError('INVALID_KEY', `JWK "${name}" must be ${size} bytes of base64url`);
  const b = Buffer.from(v, 'base64url');
  if (b.length !== size || b.toString('base64url') !== v) throw new CharterError('INVALID_KEY', `JWK "${name}" must be ${size} bytes of base64url`);
  return v;
}

const bytes = (s: string) => new Uint8Array(Buffer.from(s, 'base64url'));

/**
 * The public part of a JWK, checked: kty and crv agree, the coordinates are
 * exact and canonical, the point passes its curve's acceptance rule
 * (curves.ts), and a JWK `alg` names the curve's own algorithm. Other members
 * are dropped; private members are left to the caller to refuse or use.
 */
function readPublic(input: unknown): PublicJwk {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) throw new CharterError('INVALID_KEY', 'a JWK must be a JSON object');
  const j = input as Record<string, unknown>;
  if (typeof j.kty !== 'string') throw new CharterError('INVALID_KEY', 'a JWK needs a "kty" (RFC 7517 §4.1)');
  const crv = typeof j.crv === 'string' && own(KTY, j.crv) ? (j.crv as KeyType) : undefined;
  if (crv === undefined) {
    throw new CharterError('UNSUPPORTED_KEY_TYPE', `unsupported JWK (kty ${j.kty.slice(0, 10)}, crv ${shown(j.crv, 12)}): use Ed25519, P-256 or secp256k1`);
  }
  if (j.kty !== KTY[crv]) throw new CharterError('INVALID_KEY', `a ${crv} JWK has kty "${KTY[crv]}", not "${j.kty.slice(0, 10)}"`);
  if (j.alg !== undefined && !(typeof j.alg === 'string' && JWK_ALG[crv].includes(j.alg))) {
    throw new CharterError('INVALID_KEY', `a ${crv} JWK may only carry alg ${JWK_ALG[crv].join(' or ')}`);
  }
  const x = member(j.x, 32, 'x');
  if (crv === 'Ed25519') {
    // RFC 8037 §2: an OKP key is x alone; a "y" means the JWK is not what it claims.
    if (own(j, 'y')) throw new CharterError('INVALID_KEY', 'an OKP JWK has no "y"');
    assertEd25519PublicKey(bytes(x));
    return { kty: 'OKP', crv, x };
  }
  const y = member(j.y, 32, 'y');
  assertEcPublicKey(crv, bytes(x), bytes(y));
  return { kty: 'EC', crv, x, y };
}

/**
 * RFC 7517 §4.2, §4.3: a JWK meant for encryption (`use` other than "sig"),
 * or whose `key_ops` are not a list holding `op`, is not for `op`. The one
 * rule for both halves of a signature (assertVerifyUse, assertSignUse).
 */
function assertUse(input: unknown, what: string, op: 'verify' | 'sign'): void {
  if (typeof input !== 'object' || input === null) return;
  const j = input as { use?: unknown; key_ops?: unknown };
  if (j.use !== undefined && j.use !== 'sig') throw new CharterError('INVALID_KEY', `${what} is a key for ${shown(j.use, 20)} (use), not for signatures`);
  if (j.key_ops !== undefined && !(Array.isArray(j.key_ops) && j.key_ops.includes(op))) {
    throw new CharterError('INVALID_KEY', `${what} does not allow ${op} (key_ops)`);
  }
}

/**
 * A JWK meant for encryption (`use` other than "sig"), or whose `key_ops` are
 * not a list holding "verify", verifies nothing (assertUse). For any JWK a
 * signature is checked with (a DID method's, a pinned or delegated key, an
 * HTTP signature directory's): validatePublicJwk drops both members, so this
 * reads the input before it. Throws INVALID_KEY; `what` names the key.
 */
export function assertVerifyUse(input: unknown, what = 'the key'): void {
  assertUse(input, what, 'verify');
}

/** The private half: a JWK marked for encryption, or whose `key_ops` leave out "sign", signs nothing. INVALID_KEY. */
export function assertSignUse(input: unknown, what = 'the key'): void {
  assertUse(input, what, 'sign');
}

/**
 * Narrows unknown input to a supported public JWK and drops every other
 * member. A JWK carrying private members (d, ...) is refused: where a public
 * key is expected, a private one is a leak or a confusion (DID Core §5.2.1:
 * publicKeyJwk MUST NOT contain them).
 */
export function validatePublicJwk(input: unknown): PublicJwk {
  const pub = readPublic(input);
  const priv = PRIVATE_MEMBERS.find((m) => own(input as object, m));
  if (priv !== undefined) throw new CharterError('INVALID_KEY', `a public JWK must not carry the private member "${priv}"`);
  return pub;
}

/**
 * The public part of a JWK that may also hold a private key, for callers that
 * only read the public key (a PrivateJwk is a PublicJwk by type). The private
 * members are neither checked nor returned.
 */
export function publicPartOf(input: unknown): PublicJwk {
  return readPublic(input);
}

/** A private JWK: its public part passes validatePublicJwk's checks and is the one `d` derives. */
export function validatePrivateJwk(input: unknown): PrivateJwk {
  const pub = readPublic(input);
  const d = member((input as Record<string, unknown>).d, 32, 'd');
  const derived = derivePublic(pub.crv, bytes(d));
  const b64u = (b: Uint8Array) => Buffer.from(b).toString('base64url');
  if (b64u(derived.x) !== pub.x || (derived.y !== undefined && b64u(derived.y) !== pub.y)) {
    throw new CharterError('INVALID_KEY', 'the JWK public key (x, y) is not the one its private key "d" derives');
  }
  return { ...pub, d };
}

export function publicJwkOf(jwk: PrivateJwk): PublicJwk {
  return jwk.y === undefined ? { kty: jwk.kty, crv: jwk.crv, x: jwk.x } : { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y };
}
