import { isCharterError, type Reason } from '../errors.js';
import { canonicalJson } from '../encoding/json.js';
import { decodeJwt, type DecodedJwt } from '../credentials/index.js';
import { commitSpend, releaseSpend, reserveSpend, verifyAgent } from '../agents/index.js';
import type { AgentDecision, AgentReputation, AgentTrust, Money } from '../agents/types.js';
import { freshnessReasons } from '../http/binding.js';
import { statusOf } from '../http/status-map.js';
import { redeem, type Verifier } from '../http/verifier.js';

/**
 * The generic KYA guard for any framework: one call verifies the agent's
 * presentation for this transaction, reserves its spend on every link of the
 * mandate chain, runs the transaction, and commits the spend when it
 * succeeds or releases it when it fails. The HTTP middleware and the MCP
 * tool guard are this guard with a transport around it.
 */

export interface TransactionRequest {
  /** This verifier: its `aud`, store (replay cache and ledger), resolver, status checker and freshness mode. */
  verifier: Verifier;
  /** The action the transaction performs, matched against the mandate's `actions`. */
  action: string;
  /** What it spends: `"20 USD"` or `{ amount, currency }`; absent for an action without an amount. */
  amount?: string | Money;
  /** The DID the agent deals with. Default: the verifier's `aud`. */
  counterparty?: string;
  trust: AgentTrust;
  /** For `trust.minReputation` (see verifyAgent). */
  reputation?: (agent: string, operator: string | undefined) => Promise<AgentReputation>;
  /**
   * Claims the presentation must carry, compared as canonical JSON, binding
   * it to this one call (as `htm`/`htu` bind it to an HTTP request), e.g.
   * `{ mcp: { tool, args } }`. A mismatch is REQUEST_MISMATCH.
   */
  binding?: Record<string, unknown>;
}

/** For a transaction that reports failure as a value (an MCP result with `isError`, an HTTP status): false releases the spend. */
export interface Settlement<T> {
  succeeded?: (value: T) => boolean;
}

export type TransactionOutcome<T> =
  | {
      ok: true;
      /** What fn returned. */
      value: T;
      decision: AgentDecision;
      /**
       * What became of the reserved spend: committed (fn succeeded), released (it did not), or
       * held: the store failed while settling, so the reservation stays and still counts
       * against every budget (never an overspend); `settleError` says why.
       */
      spend: 'committed' | 'released' | 'held';
      settleError?: unknown;
    }
  | {
      ok: false;
      /** 401: no authentic, fresh, bound proof; 403: authentic but not allowed; 400: the request is malformed. */
      status: 400 | 401 | 403;
      reasons: Reason[];
      /** The KYA decision, when the presentation got that far. */
      decision?: AgentDecision;
    };

const refuse = (status: 400 | 401 | 403, reasons: Reason[], decision?: AgentDecision): TransactionOutcome<never> => ({
  ok: false,
  status,
  reasons,
  ...(decision ? { decision } : {}),
});

/** Claims that bind a presentation to one HTTP request or one MCP call: never accepted elsewhere. */
const TRANSPORT_CLAIMS = ['htm', 'htu', 'mcp'];

/** Refusals of the call-binding claims, and of another transport's binding claims. */
function bindingMismatch(payload: Record<string, unknown>, binding: Record<string, unknown> | undefined): Reason[] {
  const foreign = TRANSPORT_CLAIMS.filter((k) => payload[k] !== undefined && !(binding !== undefined && k in binding));
  if (foreign.length > 0) return [{ code: 'REQUEST_MISMATCH', message: `the presentation is bound to another request (${foreign.join(', ')})` }];
  if (binding === undefined) return [];
  const same = (a: unknown, b: unknown) => {
    try {
      return canonicalJson(a) === canonicalJson(b);
    } catch {
      return false;
    }
  };
  return Object.entries(binding)
    .filter(([k, v]) => !same(payload[k], v))
    .map(([k]) => ({ code: 'REQUEST_MISMATCH' as const, message: `the presentation is bound to another call ("${k.slice(0, 40)}" differs)` }));
}

