import { describe, expect, it } from 'vitest';
import { accessRoomFrom, accessShareOf } from '../../src/store/access-share.js';

describe('accessShareOf: per-grant room is shared per class of verifier that costs something to create', () => {
  it('every did:key and did:jwk verifier is one share', () => {
    expect(new Set(['did:key:z6MkA', 'did:key:z6MkB', 'did:jwk:eyJA', 'did:jwk:eyJB'].map(accessShareOf)).size).toBe(1);
  });
  it('a did:web verifier is its host: lower-cased, the port included, the path left out', () => {
    const one = ['did:web:example.com', 'did:web:Example.COM', 'did:web:example.com:users:alice', 'did:web:EXAMPLE.com:a:b'];
    expect(new Set(one.map(accessShareOf)).size).toBe(1);
    expect(accessShareOf('did:web:example.com%3A8443')).toBe(accessShareOf('did:web:example.com%3a8443:x'));
    expect(accessShareOf('did:web:example.com%3A8443')).not.toBe(accessShareOf('did:web:example.com'));
    expect(accessShareOf('did:web:example.org')).not.toBe(accessShareOf('did:web:example.com'));
    // A malformed percent-escape is kept as written, not an error.
    expect(accessShareOf('did:web:ex%zzample.com')).toBe(accessShareOf('did:web:EX%ZZample.com:p'));
  });
  it('neither class can pass for another, and any other method is one share per DID', () => {
    const shares = ['did:key:z6MkA', 'did:web:example.com', 'did:ion:EiA', 'did:ion:EiB', 'did:plc:abc', 'did:webvh:QmX:example.com'].map(accessShareOf);
    expect(new Set(shares).size).toBe(shares.length);
  });
});

describe('accessRoomFrom: a full grant gives room only from a share holding more than the newcomer would after', () => {
  const h = (verifier: string, n: number, first = 0) => ({ verifier, n, first });
  it("a fresh key joins the keys' share: it takes no room while that share holds as much as the others", () => {
    const holdings = [h('did:web:platform.example', 5), ...Array.from({ length: 5 }, (_, i) => h(`did:key:z${i}`, 1, 10))];
    expect(accessRoomFrom(holdings, 'did:key:znew')).toBeUndefined();
    expect(accessRoomFrom(holdings, 'did:jwk:eyJnew')).toBeUndefined();
    // A newcomer of its own takes from the share that began reporting last on a tie: the keys', all of them.
    expect(accessRoomFrom(holdings, 'did:ion:EiNew')?.sort()).toEqual(
      holdings
        .slice(1)
        .map((x) => x.verifier)
        .sort(),
    );
  });
  it("the platform takes from the keys' share when that share holds more than it would after", () => {
    const holdings = [h('did:web:platform.example', 3), ...Array.from({ length: 7 }, (_, i) => h(`did:key:z${i}`, 1, 10))];
    expect(accessRoomFrom(holdings, 'did:web:platform.example')).toHaveLength(7);
    expect(accessRoomFrom(holdings, 'did:web:PLATFORM.example:other')).toHaveLength(7);
  });
});
