import type { AddressInfo } from 'node:net';
import express from 'express';
import { charter, keepRawBody, requireAgent } from '../../src/http/adapters/express.js';
import { signatureSuite } from './signature-suite.js';

signatureSuite('Express', async ({ verifier, signed, fetched, down, combined, trust, ran }) => {
  const app = express();
  app.get('/signed', charter(verifier, signed), (req, res) => {
    ran.push('signed');
    res.json({ holder: req.charter!.holder, keyId: req.charter!.signature!.keyId, tag: req.charter!.signature!.tag });
  });
  // The parser keeps the bytes as sent (keepRawBody), so the guard after it can check the signed Content-Digest.
  app.post('/signed', express.json({ verify: keepRawBody }), charter(verifier, signed), (req, res) => {
    ran.push('signed-post');
    res.json({ body: req.body });
  });
  app.get('/fetched', charter(verifier, fetched), (req, res) => {
    ran.push('fetched');
    res.json({ holder: req.charter!.holder });
  });
  app.get('/down', charter(verifier, down), (_req, res) => {
    ran.push('down');
    res.json({});
  });
  app.post('/orders', charter(verifier, combined, requireAgent({ action: 'purchase', amount: (req) => req.get('x-amount'), trust })), (req, res) => {
    ran.push('order');
    res.status(201).json({ agent: req.charter!.holder, keyId: req.charter!.signature!.keyId });
  });
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