/**
 * Verifies, reserves, runs `fn`, then commits (fn resolved) or releases (fn
 * threw, and the error is rethrown; or `succeeded(value)` said no). A refusal never runs `fn`. The
 * presentation's jti (or challenge nonce) is used up once it is authentic,
 * whatever the outcome, so it can be replayed neither here nor on another
 * instance sharing the store. If settling fails after fn ran (store down),
 * the value is still returned with `spend: 'held'`: the reservation stays
 * and still counts. A presentation bound to an HTTP request or an MCP call
 * (htm, htu, mcp claims) is refused unless `binding` names those claims.
 * Store faults (STORE_UNAVAILABLE, STORE_ERROR) are thrown, never allowed:
 * fn does not run.
 */
export async function guardTransaction<T>(
  presentation: string,
  request: TransactionRequest & Settlement<T>,
  fn: (decision: AgentDecision) => T | Promise<T>,
): Promise<TransactionOutcome<T>> {
  if (typeof presentation !== 'string') throw new TypeError('guardTransaction: the presentation must be a JWT string');
  if (!request?.verifier || typeof request.verifier.issueNonce !== 'function') throw new TypeError('guardTransaction: request.verifier must come from createVerifier()');
  if (typeof fn !== 'function') throw new TypeError('guardTransaction: fn must be a function');
  const v = request.verifier;
  const now = Date.now();
  let d: DecodedJwt;
  try {
    d = decodeJwt(presentation, { maxBytes: 512 * 1024 });
  } catch (e) {
    return refuse(401, [isCharterError(e) ? { code: e.code, message: e.message } : { code: 'MALFORMED_JWT', message: 'not a compact JWS' }]);
  }
  const fresh = { aud: v.aud, now, maxAgeSeconds: v.maxAgeSeconds, skewSeconds: v.skewSeconds, mode: v.nonces };
  const bound = [...freshnessReasons(d.header as Record<string, unknown>, d.payload, fresh), ...bindingMismatch(d.payload, request.binding)];
  if (bound.length > 0) return refuse(401, bound);

  let decision: AgentDecision;
  try {
    decision = await verifyAgent(presentation, {
      resolver: v.resolver,
      status: v.status,
      aud: v.aud,
      skewSeconds: v.skewSeconds,
      maxAgeSeconds: v.maxAgeSeconds,
      ...(v.nonces === 'challenge' ? { nonce: d.payload.nonce as string } : { allowMissingNonce: true }),
      action: request.action,
      ...(request.amount !== undefined ? { amount: request.amount } : {}),
      counterparty: request.counterparty ?? v.aud,
      trust: request.trust,
      // Checked now, reserved below once the jti is used up: a replay never holds budget.
      ledger: v.store,
      ...(request.reputation ? { reputation: request.reputation } : {}),
      at: new Date(now),
    });
  } catch (e) {
    if (isCharterError(e, 'INVALID_ARGUMENT')) return refuse(400, [{ code: e.code, message: e.message }]);
    throw e;
  }
  const status = statusOf(decision.reasons);
  if (status === 401 || status === 400) return refuse(status, decision.reasons, decision);

  const unused = await redeem(v, decision.agent!, d.payload, now);
  if (unused) return refuse(401, [unused], { ...decision, ok: false, reasons: [unused] });
  if (status === 403) return refuse(403, decision.reasons, decision);

  const reserved = await reserveSpend(v.store, decision, { ...(request.amount !== undefined ? { amount: request.amount } : {}), at: new Date(now) });
  if (!reserved.ok) return refuse(403, reserved.reasons, { ...decision, ok: false, reasons: reserved.reasons, remaining: reserved.remaining });
  const reservationId = reserved.reservationId!;
  decision = { ...decision, reservationId, remaining: reserved.remaining };

  let value: T;
  try {
    value = await fn(decision);
  } catch (e) {
    await releaseSpend(v.store, reservationId).catch(() => undefined);
    throw e;
  }
  let succeeded: boolean;
  try {
    succeeded = request.succeeded?.(value) ?? true;
  } catch (e) {
    await releaseSpend(v.store, reservationId).catch(() => undefined);
    throw e;
  }
  const spend = succeeded ? 'committed' : 'released';
  try {
    await (succeeded ? commitSpend : releaseSpend)(v.store, reservationId);
    return { ok: true, value, decision, spend };
  } catch (e) {
    // fn has run: report its value, never a failure the caller might retry (and so pay twice).
    return { ok: true, value, decision, spend: 'held', settleError: e };
  }
}
