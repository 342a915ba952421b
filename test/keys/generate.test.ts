import { createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createSigner, generateKeyPair, importVerificationKey, verifySignature } from '../../src/keys/index.js';
import type { KeyType } from '../../src/keys/types.js';

/**
 * generateKeyPair draws the secret from the CSPRNG and computes the public
 * key with @noble/curves (Node's generateKeyPairSync can deadlock on Node 20:
 * see src/keys/generate.ts). Each pair must be one Node itself agrees with:
 * the public key Node derives from the private one, and a signature that
 * verifies under it and under no other key.
 */
describe('generateKeyPair', () => {
  it.each(['Ed25519', 'P-256', 'secp256k1'] as KeyType[])('%s: Node derives the same public key, signatures verify, and no two pairs repeat', async (type) => {
    const seen = new Set<string>();
    for (let i = 0; i < 20; i++) {
      const { privateJwk, publicJwk } = generateKeyPair(type);
      expect(Buffer.from(privateJwk.d, 'base64url')).toHaveLength(32);
      expect(seen.has(privateJwk.d)).toBe(false);
      seen.add(privateJwk.d);
      if (type !== 'secp256k1') {
        // Node's own derivation of the public key from the private JWK.
        const derived = createPublicKey(createPrivateKey({ key: { ...privateJwk }, format: 'jwk' })).export({ format: 'jwk' }) as Record<string, string>;
        expect({ x: derived.x, y: derived.y }).toEqual({ x: publicJwk.x, y: (publicJwk as { y?: string }).y });
      }
      const signer = createSigner(privateJwk);
      const data = new TextEncoder().encode(`message ${i}`);
      const sig = await signer.sign(data);
      const key = importVerificationKey(publicJwk);
      expect(verifySignature(key, signer.alg, data, sig)).toBe(true);
      expect(verifySignature(importVerificationKey(generateKeyPair(type).publicJwk), signer.alg, data, sig)).toBe(false);
    }
  });
});
