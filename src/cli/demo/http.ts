import type { IncomingMessage } from 'node:http';
import { issueGrant, revokeGrant } from '../../grants/index.js';
import { charterFetch } from '../../http/client.js';
import { requireGrant } from '../../http/guards.js';
import { freshVerifier, serveDemoApi } from './api.js';
import type { DemoContext } from './types.js';

/** A person lets an app see her photos; her photo service checks every request (the HTTP middleware core); she takes it back. */
export async function httpWalk({ home, step, publicUrl }: DemoContext): Promise<void> {
  await home.createIdentity({ alias: 'erika' });
  const app = await home.createIdentity({ alias: 'photo-app' });
  const api = 'did:web:photos.example';
  const grant = await issueGrant(home.store, await home.issuer('erika'), {
    grantee: app.did,
    resources: ['photos/*'],
    actions: ['read'],
    purpose: 'print orders',
    validUntil: new Date(Date.now() + 86_400_000),
    baseUrl: publicUrl,
  });
  step({ title: 'erika lets photo-app see her photos for one day, to print orders', ok: true, detail: `DataAccessGrant ${grant.id}: photos/*, read` });

  // Every photo here is erika's: the route names its owner, so only erika's own grants count.
  const erika = (await home.identity('erika')).did;
  const guard = requireGrant<IncomingMessage>({ resource: (req) => new URL(req.url ?? '/', 'http://x').pathname, action: 'read', owner: erika });
  const server = await serveDemoApi(guard, (req, res, d) => res.end(JSON.stringify({ photo: req.url, for: d.holder })));
  const base = server.base;
  // Presentations are bound to the origin clients address (the API's base).
  const verifier = () => freshVerifier(home, api, base);
  server.use(verifier());
  step({
    title: 'photos.example, where erika keeps her photos, checks every request it gets (here on 127.0.0.1)',
    ok: true,
    detail: `${base}: Authorization: Bearer <vp+jwt> bound to the method and URL (htm/htu), a jti used once, the grant's owner named by the route`,
  });

  try {
    let sent: Headers | undefined;
    const record: typeof fetch = (url, init) => {
      sent = new Headers(init?.headers);
      return fetch(url, init);
    };
    const as = { holder: await home.issuer('photo-app'), credentials: [grant.jwt], aud: api, fetch: record };
    const codeOf = async (r: Response) => (r.ok ? undefined : ((await r.json()) as { code: string }).code);

    const ok = await charterFetch(`${base}/photos/1.jpg`, {}, as);
    step({ title: 'photo-app asks photos.example for photos/1.jpg: allowed', ok: ok.status === 200, detail: `HTTP ${ok.status} ${await ok.text()}` });
    const again = await fetch(`${base}/photos/1.jpg`, { headers: sent! });
    const replay = await codeOf(again);
    step({
      title: 'someone who captured that request sends it again',
      expect: 'refused',
      ok: again.status === 401 && replay === 'REPLAY_DETECTED',
      code: replay,
      detail: `HTTP ${again.status}`,
    });
    const other = await charterFetch(`${base}/profile/email`, {}, as);
    const scope = await codeOf(other);
    step({
      title: "photo-app asks for erika's email address, which she never shared",
      expect: 'refused',
      ok: other.status === 403 && scope === 'GRANT_SCOPE',
      code: scope,
      detail: `HTTP ${other.status}`,
    });
    await revokeGrant(home.store, grant.id, (did) => home.issuer(did));
    step({ title: 'erika takes the grant back', ok: true });
    server.use(verifier());
    const cut = await charterFetch(`${base}/photos/1.jpg`, {}, as);
    const revoked = await codeOf(cut);
    step({
      title: 'photo-app asks for photos/1.jpg again',
      expect: 'refused',
      ok: cut.status === 403 && revoked === 'CREDENTIAL_REVOKED',
      code: revoked,
      detail: `HTTP ${cut.status}`,
    });
  } finally {
    await server.close();
  }
}
