import { describe, expect, it } from 'vitest';
import { getBit, readStatus, setBit } from '../../src/status/index.js';
import { readTokenStatus, writeTokenStatus } from '../../src/status/token-codec.js';

/**
 * Bit positions past 2^31 (a 256 MiB list): the byte is found by division,
 * never by a 32-bit shift that turns negative and reads "valid" from
 * nowhere. A sparse stand-in for the list keeps the test small: only the
 * bytes touched exist.
 */
// Its length says how long the list is (a status past the end is refused, not read as 0).
const sparse = () => ({ length: 2 ** 40 }) as unknown as Uint8Array & Record<number, number>;

describe('status bits far into a list', () => {
  it.each([2 ** 31, 2 ** 31 + 7, 2 ** 32 + 3, 2 ** 33 - 1, 2 ** 40 + 5])('Bitstring: set, read and clear bit %d', (index) => {
    const bits = sparse();
    setBit(bits, index, true);
    expect(bits[Math.floor(index / 8)]).toBe(0x80 >> (index % 8));
    expect(getBit(bits, index)).toBe(true);
    expect(readStatus(bits, index, 1)).toBe(1);
    setBit(bits, index, false);
    expect(getBit(bits, index)).toBe(false);
  });

  it.each([
    [1, 2 ** 31],
    [2, 2 ** 30 + 1],
    [4, 2 ** 29 + 3],
    [8, 2 ** 28 + 9],
    [8, 2 ** 33],
  ] as const)('Token Status List: bits %d at index %d', (width, index) => {
    const bytes = sparse();
    const value = (1 << width) - 1;
    writeTokenStatus(bytes, width, index, value);
    expect(readTokenStatus(bytes, width, index)).toBe(value);
    expect(bytes[Math.floor((index * width) / 8)]).toBeGreaterThan(0);
    writeTokenStatus(bytes, width, index, 0);
    expect(readTokenStatus(bytes, width, index)).toBe(0);
  });
});
