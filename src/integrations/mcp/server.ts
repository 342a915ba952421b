import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { CharterError, HTTP_STATUS, isCharterError, toReason, type Reason } from '../../errors.js';
import type { AgentDecision, AgentTrust } from '../../agents/types.js';
import type { AmountInput } from '../../agents/limits.js';
import { reportRouteError, type Verifier } from '../../guard/verifier.js';
import { AGENT_POLICY_SPEC, checkMandatePolicy, checkTrust, MANDATE_POLICY_SPEC, namedPayee, syncValue, type ReputationSource } from '../../guard/policy.js';
import {
  authorizeMandatePayment,
  authorizeTransaction,
  guardMandatePayment,
  guardTransaction,
  type MandateChain,
  type MandatePaymentRequest,
  type TransactionOutcome,
  type TransactionRequest,
  type TransactionRun,
} from '../../guard/transaction.js';
import { decide, type GuardDecision } from '../../guard/decide.js';
import { readOptions, type OptionSpec } from '../../encoding/options.js';
import type { MandateDecision, MandateProfile, MandateTrust } from '../../mandates/types.js';
import { PRESENTATION_META, RECEIPT_META, REFUSAL_META, SPEND_META, toolBinding, type ToolRefusal, type ToolSpend } from './binding.js';

const TOOL_SPEC: OptionSpec<ToolGuardOptions<unknown>> = { verifier: true, ...AGENT_POLICY_SPEC };
const MANDATE_TOOL_SPEC: OptionSpec<MandateToolGuardOptions<unknown>> = { verifier: true, mandate: MANDATE_POLICY_SPEC, amount: true };

export interface ToolGuardOptions<Args> {
  verifier: Verifier;
  /** The action this tool performs (e.g. `purchase`), or a function of its arguments. */
  action: string | ((args: Args) => string);
  /** What a call spends, e.g. `(a) => \`${a.price} ${a.currency}\``; undefined for a call without an amount. */
  amount?: (args: Args) => AmountInput | undefined;
  /** The DID the agent deals with. Default: the verifier's `aud`; a function must name one (else INVALID_ARGUMENT, a 400). */
  counterparty?: string | ((args: Args) => string | undefined);
  trust: AgentTrust;
  reputation?: ReputationSource;
}

/**
 * A tool paid for with an external agent payment mandate chain (Verifiable
 * Intent or AP2) instead of a Charter agent presentation: the chain travels
 * in `_meta["charter.dev/presentation"]` (the profile's input object, or a
 * string: AP2's `~~` payment chain, VI's JSON), its closing layer names this
 * server's verifier (`aud`) with a nonce used once, and its payment is
 * reserved on every cumulative limit of the chain before the tool runs.
 */
export interface MandateToolGuardOptions<Args> {
  verifier: Verifier;
  mandate: {
    profile: MandateProfile;
    trust: MandateTrust;
    /** The payee this tool takes payments for (merchant id or website), or a function of the arguments. */
    /** Checked whenever set: a function naming none (undefined) refuses the call (COUNTERPARTY_NOT_ALLOWED). */
    payee?: string | ((args: Args) => string | undefined);
    /** AP2 payment chain without its checkout chain: the checkout JWT hash being paid for. */
    checkoutHash?: (args: Args) => string | undefined;
    openCheckoutHash?: (args: Args) => string | undefined;
    /** Time zone of VI `payment.cumulative` periods. Default "UTC". */
    calendarTimeZone?: string;
    l1Vct?: string;
    /** VI: refuse a card credential (L1) with no `status` in clear (STATUS_INVALID); a status it names is always checked. */
    requireStatus?: boolean;
  };
  /** What a call charges: the chain's payment must be exactly this. */
  amount?: (args: Args) => AmountInput | undefined;
}

/**
 * A paid tool's body: `run.signal` aborts when the spend's hold runs out (a verifier with
 * `holdTimeoutSeconds`; never otherwise): stop before spending, pass it on (fetch, a payment SDK).
 */
