import type { FastifyReply, FastifyRequest } from 'fastify';
import { createContext, type CharterContext } from '../context.js';
import { requireAgent as agentGuard, requireGrant as grantGuard, type AgentGuard, type AgentGuardOptions, type GrantGuard, type GrantGuardOptions, type Guard } from '../guards.js';
import { authorize, nodeRequestUrl } from '../request.js';
import { challengeBody, refusalOf } from '../refusal.js';
import type { Verifier } from '../verifier.js';

export * from './core-exports.js';

/** requireGrant with functions of the FastifyRequest (e.g. a route parameter as the resource). */
export const requireGrant = (options: GrantGuardOptions<FastifyRequest>): GrantGuard<FastifyRequest> => grantGuard<FastifyRequest>(options);
/** requireAgent with functions of the FastifyRequest (e.g. the amount from the body). */
export const requireAgent = (options: AgentGuardOptions<FastifyRequest>): AgentGuard<FastifyRequest> => agentGuard<FastifyRequest>(options);

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by Charter's preHandler on an allowed request. */
    charter?: CharterContext;
  }
}

/**
 * A Fastify preHandler: `app.get('/x', { preHandler: charter(verifier, guard) }, handler)`.
 * Refuses with 401/403 problem details, or sets `request.charter`.
 */
export function charter(verifier: Verifier, guard?: Guard<FastifyRequest>) {
  if (!verifier || typeof verifier.issueNonce !== 'function') throw new TypeError('charter(verifier): build the verifier with createVerifier()');
  return async function charterPreHandler(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const d = await authorize(
      { method: request.method, url: nodeRequestUrl(request.raw), authorization: request.headers.authorization },
      verifier,
      guard,
      request,
    );
    if (!d.ok) {
      const r = refusalOf(d);
      await reply.code(r.status).headers(r.headers).send(JSON.stringify(r.body));
      return;
    }
    const ctx = createContext(verifier, d);
    request.charter = ctx;
    const raw = reply.raw;
    raw.once('finish', () => void ctx.settle(raw.statusCode < 400));
    raw.once('close', () => {
      if (!raw.writableFinished) void ctx.settle(false);
    });
  };
}

/** `app.post('/charter/challenge', challenge(verifier))`: a fresh nonce as JSON `{ nonce, expiresAt }`. */
export function challenge(verifier: Verifier) {
  return async function charterChallenge(_request: FastifyRequest, reply: FastifyReply) {
    return reply.header('cache-control', 'no-store').send(await challengeBody(verifier));
  };
}
