import type { Reason } from '../errors.js';
import type { CalendarPeriod, Money } from '../agents/types.js';
import type { CharterResolver } from '../did/types.js';
import type { JwsAlg, PublicJwk } from '../keys/types.js';
import type { SdJwtStatusChecker } from '../sdjwt/types.js';

export type MandateProfile = 'verifiable-intent' | 'ap2';

/**
 * A root of trust the caller pins: a public JWK, a JWKS (`{ keys: [...] }`,
 * a key chosen by the token's `kid`), a DID (resolved through
 * `trust.resolver`, assertionMethod keys), or, for AP2, a PEM certificate or
 * PEM public key. Never taken from the chain itself.
 */
export type TrustAnchor = PublicJwk | { keys: unknown[] } | string;

export interface MandateTrust {
  /** Who may sign the root: the VI L1 issuer, the AP2 open (root) mandate signer. */
  issuers?: TrustAnchor[];
  /** Who may sign checkout JWTs; when given, every checkout JWT's signature is checked. */
  merchants?: TrustAnchor[];
  /** Resolves DID anchors. */
  resolver?: CharterResolver;
}

/**
 * A calendar budget window: "per calendar month in Europe/Paris". VI's
 * proposed `payment.cumulative` and AP2's recurrences count spend per
 * calendar period, which a rolling ISO 8601 duration cannot express; the
 * same period Charter's own mandates may state (agents/types.ts).
 */
export type { CalendarPeriod };

/** A budget: at most `amount` per `period` (a rolling ISO 8601 duration, or a calendar period). */
export interface MandateBudget extends Money {
  period: string | CalendarPeriod;
}

export interface MandateLimits {
  perTransaction?: Money;
  /** The smallest single payment allowed (VI/AP2 `amount_range.min`); checked here, not by the ledger. */
  minPerTransaction?: Money;
  budget?: MandateBudget;
  /** Merchant or payee identifiers of the profile (its `id`, or the website when there is none); not DIDs. */
  counterparties?: string[];
  /** At most `count` payments per period: a rolling ISO 8601 duration or a calendar period (a recurrence's spacing). */
  rate?: { count: number; period: string | CalendarPeriod };
}

/** A Charter `Authority`-like record of one external mandate, ready for the ledger. */
export interface MandateAuthority {
  actions: string[];
  limits: MandateLimits;
  maxDelegationDepth: number;
}

/** One link for the ledger: every spend is charged to every link of the chain. */
export interface MandateLedgerLink {
  /**
   * Stable across presentations: `urn:vi:mandate:<its disclosure's digest>`, `urn:ap2:mandate:<hash of its
   * issuer JWT>`; a further limit of it `<that id>#uses`, `#frequency`, `#lifetime`, `#<calendar period>`; the
   * checkout paid, `urn:charter:checkout:<hash>` (and 0.1's `urn:charter:checkout:<profile>:<hash>`).
   */
  id: string;
  /**
   * Who set these limits: the JWK thumbprint URN of the signing key, however the caller pinned it (a JWK,
   * a did:jwk, a did:key, a did:web method). A link with the DID method's id here is 0.1's key of an AP2
   * root pinned by a DID, taken beside the key's own (same id and limits) so payments made before the
   * upgrade still count. A checkout link's is `urn:charter:checkout`; an AP2 root's is `unverified` under
   * skipIssuerVerification.
   */
  issuer: string;
  /** The key the mandate delegates to (JWK thumbprint URN). */
  subject?: string;
  parent?: string;
  validFrom?: string;
  validUntil?: string;
  authority: MandateAuthority;
  /** Constraint types reported in `constraints` that these limits cannot express. */
  unmapped: string[];
}

export type ConstraintStatus = 'satisfied' | 'violated' | 'reported' | 'skipped';

/** One constraint of a verified mandate and what happened to it. */
export interface ConstraintReport {
  type: string;
  /** `verifier` (evaluated here) or `network` (stateful: budgets, recurrences, cumulative spend). */
  enforcedBy: 'verifier' | 'network';
  status: ConstraintStatus;
  /** Which mandate it came from (layer or link name). */
  ref: string;
  constraint: Record<string, unknown>;
  /** Why it failed, when `violated`. */
  messages?: string[];
}

