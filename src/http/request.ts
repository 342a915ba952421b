import type { IncomingMessage } from 'node:http';
import { isCharterError, type Reason } from '../errors.js';
import { decodeJwt, verifyPresentation, type DecodedJwt } from '../credentials/index.js';
import type { PresentationVerification } from '../credentials/types.js';
import { verifyGrant, type GrantDecision } from '../grants/index.js';
import { reserveSpend, verifyAgent } from '../agents/index.js';
import type { AgentDecision } from '../agents/types.js';
import { bearerToken, bindingReasons } from './binding.js';
import { valueOf, type AgentGuard, type GrantGuard, type Guard } from './guards.js';
import { statusOf, STORE_FAULTS, type DecisionStatus } from './status-map.js';
import { redeem, type Verifier } from './verifier.js';
import { wwwAuthenticate } from './refusal.js';

/** What the core needs of a request, whatever the framework. */
export interface BoundRequest {
  method: string;
  /** Absolute URL as received (query and fragment are ignored). */
  url: string;
  authorization: string | null | undefined;
}

export interface RequestDecision {
  ok: boolean;
  status: DecisionStatus;
  reasons: Reason[];
  /** The presentation's holder, once its signature verified. */
  holder?: string;
  /** The presentation's claims (jti, iat, htm, htu, nonce) once authentic. */
  claims?: Record<string, unknown>;
  /** Without a guard: the presentation and each credential in it. */
  presentation?: PresentationVerification;
  grant?: GrantDecision;
  agent?: AgentDecision;
  /** Set on 401 and 403 (RFC 6750 §3). */
  wwwAuthenticate?: string;
}

const MAX_VP = 512 * 1024;

async function refuse(v: Verifier, status: DecisionStatus, reasons: Reason[], rest: Partial<RequestDecision> = {}, authInfo = true): Promise<RequestDecision> {
  const nonce = status === 401 && v.nonces === 'challenge' ? (await v.issueNonce()).nonce : undefined;
  return { ...rest, ok: false, status, reasons, wwwAuthenticate: wwwAuthenticate(v, status, authInfo ? reasons[0]?.code : undefined, nonce) };
}

function urlFor(v: Verifier, url: string): string {
  if (v.publicOrigin === undefined) return url;
  try {
    return v.publicOrigin + new URL(url).pathname;
  } catch {
    // A malformed Host header: no URL a presentation could be bound to (REQUEST_MISMATCH, 401).
    return url;
  }
}

/**
 * The framework-neutral core: is this request carrying an authentic
 * presentation bound to this verifier, this request and a fresh nonce or jti,
 * and (with a guard) does it allow what the route does? Cheap checks first,
 * then signatures and status, then the replay cache. Exceptions only for
 * faults (store down); a bad amount or action from the request is a 400.
 */
export async function authorize<R>(input: BoundRequest, verifier: Verifier, guard: Guard<R> | undefined, req: R): Promise<RequestDecision> {
  try {
    return await decide(input, verifier, guard, req);
  } catch (e) {
    // Fail closed: with the replay cache or ledger unreachable nothing is allowed; 503 tells the client to retry.
    if (isCharterError(e) && STORE_FAULTS.has(e.code)) return { ok: false, status: 503, reasons: [{ code: e.code, message: e.message }] };
    throw e;
  }
}

async function decide<R>(input: BoundRequest, verifier: Verifier, guard: Guard<R> | undefined, req: R): Promise<RequestDecision> {
  const token = bearerToken(input.authorization);
  if (token === undefined) {
    return refuse(verifier, 401, [{ code: 'INVALID_PRESENTATION', message: 'send a presentation as Authorization: Bearer <vp+jwt>' }], {}, false);
  }
  const now = Date.now();
  let d: DecodedJwt;
  try {
    d = decodeJwt(token, { maxBytes: MAX_VP });
  } catch (e) {
    return refuse(verifier, 401, [isCharterError(e) ? { code: e.code, message: e.message } : { code: 'MALFORMED_JWT', message: 'not a compact JWS' }]);
  }
  const binding = bindingReasons(d.header as Record<string, unknown>, d.payload, {
    method: input.method,
    url: urlFor(verifier, input.url),
    aud: verifier.aud,
    now,
    maxAgeSeconds: verifier.maxAgeSeconds,
    skewSeconds: verifier.skewSeconds,
    mode: verifier.nonces,
  });
  if (binding.length > 0) return refuse(verifier, 401, binding);

  let checked: Pick<RequestDecision, 'reasons' | 'holder' | 'presentation' | 'grant' | 'agent'> & { amount?: string };
  try {
    checked = await check(token, d.payload, verifier, guard, req, now);
  } catch (e) {
    if (isCharterError(e, 'INVALID_ARGUMENT')) return refuse(verifier, 400, [{ code: e.code, message: e.message }]);
    throw e;
  }
  const { amount, ...result } = checked;
  const status = statusOf(result.reasons);
  if (status === 401 || status === 400) {
    // Not authentic: name no holder.
    const { holder: _h, ...rest } = result;
    return refuse(verifier, status, result.reasons, rest);
  }

  // Authentic: the presentation is now used, whatever the outcome. Only then is any spend
  // reserved, so a replayed presentation never holds budget, not even for a moment.
  const unused = await redeem(verifier, result.holder!, d.payload, now);
  if (unused) return refuse(verifier, 401, [unused], result);
  const base = { ...result, claims: d.payload };
  if (status === 403) return refuse(verifier, 403, result.reasons, base);
  if (guard?.kind === 'agent' && guard.record === true && result.agent) {
    const spend = await reserveSpend(verifier.store, result.agent, { ...(amount !== undefined ? { amount } : {}), at: new Date(now) });
    const agent = { ...result.agent, remaining: spend.remaining, ...(spend.reservationId !== undefined ? { reservationId: spend.reservationId } : {}) };
    if (!spend.ok) return refuse(verifier, 403, spend.reasons, { ...base, reasons: spend.reasons, agent: { ...agent, ok: false, reasons: spend.reasons } });
    return { ok: true, status: 200, ...base, agent };
  }
  return { ok: true, status: 200, ...base };
}

