import { Readable } from 'node:stream';
import type { FastifyReply, FastifyRequest, RequestPayload } from 'fastify';
import { hasBody, MAX_BODY_BYTES, readNodeBody } from '../body.js';
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
import { challengeBody, RECEIPT_HEADER, refusalOf, type Refused } from '../refusal.js';
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
  // A Buffer: Fastify would add "; charset=utf-8" to a string's content type, unlike Express and Hono.
  return reply
    .code(r.status)
    .headers(r.headers)
    .send(Buffer.from(JSON.stringify(r.body)));
};

/**
 * A preParsing hook, `app.addHook('preParsing', keepRawBody)`: keeps the
 * body as sent in `request.rawBody` (capped by the route's bodyLimit) before
 * Fastify parses it, so a guard can check a signed Content-Digest.
 */
export async function keepRawBody(request: FastifyRequest, _reply: FastifyReply, payload: RequestPayload): Promise<RequestPayload> {
  const limit = request.routeOptions?.bodyLimit ?? MAX_BODY_BYTES;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of payload) {
    const b = typeof c === 'string' ? Buffer.from(c) : (c as Buffer);
    size += b.length;
    if (size > limit) throw Object.assign(new Error('Request body is too large'), { statusCode: 413, code: 'FST_ERR_CTP_BODY_TOO_LARGE' });
    chunks.push(b);
  }
  const raw = Buffer.concat(chunks);
  (request as { rawBody?: Buffer }).rawBody = raw;
  const replay = Readable.from([raw]) as Readable & { receivedEncodedLength?: number };
  replay.receivedEncodedLength = raw.length;
  return replay;
}

/**
 * The body as sent, for a signature covering Content-Digest: `request.rawBody`
 * (keepRawBody), or the body when a content-type parser left it a Buffer.
 * Fastify parses before any preHandler runs, so without one of these the
 * bytes are gone: TypeError, a server configuration mistake.
 */
function fastifyBody(request: FastifyRequest): Promise<Uint8Array> {
  const raw = (request as { rawBody?: unknown }).rawBody;
  if (raw instanceof Uint8Array) return Promise.resolve(raw);
  if (Buffer.isBuffer(request.body)) return Promise.resolve(request.body);
  if (!hasBody(request.raw)) return Promise.resolve(new Uint8Array());
  // Nothing parsed it (a GET over HTTP/2 whose empty body came in a DATA frame): read here.
  if (request.body === undefined && !request.raw.readableDidRead) return readNodeBody(request.raw);
  return Promise.reject(new TypeError("charter(): Fastify parsed the body before the guard: add app.addHook('preParsing', keepRawBody) to check a signed Content-Digest"));
}

/**
 * A Fastify preHandler: `app.get('/x', { preHandler: charter(verifier, guard) }, handler)`.
 * Refuses with 401/403/400/503 problem details, or sets `request.charter`.
 * Guards combine: `charter(verifier, requireSignature(…), requireAgent(…))`.
 */
export function charter(verifier: Verifier, ...guards: Array<Guard<FastifyRequest>>) {
  checkHttpVerifier(verifier);
  const set = guardSet(guards);
  return async function charterPreHandler(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const d = await authorize({ ...nodeRequest(request.raw, request.originalUrl ?? request.raw.url), body: () => fastifyBody(request) }, verifier, set, request);
    if (!d.ok) {
      await send(reply, d);
      return;
    }
    // On the raw response: it goes out with Fastify's own headers, and also when the handler hijacks the reply.
    if (d.receipt !== undefined) reply.raw.setHeader(RECEIPT_HEADER, d.receipt);
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
