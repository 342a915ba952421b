import type { ServerResponse } from 'node:http';
import { HTTP_STATUS, type CharterErrorCode, type Reason } from '../errors.js';
import { problemBody, problemHeaders, type ProblemDetails } from '../guard/problem.js';
import type { Verifier } from '../guard/verifier.js';

/** RFC 6750 §3: quoted-string values; realm and nonce are checked or generated to need no escaping. */
const q = (s: string) => `"${s.replace(/["\\]/g, '')}"`;

/**
 * `WWW-Authenticate: Bearer realm="…", error="…", charter-nonce="…"`.
 * RFC 6750 §3.1: no error code when the request carried no credentials;
 * invalid_token on a 401, insufficient_scope on a 403, invalid_request on a
 * 400. `error_description` is the Charter code (never token content).
 */
export function wwwAuthenticate(v: Pick<Verifier, 'realm'>, status: number, code: CharterErrorCode | undefined, nonce?: string): string {
  const parts = [`realm=${q(v.realm)}`];
  const error = status === 400 ? 'invalid_request' : status === 403 ? 'insufficient_scope' : code !== undefined ? 'invalid_token' : undefined;
  if (error !== undefined) parts.push(`error=${q(error)}`);
  if (error !== undefined && code !== undefined) parts.push(`error_description=${q(code)}`);
  if (nonce !== undefined) parts.push(`charter-nonce=${q(nonce)}`);
  return `Bearer ${parts.join(', ')}`;
}

/** The parts of a refusal any framework can send: status, headers, RFC 9457 body. */
export interface Refusal {
  status: number;
  headers: Record<string, string>;
  body: ProblemDetails;
}

export interface Refused {
  status: number;
  reasons: Reason[];
  wwwAuthenticate?: string;
  /** RFC 9421 §5.1 Accept-Signature: the signature to send instead. */
  acceptSignature?: string;
  /** The verifier's signed receipt of this refusal, sent as `Charter-Receipt`. */
  receipt?: string;
}

/** The response header carrying a decision receipt (allow or deny). */
export const RECEIPT_HEADER = 'charter-receipt';

export function refusalOf(d: Refused): Refusal {
  // The problem's code is the first reason that decided the status (a 403 names the refusal, not a list that could not be fetched).
  const first = d.reasons.find((r) => HTTP_STATUS[r.code] === d.status) ?? d.reasons[0] ?? { code: 'INTERNAL' as const, message: 'refused' };
  const detail =
    d.status === 401
      ? `authentication failed: ${first.message}`
      : d.status === 403
        ? `not allowed: ${first.message}`
        : d.status === 503
          ? `try again shortly: ${first.message}`
          : first.message;
  return {
    status: d.status,
    headers: problemHeaders(d.status, {
      ...(d.wwwAuthenticate !== undefined ? { 'www-authenticate': d.wwwAuthenticate } : {}),
      ...(d.acceptSignature !== undefined ? { 'accept-signature': d.acceptSignature } : {}),
      ...(d.receipt !== undefined ? { [RECEIPT_HEADER]: d.receipt } : {}),
    }),
    body: problemBody(first.code, detail, d.reasons, d.status),
  };
}

/** A refusal as a web Response (Hono, fetch handlers). */
export function refusalResponse(d: Refused): Response {
  const r = refusalOf(d);
  return new Response(JSON.stringify(r.body), { status: r.status, headers: r.headers });
}

/** A refusal written to a Node response (node:http, Express, Fastify's raw reply). */
export function writeRefusal(res: ServerResponse, d: Refused): void {
  const r = refusalOf(d);
  res.writeHead(r.status, r.headers);
  res.end(JSON.stringify(r.body));
}

/** The optional challenge route's answer: a fresh nonce, remembered until used or expired. */
export async function challengeBody(v: Verifier): Promise<{ nonce: string; expiresAt: string }> {
  const { nonce, expiresAt } = await v.issueNonce();
  return { nonce, expiresAt: expiresAt.toISOString() };
}
