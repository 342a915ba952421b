import { createPrivateKey, createPublicKey } from 'node:crypto';
import { ed25519 } from '@noble/curves/ed25519.js';
import { p256 } from '@noble/curves/nist.js';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { CharterError } from '../errors.js';
import type { KeyType } from './types.js';

/*
 * The acceptance rule of each curve: what a public key must be before Charter
 * lets it verify anything. Every path by which a key enters (JWK parsing and
 * import, did:key and Multikey multibase, did:jwk, a did:web document, a
 * private JWK or multibase) ends here, so the rule holds whatever the encoding.
 *
 * Ed25519 (RFC 8032):
 *  - decoding is RFC 8032 §5.1.3 exactly, never ZIP-215: the y coordinate must
 *    be < p (so y >= p, the non-canonical twins of y in 0..18, is refused) and
 *    x = 0 with the sign bit set is refused (step 4), and the re-encoded point
 *    must be the very 32 bytes given: one key, one encoding. (No y < 19 but
 *    the identity's gives a torsion-free point, so the checks below would
 *    catch every y >= p twin anyway; decoding stays strict so that the rule
 *    does not rest on that coincidence.)
 *  - the 8 small-order points (the torsion subgroup E[8]) are refused. Node's
 *    verifier (OpenSSL) checks [S]B = R + [k]A without the cofactor and does
 *    not look at A; with A of small order, [k]A takes at most 8 values, so
 *    (R = identity, S = 0) verifies for 1 message in 8 and, for A = identity,
 *    for every message: anyone can "sign" for such a key. Such keys also sign
 *    every message for everyone, so a DID built on one binds nobody.
 *  - keys with a torsion component (A = aB + T, T of small order) are refused
 *    too. This is a recommendation, not a must of RFC 8032: an honestly
 *    generated key is A = aB and lies in the prime-order subgroup, so only a
 *    crafted key has a torsion part, and such keys make cofactored and
 *    cofactorless verifiers disagree on the same signature ("Taming the many
 *    EdDSAs", Chalkias et al., 2020).
 *
 * P-256 and secp256k1 (SEC 1 v2 §3.2.2 public key validation):
 *  - the point is given by exact-length coordinates (JWK: 32-byte x and y,
 *    RFC 7518 §6.2.1.2; SEC 1 bytes: 33 compressed or 65 uncompressed), each
 *    coordinate < p, the point satisfies the curve equation, and it is not the
 *    point at infinity (which no encoding accepted here can express). Both
 *    curves have cofactor 1, so on the curve means in the prime-order group.
 *  - invalid-curve points must never reach ECDSA verification, where they can
 *    make a verifier accept for a key nobody holds.
 *
 * A private key must derive the public key it is stored with: a private JWK
 * whose x / y do not match d is refused, since OpenSSL imports an EC private
 * JWK with whatever x and y it carries.
 */

const invalid = (message: string) => new CharterError('INVALID_KEY', message);

/** Accepted Ed25519 keys, by hex: the check costs a scalar multiplication, a hit is a Set lookup. */
const edAccepted = new Set<string>();
const ED_MEMO_MAX = 4096;

/** Throws INVALID_KEY unless `raw` is an acceptable Ed25519 public key (see the rule above). */
export function assertEd25519PublicKey(raw: Uint8Array): void {
  if (raw.length !== 32) throw invalid('an Ed25519 public key is 32 bytes');
  const hex = Buffer.from(raw).toString('hex');
  if (edAccepted.has(hex)) return;
  let point;
  try {
    point = ed25519.Point.fromBytes(raw, false);
  } catch {
    throw invalid('not an Ed25519 point in its canonical encoding (RFC 8032 §5.1.3)');
  }
  if (Buffer.from(point.toBytes()).toString('hex') !== hex) throw invalid('not the canonical encoding of an Ed25519 point');
  if (point.isSmallOrder()) throw invalid('an Ed25519 key of small order verifies forged signatures');
  if (!point.isTorsionFree()) throw invalid('an Ed25519 key with a torsion component was not generated as A = aB');
  if (edAccepted.size >= ED_MEMO_MAX) edAccepted.delete(edAccepted.values().next().value as string);
  edAccepted.add(hex);
}

