import { createRequire } from 'node:module';
import { crc32, deflateRawSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { decodeBitstring, MIN_LIST_SIZE } from '../../src/status/index.js';

/*
 * Differential: Charter's Bitstring Status List expansion (§3.4, "the GZIP
 * decompression algorithm [RFC1952]") against two GZIP readers JavaScript
 * verifiers use: pako 2 (the reference Bitstring Status List code's) and pako
 * 1. They disagree on a file of several members (RFC 1952 §2.2 allows them):
 * pako 2, like Node, joins the members, pako 1 stops after the first. One
 * signed encodedList must name one list for every verifier, so Charter reads
 * only what all of them read alike: exactly one member, nothing after it.
 */

const here = createRequire(import.meta.url);
type Ungzip = (b: Uint8Array) => Uint8Array;
/** pako 2, as @sd-jwt/jwt-status-list (a dev dependency) installs it, and pako 1, as hdr-histogram-js (autocannon's) does. */
const pako2 = (createRequire(here.resolve('@sd-jwt/jwt-status-list'))('pako') as { ungzip: Ungzip }).ungzip;
const pako1 = (createRequire(here.resolve('hdr-histogram-js'))('pako') as { ungzip: Ungzip }).ungzip;

const LIST = MIN_LIST_SIZE / 8;
const enc = (b: Uint8Array) => 'u' + Buffer.from(b).toString('base64url');

/** One GZIP member (RFC 1952 §2.3) built by hand, with the optional header fields a writer may set. */
function member(data: Uint8Array, o: { name?: string; comment?: string; extra?: Uint8Array; hcrc?: boolean } = {}): Buffer {
  const flg = (o.hcrc ? 2 : 0) | (o.extra ? 4 : 0) | (o.name !== undefined ? 8 : 0) | (o.comment !== undefined ? 16 : 0);
  const parts: Buffer[] = [Buffer.from([0x1f, 0x8b, 8, flg, 0, 0, 0, 0, 0, 255])];
  if (o.extra) parts.push(Buffer.from([o.extra.length & 0xff, o.extra.length >> 8]), Buffer.from(o.extra));
  if (o.name !== undefined) parts.push(Buffer.from(o.name + '\0', 'latin1'));
  if (o.comment !== undefined) parts.push(Buffer.from(o.comment + '\0', 'latin1'));
  if (o.hcrc) {
    const h = Buffer.concat(parts);
    parts.push(Buffer.from([crc32(h) & 0xff, (crc32(h) >> 8) & 0xff]));
  }
  const trailer = Buffer.alloc(8);
  trailer.writeUInt32LE(crc32(data), 0);
  trailer.writeUInt32LE(data.length, 4);
  return Buffer.concat([...parts, deflateRawSync(data), trailer]);
}

const charter = (b: Uint8Array): Uint8Array | 'refused' => {
  try {
    return decodeBitstring(enc(b));
  } catch (e) {
    expect((e as { code?: string }).code).toBe('STATUS_INVALID');
    return 'refused';
  }
};
const read = (ungzip: Ungzip, b: Uint8Array): Uint8Array | 'refused' => {
  try {
    return ungzip(b);
  } catch {
    return 'refused';
  }
};

describe('Bitstring Status List GZIP: one member, read alike by every reader', () => {
  const list = new Uint8Array(LIST);
  list[0] = 0x80;

  it('a second member after the first is refused: Node would read the two lists joined, pako the first alone', () => {
    // The minimal case: an empty member, then the real list. pako 1 reads no list at all, pako 2 (and Node) 16384 bytes.
    const emptyThenList = Buffer.concat([gzipSync(new Uint8Array(0)), gzipSync(list)]);
    expect(read(pako1, emptyThenList)).toHaveLength(0);
    expect(read(pako2, emptyThenList)).toHaveLength(LIST);
    expect(charter(emptyThenList)).toBe('refused');
    // One byte, then the other 16383: too short a list to one reader, a full-sized one to the other.
    const split = Buffer.concat([gzipSync(list.subarray(0, 1)), gzipSync(list.subarray(1))]);
    expect(read(pako1, split)).toHaveLength(1);
    expect(read(pako2, split)).toEqual(list);
    expect(charter(split)).toBe('refused');
    // A full list and then more entries: indexes past the first list would read from bytes pako never sees.
    expect(charter(Buffer.concat([gzipSync(list), gzipSync(new Uint8Array([0xff]))]))).toBe('refused');
  });

  it('bytes after the member (zeros Node and pako skip silently, or anything else) are refused', () => {
    expect(read(pako2, Buffer.concat([gzipSync(list), Buffer.alloc(4)]))).toEqual(list);
    expect(read(pako1, Buffer.concat([gzipSync(list), Buffer.from('xyz')]))).toEqual(list);
    for (const tail of [[0], [0, 0, 0, 0], [0x1f], [0x1f, 0x8b], [0x78, 0x9c], [0x41]]) {
      expect(charter(Buffer.concat([gzipSync(list), Buffer.from(tail)]))).toBe('refused');
    }
  });

  it('a member cut short, a wrong CRC-32 or ISIZE, a reserved flag, a bad header CRC are refused', () => {
    const good = member(list, { hcrc: true, name: 'x' });
    expect(charter(good)).toEqual(list);
    const flip = (i: number, bit = 1) => Buffer.from(good).fill(good[i]! ^ bit, i, i + 1);
    expect(charter(good.subarray(0, good.length - 1))).toBe('refused');
    expect(charter(flip(good.length - 8))).toBe('refused'); // CRC-32
    expect(charter(flip(good.length - 4))).toBe('refused'); // ISIZE
    expect(charter(flip(3, 0x20))).toBe('refused'); // reserved FLG bit (RFC 1952 §2.3.1.2)
    expect(charter(flip(12))).toBe('refused'); // the header CRC-16 (after "x\0" at 10-11)
    expect(charter(gzipSync(list).subarray(0, 17))).toBe('refused');
  });

  it('conformance: a member with FEXTRA, FNAME, FCOMMENT and FHCRC (all RFC 1952 allows) reads as pako reads it', () => {
    const b = member(list, { extra: new Uint8Array([1, 2, 0, 0]), name: 'status.bin', comment: 'a comment', hcrc: true });
    expect(read(pako1, b)).toEqual(list);
    expect(read(pako2, b)).toEqual(list);
    expect(charter(b)).toEqual(list);
  });

  it('property: whatever the members, header fields and trailing bytes, Charter never reads a list that either pako reads otherwise or refuses', () => {
    const data = fc.uint8Array({ minLength: 0, maxLength: 64 });
    const opts = fc.record(
      {
        name: fc.string({ maxLength: 4 }).map((s) => s.replace(/\0/g, '')),
        comment: fc.string({ maxLength: 4 }).map((s) => s.replace(/\0/g, '')),
        extra: fc.uint8Array({ maxLength: 4 }),
        hcrc: fc.boolean(),
      },
      { requiredKeys: [] },
    );
    const oneMember = fc.tuple(data, opts).map(([d, o]) => member(d, o));
    const mutation = fc.oneof(
      fc.constant((b: Buffer) => b),
      fc.nat().map((n) => (b: Buffer) => Buffer.from(b).fill(b[n % b.length]! ^ (1 << (n % 8)), n % b.length, (n % b.length) + 1)),
      fc.nat().map((n) => (b: Buffer) => b.subarray(0, n % b.length)),
      fc.uint8Array({ minLength: 1, maxLength: 4 }).map((t) => (b: Buffer) => Buffer.concat([b, t])),
    );
    fc.assert(
      fc.property(fc.array(oneMember, { minLength: 1, maxLength: 3 }), mutation, (members, mutate) => {
        const bytes = mutate(Buffer.concat(members));
        const mine = charter(bytes);
        if (mine === 'refused') return;
        expect(read(pako1, bytes)).toEqual(mine);
        expect(read(pako2, bytes)).toEqual(mine);
      }),
      { seed: 9421, numRuns: 400 },
    );
  });
});
