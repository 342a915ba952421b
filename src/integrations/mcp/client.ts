import { randomUUID } from 'node:crypto';
import { createPresentation } from '../../credentials/index.js';
import type { Issuer } from '../../credentials/types.js';
import { orderChain } from '../../agents/index.js';
import type { MandateChain } from '../../guard/transaction.js';
import { PRESENTATION_META, RECEIPT_META, REFUSAL_META, SPEND_META, toolBinding, type ToolRefusal, type ToolSpend } from './binding.js';

export interface ToolPresenter {
  /** The agent, signing with its authentication key (a Home gives it: `await home.issuer('shopper')`). */
  agent: Issuer;
  /** Its AgentIdentityCredential (JWT). */
  identity?: string;
  /** Its mandate and every link above it, in any order. */
  chain: string[];
  /** The MCP server's verifier identifier (its `aud`). */
  aud: string;
  /** Seconds each presentation stays valid. Default 60. */
  expiresInSeconds?: number;
}

export interface ToolCall {
  name: string;
  arguments?: Record<string, unknown>;
  _meta?: Record<string, unknown>;
}

/** The part of the SDK's `Client` used: `callTool`. */
export interface ToolCaller<R> {
  callTool(params: ToolCall & { _meta: Record<string, unknown> }): Promise<R>;
}

/** A presentation of the agent's identity and mandate chain bound to this tool call (name and arguments) and used once. */
export function presentForTool(call: ToolCall, presenter: ToolPresenter, nonce?: string, jti?: string): Promise<string> {
  if (!presenter?.agent?.signer || !Array.isArray(presenter.chain)) throw new TypeError('presentForTool needs { agent, chain, aud }');
  return createPresentation({
    holder: presenter.agent,
    credentials: [...(presenter.identity !== undefined ? [presenter.identity] : []), ...orderChain(presenter.chain)],
    aud: presenter.aud,
    ...(nonce !== undefined ? { nonce } : {}),
    expiresInSeconds: presenter.expiresInSeconds ?? 60,
    claims: { ...toolBinding(call.name, call.arguments ?? {}), ...(jti !== undefined ? { jti } : {}) },
  });
}

/** The refusal a guarded tool returned, if it was refused by Charter (not by the tool itself). */
export function toolRefusal(result: unknown): ToolRefusal | undefined {
  const meta = (result as { _meta?: Record<string, unknown> } | null)?._meta;
  const r = meta?.[REFUSAL_META] as ToolRefusal | undefined;
  return r && typeof r.code === 'string' && Array.isArray(r.reasons) ? r : undefined;
}

/** The verifier's signed decision receipt on a guarded tool's result (allowed or refused), if it sends one; check it with `verifyReceipt(jws, { resolver, issuers: [the verifier's signing DID] })`. */
export function toolReceipt(result: unknown): string | undefined {
  const r = (result as { _meta?: Record<string, unknown> } | null)?._meta?.[RECEIPT_META];
  return typeof r === 'string' ? r : undefined;
}

/** What became of a guarded tool call's spend (committed, released, held, none; `holdExpired`), if the tool ran. */
export function toolSpend(result: unknown): ToolSpend | undefined {
  const r = (result as { _meta?: Record<string, unknown> } | null)?._meta?.[SPEND_META] as ToolSpend | undefined;
  return r && typeof r === 'object' && typeof r.state === 'string' ? r : undefined;
}

/**
 * `client.callTool` with a fresh presentation in `_meta`, bound to this call.
 * Retried once with the server's nonce when it requires one (challenge mode).
 * Send every argument explicitly: the binding covers the arguments the
 * server's tool receives, so a default the server fills in would not match.
 */
export async function callGuardedTool<R>(client: ToolCaller<R>, call: ToolCall, presenter: ToolPresenter): Promise<R> {
  // One jti for the call and its retry: a refusal with a nonce may be forged by a relay that keeps the first
  // proof, and an 'iat'-mode verifier takes only one proof of a jti (one call, one use).
  const jti = `urn:uuid:${randomUUID()}`;
  const send = async (nonce?: string) => client.callTool({ ...call, _meta: { ...call._meta, [PRESENTATION_META]: await presentForTool(call, presenter, nonce, jti) } });
  const first = await send();
  const refusal = toolRefusal(first);
  return refusal?.status === 401 && refusal.nonce !== undefined ? send(refusal.nonce) : first;
}

/**
 * `client.callTool` paying with an external payment mandate chain (a tool
 * guarded with `guardTool(name, { verifier, mandate }, handler)`): the chain
 * goes in `_meta["charter.dev/presentation"]` as is. Its closing layer (VI
 * L3a, the AP2 closed payment mandate) must name the server's `aud` and carry
 * a fresh nonce: a chain is paid once.
 */
export function callMandateTool<R>(client: ToolCaller<R>, call: ToolCall, chain: MandateChain): Promise<R> {
  if (chain === undefined || chain === null) throw new TypeError('callMandateTool needs the mandate chain');
  return client.callTool({ ...call, _meta: { ...call._meta, [PRESENTATION_META]: chain } });
}
