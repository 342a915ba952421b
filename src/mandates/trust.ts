import { createHash, createPublicKey, X509Certificate } from 'node:crypto';
import { CharterError, HTTP_STATUS, isCharterError, type CharterErrorCode } from '../errors.js';
import { assertVerifyUse, importVerificationKey, validatePublicJwk } from '../keys/index.js';
import type { PublicJwk, VerificationKey } from '../keys/types.js';
import type { JwtHeader } from '../credentials/jws.js';
import type { CharterResolver } from '../did/types.js';
import type { TrustAnchor } from './types.js';
import { jsonTextProblem } from '../encoding/json.js';

/**
 * The caller's pinned roots of trust, turned into verification keys for one
 * token. A key is never taken from the token alone: a header `jwk`, `jku` or
 * `x5u` is ignored, and an `x5c` chain counts only when it ends in a
 * certificate the caller pinned (the hole some verifiers shipped: a chain
 * naming its own key and signing itself).
 */
export interface TrustedKey {
  key: VerificationKey;
  /** JWK thumbprint URN, or the DID URL of the method. */
  id: string;
  source: 'jwk' | 'jwks' | 'did' | 'certificate' | 'public-key';
  /** The leaf of the token's own x5c chain, anchored in a pinned certificate. */
  viaX5c?: true;
}

/** RFC 7638 thumbprint as an RFC 9278 URN. */
export function jwkThumbprint(jwk: PublicJwk): string {
  const j = validatePublicJwk(jwk);
  const members = j.kty === 'OKP' ? { crv: j.crv, kty: j.kty, x: j.x } : { crv: j.crv, kty: j.kty, x: j.x, y: j.y };
  return 'urn:ietf:params:oauth:jwk-thumbprint:sha-256:' + createHash('sha256').update(JSON.stringify(members)).digest('base64url');
}

