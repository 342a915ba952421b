import { issueGrant, revokeGrant, verifyGrant } from '../../grants/index.js';
import { createStatusChecker } from '../../status/index.js';
import type { DemoContext } from './types.js';

/** A person lets an app see some of her photos; the app is checked; she takes it back; how fast that bites. */
export async function grantsWalk({ home, step, publicUrl }: DemoContext): Promise<void> {
  const dana = await home.createIdentity({ alias: 'dana' });
  const platform = await home.createIdentity({ alias: 'photo-printer', keyType: 'P-256' });
  const grant = await issueGrant(home.store, await home.issuer('dana'), {
    grantee: platform.did,
    resources: ['photos/2026/*'],
    actions: ['read'],
    purpose: 'print one photo book',
    validUntil: new Date(Date.now() + 7 * 86_400_000),
    baseUrl: publicUrl,
  });
  step({
    title: 'dana lets photo-printer (an app) see her 2026 photos for 7 days, to print one photo book',
    ok: true,
    detail: `DataAccessGrant ${grant.id}: resources photos/2026/*, action read; revocation status index ${grant.statusIndex} on ${publicUrl}`,
  });
  const check = (resource: string, cached = false) =>
    verifyGrant(grant.jwt, {
      resolver: home.resolver,
      status: cached ? cachedChecker : createStatusChecker({ resolver: home.resolver, allowLoopback: true, allowHttp: true }),
      grantee: platform.did,
      owner: dana.did,
      resource,
      action: 'read',
    });
  // The cached verifier's clock is simulated so the walk can step past the list's ttl without waiting for it.
  let clock = Date.now();
  const cachedChecker = createStatusChecker({ resolver: home.resolver, allowLoopback: true, allowHttp: true, now: () => clock });
  const ok = await check('photos/2026/beach.jpg', true);
  step({
    title: 'photo-printer opens photos/2026/beach.jpg: allowed',
    ok: ok.ok,
    detail: "signature, validity, scope and owner checked; dana's status list fetched from charter serve",
  });
  const scope = await check('photos/2025/old.jpg');
  const scopeCode = scope.reasons[0]?.code;
  step({ title: 'photo-printer asks for photos/2025/old.jpg, which dana did not share', expect: 'refused', ok: !scope.ok && scopeCode === 'GRANT_SCOPE', code: scopeCode });
  await revokeGrant(home.store, grant.id, (did) => home.issuer(did));
  step({ title: 'dana takes the grant back', ok: true, detail: 'the revocation bit is committed, then the status list is re-signed' });
  const revoked = await check('photos/2026/beach.jpg');
  const revokedCode = revoked.reasons[0]?.code;
  step({
    title: 'photo-printer opens beach.jpg again',
    expect: 'refused',
    ok: !revoked.ok && revokedCode === 'CREDENTIAL_REVOKED',
    code: revokedCode,
    detail: 'a verifier without a cached copy fetches the list now',
  });
  const list = (await home.store.listStatusLists({ issuerDid: dana.did, purpose: 'revocation' }))[0];
  const ttl = list?.ttlSeconds ?? 60;
  const stale = await check('photos/2026/beach.jpg', true);
  step({
    title: `a checker that read dana's list before she took it back still says yes, until its copy is ${ttl} s old`,
    ok: stale.ok,
    detail: `the list's ttl (${ttl} s) is how stale a verifier may be; status.refresh(url) re-fetches on demand`,
  });
  clock += (ttl + 1) * 1000;
  const expired = await check('photos/2026/beach.jpg', true);
  const expiredCode = expired.reasons[0]?.code;
  step({
    title: `${ttl} s later that checker fetches the list again and refuses too`,
    expect: 'refused',
    ok: !expired.ok && expiredCode === 'CREDENTIAL_REVOKED',
    code: expiredCode,
  });
}
