import { describe, expect, it } from 'vitest';
import { issueCredential } from '../../src/credentials/index.js';
import { parseCacheSize, verifyCredential } from '../../src/credentials/verify.js';
import { createResolver } from '../../src/did/index.js';
import { makeIssuer } from '../helpers.js';

/**
 * The parse cache keeps credentials seen before (a platform sees the same
 * grant on every request), never what anyone can send at will: a forgery
 * takes no place, an outsized credential is parsed each time, and all it
 * holds is bounded in bytes as well as in entries.
 */
const resolver = createResolver();
const issuer = makeIssuer();
const credential = (pad: number) => issueCredential({ issuer, subject: makeIssuer().did, type: 'ExampleCredential', claims: { x: 'y'.repeat(pad) } }).then((c) => c.jwt);
const forge = (jwt: string) => jwt.replace(/\.[^.]+$/, '.' + 'A'.repeat(86));

describe('the credential parse cache', () => {
  it('a forgery (a signature that does not verify) is never kept, however many are sent', async () => {
    const before = parseCacheSize();
    for (let i = 0; i < 40; i++) {
      const v = await verifyCredential(forge(await credential(2000 + i)), { resolver });
      expect(v.reasons.map((r) => r.code)).toContain('INVALID_SIGNATURE');
    }
    expect(parseCacheSize()).toEqual(before);
  });

  it('an authentic credential is kept once; one larger than 16 KiB is parsed each time instead', async () => {
    const before = parseCacheSize();
    const small = await credential(100);
    for (let i = 0; i < 3; i++) expect((await verifyCredential(small, { resolver })).ok).toBe(true);
    expect(parseCacheSize().entries).toBe(before.entries + 1);
    const big = await credential(20_000);
    expect((await verifyCredential(big, { resolver })).ok).toBe(true);
    expect(parseCacheSize().entries).toBe(before.entries + 1);
  });

  it('bounded in bytes: authentic 15 KiB credentials beyond 4 MiB push the oldest out', async () => {
    for (let i = 0; i < 300; i++) expect((await verifyCredential(await credential(11_000), { resolver })).ok).toBe(true);
    const { bytes, entries } = parseCacheSize();
    expect(bytes).toBeLessThanOrEqual(4 * 1024 * 1024);
    expect(entries).toBeLessThan(300);
  });
});
