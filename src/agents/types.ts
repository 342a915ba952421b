import type { Reason } from '../errors.js';
import type { Credential, StatusChecker } from '../credentials/types.js';
import type { CharterResolver } from '../did/types.js';
import type { AmountInput } from './limits.js';
import type { CalendarUnit } from '../store/types.js';

export const AGENT_IDENTITY_TYPE = 'AgentIdentityCredential';
export const AGENT_AUTHORITY_TYPE = 'AgentAuthorityCredential';

/** An amount in one ISO 4217 currency; `amount` is a decimal string ("49.99"), never a float. */
export interface Money {
  amount: string;
  currency: string;
}

/**
 * A calendar budget window: the current calendar day, ISO week (from
 * Monday), month or year as a clock in `timeZone` (an IANA zone such as
 * Europe/Paris) shows it, as Verifiable Intent's proposed
 * `payment.cumulative` periods (DAILY, WEEKLY, MONTHLY, YEARLY) ask.
 */
export interface CalendarPeriod {
  calendar: CalendarUnit;
  timeZone: string;
}

export type { CalendarUnit };

/**
 * At most `amount` spent over any rolling window of `period` (an ISO 8601
 * duration such as P30D), or within each calendar period (`{ calendar:
 * 'month', timeZone: 'Europe/Paris' }`: the count starts again at local
 * midnight on the 1st).
 */
export interface Budget extends Money {
  period: string | CalendarPeriod;
}

/** At most `count` transactions over any rolling window of `period` (ISO 8601 duration). */
export interface Rate {
  count: number;
  period: string;
}

/** Every limit is optional; an absent limit is unlimited in that dimension. */
export interface Limits {
  perTransaction?: Money;
  budget?: Budget;
  /** DIDs the agent may deal with; absent = any. */
  counterparties?: string[];
  rate?: Rate;
}

/** A delegated link names its parent mandate: its id and `sha256-<b64u>` of the parent's compact JWS. */
export interface ParentRef {
  id: string;
  digest: string;
}

/** `credentialSubject.authority` of an AgentAuthorityCredential (a mandate). */
export interface Authority {
  /** Exact actions (`payments:card`) or prefix patterns ending in `*` (`payments:*`, `*`). */
  actions: string[];
  limits?: Limits;
  /** How many further delegation steps may follow this link; 0 = may not delegate. */
  maxDelegationDepth: number;
  parent?: ParentRef;
}

/** `credentialSubject.agent` of an AgentIdentityCredential. */
export interface AgentInfo {
  name: string;
  /** DID of the operator, the party accountable for the agent (the credential's issuer). */
  operator: string;
  software?: { name: string; version: string; digest?: string };
  model?: string;
  homepage?: string;
  /**
   * The origin whose Web Bot Auth key directory holds the agent's request
   * signing keys (`https://agent.example`: its
   * `/.well-known/http-message-signatures-directory`). A guard that wants
   * both a presentation and a request signature accepts a key from this
   * directory as the agent's own.
   */
  directory?: string;
}

/** A validity window; strings are ISO 8601 date-times as in a credential. */
export interface ValidityWindow {
  validFrom?: Date | string;
  validUntil?: Date | string;
}

/** One request an agent makes, as checked against a single mandate. */
export interface AgentRequest {
  action: string;
  amount?: Money;
  counterparty?: string;
}

export type NarrowingDimension = 'actions' | 'perTransaction' | 'budget' | 'counterparties' | 'rate' | 'validity' | 'maxDelegationDepth';

/** A narrowing refusal: AUTHORITY_WIDENED (or DELEGATION_DEPTH_EXCEEDED) and the dimension. */
export interface NarrowingReason extends Reason {
  dimension: NarrowingDimension;
}

export interface AgentTrust {
  /** Principal DIDs whose root mandates this verifier accepts. */
  principals?: string[];
  /** Accept a chain rooted in any principal (reported as `principalTrust: 'any'`). */
  anyPrincipal?: boolean;
  /** Operators whose AgentIdentityCredentials are trusted; absent = any operator. */
  identityIssuers?: string[];
  /** Require an AgentIdentityCredential. Default true. */
  requireIdentity?: boolean;
  /** Refuse (REPUTATION_TOO_LOW) below this reputation score in [0, 1]; needs `reputation` in the options. */
  minReputation?: number;
  /** With minReputation: at least this many distinct trusted attesters. Default 1. */
  minAttesters?: number;
}

/** What a reputation source reports for an agent (see src/reputation scoreAgent). */
export interface AgentReputation {
  score: number | null;
  attesters: number;
}

export interface VerifyAgentOptions {
  resolver: CharterResolver;
  /** Checks every link's (and the identity's) revocation status; required: mandates are revocable. */
  status: StatusChecker;
  /** This verifier, as bound in the presentation. */
  aud: string;
  /** The challenge this verifier sent. */
  nonce?: string;
  /** Accept a presentation without a nonce (the guard binds iat + jti instead and uses the jti up). */
  allowMissingNonce?: boolean;
  /** Most seconds since the presentation's `iat`. Default 300. */
  maxAgeSeconds?: number;
  action: string;
  /**
   * What the request spends: "49.99 USD", `{ amount: "49.99", currency }` or
   * `{ amount: 49.99, currency }`. Required when any link limits money
   * (AMOUNT_REQUIRED otherwise).
   */
  amount?: AmountInput;
  /** The DID the agent deals with (usually this verifier). Required when a link limits counterparties. */
  counterparty?: string;
  /** Verification time. Default now. */
  now?: Date;
  /** Clock skew, seconds. Default 60, at most 300. */
  skewSeconds?: number;
  trust: AgentTrust;
  /**
   * The agent's reputation, for `trust.minReputation`: e.g. a store-backed
   * source (`reputationSource(store, policy)`) or your own function.
   * A plug point, so agents/ does not depend on reputation/.
   */
  reputation?: (agent: string, operator: string | undefined) => Promise<AgentReputation>;
}

export interface ChainLinkResult {
  id: string;
  issuer: string;
  subject: string;
  authority?: Authority;
  validFrom?: string;
  validUntil?: string;
  /** Refusals about this link (empty when every check on it passed). */
  checks: Reason[];
}

export interface AgentRemaining {
  /** The least budget left over all links after this request. */
  budget?: Money;
  /** The fewest transactions left over all links after this request. */
  rate?: number;
}

export interface AgentDecision {
  ok: boolean;
  reasons: Reason[];
  /** The agent DID (presentation holder). */
  agent?: string;
  operator?: string;
  agentInfo?: AgentInfo;
  /** The root mandate's issuer. */
  principal?: string;
  /** How the principal was accepted: listed in `trust.principals`, or by `trust.anyPrincipal`. */
  principalTrust?: 'listed' | 'any';
  /** Root first, leaf (the agent's own mandate) last. */
  chain: ChainLinkResult[];
  /** The request's amount, as checked. */
  amount?: Money;
  /**
   * Whether a link has a budget or a rate: then "ok" means "within every
   * stateless limit", and the spend must still be reserved on the ledger
   * (the guard pipeline does this) before the transaction runs.
   */
  cumulativeLimits: boolean;
  /** The reputation consulted for `trust.minReputation`. */
  reputation?: AgentReputation;
  /** The presentation's JWT claims (htm, htu, jti, iat) for the caller's request binding and replay checks. */
  payload?: Record<string, unknown>;
}

/** A mandate whose authority could be read, as request and ledger checks see it. */
export interface MandateLink {
  id: string;
  jwt: string;
  issuer: string;
  subject: string;
  credential: Credential;
  authority: Authority;
}
