import { validateHeaderName, validateHeaderValue, type ServerResponse } from 'node:http';
import type { AgentDecision } from '../agents/types.js';
import type { GrantDecision } from '../grants/index.js';
import { holdSignal, type SpendHold } from '../guard/spend.js';
import type { RequestSignatureDecision } from '../httpsig/index.js';
import { problemBody, problemHeaders } from '../guard/problem.js';
import { isCharterError, type CharterErrorCode } from '../errors.js';
import type { RequestDecision } from './request.js';

/**
 * What a handler behind a guard sees (`req.charter`, `request.charter`,
 * `c.get('charter')`): the verified holder and the decision, and, for an
 * agent whose chain has a budget or rate, the reserved spend. The handler
 * may settle it itself (`await commit()` before an irreversible step,
 * `release()` when the transaction did not happen); whatever it leaves open
 * is settled when the response ends: a success (< 400) commits, anything
 * else releases. A success is sent only once its spend is committed: when
 * the store fails at that moment, the response becomes a 503 (Retry-After)
 * instead, and the reservation is settled once the store answers again.
 */
export interface CharterContext {
  /**
   * Who is asking: the presentation's holder DID; on a route with only
   * requireSignature, the signer: its Signature-Agent origin when the key
   * came from that origin's directory, else the key as an RFC 9278
   * thumbprint URN (`urn:ietf:params:oauth:jwk-thumbprint:sha-256:…`).
   */
  holder: string;
  decision: RequestDecision;
  grant?: GrantDecision;
  agent?: AgentDecision;
  /** With requireSignature: the verified request signature (keyId, thumbprint, signatureAgent, tag, key, …). */
  signature?: RequestSignatureDecision;
  /** The reserved spend, if any, until committed or released. */
  spend?: SpendHold;
  /**
   * Aborted when the spend's hold runs out (a verifier with `holdTimeoutSeconds`, and the handler has
   * neither committed nor released it yet); never otherwise. Its reason is a RESERVATION_NOT_FOUND
   * CharterError. Past it, the budget this request holds may be given to others: stop before an
   * irreversible step, or pass it on (fetch, a payment SDK), as guardTransaction's function does.
   */
  signal: AbortSignal;
  /** Commit the reserved spend now (no-op without one). Throws STORE_UNAVAILABLE when the store fails; the response is then a 503. */
  commit(): Promise<void>;
  /** Release the reserved spend now (no-op without one). */
  release(): Promise<void>;
}

/** Internal: the context plus what an adapter needs to finish the request. */
export interface GuardedContext extends CharterContext {
  /** Set when an explicit commit failed: the response must be this 503 whatever the handler sends. */
  failure(): { code: CharterErrorCode; message: string } | undefined;
  /** Settle what the handler left open: commit for a success, release otherwise. Resolves to a failure to report, if any. */
  finish(success: boolean): Promise<{ code: CharterErrorCode; message: string } | undefined>;
}

export function createContext(decision: RequestDecision): GuardedContext {
  const spend = decision.spend;
  let failed: { code: CharterErrorCode; message: string } | undefined;
  // The handler learns when the hold runs out (holdTimeoutSeconds), as guardTransaction's function does;
  // once the handler or the response settles the spend, the hold no longer runs out.
  const hold = holdSignal(spend);
  const settled = hold.stop;
  const fault = (e: unknown) => (isCharterError(e) ? { code: e.code, message: e.message } : { code: 'STORE_UNAVAILABLE' as const, message: 'the spend could not be recorded' });
  return {
    holder: decision.holder!,
    decision,
    ...(decision.grant ? { grant: decision.grant } : {}),
    ...(decision.agent ? { agent: decision.agent } : {}),
    ...(decision.signature ? { signature: decision.signature } : {}),
    ...(spend ? { spend } : {}),
    signal: hold.signal,
    async commit() {
      if (!spend) return;
      settled();
      try {
        await spend.commit();
      } catch (e) {
        // The handler must not go on as if paid: it sees the error, the client a 503, and the
        // reservation is released once the store answers (the transaction did not complete).
        failed = fault(e);
        void spend.settle(false);
        throw e;
      }
    },
    async release() {
      if (!spend) return;
      settled();
      await spend.release();
    },
    failure: () => failed,
    async finish(success) {
      settled();
      if (failed) return failed;
      if (!spend || spend.state === 'committed' || spend.state === 'released') return undefined;
      if (!success) {
        void spend.settle(false);
        return undefined;
      }
      try {
        await spend.commit();
        return undefined;
      } catch (e) {
        // The handler finished, so its effect happened: keep the spend and commit it once the store answers.
        void spend.settle(true);
        return fault(e);
      }
    },
  };
}

