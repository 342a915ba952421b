import { lookup as dnsLookup, type LookupAddress } from 'node:dns';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { CharterError, type CharterErrorCode } from '../errors.js';
import { addressAllowed, classifyAddress, isLoopbackHostname, type AddressPolicy } from './address.js';

export interface SafeFetchOptions extends AddressPolicy {
  /**
   * Allow `http:` URLs to loopback hosts (local testing). Plain http never
   * goes anywhere else, whatever this says: a host name must be loopback by
   * its spelling and resolve to loopback addresses only, so no on-path
   * party can answer in its place.
   */
  allowHttp?: boolean;
  /**
   * Wall-clock deadline in ms for the whole exchange: DNS, connect, TLS, the
   * response headers and the last byte of the body. Default 5000. A server
   * that keeps the socket busy (one byte a second) is cut off all the same.
   */
  timeoutMs?: number;
  maxBytes?: number;
  accept?: string;
  /** Code for a body over maxBytes. */
  tooLargeCode?: CharterErrorCode;
  /** Code for every other failure (unreachable, status, redirect, deadline). */
  failCode?: CharterErrorCode;
  /** A body to POST (with its content type) instead of a GET: sent on a connection of its own, never a reused one. */
  post?: { body: Uint8Array; contentType: string };
  /** Resolve with whatever status the server answered (a refusal is an answer), not only 200; redirects still fail. */
  anyStatus?: boolean;
}

export interface SafeResponse {
  status: number;
  contentType: string;
  /** Response headers by lower-case name; repeated fields joined with ", " (RFC 9110 §5.3). */
  headers: Readonly<Record<string, string>>;
  body: Buffer;
}

export const DEFAULT_FETCH_DEADLINE_MS = 5000;
/** setTimeout's ceiling: a longer delay fires at once (Node clamps it to 1 ms). */
const MAX_DEADLINE_MS = 2 ** 31 - 1;

/*
 * Connection pools, one per address policy and scheme. The address check runs
 * in the socket's `lookup`, that is when a socket is made; an agent hands an
 * idle keep-alive socket to the next request for the same host:port without a
 * lookup. Node's global agent keeps sockets alive (Node >= 19) and pools by
 * host:port only, so a socket a lenient fetch opened to a loopback name would
 * carry a strict fetch there unchecked. A socket is only ever reused by a
 * request under the policy that checked its address; keep-alive stays, so
 * repeated did:web and status-list fetches skip the TCP and TLS handshakes.
 */
const agents = new Map<string, HttpAgent>();
function agentFor(https: boolean, policy: AddressPolicy): HttpAgent {
  const key = `${https ? 'https' : 'http'} loopback=${policy.allowLoopback === true} private=${policy.allowPrivate === true}`;
  let agent = agents.get(key);
  if (agent === undefined) {
    // Idle sockets close after 4 s, before a Node server's default 5 s keepAliveTimeout closes them under a request.
    const options = { keepAlive: true, timeout: 4000, maxFreeSockets: 16, scheduling: 'lifo' as const };
    agent = https ? new HttpsAgent(options) : new HttpAgent(options);
    agents.set(key, agent);
  }
  return agent;
}

/** Header fields into a null-prototype record, so a field named `__proto__` is only a field. */
function headerRecord(distinct: Record<string, string[] | undefined>): Readonly<Record<string, string>> {
  const out = Object.create(null) as Record<string, string>;
  for (const [name, values] of Object.entries(distinct)) if (values !== undefined) out[name.toLowerCase()] = values.join(', ');
  return Object.freeze(out);
}

/**
 * GET (or, with `post`, POST) over https with SSRF defences: every resolved
 * address is checked and the socket connects to the checked address (no DNS
 * rebinding window), no redirects, a wall-clock deadline for the whole
 * response, and a body cap enforced while streaming.
 */
