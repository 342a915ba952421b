import type { AddressInfo } from 'node:net';
import { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import express from 'express';
import Fastify from 'fastify';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ex from '../../src/http/adapters/express.js';
import * as fa from '../../src/http/adapters/fastify.js';
import * as ho from '../../src/http/adapters/hono.js';
import { verifyNodeRequest, verifyRequest } from '../../src/http/request.js';
import { createVerifier, type Verifier } from '../../src/guard/verifier.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { tempDir } from '../helpers.js';
import { guardTool, PRESENTATION_META, toolRefusal } from '../../src/integrations/mcp/index.js';

/**
 * A route's own function (owner, resource, amount, counterparty) that throws
 * on a request is a 400 INVALID_ARGUMENT with one fixed message: its error's
 * text (a database address, SQL, a file path) stays with the server, as the
 * decision's `routeError`, and never reaches the caller, whichever adapter
 * and whatever is thrown.
 */
const SECRET = 'connect ECONNREFUSED 10.20.0.7:5432 (SELECT did FROM users WHERE name=$1) /srv/app/db.ts';
const thrown: Array<[string, () => unknown]> = [
  ['an Error', () => new Error(SECRET)],
  ['a TypeError with a cause', () => new TypeError(SECRET, { cause: new Error(`${SECRET} (cause)`) })],
  ['a string', () => SECRET],
  ['an object with a message', () => ({ message: SECRET, toString: () => SECRET })],
];
const FIXED = 'the route could not read what it needs from this request';

let store: Store;
let v: Verifier;
/** What the verifier's onRouteError saw: the server's side of each refusal. */
const seen: Array<{ error: unknown; request: unknown }> = [];
beforeAll(async () => {
  store = await openSqliteStore(`${tempDir()}/v.db`);
  v = createVerifier({ aud: 'did:web:api.example', store, trustHostHeader: true, onRouteError: (error, request) => void seen.push({ error, request }) });
});
afterAll(async () => store?.close());

const token = 'eyJhbGciOiJFZERTQSJ9.eyJ9.c2ln';

describe('a throwing route function is refused with a fixed message', () => {
  it.each(thrown)('verifyRequest, owner throws %s: 400, fixed message, the error kept as routeError', async (_, make) => {
    const err = make();
    const guard = ho.requireGrant({
      resource: 'profile/email',
      action: 'read',
      owner: () => {
        throw err;
      },
    });
    const request = new Request('http://127.0.0.1/profile/email', { headers: { authorization: `Bearer ${token}` } });
    seen.length = 0;
    const d = await verifyRequest(request, v, guard as never);
    expect([d.ok, d.status, d.reasons]).toEqual([false, 400, [{ code: 'INVALID_ARGUMENT', message: FIXED }]]);
    expect(d.routeError).toBe(err);
    expect(seen).toEqual([{ error: err, request }]);
    expect(JSON.stringify(d.reasons)).not.toContain('10.20.0.7');
  });

  it('verifyNodeRequest: a resource function and an amount function that throw', async () => {
    const req = new IncomingMessage(new Socket());
    req.method = 'POST';
    req.url = '/orders';
    req.headers = { host: '127.0.0.1', authorization: `Bearer ${token}` };
    const grant = ex.requireGrant({
      resource: () => {
        throw new Error(SECRET);
      },
      action: 'read',
      anyOwner: true,
    });
    const agent = ex.requireAgent({
      action: 'purchase',
      amount: () => {
        throw new Error(SECRET);
      },
      trust: { anyPrincipal: true, requireIdentity: false },
    });
    for (const g of [grant, agent]) {
      const d = await verifyNodeRequest(req, v, g as never);
      expect([d.status, d.reasons[0]?.message]).toEqual([400, FIXED]);
      expect((d.routeError as Error).message).toBe(SECRET);
    }
  });
});

describe('over HTTP, no adapter sends the error text', () => {
  const owner = () => {
    throw new Error(SECRET);
  };
  const servers: Array<() => Promise<void>> = [];
  const bases: Record<string, string> = {};
  beforeAll(async () => {
    const app = express();
    app.get('/profile/email', ex.charter(v, ex.requireGrant({ resource: 'profile/email', action: 'read', owner })), (_q, r) => void r.json({ ok: true }));
    const s = app.listen(0, '127.0.0.1');
    await new Promise<void>((r) => s.once('listening', () => r()));
    bases.express = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
    servers.push(() => new Promise((r) => s.close(() => r())));

    const f = Fastify();
    f.get('/profile/email', { preHandler: fa.charter(v, fa.requireGrant({ resource: 'profile/email', action: 'read', owner })) }, async () => ({ ok: true }));
    bases.fastify = await f.listen({ port: 0, host: '127.0.0.1' });
    servers.push(() => f.close());

    const h = new Hono<ho.CharterEnv>();
    h.get('/profile/email', ho.charter(v, ho.requireGrant({ resource: 'profile/email', action: 'read', owner })), (c) => c.json({ ok: true }));
    const hs = serve({ fetch: h.fetch, port: 0, hostname: '127.0.0.1' });
    await new Promise<void>((r) => hs.once('listening', () => r()));
    bases.hono = `http://127.0.0.1:${(hs.address() as AddressInfo).port}`;
    servers.push(() => new Promise((r) => hs.close(() => r())));
  });
  afterAll(async () => {
    for (const close of servers) await close();
  });

  it.each(['express', 'fastify', 'hono'])('%s: 400 problem details with the fixed message only; the server sees the error', async (name) => {
    seen.length = 0;
    const res = await fetch(`${bases[name]}/profile/email`, { headers: { authorization: `Bearer ${token}` } });
    expect(seen.map((s) => (s.error as Error).message)).toEqual([SECRET]);
    expect(seen[0]!.request).toBeTruthy();
    const body = await res.text();
    expect(res.status).toBe(400);
    expect(body).toContain(FIXED);
    for (const leak of ['10.20.0.7', 'SELECT', '/srv/app', 'ECONNREFUSED']) expect(body).not.toContain(leak);
    res.headers.forEach((val, k) => {
      for (const leak of ['10.20.0.7', 'SELECT']) expect(`${k}: ${val}`).not.toContain(leak);
    });
  });
});

describe('the server side of a throwing route function', () => {
  it('an onRouteError that throws changes nothing for the caller; a non-function is a TypeError', async () => {
    const loud = createVerifier({
      aud: 'did:web:api.example',
      store,
      trustHostHeader: true,
      onRouteError: () => {
        throw new Error('the logger is down');
      },
    });
    const guard = ho.requireGrant({
      resource: () => {
        throw new Error(SECRET);
      },
      action: 'read',
      anyOwner: true,
    });
    const d = await verifyRequest(new Request('http://127.0.0.1/x', { headers: { authorization: `Bearer ${token}` } }), loud, guard as never);
    expect([d.status, d.reasons[0]?.message]).toEqual([400, FIXED]);
    expect(() => createVerifier({ aud: 'did:web:api.example', store, trustHostHeader: true, onRouteError: 'console' as never })).toThrow(TypeError);
  });

  it("MCP: a tool's amount function that throws is the fixed message to the client, its error to onRouteError", async () => {
    const mcp = createVerifier({ aud: 'did:web:api.example', store, http: false, onRouteError: (error, request) => void seen.push({ error, request }) });
    const tool = guardTool<Record<string, unknown>>(
      'purchase',
      {
        verifier: mcp,
        action: 'purchase',
        amount: () => {
          throw new Error(SECRET);
        },
        trust: { anyPrincipal: true, requireIdentity: false },
      },
      () => ({ content: [] }),
    );
    seen.length = 0;
    const args = { item: 'mug' };
    const r = await tool(args, { _meta: { [PRESENTATION_META]: token } });
    expect(toolRefusal(r)).toMatchObject({ status: 400, code: 'INVALID_ARGUMENT' });
    expect(JSON.stringify(r)).not.toContain('10.20.0.7');
    expect(seen.map((s) => [(s.error as Error).message, s.request])).toEqual([[SECRET, args]]);
  });
});
