import { issueAgentIdentity } from '../../agents/index.js';
import { charterFetch } from '../../http/client.js';
import { requireSignature } from '../../http/guards.js';
import { createVerifier } from '../../guard/verifier.js';
import { DIRECTORY_PATH, verifyDirectoryResponse } from '../../httpsig/index.js';
import { serveDemoApi } from './api.js';
import type { DemoContext } from './types.js';

/**
 * Web Bot Auth: an agent signs its requests (RFC 9421 HTTP Message
 * Signatures); its home's `charter serve` publishes the key directory; a
 * news API verifies each request against it and accepts each signature once.
 */
export async function webBotAuthWalk({ home, step, publicUrl }: DemoContext): Promise<void> {
  const operator = await home.createIdentity({ alias: 'newsroom-ops' });
  const scout = await home.createIdentity({ alias: 'scout', meta: { role: 'agent', operator: operator.did } });
  const identity = await issueAgentIdentity(home.store, await home.issuer('newsroom-ops'), { agent: scout.did, name: 'scout', directory: publicUrl });
  step({ title: 'newsroom-ops vouches for scout, a reading agent whose keys its home publishes', ok: true, detail: `${identity.id}, agent.directory ${publicUrl}` });

  const res = await fetch(`${publicUrl}${DIRECTORY_PATH}`);
  const headers: Record<string, string> = {};
  res.headers.forEach((v, k) => (headers[k] = v));
  let listed: number;
  try {
    listed = verifyDirectoryResponse({ url: `${publicUrl}${DIRECTORY_PATH}`, status: res.status, headers, body: Buffer.from(await res.arrayBuffer()) }).keys.filter(
      (k) => k.bound,
    ).length;
  } catch {
    listed = 0;
  }
  step({
    title: "charter serve publishes scout's public key, signed, where any site can fetch it",
    ok: listed > 0,
    detail: `${DIRECTORY_PATH}: ${listed} key(s), each with its directory signature; ${headers['cache-control'] ?? ''}`,
  });

  // The API holds no key of its own: it fetches the directory the request names (loopback allowed for the demo).
  const guard = requireSignature({ directories: 'fetch', allowLoopback: true });
  const server = await serveDemoApi(guard, (req, out, d) => out.end(JSON.stringify({ article: req.url, for: d.holder })));
  const base = server.base;
  server.use(createVerifier({ aud: 'did:web:news.example', store: home.store, publicOrigin: base, resolver: home.resolver }));
  step({
    title: 'a news API on 127.0.0.1 asks agents to sign every request',
    ok: true,
    detail: 'requireSignature: RFC 9421 over method, authority, path and query; tag web-bot-auth; each nonce used once',
  });

  try {
    let sent: Headers | undefined;
    const record: typeof fetch = (url, init) => {
      sent = new Headers(init?.headers);
      return fetch(url, init);
    };
    const issuer = await home.issuer('scout');
    const sign = { signer: issuer.signer, publicJwk: issuer.publicJwk, signatureAgent: publicUrl };
    const codeOf = async (r: Response) => (r.ok ? undefined : ((await r.json()) as { code: string }).code);

    const ok = await charterFetch(`${base}/articles/42`, {}, { sign, fetch: record });
    step({
      title: 'scout reads an article with a signed request: the API checks it against the published key',
      ok: ok.status === 200,
      detail: `${ok.status} ${await ok.text()}; Signature-Input ${sent?.get('signature-input') ?? ''}`,
    });
    const again = await fetch(`${base}/articles/42`, { headers: sent! });
    const replayed = await codeOf(again);
    step({
      title: 'someone replays that signed request word for word',
      ok: again.status === 401 && replayed === 'SIGNATURE_REPLAYED',
      expect: 'refused',
      ...(replayed ? { code: replayed } : {}),
    });
    const bare = await fetch(`${base}/articles/42`);
    const unsigned = await codeOf(bare);
    step({
      title: 'a request without a signature',
      ok: bare.status === 401 && unsigned === 'SIGNATURE_MISSING',
      expect: 'refused',
      ...(unsigned ? { code: unsigned } : {}),
      detail: `Accept-Signature: ${bare.headers.get('accept-signature') ?? ''}`,
    });
  } finally {
    await server.close();
  }
}