/** A party of the chain, identified by its key. */
export interface MandateParty {
  /** `urn:ietf:params:oauth:jwk-thumbprint:sha-256:<b64u>` (RFC 9278). */
  key: string;
  jwk: PublicJwk;
  kid?: string;
  /** The profile's identifier for the party (VI L1 `sub`), when it has one. */
  id?: string;
  /** Who vouched for the party (VI L1 `iss`). */
  issuer?: string;
}

/** One verified layer (VI) or link (AP2). */
export interface MandateLayer {
  name: string;
  typ?: string;
  signer?: string;
  iat?: number;
  exp?: number;
  aud?: string;
  nonce?: string;
  /** Refusals about this layer; empty when it passed. */
  checks: Reason[];
}

export interface FinalPayment {
  amount: Money;
  /** The amount as the mandate carries it: integer minor units. */
  minorUnits: number;
  payee?: Record<string, unknown>;
  instrument?: Record<string, unknown>;
  /** AP2: the Payment Initiation Service Provider the closed payment mandate names (`pisp`). */
  pisp?: Record<string, unknown>;
  transactionId?: string;
  /**
   * The payee identifiers the user's signature binds: those an allow-list or a preset payee matched
   * (an `id`, or a `website` matched with its name), or the payee of a mandate the user closed. A
   * payee the agent named beyond them is its own word. Absent when no constraint restricted the payee.
   */
  boundPayees?: string[];
}

/** One mandate of the chain as the ledger mapping needs it (see `mandateLimits`). */
export interface MandateRecord {
  /** Matches `ConstraintReport.ref`. */
  ref: string;
  /** Stable link id (see `MandateLedgerLink.id`). */
  id: string;
  /** Who signed it: its key (JWK thumbprint URN), whatever anchor pinned that key (an AP2 root: `unverified` under skipIssuerVerification). */
  issuer: string;
  /**
   * An AP2 root verified under a pinned DID: that method's id, which 0.1 keyed the root's ledger links by
   * (mandateLimits takes those links too, so a payment made before the upgrade still counts).
   */
  anchor?: string;
  subject?: string;
  parent?: string;
  kind: 'payment' | 'checkout';
  /** An open mandate carries constraints; a closed (final) one carries the values. */
  open: boolean;
  iat?: number;
  exp?: number;
  /** A closed payment mandate's values. */
  payment?: FinalPayment;
}

export interface MandateDecision {
  ok: boolean;
  profile: MandateProfile;
  reasons: Reason[];
  /** VI: immediate | autonomous. AP2: human-present (closed mandate signed by the root) | human-not-present. */
  mode?: 'immediate' | 'autonomous' | 'human-present' | 'human-not-present';
  /** The person (VI: the L1-bound user key) or the AP2 root signer. */
  principal?: MandateParty;
  /** The delegated agent key (VI L2 cnf, AP2 open mandate cnf). */
  agent?: MandateParty;
  /** How the root was accepted. `skipped` only with `skipIssuerVerification: true`. */
  issuerVerification: 'verified' | 'skipped' | 'failed';
  /** `checked` when `trust.merchants` verified the checkout JWT signature. */
  merchantSignature: 'checked' | 'not-checked' | 'failed';
  layers: MandateLayer[];
  constraints: ConstraintReport[];
  payment?: FinalPayment;
  /**
   * The checkout paid for: `hash` its checkout_hash (the hash of the checkout JWT as the chain carries it);
   * `keys` the same of every spelling of the one JWS the merchant signed (checkout.ts `checkoutKeys`: attached and
   * detached, each with its ES256 twin; the low-s attached one first), each of which the ledger pays once.
   */
  checkout?: { hash: string; keys: string[]; merchant?: Record<string, unknown>; lineItems?: { id: string; quantity: number }[] };
  /** Every mandate of the chain, root first. */
  mandates: MandateRecord[];
  /** The mandates for the ledger (`mandateLimits(decision)`); empty unless ok. */
  links: MandateLedgerLink[];
  /** The narrowest authority of the chain (the leaf link's), present when ok. */
  authority?: MandateAuthority;
}

