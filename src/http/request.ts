import type { IncomingMessage } from 'node:http';
import { HTTP_STATUS, isCharterError, type Reason } from '../errors.js';
import type { Binding } from '../guard/binding.js';
import { decide, type GuardDecision } from '../guard/decide.js';
import type { Policy } from '../guard/policy.js';
import type { SignatureBinding } from '../guard/signature.js';
import { reportRouteError, type Verifier } from '../guard/verifier.js';
import { readNodeBody, readWebBody } from './body.js';
import { guardSet, policyFor, type Guard, type GuardSet, type SignatureGuard } from './guards.js';
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
  /** A request header field by lower-case name: what a signature guard reads. */
  header?: (name: string) => string | readonly string[] | null | undefined;
  /** The body as sent, read only for a signature covering Content-Digest (each framework keeps it its own way). */
  body?: () => Promise<Uint8Array>;
}

/** The pipeline's decision for one HTTP request, with its RFC 6750 challenge. */
export interface RequestDecision extends GuardDecision {
  /** Set on 401 and 403 (RFC 6750 §3) when the route takes a presentation. */
  wwwAuthenticate?: string;
  /** RFC 9421 §5.1: on a 401 from a route that wants a signature the request did not validly carry, the signature to send. */
  acceptSignature?: string;
  /**
   * What the route's own function (`owner`, `resource`, `amount`...) threw on this request, refused as
   * INVALID_ARGUMENT (400) with a fixed message: for the server's logs, never sent to the caller (the
   * framework adapters hand it to the verifier's `onRouteError`).
   */
  routeError?: unknown;
}

/** Whether an Authorization value offers a Bearer credential at all, well formed or not (one line or several joined by commas). */
function offersBearer(authorization: string | null | undefined): boolean {
  return typeof authorization === 'string' && /(?:^|,)[ \t]*bearer(?:[ \t,]|$)/i.test(authorization);
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
  // Origin-form only (RFC 9112 §3.2.1). An absolute-form target ("GET https://t.example/whoami") is routed on
  // its path by Express and Fastify while it reads as another path here ("/https://t.example/whoami"):
  // no honest client sends one to an origin server, so it binds nothing, as does "*".
  const path = input.path;
  if (v.http === false || !path.startsWith('/') || !unambiguousPath(path)) return undefined;
  if (v.http === 'host-header') {
    const origin = hostOrigin(input.host, input.secure === true);
    return origin === undefined ? undefined : origin + path;
  }
  return v.http.origin + path;
}

/**
 * A request path binds a URL only when URL parsing leaves it as it is: the
 * WHATWG parser turns "\\" into "/" and resolves "..", "%2e%2e" and ".%2E"
 * segments, while Express and Fastify route on the path as sent, so
 * `/photos/x\\..\\..\\whoami` would run the /photos/:id handler under a
 * presentation bound to /whoami. "\\" is not valid in a URI path (RFC 3986
 * §3.3), and a dot segment names no one resource.
 */
function unambiguousPath(path: string): boolean {
  // RFC 9112 §3.2.1: origin-form is absolute-path ["?" query]; no fragment is ever sent. Node passes "#"
  // through, Fastify's router reads what follows it as the query, and the URL the signature's @query is
  // built from drops it: a signed "/export" would run as "/export#user=bob" with {user: "bob"}.
  if (path.includes('#')) return false;
  const p = path.split('?', 1)[0]!;
  if (p.includes('\\')) return false;
  return p.split('/').every((seg) => {
    const d = seg.replace(/%2e/gi, '.');
    return d !== '.' && d !== '..';
  });
}

/**
 * RFC 9110 §7.2: `Host = uri-host [ ":" port ]`, nothing more. A Host header
 * carrying a path, query, fragment, userinfo or space would otherwise move
 * what the pipeline binds (`Host: h/harmless#` turns the request's own path
 * into a fragment), so anything but a DNS name, an IPv4 or a bracketed IPv6
 * literal with an optional port binds no URL (REQUEST_MISMATCH).
 */
