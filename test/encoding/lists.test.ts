import { describe, expect, it } from 'vitest';
import { identifierSet } from '../../src/encoding/lists.js';

/**
 * Every trust list in Charter's options (principals, identity issuers, trusted
 * reporters, attesters, list signers, audit issuers) goes through
 * identifierSet: a string where the list belongs would be matched by
 * substring ("did:web:acme.com.au" letting did:web:acme.com in).
 */
describe('identifierSet', () => {
  it('takes an array of non-empty strings, as a Set matched by whole identifier', () => {
    const s = identifierSet('x', ['did:web:acme.com.au', 'did:key:z6Mk'])!;
    expect(s.has('did:web:acme.com.au')).toBe(true);
    expect(s.has('did:web:acme.com')).toBe(false);
    expect(identifierSet('x', [])!.size).toBe(0);
    expect(identifierSet('x', undefined)).toBeUndefined();
  });

  it.each([
    ['a string', 'did:web:acme.com.au'],
    ['a number item', ['did:web:a', 1]],
    ['an empty item', ['']],
    ['a null item', [null]],
    ['a Set', new Set(['did:web:a'])],
    ['an array-like object', { length: 1, 0: 'did:web:a' }],
    ['an object with includes', { includes: () => true }],
    ['null', null],
    ['a nested array', [['did:web:a']]],
  ])('refuses %s (TypeError naming the option)', (_, v) => {
    expect(() => identifierSet('trust.principals', v)).toThrow(/trust\.principals must be a list of DIDs/);
    expect(() => identifierSet('trust.principals', v)).toThrow(TypeError);
  });
});
