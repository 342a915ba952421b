import Fastify from 'fastify';
import { charter, keepRawBody, requireAgent } from '../../src/http/adapters/fastify.js';
import { signatureSuite } from './signature-suite.js';

signatureSuite('Fastify', async ({ verifier, signed, fetched, down, combined, trust, ran }) => {
  const app = Fastify();
  // Fastify parses before any preHandler: keep the bytes as sent for the signed Content-Digest.
  app.addHook('preParsing', keepRawBody);
  app.get('/signed', { preHandler: charter(verifier, signed) }, async (request) => {
    ran.push('signed');
    return { holder: request.charter!.holder, keyId: request.charter!.signature!.keyId, tag: request.charter!.signature!.tag };
  });
  app.post('/signed', { preHandler: charter(verifier, signed) }, async (request) => {
    ran.push('signed-post');
    return { body: request.body };
  });
  app.get('/fetched', { preHandler: charter(verifier, fetched) }, async (request) => {
    ran.push('fetched');
    return { holder: request.charter!.holder };
  });
  app.get('/down', { preHandler: charter(verifier, down) }, async () => {
    ran.push('down');
    return {};
  });
  const amount = (r: { headers: Record<string, string | string[] | undefined> }) => r.headers['x-amount'] as string | undefined;
  app.post('/orders', { preHandler: charter(verifier, combined, requireAgent({ action: 'purchase', amount, trust })) }, async (request, reply) => {
    ran.push('order');
    return reply.code(201).send({ agent: request.charter!.holder, keyId: request.charter!.signature!.keyId });
  });
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, close: () => app.close() };
});