/** A verification key from an untrusted JWK, through Charter's acceptance rules (a signing key: use, key_ops). Throws INVALID_KEY / UNSUPPORTED_KEY_TYPE. */
export function keyFromJwk(jwk: unknown): VerificationKey {
  assertVerifyUse(jwk);
  return importVerificationKey(validatePublicJwk(jwk));
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function tryKey(jwk: unknown): VerificationKey | undefined {
  try {
    return keyFromJwk(jwk);
  } catch {
    return undefined;
  }
}

function certKey(cert: X509Certificate): VerificationKey | undefined {
  return tryKey(cert.publicKey.export({ format: 'jwk' }));
}

function validAt(cert: X509Certificate, now: Date): boolean {
  const t = now.getTime();
  return Date.parse(cert.validFrom) <= t && t <= Date.parse(cert.validTo);
}

/**
 * The leaf key of a header `x5c` chain (RFC 7515 §4.1.6) that ends in a
 * pinned certificate: each certificate signed by the next, issuers marked
 * CA, every one valid now.
 */
function x5cLeaf(x5c: unknown, pinned: X509Certificate[], now: Date): VerificationKey | undefined {
  if (!Array.isArray(x5c) || x5c.length === 0 || x5c.length > 8) return undefined;
  let chain: X509Certificate[];
  try {
    chain = x5c.map((c) => {
      if (typeof c !== 'string' || !/^[A-Za-z0-9+/]+={0,2}$/.test(c)) throw new Error('not base64');
      return new X509Certificate(Buffer.from(c, 'base64'));
    });
  } catch {
    return undefined;
  }
  if (!chain.every((c) => validAt(c, now))) return undefined;
  for (let i = 0; i + 1 < chain.length; i++) {
    const child = chain[i]!;
    const parent = chain[i + 1]!;
    if (!parent.ca || !child.checkIssued(parent) || !child.verify(parent.publicKey)) return undefined;
  }
  const pinnedFp = new Set(pinned.map((p) => p.fingerprint256));
  const anchored =
    chain.some((c) => pinnedFp.has(c.fingerprint256)) ||
    pinned.some((p) => p.ca && validAt(p, now) && chain[chain.length - 1]!.checkIssued(p) && chain[chain.length - 1]!.verify(p.publicKey));
  return anchored ? certKey(chain[0]!) : undefined;
}

function parsePem(s: string): { cert?: X509Certificate; key?: VerificationKey } {
  if (s.includes('BEGIN CERTIFICATE')) {
    try {
      return { cert: new X509Certificate(s) };
    } catch {
      throw new CharterError('INVALID_ARGUMENT', 'a pinned certificate is not a PEM X.509 certificate');
    }
  }
  try {
    const key = tryKey(createPublicKey(s).export({ format: 'jwk' }));
    if (key) return { key };
  } catch {
    // fall through
  }
  throw new CharterError('INVALID_ARGUMENT', 'a pinned public key is not a supported PEM key (Ed25519, P-256, secp256k1)');
}

/**
 * What a DID anchor's resolution may answer for "this anchor lists no key Charter would use for the
 * token": the DID is malformed, unknown or deactivated, or its document names no usable method for it.
 * Anything else (a host that cannot be reached, a document that cannot be read, a resolver that
 * failed) says nothing about the key, so it must not read as "untrusted" (see anchorFault).
 */
const NO_KEY = new Set<CharterErrorCode>([
  'INVALID_DID',
  'DID_NOT_FOUND',
  'UNSUPPORTED_DID_METHOD',
  'VERIFICATION_METHOD_NOT_FOUND',
  'VERIFICATION_METHOD_NOT_AUTHORIZED',
  'KID_MISMATCH',
  'INVALID_KEY',
  'UNSUPPORTED_KEY_TYPE',
  'DID_DOCUMENT_TOO_LARGE',
]);

/**
 * Candidate keys among `anchors` for a token with this header. A JWKS key,
 * or a pinned JWK carrying a `kid`, is a candidate only when the token names
 * the same `kid` (or none). A DID anchor whose resolution failed for another
 * reason than "no such key" adds its error to `opts.faults`: the caller
 * reports it (anchorFault) when no other anchor's key verifies the token.
 */
export async function trustedKeysFor(
  anchors: readonly TrustAnchor[],
  header: JwtHeader,
  opts: { resolver?: CharterResolver; now: Date; faults: unknown[] },
): Promise<TrustedKey[]> {
  const out: TrustedKey[] = [];
  const kid = typeof header.kid === 'string' ? header.kid : undefined;
  const certs: X509Certificate[] = [];
  const kidOk = (k: unknown) => kid === undefined || typeof k !== 'string' || k === kid;
  for (const a of anchors) {
    if (typeof a === 'string') {
      if (a.startsWith('did:')) {
        if (!opts.resolver) throw new CharterError('INVALID_ARGUMENT', 'a DID trust anchor needs trust.resolver');
        const rel = kid !== undefined && (kid.startsWith('#') || kid.startsWith(a + '#')) ? kid : undefined;
        try {
          const k = await opts.resolver.resolveKey(a, rel, 'assertionMethod');
          out.push({ key: k, id: k.id, source: 'did' });
        } catch (e) {
          // An anchor that lists no such key contributes none; one that could not be read is a fault.
          if (!(isCharterError(e) && NO_KEY.has(e.code))) opts.faults.push(e);
        }
        continue;
      }
      const pem = parsePem(a);
      if (pem.cert) {
        certs.push(pem.cert);
        const k = validAt(pem.cert, opts.now) ? certKey(pem.cert) : undefined;
        if (k) out.push({ key: k, id: jwkThumbprint(k.publicJwk), source: 'certificate' });
      } else if (pem.key) out.push({ key: pem.key, id: jwkThumbprint(pem.key.publicJwk), source: 'public-key' });
      continue;
    }
    if (isObj(a) && Array.isArray((a as { keys?: unknown }).keys)) {
      for (const j of (a as { keys: unknown[] }).keys) {
        if (!isObj(j) || !kidOk(j.kid) || (kid !== undefined && j.kid === undefined && (a as { keys: unknown[] }).keys.length > 1)) continue;
        const k = tryKey(j);
        if (k) out.push({ key: k, id: jwkThumbprint(k.publicJwk), source: 'jwks' });
      }
      continue;
    }
    if (isObj(a)) {
      if (!kidOk((a as Record<string, unknown>).kid)) continue;
      const k = keyFromJwk(a);
      out.push({ key: k, id: jwkThumbprint(k.publicJwk), source: 'jwk' });
      continue;
    }
    throw new CharterError('INVALID_ARGUMENT', 'a trust anchor is a public JWK, a JWKS, a DID, or a PEM certificate or public key');
  }
  if (certs.length > 0 && header.x5c !== undefined) {
    const leaf = x5cLeaf(header.x5c, certs, opts.now);
    if (leaf) out.push({ key: leaf, id: jwkThumbprint(leaf.publicJwk), source: 'certificate', viaX5c: true });
  }
  return out;
}

/**
 * Surfaces the first fault trustedKeysFor met, for a token no other pinned key verified: a fault worth a
 * retry (HTTP 503: UNREACHABLE, a resolver timing out) is thrown as it is, so nothing is decided (the
 * guard answers 503); another resolution failure is a CharterError with its own code (a plain Error from
 * a caller's resolver: DID_RESOLUTION_FAILED). Never "untrusted": the anchor's key was not seen.
 */
export function anchorFault(faults: readonly unknown[], what: string): CharterError | undefined {
  if (faults.length === 0) return undefined;
  const retry = faults.find((f) => isCharterError(f) && HTTP_STATUS[f.code] === 503);
  if (retry) throw retry;
  const f = faults[0];
  if (isCharterError(f)) return new CharterError(f.code, `${what}: a pinned issuer could not be resolved: ${f.message}`, { cause: f });
  return new CharterError('DID_RESOLUTION_FAILED', `${what}: a pinned issuer could not be resolved: ${f instanceof Error ? f.message : String(f)}`, { cause: f });
}

/**
 * Reads a trust anchor file's text: a JWK or JWKS (JSON), a DID, or a PEM
 * certificate or public key.
 */
export function parseTrustAnchor(text: string): TrustAnchor {
  const t = text.trim();
  if (t.startsWith('did:')) return t;
  if (t.startsWith('-----BEGIN')) {
    parsePem(t);
    return t;
  }
  let v: unknown;
  try {
    v = JSON.parse(t);
  } catch {
    throw new CharterError('INVALID_ARGUMENT', 'a trust anchor is a JWK or JWKS (JSON), a DID, or a PEM certificate or public key');
  }
  // A member named twice ("x" twice) would pin one key here and another for a first-wins reader of the same file.
  const problem = jsonTextProblem(t);
  if (problem !== undefined) throw new CharterError('INVALID_ARGUMENT', `the trust anchor JSON ${problem}`);
  if (isObj(v) && Array.isArray(v.keys)) return v as { keys: unknown[] };
  if (isObj(v)) {
    keyFromJwk(v);
    return v as unknown as PublicJwk;
  }
  throw new CharterError('INVALID_ARGUMENT', 'a trust anchor JSON must be a JWK or a JWKS');
}
