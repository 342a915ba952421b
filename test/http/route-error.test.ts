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
beforeAll(async () => {
  store = await openSqliteStore(`${tempDir()}/v.db`);
  v = createVerifier({ aud: 'did:web:api.example', store, trustHostHeader: true });
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
    const d = await verifyRequest(new Request('http://127.0.0.1/profile/email', { headers: { authorization: `Bearer ${token}` } }), v, guard as never);
    expect([d.ok, d.status, d.reasons]).toEqual([false, 400, [{ code: 'INVALID_ARGUMENT', message: FIXED }]]);
    expect(d.routeError).toBe(err);
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

  it.each(['express', 'fastify', 'hono'])('%s: 400 problem details with the fixed message only', async (name) => {
    const res = await fetch(`${bases[name]}/profile/email`, { headers: { authorization: `Bearer ${token}` } });
    const body = await res.text();
    expect(res.status).toBe(400);
    expect(body).toContain(FIXED);
    for (const leak of ['10.20.0.7', 'SELECT', '/srv/app', 'ECONNREFUSED']) expect(body).not.toContain(leak);
    res.headers.forEach((val, k) => {
      for (const leak of ['10.20.0.7', 'SELECT']) expect(`${k}: ${val}`).not.toContain(leak);
    });
  });
});