const HOST = /^(?:[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?(?:\.[A-Za-z0-9_](?:[A-Za-z0-9_-]*[A-Za-z0-9_])?)*\.?|\[[0-9A-Fa-f:.]+\])(?::([0-9]{1,5}))?$/;

function hostOrigin(host: string | undefined, secure: boolean): string | undefined {
  const m = typeof host === 'string' ? HOST.exec(host) : null;
  if (!m || (m[1] !== undefined && Number(m[1]) > 65535)) return undefined;
  try {
    const u = new URL(`${secure ? 'https' : 'http'}://${host}`);
    return u.pathname === '/' && u.search === '' && u.hash === '' && u.username === '' ? u.origin : undefined;
  } catch {
    return undefined;
  }
}

/** What a Node request (node:http's IncomingMessage, node:http2's compat Http2ServerRequest) says of its host. */
export interface NodeHostSource {
  httpVersionMajor?: unknown;
  headers?: unknown;
  rawHeaders?: unknown;
  headersDistinct?: unknown;
}

/**
 * The values of every `name` line in a Node request's raw headers (HTTP/1.1
 * and HTTP/2 alike), in order; a value that is no string reads as ''.
 */
function rawFieldValues(req: { rawHeaders?: unknown }, name: string): string[] | undefined {
  if (!Array.isArray(req.rawHeaders)) return undefined;
  const out: string[] = [];
  for (let i = 0; i < req.rawHeaders.length; i += 2) {
    const f: unknown = req.rawHeaders[i];
    const v: unknown = req.rawHeaders[i + 1];
    if (typeof f === 'string' && f.toLowerCase() === name) out.push(typeof v === 'string' ? v : '');
  }
  return out;
}

/** How many lines of this field the request carried (Node keeps only the first Host in `headers`). */
function fieldLines(req: NodeHostSource, name: string): number {
  const headers = typeof req.headers === 'object' && req.headers !== null ? (req.headers as Record<string, unknown>) : {};
  const value = headers[name];
  let n = Array.isArray(value) ? value.length : value === undefined ? 0 : 1;
  const distinct = typeof req.headersDistinct === 'object' && req.headersDistinct !== null ? (req.headersDistinct as Record<string, unknown>)[name] : undefined;
  if (Array.isArray(distinct)) n = Math.max(n, distinct.length);
  const raw = rawFieldValues(req, name);
  return raw === undefined ? n : Math.max(n, raw.length);
}

/**
 * The host a Node request names, what a verifier built with
 * `trustHostHeader` binds. HTTP/1.1: its one Host line (RFC 9112 §3.2: two
 * name no one host; Node keeps the first, a proxy may route on another).
 * HTTP/2: its `:authority` (RFC 9113 §8.3.1), what node:http2's compat
 * request, @hono/node-server and Fastify build the request's URL from; a
 * Host line naming another authority makes the request malformed (§8.3.1),
 * so it binds nothing, while one naming the same authority (case and a
 * default port aside: the same origin) is redundant. A Host line without
 * `:authority` (a request translated from HTTP/1.1) is read as on HTTP/1.1.
 */
export function nodeHost(req: NodeHostSource, secure: boolean): string | undefined {
  const headers = typeof req.headers === 'object' && req.headers !== null ? (req.headers as Record<string, unknown>) : {};
  if (fieldLines(req, 'host') > 1) return undefined;
  const host = headers.host;
  if (host !== undefined && typeof host !== 'string') return undefined;
  if (req.httpVersionMajor !== 2 && !(':authority' in headers)) return host;
  const authority = headers[':authority'];
  if (authority === undefined) return host;
  if (typeof authority !== 'string' || fieldLines(req, ':authority') > 1) return undefined;
  if (host === undefined) return authority;
  const origin = hostOrigin(authority, secure);
  return origin !== undefined && origin === hostOrigin(host, secure) ? authority : undefined;
}

function withChallenge(v: Verifier, d: GuardDecision, noCredentials = false, signature?: SignatureGuard): RequestDecision {
  if (d.ok) return d;
  const out: RequestDecision = signature && d.status === 401 && d.signature?.ok !== true ? { ...d, acceptSignature: signature.acceptSignature } : d;
  if (d.status !== 401 && d.status !== 403 && d.status !== 400) return out;
  return { ...out, wwwAuthenticate: wwwAuthenticate(v, d.status, noCredentials ? undefined : d.reasons[0]?.code, d.nonce) };
}

function signatureBinding(g: SignatureGuard, input: BoundRequest): SignatureBinding {
  const { header, body } = input;
  if (!header) throw new TypeError('requireSignature: this transport passes no request headers to the guard');
  return {
    options: g.options,
    header,
    body: body ?? (() => Promise.reject(new TypeError('requireSignature: this transport gives the guard no request body to check Content-Digest against'))),
  };
}

const isGuard = <R>(g: Guard<R> | GuardSet<R>): g is Guard<R> => typeof (g as { kind?: unknown }).kind === 'string';

/**
 * The framework-neutral core: is this request carrying an authentic
 * presentation bound to this verifier, this request and a fresh nonce or
 * jti, and (with a guard) does it allow what the route does? With
 * requireSignature, must it also (or only) carry its own RFC 9421
 * signature? One pipeline (guard/decide.ts) decides; this only builds the
 * request's binding and policy and adds the RFC 6750 challenge and the
 * RFC 9421 Accept-Signature. Never throws for a refusal or a store fault
 * (503); a value the route computes from a malformed request (an amount, a
 * resource path) is a 400. Throws TypeError for a server mistake (a body
 * consumed without its bytes kept).
 */
export async function authorize<R>(input: BoundRequest, verifier: Verifier, guards: Guard<R> | GuardSet<R> | undefined, req: R): Promise<RequestDecision> {
  if (verifier.http === false) throw new TypeError('this verifier was built with http: false; build one with publicOrigin for HTTP routes');
  const { presentation, signature } = guards === undefined ? {} : isGuard(guards) ? guardSet([guards]) : guards;
  // A route with only requireSignature reads no presentation: the signature is the proof.
  const signedOnly = signature !== undefined && presentation === undefined;
  const finish = (d: GuardDecision, noCredentials = false): RequestDecision => {
    if (!signedOnly) return withChallenge(verifier, d, noCredentials, signature);
    // No Bearer challenge where no Bearer is taken: no HTTP authentication scheme is registered for
    // message signatures, so RFC 9421 §5.1 Accept-Signature is the challenge.
    return d.ok || d.status !== 401 || d.signature?.ok === true ? d : { ...d, acceptSignature: signature.acceptSignature };
  };
  // The proof: a vp+jwt, an SD-JWT grant presentation (recognised by its "~"), or a payment mandate chain
  // (a mandate guard's Bearer token, or wherever its `chain` function finds it).
  let token: unknown;
  try {
    token = signedOnly ? undefined : presentation?.kind === 'mandate' && presentation.chain ? await presentation.chain(req) : bearerToken(input.authorization);
  } catch (e) {
    if (isCharterError(e) && HTTP_STATUS[e.code] === 400) return finish({ ok: false, status: 400, reasons: [{ code: e.code, message: e.message } satisfies Reason] });
    throw e;
  }
  const url = boundUrl(verifier, input);
  if (!signedOnly && (token === undefined || token === null || token === '')) {
    // What the request was, for the refusal's receipt; the refusal itself is the missing presentation.
    let asked: Policy = { kind: 'presentation' };
    try {
      asked = policyFor(presentation, req);
    } catch {
      // a malformed request without a presentation is still refused for the missing presentation
    }
    const bare: Binding = url !== undefined ? { kind: 'http', method: input.method, url } : { kind: 'none' };
    const d = await decide(verifier, undefined, asked, bare);
    const how =
      presentation?.kind === 'mandate'
        ? 'send the payment mandate chain (Authorization: Bearer <chain>)'
        : 'send a presentation as Authorization: Bearer <vp+jwt> (or an SD-JWT grant presentation)';
    // RFC 6750 §3.1: no error code when the request offered no Bearer credential (none, or another scheme);
    // a Bearer offered malformed (empty, two tokens, two Authorization lines) is an invalid_token.
    const offered = !(presentation?.kind === 'mandate' && presentation.chain) && offersBearer(input.authorization);
    const message = offered ? `the Authorization header holds no single well-formed Bearer token: ${how}` : how;
    return finish({ ...d, reasons: [{ code: 'INVALID_PRESENTATION', message }] }, !offered);
  }
  let policy: Policy;
  try {
    policy = signedOnly ? { kind: 'signature' } : policyFor(presentation, req);
  } catch (e) {
    if (isCharterError(e) && HTTP_STATUS[e.code] === 400) return finish({ ok: false, status: 400, reasons: [{ code: e.code, message: e.message } satisfies Reason] });
    // The route's own functions (amount, resource, owner...) failed on this request, e.g. `req.body.amount`
    // with no body: a request the route cannot read is malformed (400), never a 500 for anyone who sends one.
    // The function's own error stays with the server (routeError): its text may name a database, an address
    // or a file, none of the caller's business.
    if (!isCharterError(e)) {
      reportRouteError(verifier, e, req);
      return { ...finish({ ok: false, status: 400, reasons: [{ code: 'INVALID_ARGUMENT', message: 'the route could not read what it needs from this request' }] }), routeError: e };
    }
    throw e;
  }
  if (url === undefined) {
    return finish({
      ok: false,
      status: 401,
      reasons: [
        { code: 'REQUEST_MISMATCH', message: 'the request names no valid host (RFC 9110 §7.2), or its target has a backslash, a dot segment or a fragment: no URL can be bound' },
      ],
    });
  }
  // The method exactly as received: methods are case-sensitive (RFC 9110 §9.1), so `patch` (which HTTP/2 and
  // Fetch pass through as sent) is not the `PATCH` a proof names (htm, as DPoP compares it, RFC 9449 §4.3), nor
  // the signature's @method (RFC 9421 §2.2.1).
  const binding: Binding = { kind: 'http', method: input.method, url, ...(signature ? { signature: signatureBinding(signature, input) } : {}) };
  return finish(await decide(verifier, token, policy, binding));
}

/** What the client sent under a web Request, where the runtime keeps it (@hono/node-server's `c.env.incoming`). */
export interface RawTarget {
  /** The request target as received. */
  target: string;
  /** The host as received (HTTP/1.1 Host, HTTP/2 :authority: nodeHost), if any. */
  host: string | undefined;
  /**
   * Whether the connection is TLS, from the socket: never the Request URL's
   * scheme, which @hono/node-server takes from HTTP/2's `:scheme`, a value
   * the client writes (over cleartext h2c it can claim `https`).
   */
  secure?: boolean;
}

/**
 * authorize over a web-standard Request (Hono, Bun, Deno, undici). Async, as
 * verifyNodeRequest: a misuse (an undefined guard) rejects as the call's
 * promise, never a throw that a `.then(ok, err)` caller misses.
 */
export async function verifyRequest(request: Request, verifier: Verifier, ...guards: Array<Guard<Request>>): Promise<RequestDecision> {
  const set = guardSet(guards, 'verifyRequest(request, verifier, ...guards)');
  return authorize({ ...webRequest(request), body: () => readWebBody(request.clone()) }, verifier, set, request);
}

export function webRequest(request: Request, raw?: RawTarget): BoundRequest {
  const u = new URL(request.url);
  return {
    method: request.method,
    // The target as the client sent it, whenever the runtime keeps it: an absolute-form target stays as sent, so
    // it binds nothing (boundUrl), and a Request rebuilt on the way (Hono's mount strips its prefix) never moves
    // what the presentation is bound to from the path the client asked for.
    path: raw !== undefined ? raw.target : u.pathname + u.search,
    // The Host header as sent: a missing one binds nothing, never the name the runtime filled in.
    host: raw !== undefined ? raw.host : u.host,
    secure: raw?.secure ?? u.protocol === 'https:',
    authorization: request.headers.get('authorization'),
    header: (name) => request.headers.get(name),
  };
}

/** A Node request's binding input; `path` is the full path as received (Express: `req.originalUrl`). */
export function nodeRequest(req: IncomingMessage, path = req.url ?? '/'): BoundRequest {
  // Node keeps only the first of repeated Authorization lines in req.headers; Authorization is no list
  // (RFC 9110 §5.3), so several are joined as Fetch's Headers does, and no longer read as one Bearer token.
  // Over HTTP/2 there is no headersDistinct and req.headers keeps the first line only: the raw lines are counted.
  const auth = req.headersDistinct?.authorization ?? rawFieldValues(req, 'authorization');
  const secure = (req.socket as { encrypted?: boolean } | undefined)?.encrypted === true;
  return {
    method: req.method ?? 'GET',
    path,
    // HTTP/1.1's one Host line, or HTTP/2's :authority (node:http2's compat request under Fastify's http2: true).
    host: nodeHost(req, secure),
    secure,
    authorization: auth && auth.length > 1 ? auth.join(', ') : req.headers.authorization,
    header: (name) => req.headers[name],
  };
}

/**
 * authorize over Node's IncomingMessage (plain node:http, Express, Fastify's
 * raw request). A body a signature's Content-Digest covers is read here
 * (at most 1 MiB) unless something read it before.
 */
export async function verifyNodeRequest(req: IncomingMessage, verifier: Verifier, ...guards: Array<Guard<IncomingMessage>>): Promise<RequestDecision> {
  const set = guardSet(guards, 'verifyNodeRequest(req, verifier, ...guards)');
  return authorize({ ...nodeRequest(req), body: () => readNodeBody(req) }, verifier, set, req);
}
