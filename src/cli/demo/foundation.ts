import { randomUUID } from 'node:crypto';
import { issueCredential, verifyCredential, createPresentation, verifyPresentation } from '../../credentials/index.js';
import type { DemoContext } from './types.js';

/** Identities for all three key types, a credential in both formats, a bound presentation, and refusals. */
export async function foundationWalk({ home, step }: DemoContext): Promise<void> {
  const alice = await home.createIdentity({ alias: 'alice', keyType: 'Ed25519', method: 'key' });
  step({ title: 'alice: Ed25519 did:key', ok: true, detail: alice.did });
  const bob = await home.createIdentity({ alias: 'bob', keyType: 'P-256', method: 'key' });
  step({ title: 'bob: P-256 did:key', ok: true, detail: bob.did });
  const carol = await home.createIdentity({ alias: 'carol', keyType: 'secp256k1', method: 'jwk' });
  step({ title: 'carol: secp256k1 did:jwk', ok: true, detail: carol.did.slice(0, 40) + '…' });

  const issuer = await home.issuer('alice');
  const validUntil = new Date(Date.now() + 30 * 86400_000);
  const vc = await issueCredential({ issuer, subject: bob.did, type: 'EmailCredential', claims: { email: 'bob@example.com' }, validUntil });
  const v = await verifyCredential(vc.jwt, { resolver: home.resolver, status: home.status });
  step({ title: 'alice issues bob an EmailCredential (vc+jwt), a verifier checks it', ok: v.ok, detail: vc.id });

  const legacy = await issueCredential({ issuer, subject: bob.did, type: 'EmailCredential', claims: { email: 'bob@example.com' }, validUntil, format: 'vc-jwt-1.1' });
  const v1 = await verifyCredential(legacy.jwt, { resolver: home.resolver, status: home.status });
  step({ title: 'the same as a VCDM 1.1 JWT (for did-jwt-vc / Veramo consumers) verifies too', ok: v1.ok });

  const [h, p, sig] = vc.jwt.split('.') as [string, string, string];
  const forged = JSON.parse(Buffer.from(p, 'base64url').toString()) as { credentialSubject: Record<string, unknown> };
  forged.credentialSubject.email = 'mallory@example.com';
  const tampered = `${h}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${sig}`;
  const vt = await verifyCredential(tampered, { resolver: home.resolver, status: home.status });
  step({ title: 'a copy with a changed email is refused', expect: 'refused', ok: !vt.ok, code: vt.reasons[0]?.code });

  const aud = 'did:web:shop.example';
  const nonce = randomUUID();
  const vp = await createPresentation({ holder: await home.issuer('bob'), credentials: [vc.jwt], aud, nonce });
  const pv = await verifyPresentation(vp, { resolver: home.resolver, status: home.status, aud, nonce });
  step({ title: 'bob presents it to a shop, bound to its audience and nonce', ok: pv.ok });
  const replay = await verifyPresentation(vp, { resolver: home.resolver, status: home.status, aud, nonce: randomUUID() });
  step({ title: 'the same presentation against another nonce is refused', expect: 'refused', ok: !replay.ok, code: replay.reasons[0]?.code });
  const stolen = await createPresentation({ holder: await home.issuer('carol'), credentials: [vc.jwt], aud, nonce });
  const sv = await verifyPresentation(stolen, { resolver: home.resolver, status: home.status, aud, nonce });
  step({ title: "carol cannot present bob's credential as her own", expect: 'refused', ok: !sv.ok, code: sv.reasons[0]?.code });
}
