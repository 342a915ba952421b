import { deflateSync, inflateSync } from 'node:zlib';
import { CharterError, shown } from '../errors.js';

/**
 * The Status List of the IETF Token Status List (draft-ietf-oauth-status-list
 * §4): a byte array of 1, 2, 4 or 8 bits per token, DEFLATE in the ZLIB
 * format (RFC 1950), base64url. Not @sd-jwt/jwt-status-list's codec: it
 * inflates without a size cap and keeps one JS number per entry (a 2^20-entry
 * list is an 8 MiB array); this one inflates into a capped Buffer and reads
 * the bits in place.
 */
export type StatusBits = 1 | 2 | 4 | 8;

/** Token Status List §7.1 status types. */
export const TOKEN_STATUS = { VALID: 0x00, INVALID: 0x01, SUSPENDED: 0x02 } as const;

/** Default cap on an inflated list: 2 MiB (16 Mi one-bit entries); more is treated as a decompression bomb. */
export const DEFAULT_MAX_TOKEN_LIST_BYTES = 2 * 1024 * 1024;

const B64U = /^[A-Za-z0-9_-]+$/;

export function isStatusBits(v: unknown): v is StatusBits {
  return v === 1 || v === 2 || v === 4 || v === 8;
}

/** §4.1 step 3: DEFLATE with ZLIB at the highest level, then base64url without padding. */
export function encodeTokenStatusList(bytes: Uint8Array): string {
  return deflateSync(bytes, { level: 9 }).toString('base64url');
}

/**
 * Inverse of encodeTokenStatusList with a hard cap on the inflated size: zlib
 * stops at `maxBytes`, so a bomb costs at most that much memory. Raw DEFLATE
 * and GZIP are refused (§4.1 names the ZLIB format), and so are bytes after
 * the ZLIB stream. Throws STATUS_INVALID.
 */
export function decodeTokenStatusList(lst: string, opts: { maxBytes?: number } = {}): Uint8Array {
  const max = opts.maxBytes ?? DEFAULT_MAX_TOKEN_LIST_BYTES;
  if (typeof lst !== 'string' || !B64U.test(lst)) throw new CharterError('STATUS_INVALID', 'status_list.lst must be base64url');
  const input = Buffer.from(lst, 'base64url');
  let out: Buffer;
  let consumed: number;
  try {
    const r = inflateSync(input, { maxOutputLength: max, info: true }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
    out = r.buffer;
    consumed = r.engine.bytesWritten;
  } catch (e) {
    const tooBig = (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || /maxOutputLength|Cannot create a Buffer larger/i.test(String((e as Error).message));
    throw new CharterError('STATUS_INVALID', tooBig ? `status list inflates beyond ${max} bytes` : 'status_list.lst is not DEFLATE in the ZLIB format', { cause: e });
  }
  // zlib stops at the end of the stream and ignores what follows. §4.1 makes lst the ZLIB stream and
  // nothing else, so bytes after it (data a lenient reader drops and another might not) are refused.
  if (consumed !== input.length) throw new CharterError('STATUS_INVALID', 'status_list.lst has bytes after the end of its ZLIB stream');
  if (out.length === 0) throw new CharterError('STATUS_INVALID', 'the status list is empty');
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

/** How many statuses a list of `bytes` holds at `bits` each. */
export function tokenStatusCount(bytes: Uint8Array, bits: StatusBits): number {
  return (bytes.length * 8) / bits;
}

/**
 * §4.1 step 2: bits are counted from the least significant bit of each byte,
 * so index 0 is bit 0 of byte 0 (the opposite of Bitstring Status List, whose
 * index 0 is the most significant bit).
 */
export function readTokenStatus(bytes: Uint8Array, bits: StatusBits, index: number): number {
  // Past the end, at a fraction or with a width §4.1 does not define, the arithmetic below reads
  // `undefined` as 0, which is VALID: a status that cannot be read is refused instead (fail closed).
  const length: unknown = typeof bytes === 'object' && bytes !== null ? bytes.length : undefined;
  if (typeof length !== 'number' || !Number.isSafeInteger(length) || !isStatusBits(bits) || !Number.isSafeInteger(index) || index < 0 || index >= (length * 8) / bits) {
    throw new CharterError('STATUS_INVALID', `no status at index ${shown(index, 20)} of a list of ${shown(length, 20)} byte(s) at ${shown(bits, 10)} bit(s) each`);
  }
  const bit = index * bits;
  return (bytes[Math.floor(bit / 8)]! >> (bit % 8)) & ((1 << bits) - 1);
}

export function writeTokenStatus(bytes: Uint8Array, bits: StatusBits, index: number, value: number): void {
  if (!Number.isInteger(value) || value < 0 || value >= 1 << bits) throw new CharterError('INVALID_ARGUMENT', `a status of ${bits} bit(s) is 0..${(1 << bits) - 1}`);
  const bit = index * bits;
  // Division, not ">> 3": a shift is 32-bit signed, so a bit position of 2^31 or more would go negative.
  const byte = Math.floor(bit / 8);
  const mask = ((1 << bits) - 1) << (bit % 8);
  bytes[byte] = (bytes[byte]! & ~mask) | (value << (bit % 8));
}

/** Reverses the bit order inside every byte: the table maps a byte to its mirror image. */
const MIRROR = new Uint8Array(256).map((_, b) => {
  let r = 0;
  for (let i = 0; i < 8; i++) if (b & (1 << i)) r |= 0x80 >> i;
  return r;
});

/**
 * A Bitstring Status List bitstring (index 0 = most significant bit) as a
 * one-bit Token Status List byte array (index 0 = least significant bit):
 * the same statuses, each byte mirrored.
 */
export function tokenListFromBitstring(bitstring: Uint8Array): Uint8Array {
  const out = new Uint8Array(bitstring.length);
  for (let i = 0; i < bitstring.length; i++) out[i] = MIRROR[bitstring[i]!]!;
  return out;
}
