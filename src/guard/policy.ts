import { CharterError } from '../errors.js';
import type { AgentReputation, AgentTrust } from '../agents/types.js';
import type { AmountInput } from '../agents/limits.js';
import { checkOperatorsPinned, checkReputationThresholds } from '../agents/thresholds.js';
import { checkTrustLists } from '../agents/chain.js';
import type { DeclaredProcessing } from '../grants/index.js';
import type { MandateProfile, MandateTrust } from '../mandates/types.js';
import { checkAnchorLists, checkProfileOptions } from '../mandates/common.js';
import { TRUST_SPEC } from '../agents/verify.js';

/** Where a decision looks up an agent's reputation (e.g. `reputationSource(store, policy)`). */
export type ReputationSource = (agent: string, operator: string | undefined) => Promise<AgentReputation>;

/**
 * What a guarded call requires beyond an authentic, bound, fresh
 * presentation, with every value already taken from the request: the
 * transport adapters turn their route options into one of these per call.
 */
export type Policy = PresentationPolicy | GrantPolicy | AgentPolicy | MandatePolicy | SignaturePolicy;

/** Only an authentic, bound, fresh presentation (whatever it holds). */
export interface PresentationPolicy {
  kind: 'presentation';
}

/**
 * No presentation at all: the request's own HTTP message signature (an
 * `http` binding with `signature`) is the only proof, its nonce used once.
 */
export interface SignaturePolicy {
  kind: 'signature';
}

/** An unrevoked DataAccessGrant from the resource's owner to the holder, covering `action` on `resource`. */
export interface GrantPolicy {
  kind: 'grant';
  resource: string;
  action: string;
  /** The DID that owns the resource asked for; the grant must be its issuer's. */
  owner?: string;
  /** Explicitly: a grant from any issuer will do. */
  anyOwner?: boolean;
  /** The purpose of this use (e.g. `model-training`), checked against the grant's terms. */
  purpose?: string;
  /** Where this verifier processes the data, checked against the grant's terms. */
  processing?: DeclaredProcessing;
}

/** An agent whose identity and mandate chain allow `action` (for `amount`, with `counterparty`). */
export interface AgentPolicy {
  kind: 'agent';
  action: string;
  /** Required when a link limits money (AMOUNT_REQUIRED otherwise). */
  amount?: AmountInput;
  /** The DID the agent deals with. Default: the verifier's `aud`. */
  counterparty?: string;
  trust: AgentTrust;
  reputation?: ReputationSource;
}

/**
 * A payment authorized by an external agent payment mandate chain (Mastercard
 * and Google's Verifiable Intent, Google AP2): the chain verifies under the
 * pinned `trust` (src/mandates verifyMandateChain), ends in a payment bound
 * to this verifier (`aud`) and a nonce used once, and its amount fits every
 * cumulative limit of the chain, reserved on the ledger like a Charter
 * mandate's budget (VI `payment.budget` and `payment.cumulative`, AP2 budgets).
 */
export interface MandatePolicy {
  kind: 'mandate';
  profile: MandateProfile;
  /** The pinned roots: VI L1 issuers (card issuers), AP2 root signers; optionally merchants. Never taken from the chain. */
  trust: MandateTrust;
  /** The amount the request charges: when given, it must be exactly the chain's final payment (REQUEST_MISMATCH otherwise). */
  amount?: AmountInput;
  /** The payee this verifier takes payments for (a merchant id, or its website): the payment must name it (COUNTERPARTY_NOT_ALLOWED). */
  payee?: string;
  /** AP2 payment chain without its checkout chain: the hash of the checkout JWT being paid for (and of the open checkout mandate). */
  checkoutHash?: string;
  openCheckoutHash?: string;
  /** Time zone of calendar periods (VI `payment.cumulative`) a mandate does not name. Default "UTC". */
  calendarTimeZone?: string;
  /** The VI L1 `vct` accepted. Default Mastercard's reference profile's. */
  l1Vct?: string;
  /** VI: refuse an L1 with no `status` in clear (STATUS_INVALID; see VerifyMandateOptions.requireStatus). */
  requireStatus?: boolean;
}

/** How every agent guard reads the policy part of its options (requireAgent; guardTool adds its verifier). */
export const AGENT_POLICY_SPEC = { action: true, amount: true, counterparty: true, trust: TRUST_SPEC, reputation: true } as const;

