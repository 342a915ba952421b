import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { challenge, charter, requireAgent, requireGrant, type CharterEnv } from '../../src/http/adapters/hono.js';
import { adapterSuite, pause } from './suite.js';
import { mount } from 'hono/mount';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request as httpRequest } from 'node:http';
import { openWorld, type World } from './world.js';
import { bound } from './present.js';

adapterSuite('Hono', async ({ verifier, challengeVerifier, trust, owner, ran }) => {
  const app = new Hono<CharterEnv>();
  app.get('/profile/email', charter(verifier, requireGrant({ resource: 'profile/email', action: 'read', owner })), (c) => {
    ran.push('email');
    return c.json({ holder: c.get('charter').holder, grantor: c.get('charter').grant!.grantor });
  });
  app.get('/photos/:id', charter(verifier, requireGrant({ resource: (c) => `photos/${c.req.param('id')}`, action: 'read', owner })), (c) => {
    ran.push('photos');
    return c.json({});
  });
  app.get('/raw', charter(verifier, requireGrant({ resource: 'profile/email', action: 'read', owner })), () => {
    ran.push('raw');
    return new Response('raw', { headers: { 'content-type': 'text/plain' } });
  });
  app.get('/whoami', charter(verifier), (c) => {
    ran.push('whoami');
    return c.json({ holder: c.get('charter').holder });
  });
  app.post('/orders', charter(verifier, requireAgent({ action: 'purchase', amount: (c) => c.req.header('x-amount'), trust })), async (c) => {
    ran.push('order');
    await pause(c.req.header('x-delay'));
    if (c.req.header('x-fail')) return c.json({ error: 'payment failed' }, 500);
    if (c.req.header('x-release')) {
      await c.get('charter').release();
      return c.json({ released: true });
    }
    return c.json({ agent: c.get('charter').holder, remaining: c.get('charter').spend?.remaining }, 201);
  });
  app.post('/orders/commit-first', charter(verifier, requireAgent({ action: 'purchase', amount: (c) => c.req.header('x-amount'), trust })), async (c) => {
    ran.push('order');
    await pause(c.req.header('x-delay'));
    await c.get('charter').commit();
    return c.json({ shipped: true }, 201);
  });
  const sub = new Hono<CharterEnv>();
  sub.get('/profile/email', charter(challengeVerifier, requireGrant({ resource: 'profile/email', action: 'read', owner })), (c) => {
    ran.push('email');
    return c.json({});
  });
  sub.post('/challenge', challenge(challengeVerifier));
  app.route('/c', sub);
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
});

/**
 * A mounted app (app.mount, hono/mount) sees a Request rebuilt with its prefix
 * stripped; the presentation stays bound to the path the client sent, so a
 * token for /whoami never runs the mounted /admin/whoami handler, and one for
 * /admin/whoami does.
 */
describe('Hono: a mounted app binds the path the client sent', () => {
  let w: World;
  let port: number;
  let close: () => Promise<void>;
  const ran: string[] = [];
  beforeAll(async () => {
    w = await openWorld();
    const v = w.verifier({ publicOrigin: 'https://api.example' });
    const admin = new Hono<CharterEnv>();
    admin.get('/whoami', charter(v), (c) => (ran.push('admin'), c.json({})));
    const app = new Hono<CharterEnv>();
    app.get('/whoami', charter(v), (c) => (ran.push('top'), c.json({})));
    app.mount('/admin', admin.fetch);
    app.all('/shop/*', mount(admin.fetch));
    const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
      const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
    });
    port = (server.address() as AddressInfo).port;
    close = () => new Promise<void>((r) => server.close(() => r()));
  });
  afterAll(async () => {
    await close();
    await w.close();
  });
  const send = (path: string, token: string) =>
    new Promise<number>((resolve, reject) => {
      const r = httpRequest({ host: '127.0.0.1', port, path, headers: { authorization: `Bearer ${token}`, host: 'api.example' } }, (m) => {
        m.resume();
        m.on('end', () => resolve(m.statusCode!));
      });
      r.on('error', reject);
      r.end();
    });

  it.each([
    ['/whoami', '/whoami', 200, ['top']],
    ['/admin/whoami', '/admin/whoami', 200, ['admin']],
    ['/shop/whoami', '/shop/whoami', 200, ['admin']],
    ['/whoami', '/admin/whoami', 401, []],
    ['/whoami', '/shop/whoami', 401, []],
    ['/admin/whoami', '/shop/whoami', 401, []],
    ['/admin/whoami', '/whoami', 401, []],
  ])('a token for %s, sent to %s: %i', async (boundTo, path, status, handlers) => {
    ran.length = 0;
    const g = await w.grant();
    expect(await send(path, await bound(w.app, [g.jwt], { url: `https://api.example${boundTo}` }))).toBe(status);
    expect(ran).toEqual(handlers);
  });
});
