import { describe, expect, it } from 'vitest';
import { didJwkFromJwk, didKeyFromJwk } from '../../src/did/index.js';
import { partyKey, pureKeyOf, pureMemoSize } from '../../src/did/parties.js';
import { generateKeyPair } from '../../src/keys/index.js';

/**
 * pureKeyOf memoises the key a did:key or did:jwk is. Whatever a request
 * names (subject ids of refused chains, pool member ids) must not stay in
 * memory: a malformed DID is not memoised, nor one longer than a real
 * did:key or did:jwk is, and the memo has a bound in characters, not only in
 * entries. The answers stay what a fresh read gives.
 */
const jwkDid = (jwk: object) => `did:jwk:${Buffer.from(JSON.stringify(jwk)).toString('base64url')}`;
/** A fresh string each time (as parsed from a request), not one V8 interns. */
const fresh = (s: string) => JSON.parse(JSON.stringify(s)) as string;

describe('pureKeyOf memo bounds', () => {
  it('memoises nothing for malformed did:key and did:jwk strings, short or long, however often asked', () => {
    const before = pureMemoSize();
    for (let i = 0; i < 200; i++) {
      for (const bad of [`did:key:z${i}x`, `did:key:z${i}x${'A'.repeat(60_000)}`, `did:jwk:${'A'.repeat(30 + i)}`, `did:jwk:e${i}${'A'.repeat(50_000)}`]) {
        expect(pureKeyOf(fresh(bad))).toBeUndefined();
        expect(pureKeyOf(fresh(bad))).toBeUndefined(); // asked again: still refused, still not kept
        expect(partyKey(bad)).toBe(bad);
      }
    }
    expect(pureMemoSize()).toEqual(before);
  });

  it('reads an outsized but valid did:jwk correctly every time without keeping it', () => {
    const kp = generateKeyPair('P-256');
    const short = didKeyFromJwk(kp.publicJwk);
    const want = pureKeyOf(short);
    expect(want).toBeDefined();
    const before = pureMemoSize();
    for (const n of [1100, 3000, 1500]) {
      const long = jwkDid({ ...kp.publicJwk, kid: 'k'.repeat(n) });
      if (long.length - 'did:jwk:'.length > 2000) {
        // past did:jwk's own length limit: not a DID at all
        expect(pureKeyOf(long)).toBeUndefined();
        continue;
      }
      expect(long.length).toBeGreaterThan(1024);
      expect(pureKeyOf(long)).toBe(want);
      expect(pureKeyOf(fresh(long))).toBe(want);
      expect(partyKey(long)).toBe(partyKey(short));
    }
    expect(pureMemoSize()).toEqual(before);
  });

  it('memoises a real did:key and did:jwk once, with the same answer as a fresh read', () => {
    const kp = generateKeyPair('Ed25519');
    const [k, j] = [didKeyFromJwk(kp.publicJwk), didJwkFromJwk(kp.publicJwk)];
    const before = pureMemoSize();
    const a = pureKeyOf(k);
    expect(pureKeyOf(j)).toBe(a);
    expect(pureMemoSize().entries).toBe(before.entries + 2);
    expect(pureKeyOf(fresh(k))).toBe(a);
    expect(pureKeyOf(fresh(j))).toBe(a);
    expect(pureMemoSize().entries).toBe(before.entries + 2);
  });

  it('stays within its character budget when flooded with distinct valid did:jwk spellings of one key', () => {
    const kp = generateKeyPair('Ed25519');
    const want = pureKeyOf(didKeyFromJwk(kp.publicJwk));
    // Each spelling just under the length limit: 10,000 of them are ~10 M characters.
    let maxChars = 0;
    for (let i = 0; i < 10_000; i++) {
      const did = jwkDid({ ...kp.publicJwk, kid: `${i}-${'k'.repeat(640)}` });
      expect(did.length).toBeLessThanOrEqual(1024);
      if (i % 1000 === 0) expect(pureKeyOf(did)).toBe(want);
      else pureKeyOf(did);
      maxChars = Math.max(maxChars, pureMemoSize().chars);
    }
    expect(maxChars).toBeLessThanOrEqual(8 * 1024 * 1024);
    expect(pureMemoSize().entries).toBeLessThanOrEqual(50_000);
    // the evicted spellings still read correctly
    expect(pureKeyOf(jwkDid({ ...kp.publicJwk, kid: `0-${'k'.repeat(640)}` }))).toBe(want);
  });
});
