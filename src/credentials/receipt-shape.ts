import type { Reason } from '../errors.js';
import { parseDateTime } from '../encoding/time.js';

/*
 * The payload shape of a Charter receipt (`typ: charter-receipt+jwt`): a JOSE-level format that the
 * audit log writes and reads, and that reputation reads as interaction evidence. Kept at this layer so
 * both check one rule.
 */

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The shape every receipt has, its time read strictly (receiptTimeReasons); anything else is RECEIPT_INVALID. */
export function receiptShapeReasons(p: Record<string, unknown>): Reason[] {
  const bad = (m: string): Reason[] => [{ code: 'RECEIPT_INVALID', message: m }];
  if (typeof p.jti !== 'string' || typeof p.iat !== 'number' || typeof p.time !== 'string') return bad('a receipt needs jti, iat and time');
  const time = receiptTimeReasons(p);
  if (time.length > 0) return time;
  const log = p.log;
  if (!isObj(log) || typeof log.chain !== 'string' || !Number.isSafeInteger(log.seq) || (log.seq as number) < 1 || !(log.prev === null || typeof log.prev === 'string')) {
    return bad('a receipt needs its place in the log (chain, seq, prev)');
  }
  if (!optional(p.sub, isStr)) return bad('a receipt names its subject as a string');
  if (p.kind === 'decision') {
    if (p.decision !== 'allow' && p.decision !== 'deny') return bad('a decision receipt says allow or deny');
    if (!Array.isArray(p.reasons) || !Array.isArray(p.credentials) || !Array.isArray(p.chain) || !isObj(p.request) || !isObj(p.policy) || typeof p.verifier !== 'string') {
      return bad('a decision receipt needs reasons, request, policy, credentials and chain');
    }
    if ((p.decision === 'allow') !== (p.reasons.length === 0)) return bad('an allow has no reasons; a deny has at least one');
    // Every member a re-check or a bundle reads, of the type it reads it as: a signed receipt is still input.
    if (typeof p.status !== 'number' || !p.reasons.every(isStr) || typeof p.policy.kind !== 'string') return bad('a decision receipt has a status, reason codes and a policy kind');
    if (!p.credentials.every(isCredential)) return bad('each credential a receipt lists has its hash (h), and strings for id and iss');
    if (!p.chain.every((l) => isObj(l) && isStr(l.id) && isStr(l.iss))) return bad("each link of a receipt's chain has an id and an issuer");
    if (!optional(p.vp, isStr) || !optional(p.principal, isStr) || !optional(p.spend, isSpend))
      return bad('a decision receipt names its presentation, principal and spend in their forms');
    if (!optional(p.evidence, (e) => isObj(e) && isStringMap(e.did) && isStringMap(e.status))) return bad("a receipt's evidence maps DIDs and status lists to hashes");
    if (!optional(p.window, isWindow)) return bad("a receipt's window names skew and maxAge (seconds, 0-3600) and a nonce mode (iat or challenge)");
    return [];
  }
  if (p.kind === 'settlement') return typeof p.receipt === 'string' && isSpend(p.spend) ? [] : bad('a settlement names its decision receipt and spend');
  return bad('a receipt is of kind decision or settlement');
}

/**
 * A receipt's time as Charter writes it: `time` a strict RFC 3339 date-time
 * with a time zone (encoding/time.ts; `Date.parse` would read "Dec 1 2026" or
 * a zone-less time in the host's zone, so two readers would date one receipt
 * two ways) and `iat` the whole second it falls in (two clocks in one record
 * that disagree would date it two ways). The rule audit's recordTimeReasons
 * holds for every signed record, here so reputation (below audit) reads a
 * receipt's time as verifyReceipt does.
 */
export function receiptTimeReasons(p: Record<string, unknown>): Reason[] {
  const ms = parseDateTime(p.time);
  if (ms === undefined) return [{ code: 'RECEIPT_INVALID', message: "the receipt's time is not an RFC 3339 date-time with a time zone" }];
  if (!Number.isSafeInteger(p.iat) || p.iat !== Math.floor(ms / 1000)) return [{ code: 'RECEIPT_INVALID', message: "the receipt's iat is not the second of its time" }];
  return [];
}

const isStr = (v: unknown): v is string => typeof v === 'string';
const seconds = (v: unknown) => typeof v === 'number' && Number.isFinite(v) && v >= 0 && v <= 3600;
const isWindow = (w: unknown) => isObj(w) && seconds(w.skew) && seconds(w.maxAge) && (w.nonces === 'iat' || w.nonces === 'challenge');
const optional = (v: unknown, is: (v: unknown) => boolean) => v === undefined || is(v);
const isStringMap = (v: unknown) => isObj(v) && Object.values(v).every(isStr);
const isCredential = (c: unknown) => isObj(c) && isStr(c.h) && optional(c.id, isStr) && optional(c.iss, isStr) && optional(c.type, (t) => Array.isArray(t) && t.every(isStr));
const isSpend = (v: unknown) =>
  isObj(v) &&
  isStr(v.reservation) &&
  (v.state === 'reserved' || v.state === 'committed' || v.state === 'released') &&
  optional(v.amount, (a) => isObj(a) && isStr(a.amount) && isStr(a.currency));

/**
 * What a receipt's members must say together, once its shape holds (receiptShapeReasons): a non-empty `jti`;
 * the chain's first entry (seq 1), and only it, with no `prev`; a decision's HTTP status a whole 100-599,
 * below 400 for an allow and 400 or above for a deny. verifyReceipt and reputation's receipt evidence hold
 * a receipt to the same rules.
 */
export function receiptAgreementReasons(p: Record<string, unknown>): Reason[] {
  const bad = (message: string): Reason[] => [{ code: 'RECEIPT_INVALID', message }];
  if (p.jti === '') return bad('a receipt needs a non-empty jti');
  const log = p.log as { seq: number; prev: string | null };
  if ((log.seq === 1) !== (log.prev === null)) return bad('only the first entry of a chain (seq 1) has no prev, and it has none');
  if (p.kind === 'decision') {
    const status = p.status as number;
    if (!Number.isInteger(status) || status < 100 || status > 599) return bad('a decision receipt has an HTTP status (100-599)');
    if ((p.decision === 'allow') !== status < 400) return bad(`a receipt that says ${String(p.decision)} has status ${status}: an allow is below 400, a deny 400 or above`);
  }
  return [];
}
