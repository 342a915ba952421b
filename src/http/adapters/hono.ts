import type { Context, MiddlewareHandler } from 'hono';
import { createContext, type CharterContext } from '../context.js';
import { requireAgent as agentGuard, requireGrant as grantGuard, type AgentGuard, type AgentGuardOptions, type GrantGuard, type GrantGuardOptions, type Guard } from '../guards.js';
import { authorize } from '../request.js';
import { challengeBody, refusalResponse } from '../refusal.js';
import type { Verifier } from '../verifier.js';

export * from './core-exports.js';

/** requireGrant with functions of the Context (e.g. a route parameter as the resource). */
export const requireGrant = (options: GrantGuardOptions<Context>): GrantGuard<Context> => grantGuard<Context>(options);
/** requireAgent with functions of the Context (e.g. the amount from the body). */
export const requireAgent = (options: AgentGuardOptions<Context>): AgentGuard<Context> => agentGuard<Context>(options);

/** `new Hono<CharterEnv>()` types `c.get('charter')`. */
export type CharterEnv = { Variables: { charter: CharterContext } };

/**
 * Hono middleware, shaped like hono's own `jwt()`: refuses with 401/403
 * problem details, or sets `c.get('charter')` and runs the handler.
 */
export function charter(verifier: Verifier, guard?: Guard<Context>): MiddlewareHandler<CharterEnv> {
  if (!verifier || typeof verifier.issueNonce !== 'function') throw new TypeError('charter(verifier): build the verifier with createVerifier()');
  return async (c, next) => {
    const d = await authorize({ method: c.req.method, url: c.req.url, authorization: c.req.header('authorization') }, verifier, guard, c);
    if (!d.ok) return refusalResponse(d);
    const ctx = createContext(verifier, d);
    c.set('charter', ctx);
    try {
      await next();
    } catch (e) {
      await ctx.settle(false);
      throw e;
    }
    // hono's compose keeps handler errors in c.error rather than throwing them here.
    await ctx.settle(c.error === undefined && c.res.status < 400);
    return undefined;
  };
}

/** `app.post('/charter/challenge', challenge(verifier))`: a fresh nonce as JSON `{ nonce, expiresAt }`. */
export function challenge(verifier: Verifier): MiddlewareHandler {
  return async (c) => c.json(await challengeBody(verifier), 200, { 'cache-control': 'no-store' });
}
