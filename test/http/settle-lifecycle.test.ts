import { connect, type AddressInfo } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ex from '../../src/http/adapters/express.js';
import * as fa from '../../src/http/adapters/fastify.js';
import { createPresentation } from '../../src/credentials/index.js';
import { API, openWorld, type World } from './world.js';

/**
 * While a guarded success waits for its spend to be committed, its response
 * is held back; the framework must still see what Node would show it (sent
 * headers, an ended response), or it answers a second time on top of the
 * held one. Each case here is a handler the framework serves cleanly without
 * the guard: with it, one response, the status the spend was settled on,
 * and a server that keeps running. The commit is slowed (20 ms, a networked
 * store's round trip) so the framework acts while the response is held.
 */
let w: World;
const closers: Array<() => Promise<void>> = [];
const bases: Record<string, string> = {};

beforeAll(async () => {
  w = await openWorld();
  const commit = w.apiStore.commitReservation;
  w.apiStore.commitReservation = async (...a) => {
    await new Promise((r) => setTimeout(r, 20));
    return commit(...a);
  };
  const trust = { principals: [w.principal.did] };

  const f = Fastify();
  const guard = { preHandler: fa.charter(w.verifier(), fa.requireAgent({ action: 'purchase', amount: (r) => r.headers['x-amount'] as string, trust })) };
  // An async handler calling send() without returning the reply: Fastify reads reply.sent afterwards.
  f.post('/send-no-return', guard, async (_req, reply) => {
    reply.code(201).send({ ordered: true });
  });
  f.post('/send-then-throw', guard, async (_req, reply) => {
    reply.code(201).send({ ordered: true });
    await Promise.resolve();
    throw new Error('bookkeeping after the reply failed');
  });
  f.post('/bad-header', guard, async (req, reply) => {
    reply.header('x-name', req.headers['x-name-raw'] === undefined ? 'caf\u2603' : 'ok');
    return reply.code(201).send({ ordered: true });
  });
  f.get('/ping', async () => ({ pong: true }));
  bases.fastify = await f.listen({ port: 0, host: '127.0.0.1' });
  closers.push(() => f.close());

  const app = express();
  const mw = ex.charter(w.verifier(), ex.requireAgent({ action: 'purchase', amount: (req) => req.get('x-amount'), trust }));
  app.post('/bad-header', mw, (_req, res) => {
    res.writeHead(201, { 'x-name': 'caf\u2603' });
    res.end('ordered');
  });
  app.post('/send-then-throw', mw, async (_req, res) => {
    res.status(201).json({ ordered: true });
    await Promise.resolve();
    throw new Error('bookkeeping after the reply failed');
  });
  app.post('/partial-then-throw', mw, async (_req, res) => {
    res.write('{"items":[');
    await new Promise((r) => setTimeout(r, 5));
    throw new Error('upstream failed mid-stream');
  });
  app.post('/undefined-header', mw, (_req, res) => {
    res.writeHead(201, { 'x-a': undefined as unknown as string });
    res.end('ordered');
  });
  app.post('/fractional-status', mw, (_req, res) => {
    res.writeHead(201.5, { 'content-type': 'text/plain' });
    res.end('ordered');
  });
  // What compression 1.7 does before each write while the head is unsent: writeHead(statusCode) again.
  app.post('/implicit-head-again', mw, (_req, res) => {
    res.writeHead(201, { 'content-type': 'text/plain' });
    res.writeHead(res.statusCode);
    res.write('a');
    res.writeHead(res.statusCode);
    res.end('b');
  });
  app.get('/ping', (_req, res) => void res.json({ pong: true }));
  const s = app.listen(0, '127.0.0.1');
  await new Promise<void>((r) => s.once('listening', () => r()));
  bases.express = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  closers.push(() => new Promise((r) => s.close(() => r())));
}, 30_000);

afterAll(async () => {
  for (const c of closers) await c();
  await w?.close();
});

const presentation = async (url: string) => createPresentation({ holder: w.agent, credentials: [w.agentIdentity, await w.mandate()], aud: API, claims: { htm: 'POST', htu: url } });

