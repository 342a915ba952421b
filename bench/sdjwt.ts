import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { createResolver, didKeyRef } from '../src/did/index.js';
import { createSigner, generateKeyPair } from '../src/keys/index.js';
import { issueCredential, verifyCredential } from '../src/credentials/index.js';
import { issueSdJwtVc, presentSdJwtVc, verifySdJwtVc } from '../src/sdjwt/index.js';
import { sdJwtHasher } from '../src/sdjwt/hash.js';
import { opsPerSecond, printTable, ratio } from './measure.js';

/** SD-JWT VC verification (issuer signature, disclosures, KB-JWT) next to vc+jwt and the @sd-jwt peer. */
export async function benchSdJwt(): Promise<Record<string, number>> {
  const identity = () => {
    const kp = generateKeyPair('Ed25519');
    return { ...didKeyRef('key', kp.publicJwk), signer: createSigner(kp.privateJwk) };
  };
  const issuer = identity();
  const holder = identity();
  const claims = { email: 'bob@example.com', name: 'Bob', address: { street: 'Main St 1', city: 'Springfield' } };
  const validUntil = new Date(Date.now() + 86_400_000);
  const aud = 'did:web:verifier.example';
  const nonce = 'bench-nonce';

  const vc = await issueCredential({ issuer, subject: holder.did, type: 'EmailCredential', claims, validUntil });
  const sd = await issueSdJwtVc({
    issuer,
    subject: holder.did,
    vct: 'https://example.com/vct/Email',
    claims,
    disclosable: ['email', 'name', 'address', 'address.street'],
    validUntil,
  });
  const presentation = await presentSdJwtVc(sd.token, { holder, disclose: ['email', 'address'], aud, nonce });

  const resolver = createResolver();
  // Every signature checked, as bench/credentials.ts (c): a fresh copy of the cached key defeats the per-key memo.
  const cold = { ...resolver, resolveKey: async (...x: Parameters<typeof resolver.resolveKey>) => ({ ...(await resolver.resolveKey(...x)) }) };
  if (!(await verifyCredential(vc.jwt, { resolver: cold })).ok) throw new Error('bench setup: vc+jwt does not verify');
  if (!(await verifySdJwtVc(presentation, { resolver, aud, nonce })).ok) throw new Error('bench setup: SD-JWT presentation does not verify');

  const keyOf = (jwk: object) => createPublicKey({ key: { ...jwk }, format: 'jwk' });
  const issuerKey = keyOf(issuer.publicJwk);
  const peer = new SDJwtVcInstance({
    hasher: sdJwtHasher,
    verifier: (data, sig) => nodeVerify(null, Buffer.from(data), issuerKey, Buffer.from(sig, 'base64url')),
    kbVerifier: (data, sig, payload) => nodeVerify(null, Buffer.from(data), keyOf(payload.cnf!.jwk), Buffer.from(sig, 'base64url')),
  });
  await peer.verify(presentation, { keyBindingNonce: nonce });

  const a = await opsPerSecond(() => verifyCredential(vc.jwt, { resolver: cold }));
  const b = await opsPerSecond(() => verifySdJwtVc(presentation, { resolver, aud, nonce }));
  const c = await opsPerSecond(() => peer.verify(presentation, { keyBindingNonce: nonce }));
  printTable('SD-JWT VC verification (Ed25519 issuer and holder, 3 of 4 disclosures, KB-JWT; one core)', [
    { name: '(a) Charter verifyCredential, vc+jwt, cached did:key', opsPerSec: a, note: 'one signature' },
    { name: '(b) Charter verifySdJwtVc, presentation with KB-JWT', opsPerSec: b, note: 'two signatures, strict §7 checks' },
    { name: '(c) @sd-jwt/sd-jwt-vc verify, the same presentation', opsPerSec: c, note: 'two signatures, no DID resolution' },
  ]);
  console.log(`  ratios: b/a = ${ratio(b, a)} (two signatures: about 0.5 expected), b/c = ${ratio(b, c)}`);
  return { a, b, c };
}
