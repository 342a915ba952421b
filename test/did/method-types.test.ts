import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createDidWeb, createResolver, didKeyRef, documentResolver } from '../../src/did/index.js';
import { generateKeyPair, publicJwkToMultibase } from '../../src/keys/index.js';
import type { KeyType, PublicJwk } from '../../src/keys/types.js';
import { isCharterError } from '../../src/errors.js';

/*
 * DID Core §5.2: a verification method's `type` says how its key is read. A
 * method whose key does not fit its type (an Ed25519VerificationKey2020
 * carrying a P-256 key) is read one way by Charter and another by a verifier
 * that trusts the type; a method without a type cannot be read at all.
 */
const code = async (p: () => unknown) => {
  try {
    await p();
    return 'NONE';
  } catch (e) {
    return isCharterError(e) ? e.code : 'OTHER';
  }
};

const DID = 'did:web:issuer.example';
const KEYS: Record<KeyType, PublicJwk> = {
  Ed25519: generateKeyPair('Ed25519').publicJwk,
  'P-256': generateKeyPair('P-256').publicJwk,
  secp256k1: generateKeyPair('secp256k1').publicJwk,
};
type Form = 'publicKeyJwk' | 'publicKeyMultibase';
const material = (form: Form, jwk: PublicJwk) => (form === 'publicKeyJwk' ? { publicKeyJwk: jwk } : { publicKeyMultibase: publicJwkToMultibase(jwk) });

/** resolveKey over a document whose one method has `method`'s members, referenced or embedded. */
async function keyCode(method: Record<string, unknown>, embedded = false) {
  const vm = { id: `${DID}#key-1`, controller: DID, ...method };
  const doc = embedded ? { id: DID, assertionMethod: [vm] } : { id: DID, verificationMethod: [vm], assertionMethod: [vm.id] };
  return code(() => documentResolver(async () => doc as never, { cacheTtlMs: 0 }).resolveKey(DID, `${DID}#key-1`, 'assertionMethod'));
}

/** What each type reads: the key property, and the curves (undefined: any Charter supports). */
const TYPES: Record<string, { form: Form; curves?: KeyType[] }> = {
  JsonWebKey2020: { form: 'publicKeyJwk' },
  JsonWebKey: { form: 'publicKeyJwk' },
  Multikey: { form: 'publicKeyMultibase' },
  Ed25519VerificationKey2020: { form: 'publicKeyMultibase', curves: ['Ed25519'] },
  Ed25519VerificationKey2018: { form: 'publicKeyJwk', curves: ['Ed25519'] },
  EcdsaSecp256k1VerificationKey2019: { form: 'publicKeyJwk', curves: ['secp256k1'] },
  EcdsaSecp256r1VerificationKey2019: { form: 'publicKeyJwk', curves: ['P-256'] },
  P256Key2021: { form: 'publicKeyJwk', curves: ['P-256'] },
};