/** The raw bytes of a guarded POST and, on the same keep-alive connection, a GET /ping after it. */
async function raw(base: string, path: string, extra = ''): Promise<string> {
  const u = new URL(base);
  const token = await presentation(base + path);
  return new Promise((resolve) => {
    const c = connect(Number(u.port), u.hostname, () => {
      c.write(`POST ${path} HTTP/1.1\r\nHost: ${u.host}\r\nAuthorization: Bearer ${token}\r\nx-amount: 10 USD\r\n${extra}Content-Length: 0\r\n\r\n`);
      setTimeout(() => c.write(`GET /ping HTTP/1.1\r\nHost: ${u.host}\r\n\r\n`), 300);
    });
    let buf = '';
    c.on('data', (d) => (buf += d));
    c.on('close', () => resolve(buf));
    setTimeout(() => {
      c.destroy();
      resolve(buf);
    }, 1200);
  });
}
const statuses = (bytes: string) => [...bytes.matchAll(/HTTP\/1\.1 (\d{3})/g)].map((m) => Number(m[1]));
const states = async () => (await w.apiStore.listReservations({})).map((r) => r.state);

describe('a held response looks sent to the framework', () => {
  it('Fastify, send() without return: one 201 with its body, then a clean next response on the connection', async () => {
    const bytes = await raw(bases.fastify!, '/send-no-return');
    expect(statuses(bytes)).toEqual([201, 200]);
    expect(bytes).toContain('content-length: 16\r\n');
    expect(bytes).toContain('{"ordered":true}HTTP/1.1 200');
  });

  it('Fastify, a throw after the reply: the 201 stands, the spend is committed, the server lives on', async () => {
    const before = (await states()).filter((s) => s === 'committed').length;
    const bytes = await raw(bases.fastify!, '/send-then-throw');
    expect(statuses(bytes)).toEqual([201, 200]);
    await new Promise((r) => setTimeout(r, 100));
    expect((await states()).filter((s) => s === 'committed').length).toBe(before + 1);
  });

  it('a header Node refuses throws in the handler’s own call: a 500, the spend released, the server lives on (Express, Fastify)', async () => {
    for (const base of [bases.express!, bases.fastify!]) {
      const before = (await states()).filter((s) => s === 'released').length;
      const bytes = await raw(base, '/bad-header');
      expect([base, statuses(bytes)]).toEqual([base, [500, 200]]);
      await new Promise((r) => setTimeout(r, 100));
      expect((await states()).filter((s) => s === 'released').length).toBe(before + 1);
    }
  });

  it('Express, a throw after the reply or mid-stream: never a second status line, never a 500 over a committed success', async () => {
    for (const path of ['/send-then-throw', '/partial-then-throw']) {
      const bytes = await raw(bases.express!, path);
      // Express cuts the connection when an error follows a sent response; what did go out is the handler's own.
      expect([path, statuses(bytes).filter((s) => s >= 500)]).toEqual([path, []]);
      expect(bytes).not.toContain('<!DOCTYPE html>');
    }
  });
});

describe('what Node does, the held response does', () => {
  it('a header value undefined fails in the handler (500, released); a fractional status is read as Node reads it; a bare repeated writeHead is harmless', async () => {
    const before = (await states()).filter((x) => x === 'released').length;
    expect(statuses(await raw(bases.express!, '/undefined-header'))).toEqual([500, 200]);
    await new Promise((r) => setTimeout(r, 100));
    expect((await states()).filter((x) => x === 'released').length).toBe(before + 1);
    expect(statuses(await raw(bases.express!, '/fractional-status'))).toEqual([201, 200]);
    const again = await raw(bases.express!, '/implicit-head-again');
    expect(statuses(again)).toEqual([201, 200]);
    // Both writes, in order, in one response (Node 24 may send them as one chunk).
    expect(again).toMatch(/\r\n\r\n(?:1\r\na\r\n1\r\nb|2\r\nab)\r\n0\r\n/);
  });

  it('a graceful shutdown while a success waits for its commit: the 201 still goes out', async () => {
    const app = express();
    const trust = { principals: [w.principal.did] };
    app.post('/last', ex.charter(w.verifier(), ex.requireAgent({ action: 'purchase', amount: (req) => req.get('x-amount'), trust })), (_req, res) => {
      res.status(201).json({ ordered: true });
      // server.close() destroys idle connections (Node >= 19): a held response must not look finished.
      server.close();
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((r) => server.once('listening', () => r()));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const bytes = await raw(base, '/last');
    expect(statuses(bytes)[0]).toBe(201);
    expect(bytes).toContain('{"ordered":true}');
  });
});
