import { describe, expect, it } from 'vitest';
import { issueCredential, verifyCredential } from '../../src/credentials/index.js';
import { createResolver } from '../../src/did/index.js';
import { makeIssuer } from '../helpers.js';

/** A credential JWT is at most 64 KiB unless the caller raises the bound (a status list checker does). */
describe('verifyCredential maxBytes', () => {
  const resolver = createResolver();
  const issuer = makeIssuer();

  it('refuses a credential over 64 KiB by default (INPUT_TOO_LARGE) and takes it when the caller allows more', async () => {
    const big = await issueCredential({ issuer, subject: 'did:example:subject', type: 'BigCredential', claims: { data: 'x'.repeat(100_000) } });
    expect(big.jwt.length).toBeGreaterThan(65_536);
    const byDefault = await verifyCredential(big.jwt, { resolver });
    expect(byDefault.reasons.map((r) => r.code)).toEqual(['INPUT_TOO_LARGE']);
    expect((await verifyCredential(big.jwt, { resolver, maxBytes: 200_000 })).reasons).toEqual([]);
    expect((await verifyCredential(big.jwt, { resolver, maxBytes: 200_000, once: true })).reasons).toEqual([]);
    // A smaller bound than the default applies too.
    const small = await issueCredential({ issuer, subject: 'did:example:subject', type: 'SmallCredential', claims: { data: 'x'.repeat(2_000) } });
    expect((await verifyCredential(small.jwt, { resolver, maxBytes: 1_000 })).reasons.map((r) => r.code)).toEqual(['INPUT_TOO_LARGE']);
    expect((await verifyCredential(small.jwt, { resolver })).reasons).toEqual([]);
  });

  it('the bound holds whatever an earlier call with a larger one cached: verified, parsed once, refused here', async () => {
    const c = await issueCredential({ issuer, subject: 'did:example:subject', type: 'CachedCredential', claims: { data: 'x'.repeat(3_000) } });
    // Verified under the default bound first (its parse is now cached), then asked with a smaller one, in both cache keys.
    for (const acceptV1 of [true, false]) {
      expect((await verifyCredential(c.jwt, { resolver, acceptV1 })).reasons).toEqual([]);
      expect((await verifyCredential(c.jwt, { resolver, acceptV1, maxBytes: 1_000 })).reasons.map((r) => r.code)).toEqual(['INPUT_TOO_LARGE']);
      expect((await verifyCredential(c.jwt, { resolver, acceptV1, maxBytes: c.jwt.length - 1 })).reasons.map((r) => r.code)).toEqual(['INPUT_TOO_LARGE']);
      // Exactly its length is within the bound.
      expect((await verifyCredential(c.jwt, { resolver, acceptV1, maxBytes: c.jwt.length })).reasons).toEqual([]);
    }
  });

  it.each([0, -1, 1.5, Number.NaN, Infinity, '100000'])('maxBytes %p is a TypeError', async (maxBytes) => {
    await expect(verifyCredential('a.b.c', { resolver, maxBytes: maxBytes as number })).rejects.toThrow(TypeError);
  });
});