export interface VerifyMandateOptions {
  profile: MandateProfile;
  trust: MandateTrust;
  /** VI: expected L2 aud. AP2: expected aud of the last link. */
  aud?: string;
  nonce?: string;
  /** VI L3a (payment) expected aud / nonce. AP2: expected aud / nonce of the payment chain's last link. */
  paymentAud?: string;
  paymentNonce?: string;
  /** VI L3b (checkout) expected aud / nonce. AP2: of the checkout chain's last link. */
  checkoutAud?: string;
  checkoutNonce?: string;
  /** Verification time. Default now. */
  now?: Date;
  /** Seconds of clock skew. Default 60, at most 300. */
  skewSeconds?: number;
  /**
   * Accept a root whose signature is not checked (the VI reference's test
   * mode). Must be explicit; reported as `issuerVerification: 'skipped'`.
   */
  skipIssuerVerification?: boolean;
  /** JWS algorithms accepted on every layer. Default ['ES256'] (VI v0.1 §12, AP2 v0.2 P-256 keys). */
  algorithms?: readonly JwsAlg[];
  /** VI: the L1 `vct`. Default the Mastercard reference profile's. */
  l1Vct?: string;
  /** Time zone of calendar budget periods when the mandate names none. Default "UTC". */
  calendarTimeZone?: string;
  /**
   * AP2 payment chain without its checkout chain: the hash of the checkout
   * JWT this verifier is processing (`transaction_id` must equal it), and of
   * the open checkout mandate (`payment.reference`). Never read from the chain.
   */
  checkoutHash?: string;
  openCheckoutHash?: string;
  /**
   * The closing layers are checked against this verifier's aud and nonce, so
   * both must be given for them (NONCE_MISMATCH otherwise): AP2, each chain's
   * closed mandate; VI, the layer that pays (L3a, or L2 when no L3 follows;
   * L3b's are checked when given). This accepts them without (replay is
   * then the caller's to stop).
   */
  allowMissingNonce?: boolean;
  /**
   * VI: checks a layer's `status` claim (IETF Token Status List §6.1: the
   * card issuer's L1, and an L2 or L3 that names one), e.g.
   * createTokenStatusChecker. A chain with a status and no checker is refused
   * (STATUS_UNAVAILABLE); the checker's refusals join the decision
   * (CREDENTIAL_REVOKED, CREDENTIAL_SUSPENDED, STATUS_UNAVAILABLE...). It is
   * told the L1 `iss` and the pinned key that verified L1 (L2: the user key,
   * L3: the agent key). AP2 defines no status: a mandate naming one stays
   * UNKNOWN_CONSTRAINT.
   */
  status?: SdJwtStatusChecker;
  /**
   * VI: refuse an L1 with no `status` in clear (STATUS_INVALID). A status the
   * issuer made disclosable and the holder withheld looks like any withheld
   * claim (RFC 9901 §4.2.5); a verifier that relies on revocation asks for it.
   */
  requireStatus?: boolean;
}

/** The VI input, with the reference implementation's field names. */
export interface ViChainInput {
  l1: string;
  l2: string;
  l3_payment?: string | null;
  l3_checkout?: string | null;
  l2_payment_serialized?: string | null;
  l2_checkout_serialized?: string | null;
}

/** The AP2 input: `~~`-joined chains as the AP2 SDK writes them. */
export interface Ap2ChainInput {
  /** Open payment mandate ~~ closed payment mandate. */
  payment?: string;
  /** Open checkout mandate ~~ closed checkout mandate. */
  checkout?: string;
  /** The checkout object, when the closed checkout mandate's `checkout_jwt` is a detached JWS (`header..signature`). */
  checkout_object?: Record<string, unknown>;
}
