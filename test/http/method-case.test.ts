import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as fastifyAdapter from '../../src/http/adapters/fastify.js';
import * as honoAdapter from '../../src/http/adapters/hono.js';
import { requireGrant, requireSignature } from '../../src/http/guards.js';
import { verifyNodeRequest, verifyRequest } from '../../src/http/request.js';
import { signatureHeaders } from '../../src/httpsig/index.js';
import { bound } from './present.js';
import { openWorld, type World } from './world.js';

/**
 * HTTP methods are case-sensitive (RFC 9110 §9.1): `patch` is not `PATCH`.
 * HTTP/1.1 parsers pass only upper-case methods, but HTTP/2 lets a client send
 * any token as `:method`, and Fetch upper-cases only DELETE, GET, HEAD,
 * OPTIONS, POST and PUT. So a proof (htm, as DPoP compares it, RFC 9449
 * §4.3) and a request signature (@method, RFC 9421 §2.2.1) are compared with
 * the method exactly as received: whenever a handler runs, it sees the method
 * the proof names.
 */
let w: World;
let grant: string;
const seen: string[] = [];
const closers: Array<() => Promise<void>> = [];
const ports: Record<string, number> = {};
const grantRule = { resource: 'photos/any', action: 'read', anyOwner: true } as const;
const guard = () => requireGrant(grantRule);

beforeAll(async () => {
  w = await openWorld();
  grant = (await w.grant({ resources: ['photos/*'] })).jwt;

  const fastify = Fastify({ http2: true });
  fastify.all('/photos/:id', { preHandler: fastifyAdapter.charter(w.verifier(), fastifyAdapter.requireGrant(grantRule)) as never }, async (req) => {
    seen.push(`fastify ${req.method}`);
    return { ok: true };
  });
  await fastify.listen({ port: 0, host: '127.0.0.1' });
  ports.fastify = (fastify.server.address() as AddressInfo).port;
  closers.push(() => fastify.close());

  const app = new Hono();
  app.all('/photos/:id', honoAdapter.charter(w.verifier(), honoAdapter.requireGrant(grantRule)), (c) => {
    seen.push(`hono ${c.req.method}`);
    return c.json({ ok: true });
  });
  const hono = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1', createServer: http2.createServer as never });
  await new Promise((r) => hono.once('listening', r));
  ports.hono = (hono.address() as AddressInfo).port;
  closers.push(() => new Promise((r) => hono.close(() => r())));

  const v = w.verifier();
  const node = http2.createServer((req, res) => {
    void verifyNodeRequest(req as never, v, guard() as never).then((d) => {
      if (d.ok) seen.push(`node ${req.method}`);
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

async function h2(port: number, method: string, htm: string): Promise<number> {
  const url = `http://127.0.0.1:${port}/photos/a`;
  const vp = await bound(w.app, [grant], { method: htm, url });
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    return await new Promise((resolve, reject) => {
      session.on('error', reject);
      const r = session.request({ ':method': method, ':path': '/photos/a', authorization: `Bearer ${vp}` }, { endStream: true });
      let status = 0;
      r.on('response', (h) => (status = Number(h[':status'])));
      r.resume();
      r.on('end', () => resolve(status));
      r.on('error', reject);
    });
  } finally {
    session.close();
  }
}

describe.each(['fastify', 'hono', 'node'])('HTTP/2 :method case: %s', (server) => {
  it('a handler runs only for the very method the proof names', async () => {
    const port = ports[server]!;
    const METHODS = ['PATCH', 'patch', 'Patch', 'GET', 'get', 'DELETE', 'delete', 'PoSt', 'PURGE', 'purge'];
    const HTMS = ['PATCH', 'patch', 'GET', 'DELETE', 'POST', 'PURGE'];
    const allowed: string[] = [];
    for (const method of METHODS) {
      for (const htm of HTMS) {
        seen.length = 0;
        const status = await h2(port, method, htm);
        const ran = seen.splice(0).filter((s) => s.startsWith(server));
        if (status === 200) allowed.push(`${method}/${htm}`);
        // Whatever the framework normalises, the handler sees exactly the method the proof names.
        for (const r of ran) expect(r).toBe(`${server} ${htm}`);
        expect(ran.length).toBe(status === 200 ? 1 : 0);
      }
    }
    // Honest upper-case requests pass on every server (so the check above is not vacuous)...
    expect(allowed).toEqual(expect.arrayContaining(['PATCH/PATCH', 'GET/GET', 'DELETE/DELETE']));
    // ...and a non-standard method in another case never stands for an upper-case proof (Fetch folds only the six standard ones).
    for (const folded of ['patch/PATCH', 'Patch/PATCH', 'purge/PURGE']) expect(allowed).not.toContain(folded);
  });
});

describe('verifyRequest (Fetch): a method Fetch passes through as sent', () => {
  const URL_ = 'http://127.0.0.1:9999/photos/a';

  it('htm compares case-sensitively: a PATCH proof is no proof for patch', async () => {
    const v = w.verifier();
    const ask = async (method: string, htm: string) =>
      verifyRequest(new Request(URL_, { method, headers: { authorization: `Bearer ${await bound(w.app, [grant], { method: htm, url: URL_ })}` } }), v, guard());
    const folded = await ask('patch', 'PATCH');
    expect([folded.status, folded.reasons.map((r) => r.code)]).toEqual([401, ['REQUEST_MISMATCH']]);
    expect((await ask('PATCH', 'patch')).reasons.map((r) => r.code)).toEqual(['REQUEST_MISMATCH']);
    expect((await ask('PATCH', 'PATCH')).ok).toBe(true);
    expect((await ask('patch', 'patch')).ok).toBe(true);
    // Fetch itself upper-cases the six standard methods: `get` is GET before anyone reads it.
    expect((await ask('get', 'GET')).ok).toBe(true);
  });

  it("a request signature's @method is the method as sent (RFC 9421 §2.2.1)", async () => {
    const v = w.verifier();
    const only = requireSignature({ keys: { keys: [w.agent.publicJwk] } });
    const signed = async (signedAs: string, sentAs: string) => {
      const h = await signatureHeaders({ method: signedAs, url: URL_, headers: {} }, { signer: w.agent.signer, publicJwk: w.agent.publicJwk });
      return verifyRequest(new Request(URL_, { method: sentAs, headers: { ...h } as Record<string, string> }), v, only);
    };
    expect((await signed('PATCH', 'patch')).reasons.map((r) => r.code)).toEqual(['SIGNATURE_INVALID']);
    expect((await signed('patch', 'PATCH')).reasons.map((r) => r.code)).toEqual(['SIGNATURE_INVALID']);
    expect((await signed('PATCH', 'PATCH')).ok).toBe(true);
    expect((await signed('patch', 'patch')).ok).toBe(true);
  });
});
