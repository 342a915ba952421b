import { gunzipSync, gzipSync } from 'node:zlib';
import { CharterError } from '../errors.js';

/** Bitstring Status List v1.0 §3.2 step 2: a list has at least 131,072 entries, for herd privacy (§6.1). */
export const MIN_LIST_SIZE = 131_072;
/**
 * Largest `statusSize` read. §2.1 sets no bound, but an entry of n bits needs
 * 2^n statusMessage objects, which no credential under the JWT size cap can
 * carry beyond about 12 bits; 16 never refuses an entry that could exist.
 */
export const MAX_STATUS_SIZE = 16;
/** Default cap on a decoded list: 16 Mi entries (2 MiB); larger is treated as a decompression bomb. */
export const DEFAULT_MAX_BITS_BYTES = 2 * 1024 * 1024;

/** Bitstring Status List v1.0 §3.3 "Bitstring Generation Algorithm": GZIP, then base64url without padding, with the multibase prefix `u`. */
export function encodeBitstring(bits: Uint8Array): string {
  return 'u' + gzipSync(bits).toString('base64url');
}

/**
 * §3.4 "Bitstring Expansion Algorithm", with a hard cap on the inflated size: zlib stops
 * at `maxBytes`, so a gzip bomb costs at most that much memory.
 */
export function decodeBitstring(encoded: string, opts: { maxBytes?: number } = {}): Uint8Array {
  const max = opts.maxBytes ?? DEFAULT_MAX_BITS_BYTES;
  if (typeof encoded !== 'string' || encoded[0] !== 'u' || !/^u[A-Za-z0-9_-]+$/.test(encoded)) {
    throw new CharterError('STATUS_INVALID', 'encodedList must be multibase base64url (prefix "u")');
  }
  let out: Buffer;
  try {
    out = gunzipSync(Buffer.from(encoded.slice(1), 'base64url'), { maxOutputLength: max });
  } catch (e) {
    const tooBig = (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || /maxOutputLength|Cannot create a Buffer larger/i.test(String((e as Error).message));
    throw new CharterError('STATUS_INVALID', tooBig ? `status list inflates beyond ${max} bytes` : 'encodedList is not valid GZIP', { cause: e });
  }
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** §2.2 encodedList (and §7.1): the first index is the left-most (most significant) bit of the first byte. */
export function getBit(bits: Uint8Array, index: number): boolean {
  return ((bits[Math.floor(index / 8)]! >> (7 - (index % 8))) & 1) === 1;
}

/**
 * §3.2 step 10: the `statusSize` bits starting at bit `index * statusSize`,
 * read left-most first as an unsigned integer (never one bit per entry when
 * entries are wider). The caller checks the range.
 */
export function readStatus(bits: Uint8Array, index: number, statusSize: number): number {
  const start = index * statusSize;
  let value = 0;
  for (let i = 0; i < statusSize; i++) value = value * 2 + (getBit(bits, start + i) ? 1 : 0);
  return value;
}

export function setBit(bits: Uint8Array, index: number, value: boolean): void {
  // Division, not ">> 3": a shift is 32-bit signed, so an index of 2^31 or more would read byte -2^28.
  const byte = Math.floor(index / 8);
  const mask = 0x80 >> (index % 8);
  bits[byte] = value ? bits[byte]! | mask : bits[byte]! & ~mask;
}
