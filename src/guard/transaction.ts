import type { Reason } from '../errors.js';
import type { AgentDecision, AgentTrust } from '../agents/types.js';
import type { AmountInput } from '../agents/limits.js';
import type { Ap2ChainInput, MandateDecision, ViChainInput } from '../mandates/types.js';
import type { Binding } from './binding.js';
import { decide, type GuardDecision } from './decide.js';
import { checkMandatePolicy, checkTrust, MANDATE_POLICY_SPEC, type MandatePolicy, type ReputationSource } from './policy.js';
import { holdSignal, type SpendHold, type SpendState } from './spend.js';
import type { Verifier } from './verifier.js';
import { readOptions, type OptionSpec } from '../encoding/options.js';
import { TRUST_SPEC } from '../agents/verify.js';

/**
 * The KYA guard for any framework: `guardTransaction` verifies the agent's
 * presentation for this transaction (through the one decision pipeline),
 * runs the transaction only when allowed, and commits the reserved spend
 * when it succeeds or releases it when it fails. The HTTP middleware and the
 * MCP tool guard run the same pipeline with their transport's binding.
 */
export interface TransactionRequest {
  /** This verifier: its `aud`, store (replay cache and ledger), resolver, status checker and freshness mode. */
  verifier: Verifier;
  /** The action the transaction performs, matched against the mandate's `actions`. */
  action: string;
  /** What it spends: `"20 USD"`, `{ amount: "20", currency }` or `{ amount: 20, currency }`. Required by a money-limited mandate. */
  amount?: AmountInput;
  /** The DID the agent deals with. Default: the verifier's `aud`. */
  counterparty?: string;
  trust: AgentTrust;
  /** For `trust.minReputation`. */
  reputation?: ReputationSource;
  /**
   * Claims the presentation must carry, compared as canonical JSON, binding
   * it to this one call (as `htm`/`htu` bind it to an HTTP request), e.g.
   * `{ mcp: { tool, args } }`. A mismatch is REQUEST_MISMATCH. Without it,
   * a presentation bound to an HTTP request or an MCP call is refused.
   */
  binding?: Record<string, unknown>;
  /** The time the decision is made at (default now): for replaying a recorded request in tests and audits. */
  now?: Date;
}

/** What fn is handed beside the decision. */
export interface TransactionRun {
  /** Aborted when the spend's hold runs out (a verifier with holdTimeoutSeconds); never otherwise. Pass it on (fetch, a payment SDK). */
  signal: AbortSignal;
}

/** For a transaction that reports failure as a value (an MCP result with `isError`): false releases the spend. */
export interface Settlement<T> {
  succeeded?: (value: T) => boolean;
}

export type TransactionOutcome<T, D = AgentDecision> =
  | {
      ok: true;
      /** What fn returned. */
      value: T;
      decision: D;
      /**
       * What became of the reserved spend: committed (fn succeeded), released
       * (it did not), none (no cumulative limit: nothing was reserved), or held:
       * the store failed while settling, so the reservation still counts
       * against every budget (never an overspend) and is settled in the
       * background as soon as the store answers; `settleError` says why.
       */
      spend: SpendState | 'none';
      settleError?: unknown;
      /**
       * With `holdTimeoutSeconds`: fn finished after the hold ran out, so the ledger had released its
       * reservation and others may have spent that budget meanwhile. The commit still records the spend
       * (it happened), which may pass a limit: treat it as an incident (fn was also handed an AbortSignal
       * that fired when the hold ran out, to stop before it spends).
       */
      holdExpired?: true;
      /** With a receipts verifier: the signed decision receipt. */
      receipt?: string;
      /** ... and the settlement receipt, once the commit or release is logged. */
      settlement?: string;
    }
  | {
      ok: false;
      /** 401: no authentic, fresh, bound proof; 403: authentic but not allowed; 400: the request is malformed; 503: the store failed (retry). */
      status: GuardDecision['status'];
      reasons: Reason[];
      /** The KYA (or mandate) decision, when the presentation got that far. */
      decision?: D;
      /** Challenge mode, on a 401: a fresh nonce to present again with. */
      nonce?: string;
      /** With a receipts verifier: the signed receipt of the refusal (none for a 503: nothing was decided). */
      receipt?: string;
    };

/** A caller's `binding` and `now`, checked as the request is taken (TypeError: a caller's mistake, never a decision). */
function checkBindingAndNow(who: string, request: { binding?: unknown; now?: unknown }): void {
  const b = request.binding;
  if (b !== undefined && (typeof b !== 'object' || b === null || Array.isArray(b))) throw new TypeError(`${who}: request.binding must be an object of transport claims`);
  const n = request.now;
  if (n !== undefined && !(n instanceof Date && Number.isFinite(n.getTime()))) throw new TypeError(`${who}: request.now must be a valid Date`);
}

