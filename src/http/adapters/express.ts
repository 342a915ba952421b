import type { NextFunction, Request, RequestHandler, Response } from 'express';
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
import { challengeBody, writeRefusal } from '../refusal.js';
import { checkHttpVerifier, storeFaultRefusal } from './common.js';
import type { Verifier } from '../../guard/verifier.js';

export * from './core-exports.js';

/** requireGrant with functions of the Request (e.g. a route parameter as the resource and its owner). */
export const requireGrant = (options: GrantGuardOptions<Request>): GrantGuard<Request> => grantGuard<Request>(options);
/** requireAgent with functions of the Request (e.g. the amount from the body). */
export const requireAgent = (options: AgentGuardOptions<Request>): AgentGuard<Request> => agentGuard<Request>(options);
/** requireMandate with functions of the Request (e.g. the chain from the body). */
export const requireMandate = (options: MandateGuardOptions<Request>): MandateGuard<Request> => mandateGuard<Request>(options);

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
 * Express middleware: refuses with 401/403/400/503 problem details, or sets
 * `req.charter` and calls the handler. `req.originalUrl` is the path bound to
 * `htu`, so routers mounted under a prefix still bind the full path.
 */
export function charter(verifier: Verifier, guard?: Guard<Request>): RequestHandler {
  checkHttpVerifier(verifier);
  return (req: Request, res: Response, next: NextFunction) => {
    authorize(nodeRequest(req, req.originalUrl), verifier, guard, req)
      .then((d) => {
        if (!d.ok) return writeRefusal(res, d);
        const ctx = createContext(d);
        req.charter = ctx;
        settleBeforeSend(res, ctx);
        next();
      })
      .catch(next);
  };
}

/** `app.post('/charter/challenge', challenge(verifier))`: a fresh nonce as JSON `{ nonce, expiresAt }`. */
export function challenge(verifier: Verifier): RequestHandler {
  checkHttpVerifier(verifier);
  return (_req: Request, res: Response, next: NextFunction) => {
    challengeBody(verifier)
      .then((b) => res.set('cache-control', 'no-store').json(b))
      .catch((e: unknown) => {
        const r = storeFaultRefusal(e);
        if (r) writeRefusal(res, r);
        else next(e);
      });
  };
}