type EcType = Exclude<KeyType, 'Ed25519'>;
const EC = { 'P-256': p256, secp256k1 } as const;

const toBig = (b: Uint8Array) => BigInt('0x' + (Buffer.from(b).toString('hex') || '0'));
const toBytes32 = (n: bigint) => new Uint8Array(Buffer.from(n.toString(16).padStart(64, '0'), 'hex'));

/** Throws INVALID_KEY unless (x, y), 32 bytes each, is a valid point of `type` (see the rule above). */
export function assertEcPublicKey(type: EcType, x: Uint8Array, y: Uint8Array): void {
  if (x.length !== 32 || y.length !== 32) throw invalid(`${type} coordinates are 32 bytes each`);
  const curve = EC[type];
  const p = curve.Point.CURVE().p;
  const X = toBig(x);
  const Y = toBig(y);
  if (X >= p || Y >= p) throw invalid(`a ${type} coordinate is not reduced modulo p`);
  try {
    curve.Point.fromAffine({ x: X, y: Y }).assertValidity();
  } catch {
    throw invalid(`not a point of ${type}`);
  }
}

/**
 * SEC 1 §2.3.4 point decoding with exact lengths: 33 bytes (0x02 / 0x03 and x)
 * or 65 bytes (0x04, x and y). Hybrid (0x06 / 0x07) and infinity (0x00) forms
 * are refused. Returns the affine coordinates, 32 bytes each.
 */
export function ecPointFromBytes(type: EcType, raw: Uint8Array): { x: Uint8Array; y: Uint8Array } {
  const curve = EC[type];
  const p = curve.Point.CURVE().p;
  const compressed = raw.length === 33 && (raw[0] === 0x02 || raw[0] === 0x03);
  const uncompressed = raw.length === 65 && raw[0] === 0x04;
  if (!compressed && !uncompressed) throw invalid(`a ${type} public key is 33 bytes (compressed) or 65 bytes (uncompressed)`);
  if (toBig(raw.subarray(1, 33)) >= p) throw invalid(`a ${type} coordinate is not reduced modulo p`);
  let affine;
  try {
    affine = curve.Point.fromBytes(raw).toAffine();
  } catch {
    throw invalid(`not a point of ${type}`);
  }
  const x = toBytes32(affine.x);
  const y = toBytes32(affine.y);
  assertEcPublicKey(type, x, y);
  if (uncompressed && !Buffer.from(raw.subarray(33)).equals(Buffer.from(y))) throw invalid(`a ${type} coordinate is not reduced modulo p`);
  return { x, y };
}

/** The public key a private key derives: { x } for Ed25519, { x, y } otherwise. INVALID_KEY if `d` is out of range. */
export function derivePublic(type: KeyType, d: Uint8Array): { x: Uint8Array; y?: Uint8Array } {
  if (d.length !== 32) throw invalid('a private key is 32 bytes');
  if (type === 'Ed25519') {
    // RFC 8410 PKCS#8 wrapping of the 32-byte seed, so Node derives A = aB natively.
    const der = Buffer.concat([Buffer.from('302e020100300506032b657004220420', 'hex'), Buffer.from(d)]);
    const jwk = createPublicKey(createPrivateKey({ key: der, format: 'der', type: 'pkcs8' })).export({ format: 'jwk' });
    return { x: new Uint8Array(Buffer.from(jwk.x as string, 'base64url')) };
  }
  const curve = EC[type];
  const D = toBig(d);
  // SEC 1 §3.2.1: a private key is an integer in [1, n - 1].
  if (D === 0n || D >= curve.Point.CURVE().n) throw invalid(`a ${type} private key must be in [1, n - 1]`);
  const a = curve.Point.BASE.multiply(D).toAffine();
  return { x: toBytes32(a.x), y: toBytes32(a.y) };
}