const REQUEST_SPEC: OptionSpec<TransactionRequest & Settlement<unknown>> = {
  verifier: true,
  action: true,
  amount: true,
  counterparty: true,
  trust: TRUST_SPEC,
  reputation: true,
  binding: true,
  now: true,
  succeeded: true,
};

/** The request read once (encoding/options.ts: a misspelt `trust.identityIssuer` is a TypeError), then checked. */
function checkRequest<R extends TransactionRequest>(given: R, who: string): R {
  const request = readOptions(who, given, REQUEST_SPEC as unknown as OptionSpec<R>);
  if (!request?.verifier || typeof request.verifier.issueNonce !== 'function') throw new TypeError(`${who}: request.verifier must come from createVerifier()`);
  if (typeof request.action !== 'string' || request.action.length === 0) throw new TypeError(`${who}: request.action is required`);
  checkTrust(who, request.trust, request.reputation);
  checkBindingAndNow(who, request);
  return request;
}

/**
 * The presentation as sent: what is not a string (null, a number, an object
 * from a queue message) is no presentation, a 401 with a receipt like any
 * refusal, never a TypeError thrown at the caller's caller.
 */
const sent = (presentation: unknown): string | undefined => (typeof presentation === 'string' ? presentation : undefined);

/**
 * The pipeline's decision for a transaction, without running anything: an
 * allowed decision carries `spend` (when the chain has a budget or rate),
 * which the caller must settle (`spend.commit()` / `spend.release()`), for
 * callers that run the transaction themselves (the Veramo plugin, the CLI).
 */
export async function authorizeTransaction(presentation: string, given: TransactionRequest): Promise<GuardDecision> {
  const request = checkRequest(given, 'authorizeTransaction');
  const binding: Binding = request.binding !== undefined ? { kind: 'claims', claims: request.binding } : { kind: 'none' };
  return decide(
    request.verifier,
    sent(presentation),
    {
      kind: 'agent',
      action: request.action,
      ...(request.amount !== undefined ? { amount: request.amount } : {}),
      ...(request.counterparty !== undefined ? { counterparty: request.counterparty } : {}),
      trust: request.trust,
      ...(request.reputation ? { reputation: request.reputation } : {}),
    },
    binding,
    request.now?.getTime(),
  );
}

/**
 * Verifies, reserves, runs `fn`, then commits (fn resolved) or releases (fn
 * threw, and the error is rethrown; or `succeeded(value)` said no). A
 * refusal never runs `fn`; a store fault is a 503 refusal (fn does not run).
 * If settling fails after fn ran, the value is still returned with
 * `spend: 'held'`: fn's effect happened, so the caller is never invited to
 * retry and pay twice; the spend keeps counting and is settled in the
 * background once the store answers.
 */
export async function guardTransaction<T>(
  presentation: string,
  given: TransactionRequest & Settlement<T>,
  fn: (decision: AgentDecision, run: TransactionRun) => T | Promise<T>,
): Promise<TransactionOutcome<T>> {
  const request = checkRequest(given, 'guardTransaction');
  if (typeof fn !== 'function') throw new TypeError('guardTransaction: fn must be a function');
  return run(await authorizeTransaction(presentation, request), (d) => d.agent, request, fn);
}

/**
 * Runs `fn` for an allowed decision and settles its spend: commit when fn
 * resolved (and `succeeded` agrees), release when it threw or did not
 * succeed; a refusal never runs fn.
 */
async function run<T, D>(
  d: GuardDecision,
  decisionOf: (d: GuardDecision) => D | undefined,
  request: Settlement<T>,
  fn: (decision: D, run: TransactionRun) => T | Promise<T>,
): Promise<TransactionOutcome<T, D>> {
  const decision = decisionOf(d);
  if (!d.ok || decision === undefined) {
    return {
      ok: false,
      status: d.status,
      reasons: d.reasons,
      ...(decision !== undefined ? { decision } : {}),
      ...(d.nonce !== undefined ? { nonce: d.nonce } : {}),
      ...(d.receipt !== undefined ? { receipt: d.receipt } : {}),
    };
  }
  const receipt = d.receipt !== undefined ? { receipt: d.receipt } : {};
  const spend: SpendHold | undefined = d.spend;
  // fn learns when the hold runs out (holdTimeoutSeconds): past it, the budget it holds may be given to others.
  const until = spend?.holdUntil?.getTime();
  const hold = holdSignal(spend);
  let value: T;
  try {
    value = await fn(decision, { signal: hold.signal });
  } catch (e) {
    await spend?.settle(false);
    throw e;
  } finally {
    hold.stop();
  }
  const holdExpired = until !== undefined && Date.now() >= until ? { holdExpired: true as const } : {};
  let succeeded: boolean;
  try {
    succeeded = request.succeeded?.(value) ?? true;
  } catch (e) {
    await spend?.settle(false);
    throw e;
  }
  if (!spend) return { ok: true, value, decision, spend: 'none', ...receipt };
  let settleError: unknown;
  try {
    await (succeeded ? spend.commit() : spend.release());
  } catch (e) {
    settleError = e;
    await spend.settle(succeeded);
  }
  return {
    ok: true,
    value,
    decision,
    spend: spend.state,
    ...(settleError !== undefined ? { settleError } : {}),
    ...holdExpired,
    ...receipt,
    ...(spend.receipt !== undefined ? { settlement: spend.receipt } : {}),
  };
}

