import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { jwtVerify } from 'jose';
import { Resolver } from 'did-resolver';
import { EdDSASigner } from 'did-jwt';
import { createVerifiableCredentialJwt, verifyCredential as djvVerify } from 'did-jwt-vc';
import { createResolver, didKeyRef, resolveDidKey } from '../src/did/index.js';
import { createSigner, generateKeyPair } from '../src/keys/index.js';
import { issueCredential, verifyCredential } from '../src/credentials/index.js';
import { opsPerSecond, printTable, ratio } from './measure.js';

/** Issue 2: Charter vc+jwt verification against its floor and its peers. */
export async function benchCredentials(): Promise<Record<string, number>> {
  const kp = generateKeyPair('Ed25519');
  const issuer = { ...didKeyRef('key', kp.publicJwk), signer: createSigner(kp.privateJwk) };
  const subject = didKeyRef('key', generateKeyPair().publicJwk).did;
  const claims = { email: 'bob@example.com' };
  const vc = await issueCredential({ issuer, subject, type: 'EmailCredential', claims, validUntil: new Date(Date.now() + 86_400_000) });
  const [h, p, s] = vc.jwt.split('.') as [string, string, string];
  const input = Buffer.from(`${h}.${p}`);
  const sig = Buffer.from(s, 'base64url');
  const keyObject = createPublicKey({ key: { ...kp.publicJwk }, format: 'jwk' });
  if (!nodeVerify(null, input, keyObject, sig)) throw new Error('bench setup: signature does not verify');

  const resolver = createResolver();
  const check = await verifyCredential(vc.jwt, { resolver });
  if (!check.ok) throw new Error('bench setup: credential does not verify');

  const peerResolver = new Resolver({ key: async (did) => ({ didDocument: resolveDidKey(did), didDocumentMetadata: {}, didResolutionMetadata: {} }) });
  const d = Buffer.from(kp.privateJwk.d, 'base64url');
  const legacy = await createVerifiableCredentialJwt(
    { sub: subject, vc: { '@context': ['https://www.w3.org/2018/credentials/v1'], type: ['VerifiableCredential', 'EmailCredential'], credentialSubject: claims } },
    { did: issuer.did, signer: EdDSASigner(new Uint8Array([...d, ...Buffer.from(kp.publicJwk.x, 'base64url')])), alg: 'EdDSA' },
  );
  await djvVerify(legacy, peerResolver);

  const a = await opsPerSecond(() => nodeVerify(null, input, keyObject, sig));
  const b = await opsPerSecond(() => jwtVerify(vc.jwt, keyObject));
  // Every signature checked: a fresh copy of the cached key on each resolution, so the per-key
  // memo of verified credentials never hits. (c') is the same credential seen again.
  const cold = { ...resolver, resolveKey: async (...x: Parameters<typeof resolver.resolveKey>) => ({ ...(await resolver.resolveKey(...x)) }) };
  const c = await opsPerSecond(() => verifyCredential(vc.jwt, { resolver: cold }));
  const seen = await opsPerSecond(() => verifyCredential(vc.jwt, { resolver }));
  const dd = await opsPerSecond(() => djvVerify(legacy, peerResolver), 1000);
  printTable('Credential verification (Ed25519, one core)', [
    { name: '(a) node:crypto Ed25519 verify of the same signing input', opsPerSec: a, note: 'the floor' },
    { name: '(b) jose jwtVerify', opsPerSec: b },
    { name: '(c) Charter verifyCredential, vc+jwt, cached did:key', opsPerSec: c },
    { name: '(d) did-jwt-vc verifyCredential, equivalent VCDM 1.1 JWT', opsPerSec: dd },
    { name: "(c') Charter, the same credential seen again (signature memoised)", opsPerSec: seen },
  ]);
  console.log(`  ratios: c/a = ${ratio(c, a)} (target >= 0.8), c/b = ${ratio(c, b)} (>= 1.5), c/d = ${ratio(c, dd)} (>= 15)`);
  return { a, b, c, d: dd, seen };
}
