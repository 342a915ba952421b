import { crc32, deflateRawSync, gunzipSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decodeBitstring, MIN_LIST_SIZE } from '../../src/status/index.js';

/**
 * The fixed GZIP header fields (RFC 1952 §2.3.1) of an encodedList, each on its
 * own: ID1 0x1f, ID2 0x8b, CM 8 (deflate), and FLG without reserved bits
 * (§2.3.1.2: "A compliant decompressor must give an error indication if any
 * reserved bit is non-zero"). gzip-members.test.ts flips a reserved bit of a
 * member that also carries a header CRC, which the flip breaks first; here
 * the member has none, so only the reserved-bit check can refuse it.
 */
const list = new Uint8Array(MIN_LIST_SIZE / 8);
list[3] = 0x10;
const enc = (b: Uint8Array) => 'u' + Buffer.from(b).toString('base64url');
const outcome = (b: Uint8Array): Uint8Array | string => {
  try {
    return decodeBitstring(enc(b));
  } catch (e) {
    return (e as { code?: string }).code ?? 'not a CharterError';
  }
};
/** A plain member (no optional fields) with header byte `i` set to `v`. */
function withByte(i: number, v: number): Buffer {
  const b = Buffer.from(gzipSync(list));
  b[i] = v;
  return b;
}
/** A member with FLG `flg` and no optional fields; CRC-32 and ISIZE right. */
function flagged(flg: number): Buffer {
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(list), 0);
  trailer.writeUInt32LE(list.length, 4);
  return Buffer.concat([Buffer.from([0x1f, 0x8b, 8, flg, 0, 0, 0, 0, 0, 255]), deflateRawSync(list), trailer]);
}

describe('the GZIP header of an encodedList', () => {
  it('a plain member reads as the list', () => {
    expect(outcome(flagged(0))).toEqual(list);
    expect(outcome(gzipSync(list))).toEqual(list);
  });

  it.each([0x20, 0x40, 0x80, 0xe0])('FLG reserved bit(s) 0x%s are refused', (bit) => {
    expect(outcome(flagged(bit))).toBe('STATUS_INVALID');
  });

  it('a wrong ID1, ID2 or compression method is refused, each alone', () => {
    for (const [i, v] of [
      [0, 0x1e],
      [0, 0x00],
      [1, 0x8a],
      [1, 0x00],
      [2, 7],
      [2, 0],
    ] as const) {
      const b = withByte(i, v);
      expect(() => gunzipSync(b), `byte ${i} = ${v}`).toThrow();
      expect(outcome(b), `byte ${i} = ${v}`).toBe('STATUS_INVALID');
    }
  });
});
