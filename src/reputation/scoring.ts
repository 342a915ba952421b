import { verifyCredential } from '../credentials/index.js';
import { aggregate, checkWeightPolicy, oneRatingPerReceipt, type VerifiedRating, type WeightPolicy } from './aggregate.js';
import type { ReputationScore, ScorePolicy } from './types.js';
import { isParty, partiesOf } from '../did/parties.js';
import { skewMs, type Ignored } from './verify.js';

/** The agent and its operators by DID and by signing key: a did:key or did:jwk of one of their keys is the same party. */
export type SelfParties = Awaited<ReturnType<typeof partiesOf>>;

/** Who counts as "self" when scoring `agent` with these operators, resolved through the policy's resolver (fails closed: it throws when a DID cannot be resolved). */
export function selfParties(policy: ScorePolicy, agent: string, operators: readonly (string | undefined)[]): Promise<SelfParties> {
  return partiesOf(policy.resolver, [agent, ...operators]);
}

/** A verified rating as scoring needs it: with its validity end, when it has one. */
export type ScoredRating = VerifiedRating & { validUntil?: number };

/** TypeError for a policy that cannot be meant: checked when a scorer is built or called. */
export function checkScorePolicy(policy: ScorePolicy): void {
  if (!policy || typeof policy !== 'object') throw new TypeError('a reputation policy is required');
  if (typeof policy.status !== 'function') throw new TypeError('a reputation policy needs status (a status checker): revoked ratings must not count');
  checkWeightPolicy(policy);
  const u = policy.unknownAttesterWeight;
  if (u !== undefined && !(typeof u === 'number' && u >= 0 && u <= 1)) throw new TypeError('unknownAttesterWeight must be a number from 0 to 1');
  for (const k of ['trustedAttesters', 'trustedIdentityIssuers', 'attesterCredentials'] as const) {
    if (policy[k] !== undefined && !Array.isArray(policy[k])) throw new TypeError(`${k} must be an array`);
  }
}

/**
 * Charter's own credentials that say something other than who their subject
 * is (a rating, a receipt, a grant, a mandate, a pool's records): from a
 * trusted identity issuer they still vouch for no one. A rating of 0 by a
 * registry is not its word that the rated party is accountable.
 */
const NOT_IDENTITY = new Set([
  'ReputationAttestation',
  'InteractionReceipt',
  'DataAccessGrant',
  'AgentAuthorityCredential',
  'PoolVoteCredential',
  'PoolMembershipCredential',
  'PoolDecisionCredential',
  'PoolEpochCredential',
  'PoolProposal',
  'PoolUsageReport',
]);

/**
 * Subjects of valid identity credentials from a trusted identity issuer
 * (attesters someone accountable vouches for), each with who vouched.
 */
async function vouchedAttesters(policy: ScorePolicy): Promise<Map<string, Set<string>>> {
  const out = new Map<string, Set<string>>();
  const issuers = new Set(policy.trustedIdentityIssuers ?? []);
  if (issuers.size === 0 || !policy.attesterCredentials?.length) return out;
  const opts = { resolver: policy.resolver, status: policy.status, ...(policy.now ? { now: policy.now } : {}) };
  const checked = await Promise.all(policy.attesterCredentials.map((j) => verifyCredential(j, opts)));
  for (const v of checked) {
    if (!v.ok || v.issuer === undefined || !issuers.has(v.issuer) || v.subject === undefined) continue;
    if (v.credential?.type.some((t) => NOT_IDENTITY.has(t))) continue;
    out.set(v.subject, (out.get(v.subject) ?? new Set()).add(v.issuer));
  }
  return out;
}

/**
 * The trust weight of each attester under the policy (explicit function
 * first, then the lists, then strangers), for scoring `self` (the agent and
 * its operators): an attester vouched for only by the agent or its operator
 * is the operator's own word, as the operator's rating would be. Only
 * attesters trusted by name, by a vouch or by `attesterWeight` are
 * `trusted`: what minAttesters counts (a stranger's weight moves the score,
 * never the count).
 */
export async function weightPolicy(policy: ScorePolicy, now: number, self: SelfParties): Promise<WeightPolicy> {
  const trusted = new Set(policy.trustedAttesters ?? []);
  for (const [subject, by] of await vouchedAttesters(policy)) if ([...by].some((i) => !isParty(self, i))) trusted.add(subject);
  return {
    now,
    ...(policy.halfLifeSeconds !== undefined ? { halfLifeSeconds: policy.halfLifeSeconds } : {}),
    attesterWeight: (did: string) => policy.attesterWeight?.(did) ?? (trusted.has(did) ? 1 : (policy.unknownAttesterWeight ?? 0)),
    trusted: (did: string) => (policy.attesterWeight?.(did) ?? (trusted.has(did) ? 1 : 0)) > 0,
  };
}

/**
 * The score of ratings that are already verified (by import, or just now by
 * scoreAgent): drops the ones rated by the agent or its operator, the ones not
 * valid at `now`, and all but one rating per receipt; then aggregates, overall
 * and per dimension. `ignored` comes in with what was refused before.
 */
export function scoreRatings(
  agent: string,
  ratings: readonly ScoredRating[],
  ignored: Ignored[],
  count: number,
  opts: {
    policy: ScorePolicy;
    weights: WeightPolicy;
    /** The agent and its operators (selfParties). */
    self: SelfParties;
    detail: boolean;
    /** The ratings are in byTime order and no two share a receipt (a prepared store listing, or a subset of one). */
    inOrderDistinct?: boolean;
  },
): ReputationScore {
  const now = opts.weights.now;
  const skew = skewMs(opts.policy.skewSeconds);
  // Per attester, not per rating: most attesters rate many times.
  const selfByAttester = new Map<string, boolean>();
  const isSelf = (did: string) => {
    let v = selfByAttester.get(did);
    if (v === undefined) selfByAttester.set(did, (v = isParty(opts.self, did)));
    return v;
  };
  const live: ScoredRating[] = [];
  for (const r of ratings) {
    if (isSelf(r.attester)) ignored.push({ id: r.id, code: 'SELF_ATTESTATION', message: 'the agent and its operator cannot rate the agent' });
    else if (r.validUntil !== undefined && r.validUntil <= now - skew) ignored.push({ id: r.id, code: 'CREDENTIAL_EXPIRED', message: 'the attestation is no longer valid' });
    else if (r.issuedAt > now + skew) ignored.push({ id: r.id, code: 'CREDENTIAL_NOT_YET_VALID', message: 'the attestation is not valid yet' });
    else live.push(r);
  }
  const { kept, reused } = opts.inOrderDistinct === true ? { kept: live, reused: [] } : oneRatingPerReceipt(live);
  for (const id of reused) ignored.push({ id, code: 'RECEIPT_REUSED', message: 'another attestation already used this receipt' });
  // oneRatingPerReceipt returns its ratings in order.
  const all = aggregate(kept, opts.weights, { detail: opts.detail, inOrder: true });
  const byDimension: ReputationScore['byDimension'] = {};
  if (opts.detail) {
    const groups = new Map<string, ScoredRating[]>();
    for (const r of kept) if (r.dimension) (groups.get(r.dimension) ?? groups.set(r.dimension, []).get(r.dimension)!).push(r);
    for (const d of [...groups.keys()].sort()) {
      const sub = groups.get(d)!;
      byDimension[d] = { score: aggregate(sub, opts.weights, { detail: false, inOrder: true }).score, counted: sub.length };
    }
  }
  ignored.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { score: all.score, count, counted: kept.length, attesters: all.attesters, ignored, byDimension, attestations: all.counted };
}
