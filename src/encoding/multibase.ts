import { CharterError } from '../errors.js';

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
const INDEX = new Map([...ALPHABET].map((c, i) => [c, i]));

export function base58btcEncode(bytes: Uint8Array): string {
  let zeros = 0;
  while (zeros < bytes.length && bytes[zeros] === 0) zeros++;
  let n = 0n;
  for (const b of bytes) n = (n << 8n) | BigInt(b);
  let out = '';
  while (n > 0n) {
    out = ALPHABET[Number(n % 58n)]! + out;
    n /= 58n;
  }
  return '1'.repeat(zeros) + out;
}

export function base58btcDecode(s: string): Uint8Array {
  let zeros = 0;
  while (zeros < s.length && s[zeros] === '1') zeros++;
  let n = 0n;
  for (const c of s) {
    const v = INDEX.get(c);
    if (v === undefined) throw new CharterError('INVALID_ARGUMENT', 'not base58btc');
    n = n * 58n + BigInt(v);
  }
  const body: number[] = [];
  while (n > 0n) {
    body.unshift(Number(n & 0xffn));
    n >>= 8n;
  }
  return new Uint8Array([...new Array<number>(zeros).fill(0), ...body]);
}

/** Multibase with the base58btc prefix `z` (the form did:key and Multikey use). */
export function multibaseEncode(bytes: Uint8Array): string {
  return 'z' + base58btcEncode(bytes);
}

export function multibaseDecode(s: string): Uint8Array {
  if (typeof s !== 'string' || s[0] !== 'z') {
    throw new CharterError('INVALID_ARGUMENT', 'only base58btc multibase (prefix "z") is supported here');
  }
  return base58btcDecode(s.slice(1));
}

/** Unsigned LEB128 varint, as multicodec prefixes use. */
export function encodeVarint(n: number): Uint8Array {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n) b |= 0x80;
    out.push(b);
  } while (n);
  return new Uint8Array(out);
}

export function encodeMulticodec(code: number, bytes: Uint8Array): Uint8Array {
  const prefix = encodeVarint(code);
  const out = new Uint8Array(prefix.length + bytes.length);
  out.set(prefix);
  out.set(bytes, prefix.length);
  return out;
}

/** A multicodec prefix and the bytes after it. The varint must be minimal (multiformats unsigned-varint: one value, one encoding). */
export function decodeMulticodec(bytes: Uint8Array): { code: number; bytes: Uint8Array } {
  let code = 0;
  let shift = 0;
  for (let i = 0; i < Math.min(bytes.length, 4); i++) {
    const b = bytes[i]!;
    code |= (b & 0x7f) << shift;
    if ((b & 0x80) === 0) {
      if (b === 0 && i > 0) break;
      return { code, bytes: bytes.subarray(i + 1) };
    }
    shift += 7;
  }
  throw new CharterError('INVALID_ARGUMENT', 'bad multicodec prefix');
}
