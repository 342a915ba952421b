import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { challenge, charter, requireAgent, requireGrant, type CharterEnv } from '../../src/http/adapters/hono.js';
import { adapterSuite, pause } from './suite.js';

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
