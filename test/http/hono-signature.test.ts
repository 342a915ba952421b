import type { AddressInfo } from 'node:net';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { charter, requireAgent, type CharterEnv } from '../../src/http/adapters/hono.js';
import { signatureSuite } from './signature-suite.js';

signatureSuite('Hono', async ({ verifier, signed, fetched, down, combined, trust, ran }) => {
  const app = new Hono<CharterEnv>();
  app.get('/signed', charter(verifier, signed), (c) => {
    ran.push('signed');
    const s = c.get('charter');
    return c.json({ holder: s.holder, keyId: s.signature!.keyId, tag: s.signature!.tag });
  });
  // hono keeps the body the guard read for its digest: the handler still parses it.
  app.post('/signed', charter(verifier, signed), async (c) => {
    ran.push('signed-post');
    return c.json({ body: await c.req.json() });
  });
  app.get('/fetched', charter(verifier, fetched), (c) => {
    ran.push('fetched');
    return c.json({ holder: c.get('charter').holder });
  });
  app.get('/down', charter(verifier, down), (c) => {
    ran.push('down');
    return c.json({});
  });
  app.post('/orders', charter(verifier, combined, requireAgent({ action: 'purchase', amount: (c) => c.req.header('x-amount'), trust })), (c) => {
    ran.push('order');
    return c.json({ agent: c.get('charter').holder, keyId: c.get('charter').signature!.keyId }, 201);
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () => new Promise<void>((r) => server.close(() => r())),
  };
});
