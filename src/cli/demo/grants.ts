import { issueGrant, revokeGrant, verifyGrant } from '../../grants/index.js';
import { createStatusChecker } from '../../status/index.js';
import type { DemoContext } from './types.js';

/** A person grants a platform access, the platform checks it, the person revokes it, the platform is refused. */
export async function grantsWalk({ home, step, publicUrl }: DemoContext): Promise<void> {
  const dana = await home.createIdentity({ alias: 'dana' });
  const platform = await home.createIdentity({ alias: 'photo-printer', keyType: 'P-256' });
  step({ title: 'dana (a person) and photo-printer (a platform) get DIDs', ok: true });
  const grant = await issueGrant(home.store, await home.issuer('dana'), {
    grantee: platform.did,
    resources: ['photos/2026/*'],
    actions: ['read'],
    purpose: 'print one photo book',
    validUntil: new Date(Date.now() + 7 * 86_400_000),
    baseUrl: publicUrl,
  });
  step({ title: 'dana grants photo-printer read access to photos/2026/* for 7 days', ok: true, detail: `${grant.id} (status index ${grant.statusIndex})` });
  const check = (resource: string, cached = false) =>
    verifyGrant(grant.jwt, {
      resolver: home.resolver,
      status: cached ? cachedChecker : createStatusChecker({ resolver: home.resolver, allowLoopback: true, allowHttp: true }),
      grantee: platform.did,
      owner: dana.did,
      resource,
      action: 'read',
    });
  // The cached verifier's clock is simulated so the walk can step past the list's ttl without waiting 300 s.
  let clock = Date.now();
  const cachedChecker = createStatusChecker({ resolver: home.resolver, allowLoopback: true, allowHttp: true, now: () => clock });
  const ok = await check('photos/2026/beach.jpg', true);
  step({ title: 'photo-printer reads photos/2026/beach.jpg: allowed (status fetched from charter serve)', ok: ok.ok });
  const scope = await check('photos/2025/old.jpg');
  step({ title: 'photo-printer reads photos/2025/old.jpg: refused, outside the grant', expect: 'refused', ok: !scope.ok, code: scope.reasons[0]?.code });
  await revokeGrant(home.store, grant.id, (did) => home.issuer(did));
  step({ title: 'dana revokes the grant (bit committed, list re-signed)', ok: true });
  const revoked = await check('photos/2026/beach.jpg');
  step({ title: 'photo-printer checks again against charter serve: refused', expect: 'refused', ok: !revoked.ok, code: revoked.reasons[0]?.code });
  const stale = await check('photos/2026/beach.jpg', true);
  step({ title: 'a verifier with a cached copy of the list still allows it within the ttl (300 s)', ok: stale.ok });
  clock += 301_000;
  const expired = await check('photos/2026/beach.jpg', true);
  step({ title: 'after the ttl the cached verifier refetches and refuses too', expect: 'refused', ok: !expired.ok, code: expired.reasons[0]?.code });
}
