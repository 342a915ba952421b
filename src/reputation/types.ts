import type { Reason } from '../errors.js';
import type { StatusChecker } from '../credentials/types.js';
import type { CharterResolver } from '../did/types.js';

export const RECEIPT_TYPE = 'InteractionReceipt';
export const ATTESTATION_TYPE = 'ReputationAttestation';

export interface ScorePolicy {
  resolver: CharterResolver;
  status: StatusChecker;
  now?: Date;
  /** Age at which an attestation counts half. Default: no decay. */
  halfLifeSeconds?: number;
  /** Attesters whose word counts fully (weight 1): e.g. counterparties this verifier knows. */
  trustedAttesters?: string[];
  /**
   * Identity issuers this verifier trusts: an attester that shows a valid
   * identity credential about itself from one of them (in
   * `attesterCredentials`) counts fully. Charter's own ratings, receipts,
   * grants, mandates and pool records vouch for no one, and a vouch by the
   * rated agent or its operator is their own word (it does not count).
   */
  trustedIdentityIssuers?: string[];
  /** Credentials attesters presented about themselves (JWTs), checked against trustedIdentityIssuers. */
  attesterCredentials?: string[];
  /** Full control: the weight in [0, 1] of each attester (overrides the lists above when it returns a number). */
  attesterWeight?: (did: string) => number | undefined;
  /** Weight of any other attester. Default 0: strangers' feedback counts for nothing. It moves the score, never the attester count (minAttesters). */
  unknownAttesterWeight?: number;
  /** The agent's operator (from its AgentIdentityCredential): its feedback is self-attestation. */
  operator?: string;
  /** Allowed clock skew in seconds for validity windows. Default 60, capped at 300. */
  skewSeconds?: number;
}

/** Scoring from a ReputationStore (scoreFromStore, reputationSource). */
export interface StoreScorePolicy extends ScorePolicy {
  /**
   * How long a rating's status answer is reused, in seconds (default 60):
   * a revoked rating stops counting within this plus the status checker's
   * own bound on a cached list (its maxStalenessSeconds). 0 asks every time.
   */
  statusFreshnessSeconds?: number;
  /** Most status answers remembered (default 250,000); the oldest go first. */
  statusMemoEntries?: number;
  /**
   * reputationSource only: most ratings kept in memory across decisions
   * (default 1,000,000, roughly 200 bytes each; 0 keeps none). An agent's
   * kept ratings are used while the store's ratingsVersion for it is
   * unchanged, so a decision reads one number instead of every rating.
   */
  cachedRatings?: number;
}

export interface CountedAttestation {
  id: string;
  attester: string;
  receipt: string;
  score: number;
  dimension?: string;
  /** Trust weight times decay. */
  weight: number;
  issuedAt: string;
}

export interface ReputationScore {
  /** Weighted mean in [0, 1]; null when nothing counted (no evidence is not a zero). */
  score: number | null;
  /** Attestations given. */
  count: number;
  /** Attestations that counted (weight may still be 0 for unknown attesters). */
  counted: number;
  /** Distinct attesters with a positive weight. */
  attesters: number;
  ignored: { id: string; code: Reason['code']; message: string }[];
  byDimension: Record<string, { score: number | null; counted: number }>;
  attestations: CountedAttestation[];
  /**
   * Ratings counted only against the agent, and that lowered its score (overall or in their dimension):
   * their attester's DID document shares a key (not the one it signed with) with the agent's or its
   * operator's, so who listed it cannot be told. They never raise a score, add an attester, or take the
   * score away; those that would not lower it are in `ignored` (SELF_ATTESTATION). Absent when none.
   */
  countedAgainst?: string[];
}
