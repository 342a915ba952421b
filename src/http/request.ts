import type { IncomingMessage } from 'node:http';
import { HTTP_STATUS, isCharterError, type Reason } from '../errors.js';
import { decide, type GuardDecision } from '../guard/decide.js';
import type { Verifier } from '../guard/verifier.js';
import { policyFor, type Guard } from './guards.js';
import { wwwAuthenticate } from './refusal.js';

/** What the core needs of a request, whatever the framework. */
export interface BoundRequest {
  method: string;
  /** The request's path (with any query), as received: `/users/alice/email?x=1`. */
  path: string;
  /** The Host header and scheme, used only by a verifier built with `trustHostHeader`. */
  host?: string | undefined;
  secure?: boolean;
  authorization: string | null | undefined;
}

/** The pipeline's decision for one HTTP request, with its RFC 6750 challenge. */
export interface RequestDecision extends GuardDecision {
  /** Set on 401 and 403 (RFC 6750 §3). */
  wwwAuthenticate?: string;
}

/** RFC 6750 §2.1: `Bearer` 1*SP b64token. Undefined when absent or another scheme. */
export function bearerToken(authorization: string | null | undefined): string | undefined {
  if (!authorization) return undefined;
  const m = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(authorization);
  return m ? m[1] : undefined;
}

/**
 * The URL a presentation's `htu` must name: the verifier's public origin
 * plus the request's path, never the client's Host header, unless the
 * verifier was explicitly built to trust it (behind a proxy that sets it).
 */
function boundUrl(v: Verifier, input: BoundRequest): string | undefined {
  const path = input.path.startsWith('/') ? input.path : `/${input.path}`;
  if (v.http === false) return undefined;
  if (v.http === 'host-header') return input.host ? `${input.secure ? 'https' : 'http'}://${input.host}${path}` : undefined;
  return v.http.origin + path;
}

function withChallenge(v: Verifier, d: GuardDecision, noCredentials = false): RequestDecision {
  if (d.ok || (d.status !== 401 && d.status !== 403 && d.status !== 400)) return d;
  return { ...d, wwwAuthenticate: wwwAuthenticate(v, d.status, noCredentials ? undefined : d.reasons[0]?.code, d.nonce) };
}

/**
 * The framework-neutral core: is this request carrying an authentic
 * presentation bound to this verifier, this request and a fresh nonce or
 * jti, and (with a guard) does it allow what the route does? One pipeline
 * (guard/decide.ts) decides; this only builds the request's binding and
 * policy and adds the RFC 6750 challenge. Never throws for a refusal or a
 * store fault (503); a value the route computes from a malformed request
 * (an amount, a resource path) is a 400.
 */
export async function authorize<R>(input: BoundRequest, verifier: Verifier, guard: Guard<R> | undefined, req: R): Promise<RequestDecision> {
  if (verifier.http === false) throw new TypeError('this verifier was built with http: false; build one with publicOrigin for HTTP routes');
  // The proof: a vp+jwt, an SD-JWT grant presentation (recognised by its "~"), or a payment mandate chain
  // (a mandate guard's Bearer token, or wherever its `chain` function finds it).
  let token: unknown;
  try {
    token = guard?.kind === 'mandate' && guard.chain ? await guard.chain(req) : bearerToken(input.authorization);
  } catch (e) {
    if (isCharterError(e) && HTTP_STATUS[e.code] === 400) return withChallenge(verifier, { ok: false, status: 400, reasons: [{ code: e.code, message: e.message } satisfies Reason] });
    throw e;
  }
  if (token === undefined || token === null || token === '') {
    const d = await decide(verifier, undefined, { kind: 'presentation' }, { kind: 'none' });
    const how = guard?.kind === 'mandate' ? 'send the payment mandate chain (Authorization: Bearer <chain>)' : 'send a presentation as Authorization: Bearer <vp+jwt> (or an SD-JWT grant presentation)';
    return withChallenge(verifier, { ...d, reasons: [{ code: 'INVALID_PRESENTATION', message: how }] }, true);
  }
  const url = boundUrl(verifier, input);
  let policy;
  try {
    policy = policyFor(guard, req);
  } catch (e) {
    if (isCharterError(e) && HTTP_STATUS[e.code] === 400) return withChallenge(verifier, { ok: false, status: 400, reasons: [{ code: e.code, message: e.message } satisfies Reason] });
    throw e;
  }
  if (url === undefined) {
    return withChallenge(verifier, { ok: false, status: 401, reasons: [{ code: 'REQUEST_MISMATCH', message: 'the request names no host, so no URL can be bound' }] });
  }
  return withChallenge(verifier, await decide(verifier, token, policy, { kind: 'http', method: input.method.toUpperCase(), url }));
}

/** authorize over a web-standard Request (Hono, Bun, Deno, undici). */
export function verifyRequest(request: Request, verifier: Verifier, guard?: Guard<Request>): Promise<RequestDecision> {
  return authorize(webRequest(request), verifier, guard, request);
}

export function webRequest(request: Request): BoundRequest {
  const u = new URL(request.url);
  return { method: request.method, path: u.pathname + u.search, host: u.host, secure: u.protocol === 'https:', authorization: request.headers.get('authorization') };
}

/** A Node request's binding input; `path` is the full path as received (Express: `req.originalUrl`). */
export function nodeRequest(req: IncomingMessage, path = req.url ?? '/'): BoundRequest {
  return {
    method: req.method ?? 'GET',
    path,
    host: req.headers.host,
    secure: (req.socket as { encrypted?: boolean }).encrypted === true,
    authorization: req.headers.authorization,
  };
}

/** authorize over Node's IncomingMessage (plain node:http, Express, Fastify's raw request). */
export function verifyNodeRequest(req: IncomingMessage, verifier: Verifier, guard?: Guard<IncomingMessage>): Promise<RequestDecision> {
  return authorize(nodeRequest(req), verifier, guard, req);
}
