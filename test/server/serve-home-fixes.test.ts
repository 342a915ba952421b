import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHome, type Home } from '../../src/home/home.js';
import { serveHome, type RunningServer } from '../../src/server/serve.js';
import { agentDirectory } from '../../src/server/directory.js';
import { decodedRequestPath } from '../../src/server/did-web-path.js';
import { issueGrant, listGrants } from '../../src/grants/index.js';
import { issueSdJwtGrant } from '../../src/sdjwt/grant.js';
import { createResolver } from '../../src/did/index.js';
import { DIRECTORY_PATH } from '../../src/httpsig/index.js';
import { tempDir } from '../helpers.js';

/** `charter serve`: did:web documents at percent-encoded paths, the key directory over its cap, SD-JWT grants on the consent page, the keyed consent page. */
let home: Home;
let server: RunningServer;
const warnings: string[] = [];
beforeAll(async () => {
  home = await openHome({ home: tempDir(), passphrase: async () => 'serve fixes passphrase', allowLoopback: true });
  await home.init();
  server = await serveHome(home, { port: 0, warn: (m) => void warnings.push(m) });
  await home.setPublicUrl(server.url);
  await home.createIdentity({ alias: 'alice' });
  await home.createIdentity({ alias: 'app' });
});
afterAll(async () => {
  await server.close();
  await home.close();
});

