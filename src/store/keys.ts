import { CharterError } from '../errors.js';
import { sha256Digest } from '../encoding/json.js';

/**
 * The text keys both stores index (a replay-cache scope and value, a mandate
 * id): checked alike before either store sees them, so SQLite and PostgreSQL
 * answer the same. PostgreSQL refuses a NUL in text and an index row over
 * 2,704 bytes, and turns a lone UTF-16 surrogate into U+FFFD (two keys would
 * become one); such a key is INVALID_ARGUMENT on both, not a store fault.
 */
export const MAX_KEY_BYTES = 1024;
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

export function isStoreKey(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= MAX_KEY_BYTES && !v.includes('\u0000') && !LONE_SURROGATE.test(v) && Buffer.byteLength(v) <= MAX_KEY_BYTES;
}

/** Longest replay-cache key kept as it is; longer ones (and any with a NUL or a lone surrogate) are kept by digest. */
const MAX_PLAIN_NONCE = 512;

/**
 * consumeNonce's arguments, for both stores, as the keys stored. A value is
 * often the holder's own (a jti, a signature nonce): one too long or not
 * storable as text is kept by its SHA-256, so it is still used up once,
 * never a store fault. Two values differing only in lone surrogates share a
 * digest: the second is a replay (fails closed).
 */
export function nonceKeys(scope: unknown, value: unknown, expiresAt: unknown): { scope: string; value: string; until: number } {
  if (typeof scope !== 'string' || scope.length === 0 || typeof value !== 'string' || !(expiresAt instanceof Date) || !Number.isFinite(expiresAt.getTime())) {
    throw new CharterError('INVALID_ARGUMENT', 'consumeNonce needs a scope and a value (text) and a valid expiry date');
  }
  const key = (s: string) => (s.length <= MAX_PLAIN_NONCE && isStoreKey(s) && Buffer.byteLength(s) <= MAX_PLAIN_NONCE ? s : sha256Digest(s));
  return { scope: key(scope), value: value === '' ? value : key(value), until: expiresAt.getTime() };
}
