import type { Reason } from '../errors.js';
import { checkReputationThresholds, reputationReasons } from '../agents/thresholds.js';
import type { NewRating } from '../store/types.js';
import { DEFAULT_EVIDENCE } from './evidence.js';
import { checkScorePolicy, scoreRatings, selfParties, weightPolicy } from './scoring.js';
import { verifyAttestation, type Ignored } from './verify.js';
import { mapLimit } from './limit.js';
import type { ReputationScore, ScorePolicy } from './types.js';

/**
 * The agent's reputation from attestation JWTs, each verified now. Each counts
 * only if it and its receipt verify (signatures, validity, status, schema
 * whether named or not), the receipt is the agent's and names the attester,
 * the receipt is used once, the attester is neither the agent nor its
 * operator, and its score is a finite number in [0, 1]. Deterministic and
 * order-independent. A verifier holding many attestations imports them once
 * (importAttestations) and scores from the store (scoreFromStore).
 */
export async function scoreAgent(agentDid: string, attestations: readonly string[], policy: ScorePolicy): Promise<ReputationScore> {
  checkScorePolicy(policy);
  if (!Array.isArray(attestations)) throw new TypeError('scoreAgent needs an array of attestation JWTs');
  const now = policy.now ?? new Date();
  const unique = [...new Set(attestations.map((a) => (typeof a === 'string' ? a : '')))].sort();
  const check = {
    resolver: policy.resolver,
    status: policy.status,
    now,
    evidence: DEFAULT_EVIDENCE,
    agent: agentDid,
    ...(policy.skewSeconds !== undefined ? { skewSeconds: policy.skewSeconds } : {}),
  };
  const checked = await mapLimit(unique, 64, (j) => verifyAttestation(j, check));
  const ignored: Ignored[] = [];
  const ratings: NewRating[] = [];
  // One rating per attester and id: two JWTs claiming both, the earliest (then the smaller JWT) counts.
  const byKey = new Map<string, NewRating>();
  for (const c of checked) {
    if ('code' in c) ignored.push(c);
    else {
      const k = `${c.attester}\n${c.id}`;
      const had = byKey.get(k);
      if (had !== undefined) ignored.push({ id: c.id, code: 'INVALID_CREDENTIAL', message: 'another attestation by this attester has the same id' });
      if (had === undefined || c.issuedAt < had.issuedAt) byKey.set(k, c);
    }
  }
  ratings.push(...byKey.values());
  const self = await selfParties(policy, agentDid, [policy.operator]);
  return scoreRatings(agentDid, ratings, ignored, attestations.length, {
    policy,
    weights: await weightPolicy(policy, now.getTime(), self),
    self,
    detail: true,
  });
}

export interface ReputationCheck {
  ok: boolean;
  reasons: Reason[];
  score: number | null;
  counted: number;
}

/** A threshold on scoreAgent, as a decision (REPUTATION_TOO_LOW). */
export async function checkReputation(
  agentDid: string,
  attestations: readonly string[],
  opts: { minReputation: number; minAttesters?: number; policy: ScorePolicy },
): Promise<ReputationCheck> {
  if (typeof opts?.minReputation !== 'number') throw new TypeError('checkReputation needs minReputation (a score in [0, 1])');
  checkReputationThresholds('checkReputation: opts', opts);
  const s = await scoreAgent(agentDid, attestations, opts.policy);
  const reasons = reputationReasons(s, opts.minReputation, opts.minAttesters ?? 1);
  return { ok: reasons.length === 0, reasons, score: s.score, counted: s.counted };
}
