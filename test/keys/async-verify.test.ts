import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createPublicKey } from 'node:crypto';
import { createSigner, generateKeyPair, importVerificationKey, verifySignature, verifySignatureAsync } from '../../src/keys/index.js';
import type { KeyType, VerificationKey } from '../../src/keys/types.js';

const enc = new TextEncoder();
const TYPES: KeyType[] = ['Ed25519', 'P-256', 'secp256k1'];
const ALGS = ['EdDSA', 'ES256', 'ES256K', 'none', '', 'HS256', '__proto__'];
const N_SECP256K1 = 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n;

describe('verifySignatureAsync (thread pool) answers exactly as verifySignature', () => {
  const keys = TYPES.map((t) => {
    const kp = generateKeyPair(t);
    return { t, kp, key: importVerificationKey(kp.publicJwk), signer: createSigner(kp.privateJwk) };
  });

  it('for every key type and alg, on a valid, a tampered and a short signature', async () => {
    const data = enc.encode('same rules off the event loop');
    for (const { key, signer } of keys) {
      const sig = signer.sign(data) as Uint8Array;
      const tampered = Uint8Array.from(sig);
      tampered[5]! ^= 1;
      for (const alg of ALGS) {
        for (const s of [sig, tampered, sig.slice(0, 63), new Uint8Array(0)]) {
          expect(await verifySignatureAsync(key, alg, data, s)).toBe(verifySignature(key, alg, data, s));
        }
      }
      expect(await verifySignatureAsync(key, key.alg, data, sig)).toBe(true);
    }
  });

  it('refuses the high-S twin of an ES256K signature (BIP 62) and hand-built keys, never throws', async () => {
    const k1 = keys[2]!;
    const data = enc.encode('low S only');
    const sig = k1.signer.sign(data) as Uint8Array;
    const s = BigInt('0x' + Buffer.from(sig.slice(32)).toString('hex'));
    const twin = new Uint8Array([...sig.slice(0, 32), ...Buffer.from((N_SECP256K1 - s).toString(16).padStart(64, '0'), 'hex')]);
    expect(await verifySignatureAsync(k1.key, 'ES256K', data, sig)).toBe(true);
    expect(await verifySignatureAsync(k1.key, 'ES256K', data, twin)).toBe(false);
    const p = keys[1]!;
    const psig = p.signer.sign(data) as Uint8Array;
    const lies: VerificationKey[] = [{ ...p.key, alg: 'EdDSA' }, { ...p.key, keyObject: createPublicKey({ key: { ...p.kp.publicJwk }, format: 'jwk' }) }, {} as VerificationKey];
    for (const k of lies) expect(await verifySignatureAsync(k, 'ES256', data, psig)).toBe(false);
    expect(await verifySignatureAsync(p.key, 'ES256', 'not bytes' as unknown as Uint8Array, psig)).toBe(false);
  });

  it('property: random messages and bit flips get the same answer from both', async () => {
    const { key, signer } = keys[0]!;
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ maxLength: 200 }), fc.nat(64 * 8 - 1), fc.boolean(), async (msg, bit, flip) => {
        const sig = Uint8Array.from(signer.sign(msg) as Uint8Array);
        if (flip) sig[bit >> 3]! ^= 1 << (bit & 7);
        expect(await verifySignatureAsync(key, 'EdDSA', msg, sig)).toBe(verifySignature(key, 'EdDSA', msg, sig));
      }),
      { numRuns: 60 },
    );
  });
});

describe('signOffThread (thread pool) signs as sign does', () => {
  it.each(['Ed25519', 'P-256'] as const)('%s: a signature that verifies, in the raw 64-byte form; Ed25519 byte for byte the same', async (t) => {
    const kp = generateKeyPair(t);
    const signer = createSigner(kp.privateJwk);
    const key = importVerificationKey(kp.publicJwk);
    const data = enc.encode('a receipt, signed off the event loop');
    expect(typeof signer.signOffThread).toBe('function');
    const sig = await signer.signOffThread!(data);
    expect(sig).toBeInstanceOf(Uint8Array);
    expect(sig.length).toBe(64);
    expect(verifySignature(key, key.alg, data, sig)).toBe(true);
    expect(verifySignature(key, key.alg, enc.encode('other bytes'), sig)).toBe(false);
    if (t === 'Ed25519') expect(Buffer.from(sig).equals(Buffer.from(signer.sign(data)))).toBe(true);
  });

  it('secp256k1 has none (its low-S signatures come from @noble/curves): callers use sign', () => {
    expect(createSigner(generateKeyPair('secp256k1').privateJwk).signOffThread).toBeUndefined();
  });
});
