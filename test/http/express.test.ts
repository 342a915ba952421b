import type { AddressInfo } from 'node:net';
import express from 'express';
import { challenge, charter, requireAgent, requireGrant } from '../../src/http/adapters/express.js';
import { adapterSuite, pause } from './suite.js';

adapterSuite('Express', async ({ verifier, challengeVerifier, trust, owner, ran }) => {
  const app = express();
  app.get('/profile/email', charter(verifier, requireGrant({ resource: 'profile/email', action: 'read', owner })), (req, res) => {
    ran.push('email');
    res.json({ holder: req.charter!.holder, grantor: req.charter!.grant!.grantor });
  });
  app.get('/photos/:id', charter(verifier, requireGrant({ resource: (req) => `photos/${req.params.id}`, action: 'read', owner })), (_req, res) => {
    ran.push('photos');
    res.json({});
  });
  app.get('/raw', charter(verifier, requireGrant({ resource: 'profile/email', action: 'read', owner })), (_req, res) => {
    ran.push('raw');
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('raw');
  });
  app.get('/whoami', charter(verifier), (req, res) => {
    ran.push('whoami');
    res.json({ holder: req.charter!.holder });
  });
  const guard = requireAgent({ action: 'purchase', amount: (req) => req.get('x-amount'), trust });
  app.post('/orders', charter(verifier, guard), async (req, res) => {
    ran.push('order');
    await pause(req.get('x-delay'));
    if (req.get('x-fail')) return void res.status(500).json({ error: 'payment failed' });
    if (req.get('x-release')) {
      await req.charter!.release();
      return void res.json({ released: true });
    }
    res.status(201).json({ agent: req.charter!.holder, remaining: req.charter!.spend?.remaining });
  });
  app.post('/orders/commit-first', charter(verifier, guard), async (req, res) => {
    ran.push('order');
    await pause(req.get('x-delay'));
    await req.charter!.commit(); // the spend is recorded before anything irreversible happens
    res.status(201).json({ shipped: true });
  });
  const c = express.Router();
  c.get('/profile/email', charter(challengeVerifier, requireGrant({ resource: 'profile/email', action: 'read', owner })), (_req, res) => {
    ran.push('email');
    res.json({});
  });
  c.post('/challenge', challenge(challengeVerifier));
  app.use('/c', c);
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((r) => server.once('listening', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
});