/** How every mandate guard reads the policy part of its options (requireMandate, guardTool, guardMandatePayment). */
export const MANDATE_POLICY_SPEC = {
  profile: true,
  trust: { issuers: true, merchants: true, resolver: true },
  payee: true,
  checkoutHash: true,
  openCheckoutHash: true,
  calendarTimeZone: true,
  l1Vct: true,
  requireStatus: 'boolean',
} as const;

/** The trust a mandate guard needs, checked when built: a profile and pinned issuers (never skipped in a guard). */
export function checkMandatePolicy(
  who: string,
  o: { profile?: unknown; trust?: unknown; calendarTimeZone?: unknown; requireStatus?: unknown; l1Vct?: unknown; openCheckoutHash?: unknown },
): void {
  if (o.profile !== 'verifiable-intent' && o.profile !== 'ap2') throw new TypeError(`${who}: profile must be 'verifiable-intent' or 'ap2'`);
  const t = o.trust as MandateTrust | undefined;
  if (!t || typeof t !== 'object' || !Array.isArray(t.issuers) || t.issuers.length === 0) {
    throw new TypeError(`${who}: trust.issuers must pin the roots (VI card issuers' keys, AP2 root signers): a chain is never trusted on its own word`);
  }
  checkAnchorLists(who, t);
  if ((t as { skipIssuerVerification?: unknown }).skipIssuerVerification !== undefined || (o as { skipIssuerVerification?: unknown }).skipIssuerVerification !== undefined) {
    throw new TypeError(`${who}: a guard never skips issuer verification`);
  }
  if (o.requireStatus !== undefined && typeof o.requireStatus !== 'boolean') throw new TypeError(`${who}: requireStatus must be a boolean`);
  checkProfileOptions(who, o.profile, o);
  if (o.calendarTimeZone !== undefined) {
    try {
      new Intl.DateTimeFormat('en-US', { timeZone: String(o.calendarTimeZone) });
    } catch {
      throw new TypeError(`${who}: calendarTimeZone must be an IANA time zone such as Europe/Paris`);
    }
  }
}

/** The trust a KYA guard needs, checked when the guard is built (`who` names the caller in the TypeError). */
export function checkTrust(who: string, t: AgentTrust | undefined, reputation: ReputationSource | undefined): void {
  if (!t || typeof t !== 'object') throw new TypeError(`${who}: trust is required ({ principals } or { anyPrincipal: true })`);
  if (t.anyPrincipal !== true && !(Array.isArray(t.principals) && t.principals.length > 0)) throw new TypeError(`${who}: trust needs principals (DIDs) or anyPrincipal: true`);
  if (t.minReputation !== undefined && typeof reputation !== 'function') throw new TypeError(`${who}: trust.minReputation needs a reputation source`);
  checkReputationThresholds(`${who}: trust`, t);
  checkOperatorsPinned(`${who}: trust`, t);
  checkTrustLists(who, t);
}

/** The owner rule a grant guard needs, checked when built: an owner (or a function giving one) or, explicitly, anyOwner. */
export function checkOwnerRule(who: string, o: { owner?: unknown; anyOwner?: unknown }): void {
  const hasOwner = o.owner !== undefined;
  if (hasOwner === (o.anyOwner === true)) {
    throw new TypeError(
      `${who}: say whose data the route serves: owner (a DID, or a function of the request giving the DID that owns the resource), ` +
        "or anyOwner: true (a grant from anyone will do; a grant then allows access to data that is not its issuer's)",
    );
  }
  if (hasOwner && typeof o.owner !== 'function' && !(typeof o.owner === 'string' && o.owner.startsWith('did:'))) {
    throw new TypeError(`${who}: owner must be a DID or a function of the request`);
  }
}

/**
 * A value a route function computed, which must be synchronous. A promise is
 * refused (400) and its rejection handled here, so a route reading its body
 * asynchronously never crashes the process with an unhandled rejection.
 */
/**
 * The payee a request names (a route's or tool's payee function's value) as the mandate policy takes it:
 * a string, or '' for anything else (no merchant, a number, an array), which never matches a payee
 * (COUNTERPARTY_NOT_ALLOWED): never coerced, never left out (the payee would go unchecked).
 */
export const namedPayee = (v: unknown): string => (typeof v === 'string' ? v : '');

export function syncValue<T>(v: T): T {
  if (v !== null && typeof v === 'object' && typeof (v as { then?: unknown }).then === 'function') {
    (v as unknown as PromiseLike<unknown>).then(undefined, () => undefined);
    throw new CharterError('INVALID_ARGUMENT', "a route's value (amount, resource, owner...) is a promise: compute it from the request as it is (parse the body before the guard)");
  }
  return v;
}
