import { shown } from '../errors.js';
import { createHash } from 'node:crypto';
import type { SdHashAlg } from './types.js';

/** IANA hash names (RFC 9901 §4.1.1, `_sd_alg`) to node:crypto's. */
const NODE_HASH: Record<SdHashAlg, string> = { 'sha-256': 'sha256', 'sha-384': 'sha384', 'sha-512': 'sha512' };

export function isSdHashAlg(v: unknown): v is SdHashAlg {
  return typeof v === 'string' && Object.prototype.hasOwnProperty.call(NODE_HASH, v);
}

/** RFC 9901 §4.2.3: base64url of the digest over the (ASCII) bytes of `data` (a disclosure, or the presentation for sd_hash). */
export function sdDigest(alg: SdHashAlg, data: string): string {
  return createHash(NODE_HASH[alg]).update(data, 'utf8').digest('base64url');
}

/** The hasher @sd-jwt/core asks for: raw digest bytes of a string or buffer. */
export function sdJwtHasher(data: string | ArrayBuffer, alg: string): Uint8Array {
  if (!isSdHashAlg(alg)) throw new TypeError(`unsupported _sd_alg ${shown(alg, 20)}`);
  const h = createHash(NODE_HASH[alg]);
  h.update(typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data));
  return new Uint8Array(h.digest());
}
