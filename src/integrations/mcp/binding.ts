import { sha256Digest } from '../../encoding/json.js';
import type { Reason } from '../../errors.js';
import type { SpendState } from '../../guard/spend.js';

/**
 * How a KYA presentation travels with an MCP tool call. MCP reserves `_meta`
 * on requests and results for such extensions; keys carry a reverse-DNS-style
 * prefix (MCP specification, "General fields: _meta").
 */
export const PRESENTATION_META = 'charter.dev/presentation';
export const REFUSAL_META = 'charter.dev/refusal';
/** The verifier's signed decision receipt, on an allowed result and on a refusal alike. */
export const RECEIPT_META = 'charter.dev/receipt';
/** What became of an allowed call's spend (a `ToolSpend`), on every result the tool body returned. */
export const SPEND_META = 'charter.dev/spend';

/**
 * The claims binding a presentation to one tool call, as `htm`/`htu` bind
 * one to an HTTP request: the tool's name and the SHA-256 of its arguments
 * as canonical JSON (RFC 8785). Arguments changed in transit (a larger
 * amount, another item) no longer match.
 */
export function toolBinding(tool: string, args: unknown): { mcp: { tool: string; args: string } } {
  // The arguments as JSON carries them (a Date as its ISO string, a URL as its href), so client
  // and server hash the same value; what JSON cannot carry (a BigInt) throws a TypeError. A number
  // that is not finite is refused too: JSON.stringify writes it as null, so an Infinity (what a
  // JSON parser makes of 1e400) would hash as null and a relay could swap one for the other
  // (RFC 8785 §3.2.2.3: no such number is JSON).
  const text = JSON.stringify(args ?? {}, (_k, v: unknown) => {
    if (typeof v === 'number' && !Number.isFinite(v)) throw new TypeError('tool arguments hold a number JSON cannot carry (NaN or Infinity)');
    return v;
  });
  const json: unknown = JSON.parse(text ?? 'null');
  return { mcp: { tool, args: sha256Digest(json ?? {}) } };
}

/** What a refused tool call carries in `result._meta["charter.dev/refusal"]`. */
export interface ToolRefusal {
  /** 401: no authentic, fresh, bound presentation; 403: authentic but not allowed; 400: malformed arguments; 503: the store failed (retry). */
  status: number;
  /** The first reason's code. */
  code: Reason['code'];
  reasons: Reason[];
  /** A fresh nonce, when the verifier requires one (challenge mode): present again with it. */
  nonce?: string;
}

/** What an allowed tool call carries in `result._meta["charter.dev/spend"]`: what became of its reserved spend. */
export interface ToolSpend {
  /**
   * committed (the body succeeded), released (it threw or returned `isError`), none (no cumulative
   * limit: nothing was reserved), or held: the store failed while settling, so the reservation still
   * counts against every budget and is settled in the background (`settleError` says why).
   */
  state: SpendState | 'none';
  /**
   * With `holdTimeoutSeconds`: the body finished after the hold ran out (its AbortSignal fired), so the
   * ledger had released the reservation and others may have spent that budget meanwhile; a commit
   * still records the spend, which may pass a limit: treat it as an incident.
   */
  holdExpired?: true;
  /** Why settling failed (state `held`). */
  settleError?: Reason;
  /** With a receipts verifier: the settlement receipt, when the commit or release was already logged. */
  settlement?: string;
}
