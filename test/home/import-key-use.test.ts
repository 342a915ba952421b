import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openHome } from '../../src/home/home.js';
import { generateKeyPair } from '../../src/keys/index.js';
import { tempDir } from '../helpers.js';

/**
 * RFC 7517 §4.2 (`use`), §4.3 (`key_ops`): an imported identity signs as its DID (did:key, did:jwk,
 * did:web list the key for assertionMethod and authentication). A private JWK its owner marked for
 * encryption, or whose key_ops leave out "sign", must not become one: validatePrivateJwk drops both
 * members, so before this the mark was lost and the key signed. A key marked for signing (use "sig",
 * key_ops holding "sign", as WebCrypto exports a signing key) still imports.
 */
const NOT_FOR_SIGNING: Record<string, unknown>[] = [
  { use: 'enc' },
  { use: 'ENC' },
  { use: null },
  { key_ops: ['deriveKey', 'deriveBits'] },
  { key_ops: ['decrypt'] },
  { key_ops: ['verify'] },
  { key_ops: 'sign' },
  { key_ops: [] },
  { use: 'enc', key_ops: ['sign'] },
  { use: 'sig', key_ops: ['decrypt'] },
];
const FOR_SIGNING: Record<string, unknown>[] = [
  {},
  { use: 'sig' },
  { key_ops: ['sign'] },
  { key_ops: ['sign', 'verify'] },
  { use: 'sig', key_ops: ['sign'], kid: 'k1', ext: true },
];

describe('importIdentity: the key must be for signing', async () => {
  const home = await openHome({ home: join(tempDir('charter-import-use-'), 'home'), passphrase: async () => 'correct horse battery staple' });
  await home.init();
  afterAll(() => home.close());

  it('refuses a private JWK marked for encryption (INVALID_KEY) and records no identity', async () => {
    for (const [i, mark] of NOT_FOR_SIGNING.entries()) {
      for (const method of ['key', 'jwk'] as const) {
        const kp = generateKeyPair('P-256');
        await expect(home.importIdentity({ alias: `bad-${i}-${method}`, method, privateJwk: { ...kp.privateJwk, ...mark } }), JSON.stringify(mark)).rejects.toMatchObject({
          code: 'INVALID_KEY',
        });
      }
    }
    expect((await home.store.listIdentities()).filter((r) => r.alias.startsWith('bad-'))).toEqual([]);
  });

  it('imports a key marked for signing, or not marked, and signs with it', async () => {
    for (const [i, mark] of FOR_SIGNING.entries()) {
      const kp = generateKeyPair('Ed25519');
      const rec = await home.importIdentity({ alias: `ok-${i}`, method: 'jwk', privateJwk: { ...kp.privateJwk, ...mark } });
      expect(rec.publicJwk, JSON.stringify(mark)).toEqual(kp.publicJwk);
      const { signer } = await home.issuer(rec.alias);
      expect((await signer.sign(new Uint8Array([1]))).length).toBe(64);
    }
  });
});
