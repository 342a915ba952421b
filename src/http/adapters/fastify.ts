import type { FastifyReply, FastifyRequest } from 'fastify';
import { createContext, settleBeforeSend, type CharterContext } from '../context.js';
import {
  requireAgent as agentGuard,
  requireGrant as grantGuard,
  requireMandate as mandateGuard,
  type AgentGuard,
  type AgentGuardOptions,
  type GrantGuard,
  type GrantGuardOptions,
  type Guard,
  type MandateGuard,
  type MandateGuardOptions,
} from '../guards.js';
import { authorize, nodeRequest } from '../request.js';
import { challengeBody, refusalOf, type Refused } from '../refusal.js';
import { checkHttpVerifier, storeFaultRefusal } from './common.js';
import type { Verifier } from '../../guard/verifier.js';

export * from './core-exports.js';

/** requireGrant with functions of the FastifyRequest (e.g. a route parameter as the resource and its owner). */
export const requireGrant = (options: GrantGuardOptions<FastifyRequest>): GrantGuard<FastifyRequest> => grantGuard<FastifyRequest>(options);
/** requireAgent with functions of the FastifyRequest (e.g. the amount from the body). */
export const requireAgent = (options: AgentGuardOptions<FastifyRequest>): AgentGuard<FastifyRequest> => agentGuard<FastifyRequest>(options);
/** requireMandate with functions of the FastifyRequest (e.g. the chain from the body). */
export const requireMandate = (options: MandateGuardOptions<FastifyRequest>): MandateGuard<FastifyRequest> => mandateGuard<FastifyRequest>(options);

declare module 'fastify' {
  interface FastifyRequest {
    /** Set by Charter's preHandler on an allowed request. */
    charter?: CharterContext;
  }
}

const send = (reply: FastifyReply, d: Refused) => {
  const r = refusalOf(d);
  return reply.code(r.status).headers(r.headers).send(JSON.stringify(r.body));
};

/**
 * A Fastify preHandler: `app.get('/x', { preHandler: charter(verifier, guard) }, handler)`.
 * Refuses with 401/403/400/503 problem details, or sets `request.charter`.
 */
export function charter(verifier: Verifier, guard?: Guard<FastifyRequest>) {
  checkHttpVerifier(verifier);
  return async function charterPreHandler(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const d = await authorize(nodeRequest(request.raw), verifier, guard, request);
    if (!d.ok) {
      await send(reply, d);
      return;
    }
    const ctx = createContext(d);
    request.charter = ctx;
    settleBeforeSend(reply.raw, ctx);
  };
}

/** `app.post('/charter/challenge', challenge(verifier))`: a fresh nonce as JSON `{ nonce, expiresAt }`. */
export function challenge(verifier: Verifier) {
  checkHttpVerifier(verifier);
  return async function charterChallenge(_request: FastifyRequest, reply: FastifyReply) {
    try {
      return await reply.header('cache-control', 'no-store').send(await challengeBody(verifier));
    } catch (e) {
      const r = storeFaultRefusal(e);
      if (r) return send(reply, r);
      throw e;
    }
  };
}
