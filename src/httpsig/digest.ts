import { createHash, timingSafeEqual } from 'node:crypto';
import { serializeDictionary } from 'structured-headers';
import { FieldError, parseUniqueDictionary } from './fields.js';

/** RFC 9530 §5 (IANA "Hash Algorithms for HTTP Digest Fields"): the active algorithms. */
const ACTIVE: Record<string, string> = { 'sha-256': 'sha256', 'sha-512': 'sha512' };

/** `Content-Digest: sha-256=:…:` (RFC 9530 §2) for a body. */
export function contentDigest(body: Uint8Array | string, algorithm: 'sha-256' | 'sha-512' = 'sha-256'): string {
  const digest = createHash(ACTIVE[algorithm]!).update(body).digest();
  return serializeDictionary(new Map([[algorithm, [digest, new Map()]]]));
}

/**
 * Checks a Content-Digest field against the body (RFC 9530 §2): every active
 * algorithm it names must match, and at least one must be there; deprecated
 * or unknown algorithms are ignored (§5). Returns a reason, or null when it
 * matches.
 */
export function contentDigestMismatch(field: string | undefined, body: Uint8Array): string | null {
  if (field === undefined) return 'the response has no Content-Digest';
  let dict;
  try {
    dict = parseUniqueDictionary(field, 'Content-Digest');
  } catch (e) {
    return e instanceof FieldError ? e.message : 'Content-Digest is malformed';
  }
  let checked = 0;
  for (const [name, member] of dict) {
    // Own keys only: a field naming `constructor` (a valid sf-key) must not find Object's.
    const hash = Object.hasOwn(ACTIVE, name) ? ACTIVE[name] : undefined;
    if (!hash) continue;
    const value = member[0];
    if (!(value instanceof ArrayBuffer)) return `Content-Digest ${name} is not a Byte Sequence`;
    const expected = createHash(hash).update(body).digest();
    const got = Buffer.from(value);
    if (got.length !== expected.length || !timingSafeEqual(got, expected)) return `Content-Digest ${name} does not match the body`;
    checked++;
  }
  return checked > 0 ? null : 'Content-Digest names no supported algorithm (sha-256, sha-512)';
}
