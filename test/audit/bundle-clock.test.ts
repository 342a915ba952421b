import { describe, expect, it } from 'vitest';
import { bundleResolver } from '../../src/audit/index.js';
import { documentResolver } from '../../src/did/document-resolver.js';
import { listsKey } from '../../src/did/methods.js';
import { generateKeyPair } from '../../src/keys/index.js';
import type { DIDDocument } from '../../src/did/types.js';

/**
 * A verification method's `expires` is judged at the time of the decision
 * being checked: an evidence bundle re-checked years later still finds the
 * key that signed then, though it has expired since (the offline promise of
 * accountability); a live lookup judges it now.
 */
const DID = 'did:web:issuer.example';
const key = generateKeyPair('Ed25519').publicJwk;
const doc = (expires: string): DIDDocument =>
  ({
    id: DID,
    verificationMethod: [{ id: `${DID}#k`, type: 'JsonWebKey2020', controller: DID, publicKeyJwk: key, expires }],
    assertionMethod: [`${DID}#k`],
  }) as unknown as DIDDocument;
const DECIDED = new Date('2026-06-01T00:00:00Z');
const EXPIRES = '2026-12-01T00:00:00Z'; // after the decision, before today (2026-12-03 and later)

describe('expires is judged at the decision time in a bundle, at the wall clock live', () => {
  it('bundleResolver(dids, at): the key that signed then is found', async () => {
    const r = bundleResolver({ [DID]: doc(EXPIRES) }, DECIDED);
    expect((await r.resolveKey(DID, '#k', 'assertionMethod')).publicJwk.x).toBe(key.x);
    expect(await listsKey(r, DID, ['assertionMethod'], (j) => j.x === key.x)).toBe(true);
  });
  it('at a time after expires, or without a time (the wall clock), it is refused', async () => {
    for (const r of [bundleResolver({ [DID]: doc(EXPIRES) }, new Date('2026-12-01T00:00:00Z')), bundleResolver({ [DID]: doc(EXPIRES) })]) {
      await expect(r.resolveKey(DID, '#k', 'assertionMethod')).rejects.toMatchObject({ code: 'VERIFICATION_METHOD_NOT_AUTHORIZED' });
      expect(await listsKey(r, DID, ['assertionMethod'], (j) => j.x === key.x)).toBe(false);
    }
  });
  it('documentResolver takes the clock as an option (a function), checked when built', () => {
    expect(() => documentResolver(async () => doc(EXPIRES), { now: 5 as never })).toThrow(TypeError);
    expect(documentResolver(async () => doc(EXPIRES), { now: () => DECIDED.getTime() }).now?.()).toBe(DECIDED.getTime());
  });
});
