import { execFile, execFileSync } from 'node:child_process';
import http2 from 'node:http2';
import { promisify } from 'node:util';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fastifyAdapter from '../../src/http/adapters/fastify.js';
import * as honoAdapter from '../../src/http/adapters/hono.js';
import { nodeHost, nodeRequest, verifyNodeRequest } from '../../src/http/request.js';
import { bound } from './present.js';
import { openWorld, type World } from './world.js';

/**
 * HTTP/2 under `trustHostHeader`: the host is `:authority` (RFC 9113
 * §8.3.1), what node:http2, @hono/node-server and Fastify build the URL
 * from; a Host line naming another authority makes the request malformed
 * and binds nothing (401 REQUEST_MISMATCH), and the handler never runs.
 */

let w: World;
let grant: string;
const ran: string[] = [];
const closers: Array<() => Promise<void>> = [];
const ports: Record<string, number> = {};

/** One cleartext HTTP/2 request; the status and the refusal's code. */
async function h2(port: number, headers: Record<string, string>, bindTo: string): Promise<{ status: number; code: string | undefined }> {
  const vp = await bound(w.app, [grant], { url: bindTo });
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    return await new Promise((resolve, reject) => {
      session.on('error', reject);
      const r = session.request({ ':method': 'GET', ':path': '/whoami', authorization: `Bearer ${vp}`, ...headers });
      let status = 0;
      let body = '';
      r.on('response', (h) => (status = Number(h[':status'])));
      r.setEncoding('utf8');
      r.on('data', (d: string) => (body += d));
      r.on('end', () => resolve({ status, code: (JSON.parse(body || '{}') as { code?: string }).code }));
      r.on('error', reject);
    });
  } finally {
    session.close();
  }
}