describe('a verification method key must fit its type', () => {
  for (const [type, spec] of Object.entries(TYPES)) {
    it(`${type}: its key property and curve only`, async () => {
      for (const form of ['publicKeyJwk', 'publicKeyMultibase'] as const) {
        for (const [curve, jwk] of Object.entries(KEYS) as [KeyType, PublicJwk][]) {
          const expected = form === spec.form && (spec.curves === undefined || spec.curves.includes(curve)) ? 'NONE' : 'INVALID_KEY';
          for (const embedded of [false, true]) {
            expect([type, form, curve, embedded, await keyCode({ type, ...material(form, jwk) }, embedded)]).toEqual([type, form, curve, embedded, expected]);
          }
        }
      }
    });
  }

  it('a method without a string type is INVALID_KEY (DID Core §5.2: type is required)', async () => {
    for (const type of [undefined, null, 1, true, ['JsonWebKey2020'], { JsonWebKey2020: true }, '']) {
      expect([type, await keyCode({ type, publicKeyJwk: KEYS.Ed25519 })]).toEqual([type, type === '' ? 'UNSUPPORTED_KEY_TYPE' : 'INVALID_KEY']);
    }
  });

  it('an unknown type is UNSUPPORTED_KEY_TYPE, including near spellings and prototype names', async () => {
    for (const type of [
      'FooKey2099',
      'jsonwebkey2020',
      'JsonWebKey2020 ',
      ' Multikey',
      'JsonWebKey2021',
      'Ed25519VerificationKey2021',
      'EcdsaSecp256k1RecoveryMethod2020',
      '__proto__',
      'constructor',
      'toString',
      'hasOwnProperty',
    ]) {
      expect([type, await keyCode({ type, publicKeyJwk: KEYS.Ed25519 })]).toEqual([type, 'UNSUPPORTED_KEY_TYPE']);
      expect([type, await keyCode({ type, publicKeyMultibase: publicJwkToMultibase(KEYS.Ed25519) })]).toEqual([type, 'UNSUPPORTED_KEY_TYPE']);
    }
  });

  it('a key agreement type stays INVALID_KEY, and a legacy base58 key stays UNSUPPORTED_KEY_TYPE', async () => {
    expect(await keyCode({ type: 'X25519KeyAgreementKey2019', publicKeyJwk: KEYS.Ed25519 })).toBe('INVALID_KEY');
    expect(await keyCode({ type: 'Ed25519VerificationKey2018', publicKeyBase58: '4zvwRjXUKGfvwnParsHAS3HuSVzV5cA4McphgmoCtajS' })).toBe('UNSUPPORTED_KEY_TYPE');
  });

  it("Charter's own did:key, did:jwk and did:web documents still resolve for every key type", async () => {
    const r = createResolver();
    for (const type of ['Ed25519', 'P-256', 'secp256k1'] as const) {
      const jwk = generateKeyPair(type).publicJwk;
      for (const method of ['key', 'jwk'] as const) {
        const ref = didKeyRef(method, jwk);
        expect((await r.resolveKey(ref.did, ref.kid, 'assertionMethod')).keyType).toBe(type);
      }
      const web = createDidWeb({ domain: 'issuer.example', publicJwk: jwk });
      expect((await documentResolver(async () => web.document).resolveKey(web.did, web.kid, 'assertionMethod')).keyType).toBe(type);
    }
  });
});

describe('W3C did:key test-vector documents read as their types say', () => {
  const DIR = resolve(__dirname, '../../../shared/vectors/interop/did-key');
  interface VectorDoc {
    id: string;
    verificationMethod: { id: string; type: string; publicKeyJwk?: { crv: string } }[];
  }
  const docs = ['ed25519-x25519.json', 'nist-curves.json', 'secp256k1.json'].flatMap((f) =>
    Object.values(JSON.parse(readFileSync(resolve(DIR, f), 'utf8')) as Record<string, { didDocument?: VectorDoc }>).flatMap((v) => (v.didDocument ? [v.didDocument] : [])),
  );

  it('JsonWebKey2020 keys of a supported curve resolve; base58 methods are UNSUPPORTED_KEY_TYPE, never read under another type', async () => {
    expect(docs.length).toBeGreaterThan(5);
    const seen = new Set<string>();
    for (const doc of docs) {
      for (const vm of doc.verificationMethod) {
        // Each method alone in assertionMethod, so key agreement methods are tried as signing keys too.
        const one = { id: doc.id, verificationMethod: [vm], assertionMethod: [vm.id] };
        const got = await code(() => documentResolver(async () => one as never, { cacheTtlMs: 0 }).resolveKey(doc.id, vm.id, 'assertionMethod'));
        const crv = vm.publicKeyJwk?.crv;
        const expected = (): string[] => {
          if (vm.type === 'X25519KeyAgreementKey2019') return ['INVALID_KEY'];
          if (vm.type !== 'JsonWebKey2020') return ['UNSUPPORTED_KEY_TYPE'];
          // P-384, P-521 and X25519 JWKs are not signing keys Charter takes.
          return crv === 'Ed25519' || crv === 'P-256' || crv === 'secp256k1' ? ['NONE'] : ['INVALID_KEY', 'UNSUPPORTED_KEY_TYPE'];
        };
        expect([vm.type, crv, expected()]).toEqual([vm.type, crv, expect.arrayContaining([got])]);
        seen.add(`${vm.type} ${crv ?? ''}`.trim());
      }
    }
    for (const t of [
      'JsonWebKey2020 P-256',
      'JsonWebKey2020 secp256k1',
      'JsonWebKey2020 Ed25519',
      'Ed25519VerificationKey2018',
      'EcdsaSecp256k1VerificationKey2019',
      'P256Key2021',
    ]) {
      expect(seen).toContain(t);
    }
  });
});
