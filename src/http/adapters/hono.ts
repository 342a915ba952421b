import type { Context, MiddlewareHandler } from 'hono';
import { createContext, type CharterContext } from '../context.js';
import {
  guardSet,
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
import { authorize, nodeHost, webRequest, type RawTarget } from '../request.js';
import { readWebBody } from '../body.js';
import { challengeBody, RECEIPT_HEADER, refusalResponse } from '../refusal.js';
import { checkHttpVerifier, storeFaultRefusal } from './common.js';
import type { Verifier } from '../../guard/verifier.js';

export * from './core-exports.js';

/** requireGrant with functions of the Context (e.g. a route parameter as the resource and its owner). */
export const requireGrant = (options: GrantGuardOptions<Context>): GrantGuard<Context> => grantGuard<Context>(options);
/** requireAgent with functions of the Context (e.g. the amount from the body). */
export const requireAgent = (options: AgentGuardOptions<Context>): AgentGuard<Context> => agentGuard<Context>(options);
/** requireMandate with functions of the Context (e.g. the chain from the body). */
export const requireMandate = (options: MandateGuardOptions<Context>): MandateGuard<Context> => mandateGuard<Context>(options);

/** `new Hono<CharterEnv>()` types `c.get('charter')`. */
export type CharterEnv = { Variables: { charter: CharterContext } };

/**
 * Hono middleware, shaped like hono's own `jwt()`: refuses with 401/403/400/503
 * problem details, or sets `c.get('charter')` and runs the handler. The
 * handler's response is returned only after its spend is committed (a 503
 * otherwise). Guards combine: `charter(verifier, requireSignature(…), requireAgent(…))`.
 */
export function charter(verifier: Verifier, ...guards: Array<Guard<Context>>): MiddlewareHandler<CharterEnv> {
  checkHttpVerifier(verifier);
  const set = guardSet(guards);
  return async (c, next) => {
    // hono keeps a body read through c.req, so the handler can still read it (c.req.json()) after the digest check.
    const d = await authorize({ ...webRequest(c.req.raw, nodeIncoming(c)), body: () => readWebBody(c.req.raw.clone()) }, verifier, set, c);
    if (!d.ok) return refusalResponse(d);
    if (d.receipt !== undefined) c.header(RECEIPT_HEADER, d.receipt);
    const ctx = createContext(d);
    c.set('charter', ctx);
    try {
      await next();
    } catch (e) {
      await ctx.finish(false);
      throw e;
    }
    // hono's compose keeps handler errors in c.error rather than throwing them here.
    const failure = await ctx.finish(c.error === undefined && c.res.status < 400);
    if (failure) {
      c.res = undefined as unknown as Response; // hono: clear, then set, to replace rather than merge headers
      c.res = refusalResponse({ status: 503, reasons: [failure] });
    } else if (d.receipt !== undefined && !c.res.headers.has(RECEIPT_HEADER)) {
      // A Response the handler built itself (new Response(), a proxied fetch) never saw c.header().
      withHeader(c, RECEIPT_HEADER, d.receipt);
    }
    return undefined;
  };
}

/** Sets a header on the handler's response; one with immutable headers (a fetch()'s) is copied first. */
function withHeader(c: Context, name: string, value: string): void {
  try {
    c.res.headers.set(name, value);
  } catch {
    const copy = new Response(c.res.body, c.res);
    copy.headers.set(name, value);
    c.res = undefined as unknown as Response;
    c.res = copy;
  }
}

/**
 * The Node request under @hono/node-server (`c.env.incoming`), whose request
 * target and host are what the client sent; the Request hono builds from
 * them has an absolute-form target's host, or the listener's name when
 * Host is missing. Over HTTP/2 the host is `:authority`, what the server
 * built the Request's URL from (nodeHost: a Host line naming another one
 * binds nothing). Undefined on other runtimes.
 */
function nodeIncoming(c: Context): RawTarget | undefined {
  const incoming = (c.env as { incoming?: { url?: unknown; headers?: unknown; socket?: { encrypted?: unknown } } } | undefined)?.incoming;
  if (!incoming || typeof incoming !== 'object' || typeof incoming.headers !== 'object' || incoming.headers === null) return undefined;
  // TLS from the socket, as nodeRequest reads it: the Request URL's scheme is HTTP/2's :scheme, the client's word.
  const secure = incoming.socket?.encrypted === true;
  return { target: typeof incoming.url === 'string' ? incoming.url : '', host: nodeHost(incoming, secure), secure };
}

/** `app.post('/charter/challenge', challenge(verifier))`: a fresh nonce as JSON `{ nonce, expiresAt }`. */
export function challenge(verifier: Verifier): MiddlewareHandler {
  checkHttpVerifier(verifier);
  return async (c) => {
    try {
      return c.json(await challengeBody(verifier), 200, { 'cache-control': 'no-store' });
    } catch (e) {
      const r = storeFaultRefusal(e);
      if (r) return refusalResponse(r);
      throw e;
    }
  };
}