type End = ServerResponse['end'];
type WriteHead = ServerResponse['writeHead'];
type Write = ServerResponse['write'];

/**
 * Settles a guarded request's spend before its response leaves (Node
 * responses: node:http, Express, Fastify's raw reply). The status line is
 * held back while the commit runs: a success goes out only once committed;
 * if the commit fails (or an explicit commit failed earlier) the handler's
 * response is replaced by a 503 problem with Retry-After. Bodies written
 * during the commit are queued in order. A client that goes away settles
 * nothing (the handler's response still decides).
 *
 * While held, the response tells the framework what Node would: the status
 * line and headers are checked when the handler sets them (a bad header
 * throws in its own call, never later in the playback), `headersSent` is true
 * once anything is written, `writableEnded` once it is ended, and whatever
 * comes after the end is dropped. So Express and Fastify never send a second
 * response (an error page after a 201, an empty body after a sent one), and
 * the status played back is the one the settlement was decided on.
 */
export function settleBeforeSend(res: ServerResponse, ctx: GuardedContext): void {
  if (!ctx.spend) return;
  const original = { writeHead: res.writeHead, write: res.write, end: res.end, flushHeaders: res.flushHeaders };
  let head: Parameters<WriteHead> | undefined;
  const queue: { fn: 'write' | 'end'; args: unknown[] }[] = [];
  let settling: Promise<void> | undefined;
  let done = false;
  let ended = false;
  let decided: number | undefined;
  // What the framework reads to know whether a response went out: answered from what the handler did.
  // Not `finished`: Node's closeIdleConnections (server.close(), Fastify's close) destroys a socket whose
  // response reads finished, and a held success is not finished until it is played back.
  const shadowed = ['headersSent', 'writableEnded'] as const;
  const saved = new Map(shadowed.map((k) => [k, Object.getOwnPropertyDescriptor(res, k)]));
  const wrote = () => head !== undefined || queue.length > 0 || decided !== undefined;
  Object.defineProperty(res, 'headersSent', { configurable: true, get: () => wrote() });
  Object.defineProperty(res, 'writableEnded', { configurable: true, get: () => ended });

  const restore = () => {
    res.writeHead = original.writeHead;
    res.write = original.write;
    res.end = original.end;
    res.flushHeaders = original.flushHeaders;
    for (const [k, d] of saved) {
      delete (res as unknown as Record<string, unknown>)[k];
      if (d) Object.defineProperty(res, k, d);
    }
  };
  const replay = () => {
    restore();
    if (head) original.writeHead.apply(res, head);
    // The status the settlement was decided on: nothing after the decision (an error handler) changes it.
    else if (decided !== undefined) res.statusCode = decided;
    for (const q of queue) (original[q.fn] as (...a: unknown[]) => unknown).apply(res, q.args);
  };
  const fail = (f: { code: CharterErrorCode; message: string }) => {
    restore();
    if (res.headersSent) return void res.destroy();
    for (const name of res.getHeaderNames()) res.removeHeader(name);
    const body = problemBody(f.code, `try again shortly: the spend could not be recorded (${f.message})`, [f], 503);
    res.writeHead(503, problemHeaders(503));
    res.end(JSON.stringify(body));
  };
  const start = () => {
    if (settling) return settling;
    decided = head ? Number(head[0]) : res.statusCode;
    settling = ctx
      .finish(decided < 400)
      .then((f) => {
        done = true;
        if (f) fail(f);
        else replay();
      })
      // Whatever the playback meets (a closed socket, a write Node refuses), the request ends here, never the process.
      .catch((e: unknown) => {
        restore();
        res.destroy(e instanceof Error ? e : undefined);
      });
    return settling;
  };

  res.writeHead = function (this: ServerResponse, ...args: Parameters<WriteHead>) {
    if (wrote()) {
      // A bare repeat (`writeHead(statusCode)`, what _implicitHeader and on-headers call, e.g. compression 1.7
      // before each write while `_header` is still unset) changes nothing: the held head stands.
      if (args.length === 1 || (args.length === 2 && args[1] === undefined)) return this;
      throw Object.assign(new Error('Cannot write headers after they are sent to the client'), { code: 'ERR_HTTP_HEADERS_SENT' });
    }
    checkHead(args);
    head = args;
    return this;
  } as WriteHead;
  res.flushHeaders = function () {
    void start();
  };
  res.write = function (...args: unknown[]) {
    if (done) return (original.write as (...a: unknown[]) => boolean).apply(res, args);
    if (ended) return lateWrite(args);
    queue.push({ fn: 'write', args });
    void start();
    return true;
  } as Write;
  res.end = function (this: ServerResponse, ...args: unknown[]) {
    if (ended) return (lateWrite(args), this);
    ended = true;
    queue.push({ fn: 'end', args });
    void start();
    return this;
  } as End;
  // No settlement when the client goes away: the handler goes on and may still complete the transaction, so its
  // own response decides (a success commits, even unsent). One that never responds leaves the spend held, and so
  // counted, until settled or released by holdTimeoutSeconds (a handler that finishes after its hold ran out still
  // commits, as guardTransaction's does: see holdTimeoutSeconds in README).
}

