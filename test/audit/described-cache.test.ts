import { afterEach, describe, expect, it, vi } from 'vitest';
import { signJwt } from '../../src/credentials/index.js';
import { describeCredential, describedCacheSize, presentedCredentials } from '../../src/audit/presented.js';
import { didKeyFromJwk } from '../../src/did/index.js';
import { sha256Digest } from '../../src/encoding/json.js';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';

/**
 * describeCredential caches what it read from each presented credential,
 * before anything is verified: whatever a request carries must leave a
 * bounded trace (entries, characters, one JWT's length), and the object it
 * hands out (shared by every receipt naming that JWT) cannot be changed.
 */
const kp = generateKeyPair('Ed25519');
const did = didKeyFromJwk(kp.publicJwk);
const signer = createSigner(kp.privateJwk);
const credential = (id: string, pad = 0) =>
  signJwt(
    { typ: 'vc+jwt', cty: 'vc' },
    {
      '@context': ['https://www.w3.org/ns/credentials/v2'],
      type: ['VerifiableCredential', 'DataGrantCredential'],
      id,
      issuer: did,
      validFrom: '2025-01-01T00:00:00Z',
      credentialSubject: { id: did, note: 'n'.repeat(pad) },
    },
    signer,
    `${did}#${did.slice(8)}`,
  );

afterEach(() => {
  vi.useRealTimers();
});

describe('describeCredential cache bounds', () => {
  it('keeps nothing for JWTs longer than 16 KiB, junk or real, and still describes them', async () => {
    const before = describedCacheSize();
    for (let req = 0; req < 64; req++) {
      const payload = { vp: { verifiableCredential: Array.from({ length: 8 }, (_, i) => `${req}.${i}.${'A'.repeat(60_000)}`) } };
      for (const jwt of presentedCredentials(payload)) expect(describeCredential(jwt)).toEqual({ h: sha256Digest(jwt) });
    }
    const big = await credential('urn:uuid:big', 20_000);
    expect(big.length).toBeGreaterThan(16 * 1024);
    for (let i = 0; i < 3; i++) expect(describeCredential(big)).toEqual({ h: sha256Digest(big), id: 'urn:uuid:big', iss: did, type: ['DataGrantCredential'] });
    expect(describedCacheSize()).toEqual(before);
  });

  it('stays within its character budget and entry count under a flood of distinct junk just under the limit', () => {
    let maxChars = 0;
    for (let i = 0; i < 600; i++) {
      describeCredential(`${i}.${'B'.repeat(16 * 1024 - 10)}`);
      maxChars = Math.max(maxChars, describedCacheSize().chars);
    }
    expect(maxChars).toBeLessThanOrEqual(4 * 1024 * 1024);
    for (let i = 0; i < 5000; i++) describeCredential(`small.${i}`);
    expect(describedCacheSize().entries).toBeLessThanOrEqual(4096);
    expect(describedCacheSize().chars).toBeLessThanOrEqual(4 * 1024 * 1024);
  });

  it('hands out a frozen description: a caller changing it changes nothing for the next receipt', async () => {
    const jwt = await credential('urn:uuid:shared');
    const a = describeCredential(jwt);
    expect(Object.isFrozen(a)).toBe(true);
    expect(Object.isFrozen(a.type)).toBe(true);
    expect(() => {
      (a as { id?: string }).id = 'urn:uuid:other';
    }).toThrow(TypeError);
    expect(() => a.type!.push('Forged')).toThrow(TypeError);
    const b = describeCredential(jwt);
    expect(b).toEqual({ h: sha256Digest(jwt), id: 'urn:uuid:shared', iss: did, type: ['DataGrantCredential'] });
    const junk = describeCredential('not.a.jwt');
    expect(Object.isFrozen(junk)).toBe(true);
  });

  it('drops an entry past its lifetime and reads the JWT again', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2030-01-01T00:00:00Z'));
    const jwt = await credential('urn:uuid:ttl');
    const a = describeCredential(jwt);
    expect(describeCredential(jwt)).toBe(a);
    vi.setSystemTime(new Date('2030-01-01T00:05:01Z'));
    const b = describeCredential(jwt);
    expect(b).not.toBe(a);
    expect(b).toEqual(a);
  });
});