export type GuardedMandateToolHandler<Args, Extra> = (args: Args, extra: Extra, decision: MandateDecision, run: TransactionRun) => CallToolResult | Promise<CallToolResult>;

/** The part of the SDK's `RequestHandlerExtra` the guard reads: the request's `_meta`. */
export interface ToolExtra {
  _meta?: Record<string, unknown>;
}

/**
 * A guarded tool's body: `run.signal` aborts when the spend's hold runs out (a verifier with
 * `holdTimeoutSeconds`; never otherwise): stop before spending, pass it on (fetch, a payment SDK).
 */
export type GuardedToolHandler<Args, Extra> = (args: Args, extra: Extra, decision: AgentDecision, run: TransactionRun) => CallToolResult | Promise<CallToolResult>;

const refusal = (r: ToolRefusal, receipt?: string): CallToolResult => ({
  isError: true,
  content: [{ type: 'text', text: `Refused by Charter (${r.code}): ${r.reasons.map((x) => `${x.code}: ${x.message}`).join('; ')}` }],
  _meta: { [REFUSAL_META]: r, ...(receipt !== undefined ? { [RECEIPT_META]: receipt } : {}) },
});

/** What became of an allowed call's spend, as `_meta["charter.dev/spend"]` carries it. */
const spendOf = (outcome: Extract<TransactionOutcome<CallToolResult, unknown>, { ok: true }>): ToolSpend => ({
  state: outcome.spend,
  ...(outcome.holdExpired ? { holdExpired: true as const } : {}),
  ...(outcome.settleError !== undefined ? { settleError: toReason(outcome.settleError, 'STORE_UNAVAILABLE') } : {}),
  ...(outcome.settlement !== undefined ? { settlement: outcome.settlement } : {}),
});

/** The handler's result with the decision receipt and the spend's outcome added to its `_meta`. */
/**
 * The guard owns the `charter.dev/` namespace of a result's `_meta` (README, MCP): a body's own keys there
 * (passed on from another server, say) never reach the client as the guard's, today's four
 * (presentation, refusal, receipt, spend) nor any added later; matched in any case, as a reader might.
 */
const GUARD_NAMESPACE = 'charter.dev/';

const withOutcome = (result: CallToolResult, receipt: string | undefined, spend: ToolSpend): CallToolResult => {
  if (typeof result !== 'object' || result === null) return result;
  const meta: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(result._meta ?? {})) if (!k.toLowerCase().startsWith(GUARD_NAMESPACE)) meta[k] = v;
  return { ...result, _meta: { ...meta, [SPEND_META]: spend, ...(receipt !== undefined ? { [RECEIPT_META]: receipt } : {}) } };
};

/**
 * A tool callback for `McpServer.registerTool(name, config, guardTool(name,
 * options, handler))` that runs `handler` only for a call carrying, in
 * `_meta["charter.dev/presentation"]`, an agent presentation that is
 * authentic, fresh (jti used once across every instance sharing the store),
 * bound to this tool and these arguments, and allowed by the agent's
 * mandate chain for this action, amount and counterparty. The spend is
 * reserved before the handler runs, committed when it returns a result
 * without `isError`, released when it throws or returns `isError`; the
 * handler's fourth argument carries an AbortSignal that fires when the
 * hold runs out (`holdTimeoutSeconds`). The result's `_meta` carries what
 * became of the spend (`charter.dev/spend`: state, `holdExpired`,
 * `settleError`) and, with a receipts verifier, the decision receipt.
 * Otherwise the call returns an error result whose `_meta` carries the
 * Charter code and every reason (and the signed receipt of the refusal,
 * a missing presentation included), and the handler never runs.
 */
