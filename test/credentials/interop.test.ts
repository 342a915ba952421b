import { describe, expect, it } from 'vitest';
import { Resolver } from 'did-resolver';
import { EdDSASigner, ES256KSigner, ES256Signer } from 'did-jwt';
import { createVerifiableCredentialJwt, createVerifiablePresentationJwt, verifyCredential as djvVerifyCredential, verifyPresentation as djvVerifyPresentation } from 'did-jwt-vc';
import { createResolver, resolveDidKey, resolveDidJwk, didKeyRef } from '../../src/did/index.js';
import { issueCredential, verifyCredential, verifyPresentation, createPresentation } from '../../src/credentials/index.js';
import { generateKeyPair, createSigner } from '../../src/keys/index.js';
import type { KeyType } from '../../src/keys/types.js';

/** did-resolver registry over Charter's did:key / did:jwk documents, for did-jwt-vc. */
const peerResolver = new Resolver({
  key: async (did) => ({ didDocument: resolveDidKey(did), didDocumentMetadata: {}, didResolutionMetadata: {} }),
  jwk: async (did) => ({ didDocument: resolveDidJwk(did), didDocumentMetadata: {}, didResolutionMetadata: {} }),
});
const resolver = createResolver();

function peerIssuer(type: KeyType) {
  const kp = generateKeyPair(type);
  const ref = didKeyRef('key', kp.publicJwk);
  const d = Buffer.from(kp.privateJwk.d, 'base64url');
  const signer = type === 'Ed25519' ? EdDSASigner(new Uint8Array([...d, ...Buffer.from(kp.publicJwk.x, 'base64url')])) : type === 'P-256' ? ES256Signer(d) : ES256KSigner(d);
  return { kp, ref, didJwt: { did: ref.did, signer, alg: type === 'Ed25519' ? 'EdDSA' : type === 'P-256' ? 'ES256' : 'ES256K' } };
}

describe('interop with did-jwt-vc (VCDM 1.1 JWTs)', () => {
  for (const type of ['Ed25519', 'P-256', 'secp256k1'] as const) {
    it(`a ${type} credential issued by did-jwt-vc verifies in Charter`, async () => {
      const issuer = peerIssuer(type);
      const subject = didKeyRef('key', generateKeyPair().publicJwk).did;
      const jwt = await createVerifiableCredentialJwt(
        {
          sub: subject,
          nbf: Math.floor(Date.now() / 1000),
          vc: { '@context': ['https://www.w3.org/2018/credentials/v1'], type: ['VerifiableCredential', 'EmailCredential'], credentialSubject: { email: 'a@example.com' } },
        },
        issuer.didJwt,
      );
      const v = await verifyCredential(jwt, { resolver });
      expect(v.reasons).toEqual([]);
      expect(v).toMatchObject({ ok: true, issuer: issuer.ref.did, subject, format: 'vc-jwt-1.1' });
    });

    it(`a ${type} credential issued by Charter as vc-jwt-1.1 verifies in did-jwt-vc`, async () => {
      const kp = generateKeyPair(type);
      const issuer = { ...didKeyRef('key', kp.publicJwk), signer: createSigner(kp.privateJwk) };
      const subject = didKeyRef('key', generateKeyPair().publicJwk).did;
      const vc = await issueCredential({
        issuer,
        subject,
        type: 'EmailCredential',
        claims: { email: 'a@example.com' },
        format: 'vc-jwt-1.1',
        validUntil: new Date(Date.now() + 86_400_000),
      });
      const verified = await djvVerifyCredential(vc.jwt, peerResolver);
      expect(verified.issuer).toBe(issuer.did);
      expect(verified.verifiableCredential.credentialSubject.id).toBe(subject);
    });
  }

  it('a did-jwt-vc credential from W3C-shaped input with an issuer object {id, name} verifies in Charter, name kept', async () => {
    const issuer = peerIssuer('Ed25519');
    const subject = didKeyRef('key', generateKeyPair().publicJwk).did;
    const jwt = await createVerifiableCredentialJwt(
      {
        '@context': ['https://www.w3.org/2018/credentials/v1'],
        type: ['VerifiableCredential'],
        issuer: { id: issuer.ref.did, name: 'Example Uni' },
        issuanceDate: new Date(Date.now() - 60_000).toISOString(),
        credentialSubject: { id: subject, degree: 'BSc' },
      },
      issuer.didJwt,
    );
    const v = await verifyCredential(jwt, { resolver });
    expect(v.reasons).toEqual([]);
    expect(v).toMatchObject({ ok: true, issuer: issuer.ref.did, subject, credential: { issuer: { id: issuer.ref.did, name: 'Example Uni' } } });
  });

  it('a did-jwt-vc presentation verifies in Charter, and a Charter 1.1 presentation in did-jwt-vc', async () => {
    const issuer = peerIssuer('Ed25519');
    const holder = peerIssuer('P-256');
    const vcJwt = await createVerifiableCredentialJwt(
      { sub: holder.ref.did, vc: { '@context': ['https://www.w3.org/2018/credentials/v1'], type: ['VerifiableCredential'], credentialSubject: { degree: 'BSc' } } },
      issuer.didJwt,
    );
    const vpJwt = await createVerifiablePresentationJwt(
      { vp: { '@context': ['https://www.w3.org/2018/credentials/v1'], type: ['VerifiablePresentation'], verifiableCredential: [vcJwt] } },
      holder.didJwt,
      { domain: 'did:web:verifier.example', challenge: 'nonce-1' },
    );
    const v = await verifyPresentation(vpJwt, { resolver, aud: 'did:web:verifier.example', nonce: 'nonce-1' });
    expect(v.reasons).toEqual([]);
    expect(v.ok).toBe(true);

    const charterHolder = { ...holder.ref, signer: createSigner(holder.kp.privateJwk) };
    const ours = await createPresentation({ holder: charterHolder, credentials: [vcJwt], aud: 'did:web:verifier.example', nonce: 'nonce-2', format: 'vp-jwt-1.1' });
    const theirs = await djvVerifyPresentation(ours, peerResolver, { audience: 'did:web:verifier.example', challenge: 'nonce-2' });
    expect(theirs.issuer).toBe(holder.ref.did);
  });
});
