import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { issueGrant, revokeGrant } from '../../grants/index.js';
import { createStatusChecker } from '../../status/index.js';
import { charterFetch } from '../../http/client.js';
import { requireGrant } from '../../http/guards.js';
import { writeRefusal } from '../../http/refusal.js';
import { verifyNodeRequest } from '../../http/request.js';
import { createVerifier } from '../../guard/verifier.js';
import type { DemoContext } from './types.js';

/** A person grants an app read access to her photos; a platform API checks every request (the HTTP middleware core). */
export async function httpWalk({ home, step, publicUrl }: DemoContext): Promise<void> {
  await home.createIdentity({ alias: 'erika' });
  const app = await home.createIdentity({ alias: 'photo-app' });
  const api = 'did:web:photos.example';
  const grant = await issueGrant(home.store, await home.issuer('erika'), {
    grantee: app.did, resources: ['photos/*'], actions: ['read'], purpose: 'print orders', validUntil: new Date(Date.now() + 86_400_000), baseUrl: publicUrl,
  });
  step({ title: 'erika grants photo-app read access to photos/* for a day', ok: true, detail: grant.id });

  // Every photo here is erika's: the route names its owner, so only erika's own grants count.
  const erika = (await home.identity('erika')).did;
  const guard = requireGrant<IncomingMessage>({ resource: (req) => new URL(req.url ?? '/', 'http://x').pathname, action: 'read', owner: erika });
  let current: ReturnType<typeof createVerifier> | undefined;
  const server = createServer((req, res) => {
    verifyNodeRequest(req, current!, guard).then(
      (d) => (d.ok ? res.end(JSON.stringify({ photo: req.url, for: d.holder })) : writeRefusal(res, d)),
      () => res.writeHead(500).end(),
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  // Presentations are bound to the origin clients address; a verifier per status-list cache: a fresh one stands for "after the list's ttl".
  const verifier = () => createVerifier({ aud: api, store: home.store, publicOrigin: base, resolver: home.resolver, status: createStatusChecker({ resolver: home.resolver, allowLoopback: true, allowHttp: true }) });
  current = verifier();
  step({ title: 'a photo API on 127.0.0.1 checks every request: a grant, bound to this request, used once', ok: true });

  try {
    let sent: Headers | undefined;
    const record: typeof fetch = (url, init) => {
      sent = new Headers(init?.headers);
      return fetch(url, init);
    };
    const as = { holder: await home.issuer('photo-app'), credentials: [grant.jwt], aud: api, fetch: record };
    const codeOf = async (r: Response) => (r.ok ? undefined : ((await r.json()) as { code: string }).code);

    const ok = await charterFetch(`${base}/photos/1.jpg`, {}, as);
    step({ title: 'photo-app fetches photos/1.jpg: 200', ok: ok.status === 200, detail: `${ok.status} ${await ok.text()}` });
    const again = await fetch(`${base}/photos/1.jpg`, { headers: sent! });
    const replay = await codeOf(again);
    step({ title: 'the same request replayed with its presentation: 401', ok: again.status === 401 && replay === 'REPLAY_DETECTED', code: replay });
    const other = await charterFetch(`${base}/profile/email`, {}, as);
    const scope = await codeOf(other);
    step({ title: 'photo-app asks for profile/email, outside the grant: 403', ok: other.status === 403 && scope === 'GRANT_SCOPE', code: scope });
    await revokeGrant(home.store, grant.id, (did) => home.issuer(did));
    current = verifier();
    const cut = await charterFetch(`${base}/photos/1.jpg`, {}, as);
    const revoked = await codeOf(cut);
    step({ title: 'erika revokes the grant: the API refuses photo-app (403)', ok: cut.status === 403 && revoked === 'CREDENTIAL_REVOKED', code: revoked });
  } finally {
    await new Promise<void>((r) => server.close(() => r()));
  }
}