const hasCurl = (() => {
  try {
    execFileSync('curl', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();

/** The status of a cleartext HTTP/2 GET sent by curl with these Authorization lines, each its own field line. */
async function curlStatus(url: string, authorization: string[]): Promise<number> {
  const args = ['-s', '-o', '/dev/null', '-w', '%{http_code}', '--http2-prior-knowledge', ...authorization.flatMap((a) => ['-H', `Authorization: ${a}`]), url];
  const { stdout } = await promisify(execFile)('curl', args);
  return Number(stdout);
}

beforeAll(async () => {
  w = await openWorld();
  grant = (await w.grant()).jwt;

  const fastify = Fastify({ http2: true });
  // The adapter's types name node:http's request (Fastify's default server); at run time it reads the HTTP/2 one too.
  fastify.get('/whoami', { preHandler: fastifyAdapter.charter(w.verifier()) as never }, async () => {
    ran.push('fastify');
    return { ok: true };
  });
  await fastify.listen({ port: 0, host: '127.0.0.1' });
  ports.fastify = (fastify.server.address() as AddressInfo).port;
  closers.push(() => fastify.close());

  // Hono routing on the host (https://hono.dev/docs/api/routing#routing-with-host-header-value): the URL it
  // routes on is built from :authority, so a Host naming another host must not decide what the presentation binds.
  const app = new Hono({ getPath: (req) => req.url.replace(/^https?:\/\/([^/?]+)([^?]*).*$/, '/$1$2') });
  const guard = honoAdapter.charter(w.verifier());
  app.get('/:host/whoami', guard, (c) => {
    ran.push(`hono ${c.req.param('host')}`);
    return c.json({ ok: true });
  });
  const hono = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1', createServer: http2.createServer as never });
  await new Promise((r) => hono.once('listening', r));
  ports.hono = (hono.address() as AddressInfo).port;
  closers.push(() => new Promise((r) => hono.close(() => r())));

  // node:http2's compat API straight into verifyNodeRequest.
  const v = w.verifier();
  const node = http2.createServer((req, res) => {
    void verifyNodeRequest(req as never, v).then((d) => {
      if (d.ok) ran.push('node');
      res.writeHead(d.ok ? 200 : d.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(d.ok ? {} : { code: d.reasons[0]?.code }));
    });
  });
  await new Promise<void>((r) => node.listen(0, '127.0.0.1', () => r()));
  ports.node = (node.address() as AddressInfo).port;
  closers.push(() => new Promise((r) => node.close(() => r())));
}, 30_000);

afterAll(async () => {
  for (const close of closers) await close();
  await w?.close();
});

describe.each(['fastify', 'node', 'hono'])('HTTP/2 (h2c) under trustHostHeader: %s', (server) => {
  const ranHere = (): string[] => ran.splice(0).filter((r) => r.startsWith(server));

  it('binds :authority: an honest request without Host (the usual HTTP/2 form) passes', async () => {
    const port = ports[server]!;
    ran.length = 0;
    expect(await h2(port, {}, `http://127.0.0.1:${port}/whoami`)).toEqual({ status: 200, code: undefined });
    expect(await h2(port, { ':authority': 'api.local' }, 'http://api.local/whoami')).toEqual({ status: 200, code: undefined });
    expect(ranHere()).toHaveLength(2);
  });

  it('a Host naming the same authority is redundant, case and a default port aside', async () => {
    const port = ports[server]!;
    ran.length = 0;
    expect(await h2(port, { host: `127.0.0.1:${port}` }, `http://127.0.0.1:${port}/whoami`)).toEqual({ status: 200, code: undefined });
    expect(await h2(port, { ':authority': 'api.local', host: 'API.Local:80' }, 'http://api.local/whoami')).toEqual({ status: 200, code: undefined });
    expect(ranHere()).toHaveLength(2);
  });

  it('a Host naming another authority binds nothing (RFC 9113 §8.3.1: malformed), whichever the presentation names', async () => {
    const port = ports[server]!;
    ran.length = 0;
    const mismatch = { status: 401, code: 'REQUEST_MISMATCH' };
    // The presentation is bound to the Host, the server routes on :authority.
    expect(await h2(port, { ':authority': 'admin.local', host: `127.0.0.1:${port}` }, `http://127.0.0.1:${port}/whoami`)).toEqual(mismatch);
    expect(await h2(port, { ':authority': 'admin.local', host: 'api.local' }, 'http://api.local/whoami')).toEqual(mismatch);
    expect(await h2(port, { ':authority': 'admin.local', host: 'api.local' }, 'http://admin.local/whoami')).toEqual(mismatch);
    // Another port is another authority. (A Host value nghttp2 finds invalid, 'api.local/x', never reaches the app.)
    expect(await h2(port, { ':authority': 'api.local', host: 'api.local:8080' }, 'http://api.local/whoami')).toEqual(mismatch);
    expect(ranHere()).toEqual([]);
  });

  // node's HTTP/2 client sends one authorization field only; curl sends what it is told.
  it.skipIf(!hasCurl)('two Authorization lines are one malformed credential (401), as on HTTP/1.1, whichever line is the valid one', async () => {
    const port = ports[server]!;
    ran.length = 0;
    const url = `http://127.0.0.1:${port}/whoami`;
    const vp = await bound(w.app, [grant], { url });
    for (const lines of [
      [`Bearer ${vp}`, 'Bearer something-else'],
      ['Bearer something-else', `Bearer ${vp}`],
      [`Bearer ${vp}`, `Bearer ${vp}`],
    ]) {
      expect(await curlStatus(url, lines)).toBe(401);
    }
    expect(await curlStatus(url, [`Bearer ${await bound(w.app, [grant], { url })}`])).toBe(200);
    expect(ranHere()).toHaveLength(1);
  });

  it("the scheme is the connection's: :scheme https over cleartext h2c binds http://, never the client's claim", async () => {
    const port = ports[server]!;
    ran.length = 0;
    const claimed = { ':scheme': 'https', ':authority': 'api.local' };
    expect(await h2(port, claimed, 'https://api.local/whoami')).toEqual({ status: 401, code: 'REQUEST_MISMATCH' });
    expect(await h2(port, claimed, 'http://api.local/whoami')).toEqual({ status: 200, code: undefined });
    expect(ranHere()).toHaveLength(1);
  });

  it('a Host without :authority (translated from HTTP/1.1) binds as on HTTP/1.1', async () => {
    const port = ports[server]!;
    ran.length = 0;
    expect(await h2(port, { host: 'api.local' }, 'http://api.local/whoami')).toEqual({ status: 200, code: undefined });
    expect(ranHere()).toHaveLength(1);
  });
});

describe('nodeRequest: Authorization over HTTP/2', () => {
  it('several lines in the raw headers (req.headers keeps the first, there is no headersDistinct) are joined, so no longer one Bearer token', () => {
    const h2req = (rawHeaders: string[]) =>
      ({ httpVersionMajor: 2, method: 'GET', url: '/', headers: { ':authority': 'a.example', authorization: rawHeaders[3] }, rawHeaders, socket: {} }) as never;
    expect(nodeRequest(h2req([':authority', 'a.example', 'authorization', 'Bearer a', 'authorization', 'Bearer b'])).authorization).toBe('Bearer a, Bearer b');
    expect(nodeRequest(h2req([':authority', 'a.example', 'authorization', 'Bearer a'])).authorization).toBe('Bearer a');
    expect(nodeRequest(h2req([':authority', 'a.example', 'Authorization', 'Bearer a', 'AUTHORIZATION', 'Bearer a'])).authorization).toBe('Bearer a, Bearer a');
  });
});

describe('nodeHost', () => {
  it('HTTP/1.1: the one Host line; two bind nothing', () => {
    expect(nodeHost({ httpVersionMajor: 1, headers: { host: 'a.example' }, rawHeaders: ['Host', 'a.example'] }, false)).toBe('a.example');
    expect(nodeHost({ httpVersionMajor: 1, headers: { host: 'a.example' }, rawHeaders: ['Host', 'a.example', 'host', 'b.example'] }, false)).toBeUndefined();
    expect(nodeHost({ httpVersionMajor: 1, headers: { host: 'a.example' }, headersDistinct: { host: ['a.example', 'b.example'] } }, false)).toBeUndefined();
    expect(nodeHost({ httpVersionMajor: 1, headers: {} }, false)).toBeUndefined();
  });

  it('HTTP/2: :authority, a matching Host (same origin) is redundant, another refused', () => {
    const h2req = (headers: Record<string, unknown>) => ({ httpVersionMajor: 2, headers });
    expect(nodeHost(h2req({ ':authority': 'a.example' }), true)).toBe('a.example');
    expect(nodeHost(h2req({ ':authority': 'a.example', host: 'A.EXAMPLE:443' }), true)).toBe('a.example');
    // :443 is the default port only over TLS.
    expect(nodeHost(h2req({ ':authority': 'a.example', host: 'a.example:443' }), false)).toBeUndefined();
    expect(nodeHost(h2req({ ':authority': 'a.example', host: 'b.example' }), true)).toBeUndefined();
    expect(nodeHost(h2req({ ':authority': 'a.example', host: '' }), true)).toBeUndefined();
    expect(nodeHost(h2req({ ':authority': 'a.example', host: 'a.example/x' }), true)).toBeUndefined();
    expect(nodeHost(h2req({ ':authority': ['a.example', 'a.example'] }), true)).toBeUndefined();
    expect(nodeHost(h2req({ host: 'b.example' }), true)).toBe('b.example');
    expect(nodeHost(h2req({}), true)).toBeUndefined();
    // An :authority pseudo-header marks HTTP/2 even where the version is not readable (a swapped prototype).
    expect(nodeHost({ headers: { ':authority': 'a.example', host: 'b.example' } }, false)).toBeUndefined();
  });
});