/** The options verifyPresentation, verifyGrant and verifyAgent share here. */
interface Common {
  resolver: Verifier['resolver'];
  status: Verifier['status'];
  aud: string;
  skewSeconds: number;
  nonce?: string;
  allowMissingNonce?: boolean;
}

async function check<R>(token: string, p: Record<string, unknown>, v: Verifier, guard: Guard<R> | undefined, req: R, now: number) {
  const at = new Date(now);
  const common: Common = { resolver: v.resolver, status: v.status, aud: v.aud, skewSeconds: v.skewSeconds, ...(v.nonces === 'challenge' ? { nonce: p.nonce as string } : { allowMissingNonce: true }) };
  if (guard === undefined) {
    const pres = await verifyPresentation(token, { ...common, now: at, maxAgeSeconds: v.maxAgeSeconds });
    return { reasons: pres.reasons, ...(pres.holder !== undefined ? { holder: pres.holder } : {}), presentation: pres };
  }
  if (guard.kind === 'grant') return checkGrant(token, p, guard, req, common, at);
  return checkAgent(token, guard, req, v, common, at);
}

async function checkGrant<R>(token: string, p: Record<string, unknown>, g: GrantGuard<R>, req: R, common: Common, at: Date) {
  // The presenter must be the grantee; an unauthentic holder fails on the signature below.
  const holder = typeof p.holder === 'string' ? p.holder : undefined;
  const grant = await verifyGrant(token, {
    ...common,
    resource: valueOf(g.resource, req),
    action: valueOf(g.action, req),
    ...(holder !== undefined ? { grantee: holder } : {}),
    at,
  });
  return { reasons: grant.reasons, ...(holder !== undefined ? { holder } : {}), grant };
}

async function checkAgent<R>(token: string, g: AgentGuard<R>, req: R, v: Verifier, common: Common, at: Date) {
  const amount = g.amount?.(req);
  const agent = await verifyAgent(token, {
    ...common,
    maxAgeSeconds: v.maxAgeSeconds,
    action: valueOf(g.action, req),
    ...(amount !== undefined ? { amount } : {}),
    counterparty: g.counterparty ?? v.aud,
    trust: g.trust,
    // Checked here, reserved after the jti is used up (see decide).
    ledger: v.store,
    ...(g.reputation ? { reputation: g.reputation } : {}),
    at,
  });
  return { reasons: agent.reasons, ...(agent.agent !== undefined ? { holder: agent.agent } : {}), agent, ...(amount !== undefined ? { amount } : {}) };
}

/** verifyRequest over a web-standard Request (Hono, Bun, Deno, undici). */
export function verifyRequest(request: Request, verifier: Verifier, guard?: Guard<Request>): Promise<RequestDecision> {
  return authorize({ method: request.method, url: request.url, authorization: request.headers.get('authorization') }, verifier, guard, request);
}

/** The absolute URL of a Node request: scheme from the socket, host from the Host header. */
export function nodeRequestUrl(req: IncomingMessage, path = req.url ?? '/'): string {
  const tls = (req.socket as { encrypted?: boolean }).encrypted === true;
  const host = req.headers.host ?? 'localhost';
  return `${tls ? 'https' : 'http'}://${host}${path.startsWith('/') ? path : '/' + path}`;
}

/** verifyRequest over Node's IncomingMessage (plain node:http, Express, Fastify's raw request). */
export function verifyNodeRequest(req: IncomingMessage, verifier: Verifier, guard?: Guard<IncomingMessage>): Promise<RequestDecision> {
  return authorize({ method: req.method ?? 'GET', url: nodeRequestUrl(req), authorization: req.headers.authorization }, verifier, guard, req);
}