/**
 * A payment authorized by an external agent payment mandate chain (Verifiable
 * Intent or AP2) rather than a Charter mandate: the same pipeline, a mandate
 * policy. The chain's closing layer (VI L3a, or an immediate L2; the AP2
 * closed payment mandate) must name this verifier in `aud`, be recent
 * (`iat`) and carry a `nonce`, used once per agent key across every instance
 * sharing the store (in challenge mode: a nonce this verifier issued). Its
 * payment is reserved on every cumulative limit of the chain (VI
 * `payment.budget` over the mandate's life, `payment.cumulative` per calendar
 * period, AP2 budgets and occurrence caps) in one store transaction.
 */
export interface MandatePaymentRequest extends Omit<MandatePolicy, 'kind'> {
  verifier: Verifier;
  /** Transport claims the closing layer must carry if it carries any (see TransactionRequest.binding). */
  binding?: Record<string, unknown>;
  now?: Date;
}

/** A chain as the mandate guard takes it: the profile's input object, its JSON text, base64url of that JSON, or AP2's `~~` payment chain. */
export type MandateChain = ViChainInput | Ap2ChainInput | string;

// A misspelt `amount` or `payee` would let the payment run unchecked against the request: a TypeError instead.
const MANDATE_REQUEST_SPEC: OptionSpec<MandatePaymentRequest & Settlement<unknown>> = {
  ...MANDATE_POLICY_SPEC,
  verifier: true,
  amount: true,
  binding: true,
  now: true,
  succeeded: true,
};

function checkMandateRequest<R extends MandatePaymentRequest>(chain: unknown, given: R, who: string): R {
  const request = readOptions(who, given, MANDATE_REQUEST_SPEC as unknown as OptionSpec<R>);
  if (!request?.verifier || typeof request.verifier.issueNonce !== 'function') throw new TypeError(`${who}: request.verifier must come from createVerifier()`);
  checkMandatePolicy(who, request);
  checkBindingAndNow(who, request);
  if (chain !== undefined && typeof chain !== 'string' && (typeof chain !== 'object' || chain === null))
    throw new TypeError(`${who}: the chain must be a string or the profile's input object`);
  return request;
}

/** The pipeline's decision for a mandate payment, without running anything; an allowed one may carry `spend` to settle. */
export async function authorizeMandatePayment(chain: MandateChain, given: MandatePaymentRequest): Promise<GuardDecision> {
  const request = checkMandateRequest(chain, given, 'authorizeMandatePayment');
  const binding: Binding = request.binding !== undefined ? { kind: 'claims', claims: request.binding } : { kind: 'none' };
  return decide(
    request.verifier,
    chain,
    {
      kind: 'mandate',
      profile: request.profile,
      trust: request.trust,
      ...(request.amount !== undefined ? { amount: request.amount } : {}),
      ...(request.payee !== undefined ? { payee: request.payee } : {}),
      ...(request.checkoutHash !== undefined ? { checkoutHash: request.checkoutHash } : {}),
      ...(request.openCheckoutHash !== undefined ? { openCheckoutHash: request.openCheckoutHash } : {}),
      ...(request.calendarTimeZone !== undefined ? { calendarTimeZone: request.calendarTimeZone } : {}),
      ...(request.l1Vct !== undefined ? { l1Vct: request.l1Vct } : {}),
      ...(request.requireStatus !== undefined ? { requireStatus: request.requireStatus } : {}),
    },
    binding,
    request.now?.getTime(),
  );
}

/** guardTransaction for a mandate payment: verifies, reserves, runs `fn` with the chain's decision, then commits or releases. */
export async function guardMandatePayment<T>(
  chain: MandateChain,
  request: MandatePaymentRequest & Settlement<T>,
  fn: (decision: MandateDecision, run: TransactionRun) => T | Promise<T>,
): Promise<TransactionOutcome<T, MandateDecision>> {
  request = checkMandateRequest(chain, request, 'guardMandatePayment');
  if (typeof fn !== 'function') throw new TypeError('guardMandatePayment: fn must be a function');
  return run(await authorizeMandatePayment(chain, request), (d) => d.mandate, request, fn);
}
