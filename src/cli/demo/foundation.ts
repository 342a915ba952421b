import { randomUUID } from 'node:crypto';
import { issueCredential, verifyCredential, createPresentation, verifyPresentation } from '../../credentials/index.js';
import type { DemoContext } from './types.js';

/** Three people get DIDs; alice vouches for bob's email; a forged copy, a replay and a stolen credential are refused. */
export async function foundationWalk({ home, step }: DemoContext): Promise<void> {
  const alice = await home.createIdentity({ alias: 'alice', keyType: 'Ed25519', method: 'key' });
  const bob = await home.createIdentity({ alias: 'bob', keyType: 'P-256', method: 'key' });
  const carol = await home.createIdentity({ alias: 'carol', keyType: 'secp256k1', method: 'jwk' });
  step({
    title: 'alice, bob and carol each create a DID: a name that comes with a key only they hold',
    ok: true,
    detail: `alice: Ed25519 ${alice.did}; bob: P-256 ${bob.did}; carol: secp256k1 ${carol.did.slice(0, 40)}…`,
  });

  const issuer = await home.issuer('alice');
  const validUntil = new Date(Date.now() + 30 * 86400_000);
  const vc = await issueCredential({ issuer, subject: bob.did, type: 'EmailCredential', claims: { email: 'bob@example.com' }, validUntil });
  const v = await verifyCredential(vc.jwt, { resolver: home.resolver, status: home.status });
  step({
    title: "alice signs a statement that bob's email is bob@example.com; a shop checks her signature: valid",
    ok: v.ok,
    detail: `EmailCredential ${vc.id}, vc+jwt (VCDM 2.0), valid 30 days`,
  });

  const legacy = await issueCredential({ issuer, subject: bob.did, type: 'EmailCredential', claims: { email: 'bob@example.com' }, validUntil, format: 'vc-jwt-1.1' });
  const v1 = await verifyCredential(legacy.jwt, { resolver: home.resolver, status: home.status });
  step({ title: 'the same statement in the older format other tools still use: valid too', ok: v1.ok, detail: 'VCDM 1.1 JWT (vc claim), as did-jwt-vc and Veramo issue and read' });

  const [h, p, sig] = vc.jwt.split('.') as [string, string, string];
  const forged = JSON.parse(Buffer.from(p, 'base64url').toString()) as { credentialSubject: Record<string, unknown> };
  forged.credentialSubject.email = 'mallory@example.com';
  const tampered = `${h}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${sig}`;
  const vt = await verifyCredential(tampered, { resolver: home.resolver, status: home.status });
  const forgedCode = vt.reasons[0]?.code;
  step({
    title: "mallory copies alice's statement and changes the email to her own",
    expect: 'refused',
    ok: !vt.ok && forgedCode === 'INVALID_SIGNATURE',
    code: forgedCode,
    detail: 'the JWS signature covers the payload: any change breaks it',
  });

  const aud = 'did:web:shop.example';
  const nonce = randomUUID();
  const vp = await createPresentation({ holder: await home.issuer('bob'), credentials: [vc.jwt], aud, nonce });
  const pv = await verifyPresentation(vp, { resolver: home.resolver, status: home.status, aud, nonce });
  step({
    title: "bob shows alice's statement to shop.example, for this shop and this visit only: accepted",
    ok: pv.ok,
    detail: `vp+jwt signed by bob, bound to aud ${aud} and the shop's nonce`,
  });
  const replay = await verifyPresentation(vp, { resolver: home.resolver, status: home.status, aud, nonce: randomUUID() });
  const replayCode = replay.reasons[0]?.code;
  step({
    title: "someone who saw bob's visit shows the same thing again on a later visit",
    expect: 'refused',
    ok: !replay.ok && replayCode === 'NONCE_MISMATCH',
    code: replayCode,
    detail: 'the shop asked for a new nonce',
  });
  const stolen = await createPresentation({ holder: await home.issuer('carol'), credentials: [vc.jwt], aud, nonce });
  const sv = await verifyPresentation(stolen, { resolver: home.resolver, status: home.status, aud, nonce });
  const stolenCode = sv.reasons[0]?.code;
  step({
    title: "carol shows bob's statement as if it were about her",
    expect: 'refused',
    ok: !sv.ok && stolenCode === 'HOLDER_MISMATCH',
    code: stolenCode,
    detail: "the credential's subject is bob's DID, the presentation is signed by carol's",
  });
}