export function guardTool<Args extends Record<string, unknown>, Extra extends ToolExtra = ToolExtra>(
  name: string,
  options: ToolGuardOptions<Args>,
  handler: GuardedToolHandler<Args, Extra>,
): (args: Args, extra: Extra) => Promise<CallToolResult>;
/** The same guard for a tool paid for with a Verifiable Intent or AP2 chain (`options.mandate`). */
export function guardTool<Args extends Record<string, unknown>, Extra extends ToolExtra = ToolExtra>(
  name: string,
  options: MandateToolGuardOptions<Args>,
  handler: GuardedMandateToolHandler<Args, Extra>,
): (args: Args, extra: Extra) => Promise<CallToolResult>;
export function guardTool<Args extends Record<string, unknown>, Extra extends ToolExtra = ToolExtra>(
  name: string,
  given: ToolGuardOptions<Args> | MandateToolGuardOptions<Args>,
  handler: GuardedToolHandler<Args, Extra> | GuardedMandateToolHandler<Args, Extra>,
): (args: Args, extra: Extra) => Promise<CallToolResult> {
  if (typeof name !== 'string' || name.length === 0) throw new TypeError('guardTool: name must be the tool name it is registered under');
  // Read once; a misspelt option (`payees`, `ammount`) is a TypeError, not a check left undone.
  const options =
    typeof given === 'object' && given !== null && 'mandate' in given
      ? readOptions('guardTool', given, MANDATE_TOOL_SPEC as OptionSpec<MandateToolGuardOptions<Args>>)
      : readOptions('guardTool', given as ToolGuardOptions<Args>, TOOL_SPEC as OptionSpec<ToolGuardOptions<Args>>);
  if (!options?.verifier || typeof options.verifier.issueNonce !== 'function') throw new TypeError('guardTool: options.verifier must come from createVerifier()');
  const paid = 'mandate' in options && options.mandate !== undefined;
  if (paid) {
    checkMandatePolicy('guardTool', (options as MandateToolGuardOptions<Args>).mandate);
  } else {
    const o = options as ToolGuardOptions<Args>;
    if (!(typeof o.action === 'function' || (typeof o.action === 'string' && o.action.length > 0)))
      throw new TypeError('guardTool: action must be a string or a function of the arguments');
    checkTrust('guardTool', o.trust, o.reputation);
  }
  if (options.amount !== undefined && typeof options.amount !== 'function') throw new TypeError('guardTool: amount must be a function of the arguments');
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
  // A body that returns no result object has not succeeded: its spend is released.
  const succeeded = (r: CallToolResult | undefined) => typeof r === 'object' && r !== null && r.isError !== true;

  return async (args: Args, extra: Extra) => {
    const proof = extra?._meta?.[PRESENTATION_META];
    const present = paid ? proof !== undefined && proof !== null && (typeof proof === 'string' || typeof proof === 'object') : typeof proof === 'string';
    // What the arguments say (a malformed amount, a value JSON cannot carry: a 400), before anything runs.
    let run: (() => Promise<TransactionOutcome<CallToolResult, unknown>>) | undefined;
    // The pipeline's decision on this call when it carries no proof (a refusal, signed and logged).
    let unproven: (() => Promise<GuardDecision>) | undefined;
    let binding: Record<string, unknown> | undefined;
    let malformed: Reason | undefined;
    try {
      binding = toolBinding(name, args);
      const amount = syncValue(options.amount?.(args));
      if (paid) {
        const m = (options as MandateToolGuardOptions<Args>).mandate;
        // As over HTTP (namedPayee): a chain carries no mcp claim, so the caller picks the arguments.
        const payee = m.payee === undefined ? undefined : namedPayee(typeof m.payee === 'function' ? syncValue(m.payee(args)) : m.payee);
        const checkoutHash = syncValue(m.checkoutHash?.(args));
        const openCheckoutHash = syncValue(m.openCheckoutHash?.(args));
        const request: MandatePaymentRequest = {
          verifier,
          profile: m.profile,
          trust: m.trust,
          ...(amount !== undefined ? { amount } : {}),
          ...(payee !== undefined ? { payee } : {}),
          ...(checkoutHash !== undefined ? { checkoutHash } : {}),
          ...(openCheckoutHash !== undefined ? { openCheckoutHash } : {}),
          ...(m.calendarTimeZone !== undefined ? { calendarTimeZone: m.calendarTimeZone } : {}),
          ...(m.l1Vct !== undefined ? { l1Vct: m.l1Vct } : {}),
          ...(m.requireStatus !== undefined ? { requireStatus: m.requireStatus } : {}),
          // Chain layers have no place for an mcp claim: one that carries none is bound by aud and its used-once nonce.
          binding,
        };
        run = () =>
          guardMandatePayment(proof as MandateChain, { ...request, succeeded }, (decision, r) => (handler as GuardedMandateToolHandler<Args, Extra>)(args, extra, decision, r));
        // authorizeMandatePayment takes an absent chain (undefined) and refuses it through the pipeline.
        unproven = () => authorizeMandatePayment(undefined as unknown as MandateChain, request);
      } else {
        const o = options as ToolGuardOptions<Args>;
        // Values the arguments give are the caller's input: one of the wrong type is a 400, as a bad amount is.
        const action = typeof o.action === 'function' ? syncValue(o.action(args)) : o.action;
        const counterparty = typeof o.counterparty === 'function' ? syncValue(o.counterparty(args)) : o.counterparty;
        if (typeof action !== 'string' || action.length === 0) throw new CharterError('INVALID_ARGUMENT', 'the arguments name no action (a non-empty string)');
        // A counterparty function that names none is the arguments' fault, not "the verifier itself" (the
        // default of a guard with no counterparty function): that could pass a limit naming only the verifier.
        if (typeof o.counterparty === 'function' ? typeof counterparty !== 'string' : counterparty !== undefined && typeof counterparty !== 'string')
          throw new CharterError('INVALID_ARGUMENT', 'the counterparty the arguments name must be a string (a DID)');
        const request: TransactionRequest = {
          verifier,
          action,
          ...(amount !== undefined ? { amount } : {}),
          ...(counterparty !== undefined ? { counterparty } : {}),
          trust: o.trust,
          ...(o.reputation ? { reputation: o.reputation } : {}),
          binding,
        };
        run = () => guardTransaction(proof as string, { ...request, succeeded }, (decision, r) => (handler as GuardedToolHandler<Args, Extra>)(args, extra, decision, r));
        // authorizeTransaction takes an absent presentation (undefined) and refuses it through the pipeline.
        unproven = () => authorizeTransaction(undefined as unknown as string, request);
      }
    } catch (e) {
      malformed = { code: 'INVALID_ARGUMENT', message: isCharterError(e) ? e.message : 'the arguments do not describe a transaction' };
      // The tool's own function threw: the caller gets the fixed message, the server its error (as on HTTP).
      if (!isCharterError(e)) reportRouteError(verifier, e, args);
    }
    if (!present) {
      // As over HTTP: the pipeline decides a call without a proof (bound to this tool and its arguments
      // when they can be read), so the refusal is signed and logged as every decision is.
      const d = unproven
        ? await unproven()
        : await decide(verifier, undefined, { kind: 'presentation' }, binding !== undefined ? { kind: 'claims', claims: binding } : { kind: 'none' });
      if (d.status === 503) return refuse(503, d.reasons);
      const what = paid ? 'its payment mandate chain' : "the agent's presentation";
      return refuse(401, [{ code: 'INVALID_PRESENTATION', message: `${name} is a transaction: send ${what} in _meta["${PRESENTATION_META}"]` }], d.nonce, d.receipt);
    }
    if (malformed !== undefined || run === undefined) return refuse(400, [malformed ?? { code: 'INVALID_ARGUMENT', message: 'the arguments do not describe a transaction' }]);
    const outcome = await run();
    // The pipeline answers a store fault as a 503 refusal (fail closed: nothing runs; the agent may
    // retry); a fault from the body itself is not a refusal and propagates.
    return outcome.ok
      ? withOutcome(outcome.value, outcome.receipt, spendOf(outcome))
      : refuse(outcome.status as ToolRefusal['status'], outcome.reasons, outcome.nonce, outcome.receipt);
  };
}
