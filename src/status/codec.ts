import { crc32, gzipSync, inflateRawSync } from 'node:zlib';
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
  const out = gunzipOneMember(Buffer.from(encoded.slice(1), 'base64url'), max);
  return new Uint8Array(out.buffer, out.byteOffset, out.byteLength);
}

const notGzip = (why: string, cause?: unknown) => new CharterError('STATUS_INVALID', `encodedList is not valid GZIP: ${why}`, cause === undefined ? {} : { cause });
const FHCRC = 0x02;
const FEXTRA = 0x04;
const FNAME = 0x08;
const FCOMMENT = 0x10;

/** The index just past the zero byte that ends a header string at `i` (FNAME, FCOMMENT). */
function pastZero(b: Buffer, i: number): number {
  const z = b.indexOf(0, i);
  if (z < 0) throw notGzip('a header string does not end');
  return z + 1;
}

/**
 * Exactly one GZIP member (RFC 1952 §2.3) and nothing after it. §3.4 names
 * "GZIP decompression" and RFC 1952 §2.2 lets a file hold several members,
 * which readers take differently: Node and pako 2 join them, pako 1 stops
 * after the first, so `gzip([]) || gzip(list)` is a full list to one verifier
 * and none at all to another; and zero bytes after a member are skipped by
 * some and refused by others. §3.3 writes one member, so one member with its
 * CRC-32 and ISIZE checked, nothing else, is what every reader reads alike.
 */
function gunzipOneMember(b: Buffer, max: number): Buffer {
  // §2.3.1: ID1 ID2 CM FLG MTIME(4) XFL OS, the optional fields, at least one DEFLATE byte, CRC32 and ISIZE.
  if (b.length < 18 || b[0] !== 0x1f || b[1] !== 0x8b || b[2] !== 8) throw notGzip('no GZIP header with the deflate method');
  const flg = b[3]!;
  // §2.3.1.2: "A compliant decompressor must give an error indication if any reserved bit is non-zero".
  if ((flg & 0xe0) !== 0) throw notGzip('reserved header flags are set');
  let i = 10;
  if (flg & FEXTRA) i += 2 + b.readUInt16LE(i); // i is 10 and b at least 18 bytes: XLEN is there
  if (flg & FNAME) i = pastZero(b, i);
  if (flg & FCOMMENT) i = pastZero(b, i);
  if (flg & FHCRC) {
    if (i + 2 > b.length || (crc32(b.subarray(0, i)) & 0xffff) !== b.readUInt16LE(i)) throw notGzip('the header CRC does not match');
    i += 2;
  }
  if (i >= b.length) throw notGzip('the member ends in its header');
  let out: Buffer;
  let consumed: number;
  try {
    const r = inflateRawSync(b.subarray(i), { maxOutputLength: max, info: true }) as unknown as { buffer: Buffer; engine: { bytesWritten: number } };
    out = r.buffer;
    consumed = r.engine.bytesWritten;
  } catch (e) {
    const tooBig = (e as { code?: string }).code === 'ERR_BUFFER_TOO_LARGE' || /maxOutputLength|Cannot create a Buffer larger/i.test(String((e as Error).message));
    if (tooBig) throw new CharterError('STATUS_INVALID', `status list inflates beyond ${max} bytes`, { cause: e });
    throw notGzip('the DEFLATE data is corrupt', e);
  }
  const end = i + consumed;
  if (end + 8 !== b.length) throw notGzip(end + 8 > b.length ? 'the member is cut short' : 'bytes follow the first member (another member or trailing data)');
  // §2.3.1: CRC32 of the uncompressed data, then ISIZE, its length modulo 2^32.
  if (crc32(out) !== b.readUInt32LE(end) || out.length % 2 ** 32 !== b.readUInt32LE(end + 4)) throw notGzip('the CRC-32 or length of the data does not match');
  return out;
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
