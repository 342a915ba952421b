import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { createContext, type CharterContext } from '../context.js';
import { requireAgent as agentGuard, requireGrant as grantGuard, type AgentGuard, type AgentGuardOptions, type GrantGuard, type GrantGuardOptions, type Guard } from '../guards.js';
import { authorize, nodeRequestUrl } from '../request.js';
import { challengeBody, writeRefusal } from '../refusal.js';
import type { Verifier } from '../verifier.js';

export * from './core-exports.js';

/** requireGrant with functions of the Request (e.g. a route parameter as the resource). */
export const requireGrant = (options: GrantGuardOptions<Request>): GrantGuard<Request> => grantGuard<Request>(options);
/** requireAgent with functions of the Request (e.g. the amount from the body). */
export const requireAgent = (options: AgentGuardOptions<Request>): AgentGuard<Request> => agentGuard<Request>(options);

declare global {
  // Express's own extension point for request properties.
  namespace Express {
    interface Request {
      /** Set by Charter's middleware on an allowed request. */
      charter?: CharterContext;
    }
  }
}

/**
 * Express middleware: refuses with 401/403 problem details, or sets
 * `req.charter` and calls the handler. `req.originalUrl` is the URL checked
 * against `htu`, so routers mounted under a prefix still bind the full path.
 */
export function charter(verifier: Verifier, guard?: Guard<Request>): RequestHandler {
  if (!verifier || typeof verifier.issueNonce !== 'function') throw new TypeError('charter(verifier): build the verifier with createVerifier()');
  return (req: Request, res: Response, next: NextFunction) => {
    authorize({ method: req.method, url: nodeRequestUrl(req, req.originalUrl), authorization: req.headers.authorization }, verifier, guard, req)
      .then((d) => {
        if (!d.ok) return writeRefusal(res, d);
        const ctx = createContext(verifier, d);
        req.charter = ctx;
        res.once('finish', () => void ctx.settle(res.statusCode < 400));
        res.once('close', () => {
          if (!res.writableFinished) void ctx.settle(false);
        });
        next();
      })
      .catch(next);
  };
}

/** `app.post('/charter/challenge', challenge(verifier))`: a fresh nonce as JSON `{ nonce, expiresAt }`. */
export function challenge(verifier: Verifier): RequestHandler {
  return (_req: Request, res: Response, next: NextFunction) => {
    challengeBody(verifier)
      .then((b) => res.set('cache-control', 'no-store').json(b))
      .catch(next);
  };
}
