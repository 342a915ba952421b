import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { HTTP_STATUS, isCharterError, type Reason } from '../../errors.js';
import type { AgentDecision, AgentTrust } from '../../agents/types.js';
import type { AmountInput } from '../../agents/limits.js';
import type { Verifier } from '../../guard/verifier.js';
import { checkTrust, type ReputationSource } from '../../guard/policy.js';
import { guardTransaction } from '../../guard/transaction.js';
import { PRESENTATION_META, RECEIPT_META, REFUSAL_META, toolBinding, type ToolRefusal } from './binding.js';

export interface ToolGuardOptions<Args> {
  verifier: Verifier;
  /** The action this tool performs (e.g. `purchase`), or a function of its arguments. */
  action: string | ((args: Args) => string);
  /** What a call spends, e.g. `(a) => \`${a.price} ${a.currency}\``; undefined for a call without an amount. */
  amount?: (args: Args) => AmountInput | undefined;
  /** The DID the agent deals with. Default: the verifier's `aud`. */
  counterparty?: string | ((args: Args) => string | undefined);
  trust: AgentTrust;
  reputation?: ReputationSource;
}

/** The part of the SDK's `RequestHandlerExtra` the guard reads: the request's `_meta`. */
export interface ToolExtra {
  _meta?: Record<string, unknown>;
}

export type GuardedToolHandler<Args, Extra> = (args: Args, extra: Extra, decision: AgentDecision) => CallToolResult | Promise<CallToolResult>;

const refusal = (r: ToolRefusal, receipt?: string): CallToolResult => ({
  isError: true,
  content: [{ type: 'text', text: `Refused by Charter (${r.code}): ${r.reasons.map((x) => `${x.code}: ${x.message}`).join('; ')}` }],
  _meta: { [REFUSAL_META]: r, ...(receipt !== undefined ? { [RECEIPT_META]: receipt } : {}) },
});

/** The handler's result with the decision receipt added to its `_meta`. */
const withReceipt = (result: CallToolResult, receipt: string | undefined): CallToolResult =>
  receipt === undefined || typeof result !== 'object' || result === null ? result : { ...result, _meta: { ...result._meta, [RECEIPT_META]: receipt } };

/**
 * A tool callback for `McpServer.registerTool(name, config, guardTool(name,
 * options, handler))` that runs `handler` only for a call carrying, in
 * `_meta["charter.dev/presentation"]`, an agent presentation that is
 * authentic, fresh (jti used once across every instance sharing the store),
 * bound to this tool and these arguments, and allowed by the agent's
 * mandate chain for this action, amount and counterparty. The spend is
 * reserved before the handler runs, committed when it returns a result
 * without `isError`, released when it throws or returns `isError`.
 * Otherwise the call returns an error result whose `_meta` carries the
 * Charter code and every reason, and the handler never runs.
 */
export function guardTool<Args extends Record<string, unknown>, Extra extends ToolExtra = ToolExtra>(
  name: string,
  options: ToolGuardOptions<Args>,
  handler: GuardedToolHandler<Args, Extra>,
): (args: Args, extra: Extra) => Promise<CallToolResult> {
  if (typeof name !== 'string' || name.length === 0) throw new TypeError('guardTool: name must be the tool name it is registered under');
  if (!options?.verifier || typeof options.verifier.issueNonce !== 'function') throw new TypeError('guardTool: options.verifier must come from createVerifier()');
  if (!(typeof options.action === 'function' || (typeof options.action === 'string' && options.action.length > 0))) throw new TypeError('guardTool: action must be a string or a function of the arguments');
  checkTrust('guardTool', options.trust, options.reputation);
  if (typeof handler !== 'function') throw new TypeError('guardTool: handler must be a function');
  const { verifier } = options;

  const refuse = async (status: ToolRefusal['status'], reasons: Reason[], nonce?: string, receipt?: string): Promise<CallToolResult> => {
    if (status === 401 && nonce === undefined && verifier.nonces === 'challenge') {
      try {
        nonce = (await verifier.issueNonce()).nonce;
      } catch (e) {
        if (isCharterError(e) && HTTP_STATUS[e.code] === 503) return refuse(503, [{ code: e.code, message: e.message }]);
        throw e;
      }
    }
    return refusal({ status, code: reasons[0]!.code, reasons, ...(nonce !== undefined ? { nonce } : {}) }, receipt);
  };

  return async (args: Args, extra: Extra) => {
    const vp = extra?._meta?.[PRESENTATION_META];
    if (typeof vp !== 'string') {
      return refuse(401, [{ code: 'INVALID_PRESENTATION', message: `${name} is a transaction: send the agent's presentation in _meta["${PRESENTATION_META}"]` }]);
    }
    let action: string;
    let amount: AmountInput | undefined;
    let counterparty: string | undefined;
    let binding: ReturnType<typeof toolBinding>;
    try {
      action = typeof options.action === 'function' ? options.action(args) : options.action;
      amount = options.amount?.(args);
      counterparty = typeof options.counterparty === 'function' ? options.counterparty(args) : options.counterparty;
      binding = toolBinding(name, args);
    } catch (e) {
      return refuse(400, [{ code: 'INVALID_ARGUMENT', message: isCharterError(e) ? e.message : 'the arguments do not describe a transaction' }]);
    }
    const request = {
      verifier,
      action,
      ...(amount !== undefined ? { amount } : {}),
      ...(counterparty !== undefined ? { counterparty } : {}),
      trust: options.trust,
      ...(options.reputation ? { reputation: options.reputation } : {}),
      binding,
      // A body that returns no result object has not succeeded: its spend is released.
      succeeded: (r: CallToolResult | undefined) => typeof r === 'object' && r !== null && r.isError !== true,
    };
    // The pipeline answers a store fault as a 503 refusal (fail closed: nothing runs; the agent may
    // retry); a fault from the body itself is not a refusal and propagates.
    const outcome = await guardTransaction(vp, request, (decision) => handler(args, extra, decision));
    return outcome.ok ? withReceipt(outcome.value, outcome.receipt) : refuse(outcome.status as ToolRefusal['status'], outcome.reasons, outcome.nonce, outcome.receipt);
  };
}
