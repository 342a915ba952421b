import { gunzipSync, gzipSync } from 'node:zlib';
import { CharterError } from '../errors.js';

/** Bitstring Status List v1.0 §4.1: a list has at least 131,072 entries (16 KiB) for herd privacy. */
export const MIN_LIST_SIZE = 131_072;
/** Default cap on a decoded list: 16 Mi entries (2 MiB); larger is treated as a decompression bomb. */
export const DEFAULT_MAX_BITS_BYTES = 2 * 1024 * 1024;

/** §4.2 "Generate Algorithm": GZIP, then base64url without padding, with the multibase prefix `u`. */
export function encodeBitstring(bits: Uint8Array): string {
  return 'u' + gzipSync(bits).toString('base64url');
}

/**
 * §4.3 "Expand Algorithm", with a hard cap on the inflated size: zlib stops
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

/** §4.1: the first index is the left-most (most significant) bit of the first byte. */
export function getBit(bits: Uint8Array, index: number): boolean {
  return ((bits[index >> 3]! >> (7 - (index & 7))) & 1) === 1;
}

export function setBit(bits: Uint8Array, index: number, value: boolean): void {
  const mask = 0x80 >> (index & 7);
  bits[index >> 3] = value ? bits[index >> 3]! | mask : bits[index >> 3]! & ~mask;
}