export function safeFetch(url: string, opts: SafeFetchOptions = {}): Promise<SafeResponse> {
  const failCode = opts.failCode ?? 'DID_RESOLUTION_FAILED';
  const maxBytes = opts.maxBytes ?? 100 * 1024;
  const deadlineMs = opts.timeoutMs ?? DEFAULT_FETCH_DEADLINE_MS;
  if (typeof deadlineMs !== 'number' || !Number.isFinite(deadlineMs) || deadlineMs <= 0 || deadlineMs > MAX_DEADLINE_MS) {
    return Promise.reject(new CharterError('INVALID_ARGUMENT', `timeoutMs must be a positive number of milliseconds (at most ${MAX_DEADLINE_MS})`));
  }
  // NaN would disable the cap (no size compares greater than NaN).
  if (!Number.isSafeInteger(maxBytes) || maxBytes <= 0) {
    return Promise.reject(new CharterError('INVALID_ARGUMENT', 'maxBytes must be a positive whole number of bytes'));
  }
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    return Promise.reject(new CharterError('INVALID_ARGUMENT', 'not a valid URL'));
  }
  // Plain http only to this machine (allowHttp is for local testing): to any other host an on-path party reads and forges it.
  const plain = u.protocol === 'http:';
  if (u.protocol !== 'https:' && !(plain && opts.allowHttp && isLoopbackHostname(u.hostname))) {
    return Promise.reject(new CharterError('FORBIDDEN_ADDRESS', `refusing ${u.protocol} URL ${u.host}: only https is allowed (plain http only to loopback, for local testing)`));
  }
  if (u.username || u.password) return Promise.reject(new CharterError('FORBIDDEN_ADDRESS', 'refusing a URL with credentials'));

  // net.connect skips `lookup` for IP literals, so check those here.
  const literal = u.hostname.replace(/^\[|\]$/g, '');
  if (isIP(literal) !== 0 && !addressAllowed(literal, opts)) {
    return Promise.reject(new CharterError('FORBIDDEN_ADDRESS', `refusing non-public address ${u.host} (allow it explicitly for local testing)`));
  }
  const post = opts.post;
  let forbidden: string | undefined;
  const lookup: LookupFunction = (hostname, options, callback) => {
    dnsLookup(hostname, { ...options, all: true, verbatim: true }, (err, addresses) => {
      if (err) return (callback as (e: Error | null, a: LookupAddress[]) => void)(err, []);
      const list = addresses as LookupAddress[];
      const bad = list.find((a) => !addressAllowed(a.address, opts) || (plain && classifyAddress(a.address) !== 'loopback'));
      if (bad || list.length === 0) {
        forbidden = !bad
          ? `${hostname} resolves to a missing address`
          : plain && addressAllowed(bad.address, opts)
            ? `plain http to ${hostname}, which resolves to a non-loopback address`
            : `${hostname} resolves to a non-public address`;
        return (callback as (e: Error | null, a: LookupAddress[]) => void)(new Error('forbidden address'), []);
      }
      if ((options as { all?: boolean }).all) (callback as (e: Error | null, a: LookupAddress[]) => void)(null, list);
      else (callback as (e: Error | null, a: string, f: number) => void)(null, list[0]!.address, list[0]!.family);
    });
  };

  return new Promise((resolve, reject) => {
    let settled = false;
    let timer: ReturnType<typeof setTimeout> | undefined = undefined;
    const settle = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      fn();
    };
    const fail = (e: CharterError) =>
      settle(() => {
        req.destroy();
        reject(e);
      });
    const req = (u.protocol === 'https:' ? httpsRequest : httpRequest)(
      u,
      // `timeout` is only the socket's idle timer; the deadline below bounds the whole exchange.
      {
        method: post ? 'POST' : 'GET',
        lookup,
        // A POST is not idempotent: never on a pooled socket the server may close under it.
        agent: post ? false : agentFor(u.protocol === 'https:', opts),
        headers: {
          accept: opts.accept ?? 'application/json',
          'user-agent': 'charter',
          ...(post ? { 'content-type': post.contentType, 'content-length': String(post.body.length) } : {}),
        },
        timeout: deadlineMs,
      },
      (res) => {
        const status = res.statusCode ?? 0;
        if (status >= 300 && status < 400) {
          return fail(new CharterError(failCode, `${u.host} answered with a redirect (${status}); redirects are not followed`));
        }
        if (status !== 200 && opts.anyStatus !== true) return fail(new CharterError(failCode, `${u.host} answered HTTP ${status}`, { details: { status } }));
        const declared = Number(res.headers['content-length'] ?? NaN);
        if (declared > maxBytes) {
          return fail(new CharterError(opts.tooLargeCode ?? 'INPUT_TOO_LARGE', `response from ${u.host} is larger than ${maxBytes} bytes`));
        }
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > maxBytes) fail(new CharterError(opts.tooLargeCode ?? 'INPUT_TOO_LARGE', `response from ${u.host} is larger than ${maxBytes} bytes`));
          else chunks.push(c);
        });
        res.on('end', () => {
          if (!res.complete) return fail(new CharterError(failCode, `${u.host} closed the connection before the end of the response`));
          settle(() => resolve({ status, contentType: String(res.headers['content-type'] ?? ''), headers: headerRecord(res.headersDistinct), body: Buffer.concat(chunks) }));
        });
        res.on('error', (e) => fail(new CharterError(failCode, `reading from ${u.host} failed`, { cause: e })));
        res.on('close', () => {
          if (!res.complete) fail(new CharterError(failCode, `${u.host} closed the connection before the end of the response`));
        });
      },
    );
    timer = setTimeout(() => fail(new CharterError(failCode, `${u.host} did not deliver its response within ${deadlineMs} ms`)), deadlineMs);
    req.on('timeout', () => fail(new CharterError(failCode, `${u.host} went silent for ${deadlineMs} ms`)));
    req.on('error', (e) => {
      if (forbidden) fail(new CharterError('FORBIDDEN_ADDRESS', `refusing ${forbidden} (allow it explicitly for local testing)`));
      else fail(new CharterError(failCode, `could not reach ${u.host}`, { cause: e }));
    });
    req.end(post?.body);
  });
}
