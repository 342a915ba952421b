import type { Reason } from '../errors.js';

/**
 * Reputation thresholds, checked where they are given: a NaN or negative
 * minReputation would compare false with every score, and a minAttesters of
 * "two" or NaN would ask for no attester at all, turning the gate off
 * without a word (TypeError, a caller's mistake).
 */
export function checkReputationThresholds(who: string, t: { minReputation?: unknown; minAttesters?: unknown }): void {
  const r = t.minReputation;
  if (r !== undefined && !(typeof r === 'number' && r >= 0 && r <= 1)) throw new TypeError(`${who}.minReputation must be a number from 0 to 1`);
  const n = t.minAttesters;
  if (n !== undefined && !(Number.isSafeInteger(n) && (n as number) >= 0)) throw new TypeError(`${who}.minAttesters must be a whole number of attesters`);
}

/**
 * A reputation threshold on an agent needs the operators the verifier trusts
 * to answer for their agents (`trust.identityIssuers`): the operator rule
 * ("the agent and its operator cannot rate the agent") knows the operator
 * only from the identity credential the agent shows, so without a pinned
 * list an agent shows one issued by a key of its own, and its real
 * operator's ratings count as a third party's (TypeError, where the trust is
 * given).
 */
export function checkOperatorsPinned(who: string, t: { minReputation?: unknown; identityIssuers?: unknown }): void {
  if (t.minReputation === undefined) return;
  if (!Array.isArray(t.identityIssuers) || t.identityIssuers.length === 0) {
    throw new TypeError(
      `${who}.minReputation needs ${who}.identityIssuers (the operators you trust to answer for their agents): without them an agent can show an identity credential from a key of its own, and its real operator's ratings of it would count`,
    );
  }
}

/**
 * The threshold rule (checkReputation and the agent guard's minReputation):
 * at least `minAttesters` trusted attesters and a score of at least
 * `minReputation`. The score comes from a source the caller may have written
 * (VerifyAgentOptions.reputation), so its answer is read strictly: a score
 * that is neither null nor a number in [0, 1] (NaN, a string, missing), or an
 * attester count that is not a whole number, compares false with every
 * threshold and would pass; it is refused instead (fail closed).
 */
export function reputationReasons(s: unknown, minReputation: number, minAttesters = 1): Reason[] {
  const { score, attesters } = (typeof s === 'object' && s !== null ? s : {}) as { score?: unknown; attesters?: unknown };
  const validScore = score === null || (typeof score === 'number' && score >= 0 && score <= 1);
  if (!validScore || !(typeof attesters === 'number' && Number.isSafeInteger(attesters) && attesters >= 0)) {
    return [{ code: 'REPUTATION_TOO_LOW', message: 'the reputation source gave no valid answer (a score null or from 0 to 1, and a whole number of attesters): refused' }];
  }
  if (attesters < minAttesters) return [{ code: 'REPUTATION_TOO_LOW', message: `${attesters} trusted attesters vouch for the agent; at least ${minAttesters} required` }];
  if (score === null || score < minReputation) return [{ code: 'REPUTATION_TOO_LOW', message: `reputation ${score?.toFixed(3) ?? 'none'} is below ${minReputation}` }];
  return [];
}
