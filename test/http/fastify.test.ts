import Fastify from 'fastify';
import { challenge, charter, requireAgent, requireGrant } from '../../src/http/adapters/fastify.js';
import { adapterSuite, pause } from './suite.js';

adapterSuite('Fastify', async ({ verifier, challengeVerifier, trust, owner, ran }) => {
  const app = Fastify();
  app.get('/profile/email', { preHandler: charter(verifier, requireGrant({ resource: 'profile/email', action: 'read', owner })) }, async (request) => {
    ran.push('email');
    return { holder: request.charter!.holder, grantor: request.charter!.grant!.grantor };
  });
  app.get<{ Params: { id: string } }>(
    '/photos/:id',
    { preHandler: charter(verifier, requireGrant({ resource: (r) => `photos/${(r.params as { id: string }).id}`, action: 'read', owner })) },
    async () => {
      ran.push('photos');
      return {};
    },
  );
  app.get('/raw', { preHandler: charter(verifier, requireGrant({ resource: 'profile/email', action: 'read', owner })) }, (_request, reply) => {
    ran.push('raw');
    reply.hijack();
    reply.raw.writeHead(200, { 'content-type': 'text/plain' });
    reply.raw.end('raw');
  });
  app.get('/whoami', { preHandler: charter(verifier) }, async (request) => {
    ran.push('whoami');
    return { holder: request.charter!.holder };
  });
  const amount = (r: { headers: Record<string, string | string[] | undefined> }) => r.headers['x-amount'] as string | undefined;
  app.post('/orders', { preHandler: charter(verifier, requireAgent({ action: 'purchase', amount, trust })) }, async (request, reply) => {
    ran.push('order');
    await pause(request.headers['x-delay']);
    if (request.headers['x-fail']) return reply.code(500).send({ error: 'payment failed' });
    if (request.headers['x-release']) {
      await request.charter!.release();
      return { released: true };
    }
    return reply.code(201).send({ agent: request.charter!.holder, remaining: request.charter!.spend?.remaining });
  });
  app.post('/orders/commit-first', { preHandler: charter(verifier, requireAgent({ action: 'purchase', amount, trust })) }, async (request, reply) => {
    ran.push('order');
    await pause(request.headers['x-delay']);
    await request.charter!.commit();
    return reply.code(201).send({ shipped: true });
  });
  await app.register(
    async (c) => {
      c.get('/profile/email', { preHandler: charter(challengeVerifier, requireGrant({ resource: 'profile/email', action: 'read', owner })) }, async () => {
        ran.push('email');
        return {};
      });
      c.post('/challenge', challenge(challengeVerifier));
    },
    { prefix: '/c' },
  );
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return { url, close: () => app.close() };
});
