import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { StatusList } from '@sd-jwt/jwt-status-list';
import { decodeTokenStatusList, encodeTokenStatusList, readTokenStatus, type StatusBits } from '../../src/status/token-codec.js';

/*
 * Differential: Charter's Token Status List codec (draft-ietf-oauth-status-list
 * §4.1) against @sd-jwt/jwt-status-list's on the same `lst`. Charter may refuse
 * what the peer reads (a GZIP or raw DEFLATE stream, bytes after the ZLIB
 * stream, both of which the peer's pako reads), never read a status the peer
 * reads otherwise.
 */

const read = (lst: string): Uint8Array | 'refused' => {
  try {
    return decodeTokenStatusList(lst);
  } catch (e) {
    expect((e as { code?: string }).code).toBe('STATUS_INVALID');
    return 'refused';
  }
};
const peer = (lst: string, bits: StatusBits): StatusList | 'refused' => {
  try {
    return StatusList.decompressStatusList(lst, bits);
  } catch {
    return 'refused';
  }
};

describe('Token Status List lst: Charter reads no status the reference reads otherwise', () => {
  it('conformance: a list Charter encodes reads the same in both, status by status, at every width', () => {
    fc.assert(
      fc.property(fc.constantFrom<StatusBits>(1, 2, 4, 8), fc.uint8Array({ minLength: 1, maxLength: 64 }), (bits, bytes) => {
        const lst = encodeTokenStatusList(bytes);
        const mine = read(lst);
        const theirs = peer(lst, bits);
        expect(mine).not.toBe('refused');
        expect(theirs).not.toBe('refused');
        const n = (bytes.length * 8) / bits;
        for (let i = 0; i < n; i++) expect(readTokenStatus(mine as Uint8Array, bits, i)).toBe((theirs as StatusList).getStatus(i));
      }),
      { seed: 4101, numRuns: 150 },
    );
  });

  it('property: wrappers, tails, truncation and byte flips never make Charter read a list the reference reads otherwise', () => {
    const wrap = fc.constantFrom(
      { what: 'zlib', f: (b: Uint8Array) => deflateSync(b, { level: 9 }) },
      { what: 'zlib level 1', f: (b: Uint8Array) => deflateSync(b, { level: 1 }) },
      { what: 'gzip', f: (b: Uint8Array) => gzipSync(b) },
      { what: 'raw', f: (b: Uint8Array) => deflateRawSync(b) },
    );
    const mutate = fc.oneof(
      fc.constant((b: Buffer) => b),
      fc.uint8Array({ minLength: 1, maxLength: 4 }).map((t) => (b: Buffer) => Buffer.concat([b, t])),
      fc.nat().map((n) => (b: Buffer) => b.subarray(0, n % b.length)),
      fc.nat().map((n) => (b: Buffer) => Buffer.from(b).fill(b[n % b.length]! ^ (1 << (n % 8)), n % b.length, (n % b.length) + 1)),
    );
    fc.assert(
      fc.property(fc.constantFrom<StatusBits>(1, 2, 4, 8), fc.uint8Array({ minLength: 1, maxLength: 32 }), wrap, mutate, (bits, bytes, w, m) => {
        const wire = m(Buffer.from(w.f(bytes)));
        if (wire.length === 0) return;
        const lst = wire.toString('base64url');
        const mine = read(lst);
        if (mine === 'refused') return;
        const theirs = peer(lst, bits);
        expect(theirs).not.toBe('refused');
        const n = (mine.length * 8) / bits;
        for (let i = 0; i < n; i++) expect(readTokenStatus(mine, bits, i)).toBe((theirs as StatusList).getStatus(i));
      }),
      { seed: 4102, numRuns: 400 },
    );
  });
});
