import { describe, expect, it } from 'vitest';
import { parseKeyType } from '../../src/cli/id.js';

describe('--key-type', () => {
  it('names the three key types in any case', () => {
    expect(['ed25519', 'P256', 'secp256k1'].map(parseKeyType)).toEqual(['Ed25519', 'P-256', 'secp256k1']);
  });

  it("refuses anything else with INVALID_ARGUMENT, Object's own member names too", () => {
    for (const t of ['rsa', '', 'constructor', 'toString', '__proto__', 'hasOwnProperty']) {
      expect(() => parseKeyType(t)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    }
  });
});
