import { sha256Digest } from '../../encoding/json.js';
import type { Reason } from '../../errors.js';

/**
 * How a KYA presentation travels with an MCP tool call. MCP reserves `_meta`
 * on requests and results for such extensions; keys carry a reverse-DNS-style
 * prefix (MCP specification, "General fields: _meta").
 */
export const PRESENTATION_META = 'charter.dev/presentation';
export const REFUSAL_META = 'charter.dev/refusal';
/** The verifier's signed decision receipt, on an allowed result and on a refusal alike. */
export const RECEIPT_META = 'charter.dev/receipt';

/**
 * The claims binding a presentation to one tool call, as `htm`/`htu` bind
 * one to an HTTP request: the tool's name and the SHA-256 of its arguments
 * as canonical JSON (RFC 8785). Arguments changed in transit (a larger
 * amount, another item) no longer match.
 */
export function toolBinding(tool: string, args: unknown): { mcp: { tool: string; args: string } } {
  // The arguments as JSON carries them (a Date as its ISO string, a URL as its href), so client
  // and server hash the same value; what JSON cannot carry (a BigInt) throws a TypeError.
  const json: unknown = JSON.parse(JSON.stringify(args ?? {}) ?? 'null');
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
