import dns from 'node:dns';
import { request } from 'node:http';
import { networkInterfaces } from 'node:os';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isLoopbackHost, serveHome } from '../../src/server/serve.js';
import { createConsentHandler } from '../../src/server/consent.js';
import { listGrants, suspendGrant, revokeGrant } from '../../src/grants/index.js';
import { openWorld, type World } from '../http/world.js';

/** `charter serve`'s consent routes: exact paths, HEAD, Origin on every change, notices that tell the truth, loopback decided from the bound address. */
let w: World;
beforeAll(async () => {
  w = await openWorld();
});
afterAll(async () => w.close());

const session = async () => {
  const page = await fetch(w.server.consent!);
  const token = /name="token" value="([^"]+)"/.exec(await page.text())![1]!;
  // No cookie: a stray one sent along changes nothing (the token alone carries the page's key).
  return { cookie: 'charter_consent=stray', token };
};
const post = (path: string, body: string, headers: Record<string, string>) =>
  fetch(`${w.server.url}${path}`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body });
const stateOf = async (id: string) => (await listGrants(w.home.store)).find((g) => g.id === id)!.state;
/** A raw request, so Host and Origin are exactly what the test says. */
const raw = (o: { host?: string; port: string; path: string; method?: string; headers?: Record<string, string>; body?: string }) =>
  new Promise<{ status: number; body: string; headers: Record<string, unknown> }>((resolve, reject) => {
    const req = request({ host: o.host ?? '127.0.0.1', port: o.port, path: o.path, method: o.method ?? 'GET', headers: o.headers ?? {} }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end(o.body);
  });

describe('consent page: a change needs a same-origin Origin', () => {
  it('a POST with the right token but no Origin (a script, a tool) changes nothing: 403', async () => {
    const g = await w.grant({ resources: ['medical/records'] });
    const { cookie, token } = await session();
    for (const action of ['suspend', 'revoke']) {
      const r = await post(`/consent/${action}`, new URLSearchParams({ id: g.id, token, confirm: 'yes' }).toString(), { cookie });
      expect([action, r.status]).toEqual([action, 403]);
      expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
    // Sec-Fetch-Site: same-origin alone is not an Origin either.
    expect((await post('/consent/suspend', new URLSearchParams({ id: g.id, token }).toString(), { cookie, 'sec-fetch-site': 'same-origin' })).status).toBe(403);
    expect(await stateOf(g.id)).toBe('active');
  });

  it("a foreign, null or other-port Origin, or a same-site fetch, is refused; this server's own origins are taken", async () => {
    const g = await w.grant({ resources: ['location/live'] });
    const { cookie, token } = await session();
    const body = new URLSearchParams({ id: g.id, token }).toString();
    const port = new URL(w.server.url).port;
    for (const headers of [
      { origin: 'null' } as Record<string, string>,
      { origin: 'http://127.0.0.1:1' },
      { origin: `https://127.0.0.1:${port}` },
      { origin: `http://127.0.0.1:${port}.evil.example` },
      { origin: w.server.url, 'sec-fetch-site': 'same-site' },
      { origin: w.server.url, 'sec-fetch-site': 'cross-site' },
    ]) {
      expect([headers, (await post('/consent/suspend', body, { cookie, ...headers })).status]).toEqual([headers, 403]);
    }
    expect(await stateOf(g.id)).toBe('active');
    expect((await post('/consent/suspend', body, { cookie, origin: w.server.url, 'sec-fetch-site': 'same-origin' })).status).toBe(303);
    expect(await stateOf(g.id)).toBe('suspended');
    // Reached as localhost: the Host and the Origin both name localhost.
    const viaLocalhost = await raw({
      port,
      path: '/consent/resume',
      method: 'POST',
      headers: { host: `localhost:${port}`, origin: `http://localhost:${port}`, cookie, 'content-type': 'application/x-www-form-urlencoded' },
      body,
    });
    expect(viaLocalhost.status).toBe(303);
    expect(await stateOf(g.id)).toBe('active');
  });
});

describe('consent page: a notice says only what is true', () => {
  it('done=revoked for an active grant, done=resumed for a paused one, done=suspended for a revoked one: no notice', async () => {
    const live = await w.grant({ resources: ['photos/live'] });
    const paused = await w.grant({ resources: ['photos/paused'] });
    const gone = await w.grant({ resources: ['photos/gone'] });
    await suspendGrant(w.home.store, paused.id, (d) => w.home.issuer(d));
    await revokeGrant(w.home.store, gone.id, (d) => w.home.issuer(d));
    const notice = async (done: string, id: string) =>
      /<p class="notice"[^>]*>(.*?)<\/p>/.exec(
        await (await fetch(`${w.server.url}/consent?done=${done}&id=${encodeURIComponent(id)}`, { headers: { 'sec-fetch-site': 'cross-site' } })).text(),
      )?.[1];
    expect(await notice('revoked', live.id)).toBeUndefined();
    expect(await notice('suspended', live.id)).toBeUndefined();
    expect(await notice('resumed', paused.id)).toBeUndefined();
    expect(await notice('revoked', paused.id)).toBeUndefined();
    expect(await notice('suspended', gone.id)).toBeUndefined();
    expect(await notice('revoked', 'urn:uuid:nope')).toBeUndefined();
    // What did happen is still said.
    expect(await notice('revoked', gone.id)).toMatch(/photos\/gone/);
    expect(await notice('suspended', paused.id)).toMatch(/Paused: .*photos\/paused/);
    expect(await notice('resumed', live.id)).toMatch(/photos\/live/);
  });
});

describe('consent page: exact routes and HEAD', () => {
  it('HEAD answers wherever GET does, with the same status and headers and no body', async () => {
    const g = await w.grant({ resources: ['profile/head'] });
    const port = new URL(w.server.url).port;
    for (const path of ['/', '/consent', '/consent?show=active', `/consent/revoke?id=${encodeURIComponent(g.id)}`]) {
      const get = await raw({ port, path, headers: { host: `127.0.0.1:${port}` } });
      const head = await raw({ port, path, method: 'HEAD', headers: { host: `127.0.0.1:${port}` } });
      expect([path, head.status, head.body]).toEqual([path, 200, '']);
      expect(head.headers['content-type']).toBe(get.headers['content-type']);
      expect(head.headers['content-security-policy']).toBe(get.headers['content-security-policy']);
    }
    // HEAD of a grant that cannot be revoked is the GET's 404.
    expect((await raw({ port, path: '/consent/revoke?id=urn:uuid:nope', method: 'HEAD', headers: { host: `127.0.0.1:${port}` } })).status).toBe(404);
  });

  it('paths that only start like the consent page are 404, whatever the method; a known path with the wrong method is 405 with its Allow', async () => {
    for (const path of ['/consentX', '/consent/', '/consent/anything', '/consent/revoke/x', '/consent/suspendX', '/consents', '/consent/revoke/']) {
      for (const method of ['GET', 'HEAD', 'POST']) {
        const r = await fetch(`${w.server.url}${path}`, { method, redirect: 'manual' });
        await r.body?.cancel();
        expect([path, method, r.status]).toEqual([path, method, 404]);
      }
    }
    for (const [path, method, allow] of [
      ['/consent', 'POST', 'GET, HEAD'],
      ['/', 'DELETE', 'GET, HEAD'],
      ['/consent/suspend', 'GET', 'POST'],
      ['/consent/resume', 'HEAD', 'POST'],
      ['/consent/revoke', 'PUT', 'GET, HEAD, POST'],
    ] as const) {
      const r = await fetch(`${w.server.url}${path}`, { method, redirect: 'manual' });
      await r.body?.cancel();
      expect([path, method, r.status, r.headers.get('allow')]).toEqual([path, method, 405, allow]);
    }
  });
});

describe('consent page: loopback is the address bound, not the --host text', () => {
  it('isLoopbackHost judges names as home/net does: 127.example.net is not loopback', () => {
    expect(isLoopbackHost('127.example.net')).toBe(false);
    expect(isLoopbackHost('127.0.0.1.nip.io')).toBe(false);
    for (const h of ['127.0.0.1', '127.1.2.3', '::1', '[::1]', 'localhost']) expect([h, isLoopbackHost(h)]).toEqual([h, true]);
  });

  it('a host name that looks like loopback but resolves to every interface serves no consent page', async () => {
    const orig = dns.lookup;
    const fake = ((host: string, opts: unknown, cb?: unknown) => {
      const callback = (typeof opts === 'function' ? opts : cb) as (...a: unknown[]) => void;
      const all = typeof opts === 'object' && opts !== null && (opts as { all?: boolean }).all;
      if (host === '127.example.net') return process.nextTick(() => (all ? callback(null, [{ address: '0.0.0.0', family: 4 }]) : callback(null, '0.0.0.0', 4)));
      return (orig as (...a: unknown[]) => void)(host, opts, cb);
    }) as typeof dns.lookup;
    dns.lookup = fake;
    let s: Awaited<ReturnType<typeof serveHome>> | undefined;
    try {
      s = await serveHome(w.home, { port: 0, host: '127.example.net' });
    } finally {
      dns.lookup = orig;
    }
    try {
      expect(s.url).toMatch(/^http:\/\/0\.0\.0\.0:/);
      expect(s.consent).toBeNull();
      const port = new URL(s.url).port;
      const lan = Object.values(networkInterfaces())
        .flat()
        .find((i) => i && i.family === 'IPv4' && !i.internal)?.address;
      for (const target of [lan, '127.0.0.1'].filter((x): x is string => x !== undefined)) {
        for (const path of ['/consent', '/'])
          expect([target, path, (await raw({ host: target, port, path, headers: { host: `127.0.0.1:${port}` } })).status]).toEqual([target, path, 404]);
      }
    } finally {
      await s.close();
    }
  });

  it('bound to loopback, the page is served and named; bound to 0.0.0.0 only with exposeConsent', async () => {
    expect(w.server.consent).toMatch(new RegExp(`^${w.server.url}/consent\\?key=[A-Za-z0-9_-]{32}$`));
    const all = await serveHome(w.home, { port: 0, host: '0.0.0.0' });
    const exposed = await serveHome(w.home, { port: 0, host: '0.0.0.0', exposeConsent: true });
    try {
      expect(all.consent).toBeNull();
      expect(exposed.consent).not.toBeNull();
      const port = new URL(exposed.url).port;
      expect((await raw({ port, path: '/consent', headers: { host: `127.0.0.1:${port}` } })).status).toBe(200);
    } finally {
      await all.close();
      await exposed.close();
    }
  });

  it('on loopback, a request whose peer is not a loopback address (a forwarded port) is refused', async () => {
    const port = Number(new URL(w.server.url).port);
    const handler = createConsentHandler(w.home, { origin: w.server.url, port, loopbackPeersOnly: true });
    const answer = async (remoteAddress: string) => {
      let status = 0;
      const res = { writeHead: (s: number) => void (status = s), end: () => undefined, setHeader: () => undefined, headersSent: false };
      const req = { socket: { remoteAddress }, headers: { host: `127.0.0.1:${port}` }, method: 'GET', url: '/consent' };
      await handler(req as never, res as never, new URL(`http://127.0.0.1:${port}/consent`));
      return status;
    };
    for (const remote of ['192.0.2.7', '10.0.0.1', '::ffff:192.0.2.7', '2001:db8::1', '0.0.0.0', '']) expect([remote, await answer(remote)]).toEqual([remote, 404]);
    for (const remote of ['127.0.0.1', '::1', '::ffff:127.0.0.1']) expect([remote, await answer(remote)]).toEqual([remote, 200]);
  });
});