/** A write after the end: dropped, its callback told so (as Node's write after end is refused), never queued. */
function lateWrite(args: unknown[]): boolean {
  const cb = args.find((a) => typeof a === 'function') as ((e: Error) => void) | undefined;
  if (cb) queueMicrotask(() => cb(Object.assign(new Error('write after end'), { code: 'ERR_STREAM_WRITE_AFTER_END' })));
  return false;
}

/** What Node's writeHead checks, checked when the handler calls it: the status code, then each header. */
function checkHead(args: Parameters<WriteHead>): void {
  // As Node reads it (statusCode |= 0), then its range.
  const code = Number(args[0]) | 0;
  if (code < 100 || code > 999) throw Object.assign(new RangeError(`Invalid status code: ${String(args[0]).slice(0, 20)}`), { code: 'ERR_HTTP_INVALID_STATUS_CODE' });
  const a = args as unknown[];
  const headers = (typeof a[1] === 'string' ? a[2] : a[1]) as Record<string, unknown> | unknown[] | undefined | null;
  if (headers === undefined || headers === null) return;
  const pairs: [unknown, unknown][] = Array.isArray(headers)
    ? Array.isArray(headers[0])
      ? (headers as unknown as [unknown, unknown][])
      : Array.from({ length: Math.floor(headers.length / 2) }, (_, i) => [headers[2 * i], headers[2 * i + 1]] as [unknown, unknown])
    : Object.entries(headers);
  for (const [name, value] of pairs) {
    validateHeaderName(String(name));
    // undefined too: Node refuses it (ERR_HTTP_INVALID_HEADER_VALUE), so it must fail here, not in the playback.
    for (const v of Array.isArray(value) ? value : [value]) validateHeaderValue(String(name), v);
  }
}
