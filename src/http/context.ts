import type { ServerResponse } from 'node:http';
import type { AgentDecision } from '../agents/types.js';
import type { GrantDecision } from '../grants/index.js';
import type { SpendHold } from '../guard/spend.js';
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
  const fault = (e: unknown) => (isCharterError(e) ? { code: e.code, message: e.message } : { code: 'STORE_UNAVAILABLE' as const, message: 'the spend could not be recorded' });
  return {
    holder: decision.holder!,
    decision,
    ...(decision.grant ? { grant: decision.grant } : {}),
    ...(decision.agent ? { agent: decision.agent } : {}),
    ...(decision.signature ? { signature: decision.signature } : {}),
    ...(spend ? { spend } : {}),
    async commit() {
      if (!spend) return;
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
      await spend.release();
    },
    failure: () => failed,
    async finish(success) {
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
 */
export function settleBeforeSend(res: ServerResponse, ctx: GuardedContext): void {
  if (!ctx.spend) return;
  const original = { writeHead: res.writeHead, write: res.write, end: res.end, flushHeaders: res.flushHeaders };
  let head: Parameters<WriteHead> | undefined;
  const queue: { fn: 'write' | 'end'; args: unknown[] }[] = [];
  let settling: Promise<void> | undefined;
  let done = false;

  const restore = () => {
    res.writeHead = original.writeHead;
    res.write = original.write;
    res.end = original.end;
    res.flushHeaders = original.flushHeaders;
  };
  const replay = () => {
    restore();
    if (head) original.writeHead.apply(res, head);
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
    const status = head ? Number(head[0]) : res.statusCode;
    settling = ctx.finish(status < 400).then((f) => {
      done = true;
      if (f) fail(f);
      else replay();
    });
    return settling;
  };

  res.writeHead = function (this: ServerResponse, ...args: Parameters<WriteHead>) {
    head = args;
    return this;
  } as WriteHead;
  res.flushHeaders = function () {
    void start();
  };
  res.write = function (...args: unknown[]) {
    if (done) return (original.write as (...a: unknown[]) => boolean).apply(res, args);
    queue.push({ fn: 'write', args });
    void start();
    return true;
  } as Write;
  res.end = function (this: ServerResponse, ...args: unknown[]) {
    queue.push({ fn: 'end', args });
    void start();
    return this;
  } as End;
  // No settlement when the client goes away: the handler goes on and may still complete the transaction, so its
  // own response decides (a success commits, even unsent). One that never responds leaves the spend held, and so
  // counted, until settled or released by holdTimeoutSeconds: never an overspend.
}