/** A raw request, so the path is sent exactly as written. */
const raw = (path: string, host?: string) =>
  new Promise<{ status: number; body: string }>((resolve, reject) => {
    const u = new URL(server.url);
    const req = request({ host: u.hostname, port: u.port, path, headers: host ? { host } : {} }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });

describe('did:web documents at percent-encoded paths', () => {
  it('serves users:a%20b and users:caf%C3%A9 (as status publish writes them): Charter resolves them', async () => {
    const port = new URL(server.url).port;
    const resolver = createResolver({ allowLoopback: true, allowHttp: true });
    for (const seg of ['plain', 'a%20b', 'caf%C3%A9', 'a%7Eb']) {
      const rec = await home.createIdentity({ alias: `web-${seg.replace(/%/g, '')}`, method: 'web', domain: `127.0.0.1%3A${port}:users:${seg}` } as never);
      const doc = (await resolver.resolve(rec.did)) as unknown as { id?: string; didDocument?: { id: string } };
      expect([seg, doc.didDocument?.id ?? doc.id]).toEqual([seg, rec.did]);
    }
    // Either spelling of the same segment names the same document (lower-case hex, an unreserved character escaped or not).
    for (const path of ['/users/caf%c3%a9/did.json', '/users/a~b/did.json', '/users/a%7eb/did.json', '/users/%61%20b/did.json']) {
      const r = await raw(path);
      expect([path, r.status]).toEqual([path, 200]);
    }
  });

  it('an encoded "/", "\\" or "%", a dot segment or a malformed escape names no document', async () => {
    // (The URL parser resolves "%2e%2e" in the request path itself, as before: /users/%2e%2e/x is /x.)
    await home.createIdentity({ alias: 'web-ab', method: 'web', domain: `127.0.0.1%3A${new URL(server.url).port}:users:ab` } as never);
    expect((await raw('/users/ab/did.json')).status).toBe(200);
    for (const path of ['/users%2Fab/did.json', '/users%5Cab/did.json', '/users/ab%2f/did.json', '/users/a%ZZb/did.json', '/users/ab%2500/did.json']) {
      const r = await raw(path);
      expect([path, r.status]).toEqual([path, 404]);
    }
    expect(decodedRequestPath('/users/caf%C3%A9/did.json')).toBe('/users/café/did.json');
    for (const p of ['/a%2Fb/did.json', '/%2e%2e/did.json', '/%2E/did.json', '/a%00/did.json', '/a%3F/did.json', '/a%23/did.json', '/a%25/did.json', '/%E2%82/did.json']) {
      expect([p, decodedRequestPath(p)]).toEqual([p, undefined]);
    }
  });
});

describe('the Web Bot Auth key directory over its 16-key cap', () => {
  it('17 agents: the 16 created first are published, the 17th is named to the operator, never a 500', async () => {
    for (let i = 1; i <= 17; i++) {
      await home.createIdentity({ alias: `bot${String(i).padStart(2, '0')}`, meta: { role: 'agent', operator: 'did:example:op' } });
      // Distinct creation times, so "first created" is not decided by alias alone.
      await new Promise((r) => setTimeout(r, 2));
    }
    const r = await fetch(`${server.url}${DIRECTORY_PATH}`);
    expect(r.status).toBe(200);
    const keys = ((await r.json()) as { keys: { x: string }[] }).keys;
    expect(keys).toHaveLength(16);
    const agents = (await home.store.listIdentities()).filter((x) => x.meta?.role === 'agent');
    const published = new Set(keys.map((k) => k.x));
    const newest = agents.find((a) => a.alias === 'bot17')!;
    expect(published.has((newest.publicJwk as { x: string }).x)).toBe(false);
    for (const a of agents.filter((x) => x.alias !== 'bot17')) expect(published.has((a.publicJwk as { x: string }).x)).toBe(true);
    expect(warnings.filter((w) => /key directory/.test(w))).toEqual([expect.stringContaining('bot17')]);
    // The same on every request (deterministic), and the operator is told once, not per fetch.
    const again = ((await (await fetch(`${server.url}${DIRECTORY_PATH}`)).json()) as { keys: { x: string }[] }).keys;
    expect(again.map((k) => k.x)).toEqual(keys.map((k) => k.x));
    expect(warnings.filter((w) => /key directory/.test(w))).toHaveLength(1);
    const dir = await agentDirectory(home, server.url);
    expect(dir?.omitted).toEqual(['bot17']);
  });
});

describe('consent page: SD-JWT grants cannot be paused', () => {
  const session = async () => {
    const page = await fetch(server.consent!);
    const html = await page.text();
    return { token: /name="token" value="([^"]+)"/.exec(html)![1]!, html };
  };
  const post = (path: string, body: string, headers: Record<string, string>) =>
    fetch(`${server.url}${path}`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', origin: server.url, ...headers }, body });
  const cardOf = (html: string, id: string) => {
    const at = html.indexOf(`data-grant="${id}"`);
    return html.slice(at, html.indexOf('</li>', at));
  };

  it('the card of an SD-JWT grant offers Revoke and says why there is no Pause; a vc+jwt grant keeps Pause', async () => {
    const alice = await home.issuer('alice');
    const app = await home.issuer('app');
    const input = {
      grantee: app.did,
      resources: ['profile/email'],
      actions: ['read'],
      purpose: 'sd-jwt pause',
      validUntil: new Date(Date.now() + 86_400_000),
      baseUrl: server.url,
    };
    const sd = await issueSdJwtGrant(home.store, alice, input);
    const vc = await issueGrant(home.store, alice, { ...input, purpose: 'vc pause' });
    const { html, token } = await session();
    const key = new URL(server.consent!).searchParams.get('key')!;
    const sdCard = cardOf(html, sd.id);
    expect(sdCard).not.toContain('data-action="suspend"');
    expect(sdCard).toContain('data-action="revoke"');
    expect(sdCard).toContain('can only be revoked, not paused');
    expect(cardOf(html, vc.id)).toContain('data-action="suspend"');
    // The confirmation page does not send the person back for a Pause that is not there.
    const confirm = await (await fetch(`${server.url}/consent/revoke?id=${encodeURIComponent(sd.id)}&key=${key}`)).text();
    expect(confirm).not.toContain('choose Pause');

    // Posted anyway (an old page, a hand-made form): a browser gets a page in words, a tool a problem that says why; nothing changes.
    const body = new URLSearchParams({ id: sd.id, token }).toString();
    const viaBrowser = await post('/consent/suspend', body, { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' });
    expect(viaBrowser.status).toBe(400);
    expect(viaBrowser.headers.get('content-type')).toMatch(/^text\/html/);
    expect(viaBrowser.headers.get('content-security-policy')).toMatch(/default-src 'none'/);
    const words = await viaBrowser.text();
    expect(words).toContain('This grant cannot be paused');
    expect(words).toContain(`href="/consent?key=${key}"`);
    const viaTool = await post('/consent/resume', body, {});
    expect(viaTool.status).toBe(400);
    expect(viaTool.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(((await viaTool.json()) as { detail: string }).detail).toMatch(/cannot be paused.*SD-JWT/);
    expect((await listGrants(home.store)).find((g) => g.id === sd.id)!.state).toBe('active');
  });
});
