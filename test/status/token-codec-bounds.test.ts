import { describe, expect, it } from 'vitest';
import { deflateSync } from 'node:zlib';
import { decodeTokenStatusList, readTokenStatus, writeTokenStatus } from '../../src/status/token-codec.js';

/**
 * Token Status List §4.1: a list of `bytes.length * 8 / bits` statuses. A
 * status that is not in the list (past its end, at a fraction, at a width §4.1
 * does not define) cannot be read: the arithmetic would read a missing byte as
 * 0, VALID, so it is refused (fail closed). Writing a value wider than `bits`
 * would spill into the neighbouring status, so it is refused too.
 */
const invalid = expect.objectContaining({ code: 'STATUS_INVALID' });

describe('readTokenStatus reads only statuses the list holds', () => {
  it.each([1, 2, 4, 8] as const)('bits %d: the last status is read, the one after it is refused', (bits) => {
    const bytes = new Uint8Array(4).fill(0xff);
    const count = (bytes.length * 8) / bits;
    expect(readTokenStatus(bytes, bits, count - 1)).toBe((1 << bits) - 1);
    // Exactly one past the end: the byte there does not exist and would read as 0 (VALID).
    expect(() => readTokenStatus(bytes, bits, count)).toThrow(invalid);
    expect(() => readTokenStatus(bytes, bits, count + 1)).toThrow(invalid);
  });

  it('an index that is negative, fractional, not a number or unsafe is refused, never read as 0', () => {
    const bytes = new Uint8Array(2).fill(0xff);
    for (const index of [-1, -0.5, 0.5, 1.5, Number.NaN, Infinity, 2 ** 53, '0' as unknown as number, null as unknown as number]) {
      expect(() => readTokenStatus(bytes, 1, index)).toThrow(invalid);
    }
  });

  it('a width §4.1 does not define (3, 0, 16, "1") is refused', () => {
    const bytes = new Uint8Array(2).fill(0xff);
    for (const bits of [3, 0, 16, 5, '1', undefined] as unknown as (1 | 2 | 4 | 8)[]) expect(() => readTokenStatus(bytes, bits, 0)).toThrow(invalid);
  });

  it('a list that is no byte array (no length, a fractional or huge length) is refused', () => {
    for (const bytes of [undefined, null, 'ab', {}, { length: 1.5 }, { length: 2 ** 60 }] as unknown as Uint8Array[]) {
      expect(() => readTokenStatus(bytes, 1, 0)).toThrow(invalid);
    }
  });
});

describe('writeTokenStatus writes only a value of the list width', () => {
  it.each([1, 2, 4, 8] as const)('bits %d: 2^bits is refused and the neighbours keep their status', (bits) => {
    const bytes = new Uint8Array(2);
    const max = (1 << bits) - 1;
    writeTokenStatus(bytes, bits, 0, max);
    expect(readTokenStatus(bytes, bits, 0)).toBe(max);
    for (const value of [max + 1, -1, 0.5, Number.NaN, '1' as unknown as number]) {
      expect(() => writeTokenStatus(bytes, bits, 0, value)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
    expect(readTokenStatus(bytes, bits, 0)).toBe(max);
    expect(readTokenStatus(bytes, bits, 1)).toBe(0);
  });
});

describe('decodeTokenStatusList', () => {
  it('an empty list (ZLIB of nothing) is refused: it holds no status to read', () => {
    expect(() => decodeTokenStatusList(deflateSync(new Uint8Array(0)).toString('base64url'))).toThrow(invalid);
    expect(decodeTokenStatusList(deflateSync(new Uint8Array(1)).toString('base64url'))).toEqual(new Uint8Array(1));
  });
});
