import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { hasBody, readNodeBody } from '../body.js';
import { createContext, settleBeforeSend, type CharterContext } from '../context.js';
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
import { authorize, nodeRequest } from '../request.js';
import { challengeBody, RECEIPT_HEADER, writeRefusal } from '../refusal.js';
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
 * For `express.json({ verify: keepRawBody })` (or any body-parser): keeps the
 * bytes as sent in `req.rawBody`, so a guard can check a signed
 * Content-Digest after the body was parsed.
 */
export function keepRawBody(req: IncomingMessage, _res: ServerResponse, buf: Buffer): void {
  (req as { rawBody?: Buffer }).rawBody = buf;
}

/**
 * The body as sent, for a signature covering Content-Digest: `req.rawBody`
 * (keepRawBody), or `req.body` when express.raw() made it a Buffer; when no
 * parser ran yet, read here (at most 1 MiB) and left in `req.rawBody` and
 * `req.body` as a Buffer, as express.raw() would. A body parsed without its
 * bytes kept cannot be checked: TypeError, a server configuration mistake.
 */
function expressBody(req: Request): Promise<Uint8Array> {
  const raw = (req as { rawBody?: unknown }).rawBody;
  if (raw instanceof Uint8Array) return Promise.resolve(raw);
  if (Buffer.isBuffer(req.body)) return Promise.resolve(req.body);
  if (!hasBody(req)) return Promise.resolve(new Uint8Array());
  if (req.readableDidRead || req.readableEnded) {
    return Promise.reject(
      new TypeError(
        'charter(): the body was parsed before the guard without its bytes: use express.json({ verify: keepRawBody }) or express.raw(), or mount charter() before the body parser',
      ),
    );
  }
  return readNodeBody(req).then((b) => {
    (req as { rawBody?: Buffer }).rawBody = b;
    req.body = b;
    return b;
  });
}

/**
 * Express middleware: refuses with 401/403/400/503 problem details, or sets
 * `req.charter` and calls the handler. `req.originalUrl` is the path bound to
 * `htu`, so routers mounted under a prefix still bind the full path.
 * Guards combine: `charter(verifier, requireSignature(…), requireAgent(…))`
 * wants both a presentation and a request signature by its holder.
 */
export function charter(verifier: Verifier, ...guards: Array<Guard<Request>>): RequestHandler {
  checkHttpVerifier(verifier);
  const set = guardSet(guards);
  return (req: Request, res: Response, next: NextFunction) => {
    authorize({ ...nodeRequest(req, req.originalUrl), body: () => expressBody(req) }, verifier, set, req)
      .then((d) => {
        if (!d.ok) return writeRefusal(res, d);
        if (d.receipt !== undefined) res.setHeader(RECEIPT_HEADER, d.receipt);
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
