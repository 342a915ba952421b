import type { Reason } from '../errors.js';
import { soleSubject, verifyCredential } from '../credentials/index.js';
import type { CredentialVerification } from '../credentials/types.js';
import { aggregate, oneRatingPerReceipt, type VerifiedRating } from './aggregate.js';
import { ATTESTATION_TYPE, RECEIPT_TYPE, type ReputationScore, type ScorePolicy } from './types.js';

type Ignored = ReputationScore['ignored'][number];
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const first = (v: CredentialVerification): Reason => v.reasons[0] ?? { code: 'INVALID_CREDENTIAL', message: 'invalid' };

/** Checks one attestation and its receipt; returns the rating or why it does not count. */
async function check(jwt: string, agent: string, policy: ScorePolicy): Promise<VerifiedRating | Ignored> {
  const opts = { resolver: policy.resolver, status: policy.status, ...(policy.now ? { now: policy.now } : {}) };
  const v = await verifyCredential(jwt, { ...opts, requireType: ATTESTATION_TYPE });
  const id = v.id ?? `#${jwt.slice(-16)}`;
  if (!v.ok || !v.credential || !v.issuer) return { id, ...pick(first(v)) };
  const c = v.credential;
  if (v.subject !== agent) return { id, code: 'INVALID_CREDENTIAL', message: 'the attestation is about another agent' };
  const attester = v.issuer;
  if (attester === agent || (policy.operator !== undefined && attester === policy.operator)) {
    return { id, code: 'SELF_ATTESTATION', message: 'the agent and its operator cannot rate the agent' };
  }
  const evidence = (Array.isArray(c.evidence) ? c.evidence : [c.evidence]).find((e): e is Record<string, unknown> => isObj(e) && typeof e.receipt === 'string');
  if (!evidence) return { id, code: 'RECEIPT_INVALID', message: 'no interaction receipt in evidence' };
  const r = await verifyCredential(evidence.receipt as string, { ...opts, requireType: RECEIPT_TYPE });
  if (!r.ok || !r.credential || typeof r.credential.id !== 'string') return { id, code: 'RECEIPT_INVALID', message: `the receipt does not verify (${first(r).code})` };
  const interaction = soleSubject(r.credential)?.interaction as Record<string, unknown> | undefined;
  if (r.issuer !== agent || interaction?.agent !== agent) return { id, code: 'RECEIPT_INVALID', message: 'the receipt is not signed by the rated agent' };
  if (r.subject !== attester) return { id, code: 'RECEIPT_INVALID', message: 'the receipt names another counterparty' };
  if (soleSubject(c)?.interaction !== r.credential.id || evidence.id !== r.credential.id) return { id, code: 'RECEIPT_INVALID', message: 'the attestation and its receipt disagree on the interaction' };
  const rating = soleSubject(c)?.rating as { score: number; dimension?: string };
  return {
    id,
    attester,
    receipt: r.credential.id as string,
    score: rating.score,
    ...(rating.dimension ? { dimension: rating.dimension } : {}),
    issuedAt: Date.parse(c.validFrom ?? '') || 0,
  };
}

const pick = (r: Reason) => ({ code: r.code, message: r.message });

/** Subjects of valid credentials from a trusted identity issuer: attesters someone accountable vouches for. */
async function vouchedAttesters(policy: ScorePolicy): Promise<string[]> {
  const issuers = new Set(policy.trustedIdentityIssuers ?? []);
  if (issuers.size === 0 || !policy.attesterCredentials?.length) return [];
  const opts = { resolver: policy.resolver, status: policy.status, ...(policy.now ? { now: policy.now } : {}) };
  const checked = await Promise.all(policy.attesterCredentials.map((j) => verifyCredential(j, opts)));
  return checked.filter((v) => v.ok && v.issuer !== undefined && issuers.has(v.issuer) && v.subject !== undefined).map((v) => v.subject!);
}

/** Runs `fn` over `items` with at most `limit` in flight. */
async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (t: T) => Promise<R>): Promise<R[]> {
  const out = new Array<R>(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(limit, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

/**
 * The agent's reputation from attestations a verifier holds. Each counts only
 * if it and its receipt verify, the receipt is the agent's and names the
 * attester, the receipt is used once, the attester is neither the agent nor
 * its operator, and it is not revoked. Deterministic and order-independent.
 */
export async function scoreAgent(agentDid: string, attestations: readonly string[], policy: ScorePolicy): Promise<ReputationScore> {
  const unique = [...new Set(attestations)].sort();
  const checked = await mapLimit(unique, 64, (j) => check(j, agentDid, policy));
  const ignored: Ignored[] = [];
  const ratings: VerifiedRating[] = [];
  for (const c of checked) ('code' in c ? ignored.push(c) : ratings.push(c));
  const { kept, reused } = oneRatingPerReceipt(ratings);
  for (const id of reused) ignored.push({ id, code: 'RECEIPT_REUSED', message: 'another attestation already used this receipt' });
  const trusted = new Set([...(policy.trustedAttesters ?? []), ...(await vouchedAttesters(policy))]);
  const weightPolicy = {
    now: (policy.now ?? new Date()).getTime(),
    ...(policy.halfLifeSeconds ? { halfLifeSeconds: policy.halfLifeSeconds } : {}),
    attesterWeight: (did: string) => policy.attesterWeight?.(did) ?? (trusted.has(did) ? 1 : policy.unknownAttesterWeight ?? 0),
  };
  const all = aggregate(kept, weightPolicy);
  const byDimension: ReputationScore['byDimension'] = {};
  for (const d of [...new Set(kept.flatMap((r) => (r.dimension ? [r.dimension] : [])))].sort()) {
    const sub = kept.filter((r) => r.dimension === d);
    byDimension[d] = { score: aggregate(sub, weightPolicy).score, counted: sub.length };
  }
  ignored.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return { score: all.score, count: attestations.length, counted: kept.length, attesters: all.attesters, ignored, byDimension, attestations: all.counted };
}

export interface ReputationCheck {
  ok: boolean;
  reasons: Reason[];
  score: number | null;
  counted: number;
}

/** A threshold on scoreAgent, as a decision (REPUTATION_TOO_LOW). */
export async function checkReputation(agentDid: string, attestations: readonly string[], opts: { minReputation: number; minAttesters?: number; policy: ScorePolicy }): Promise<ReputationCheck> {
  if (typeof opts?.minReputation !== 'number') throw new TypeError('checkReputation needs minReputation (a score in [0, 1])');
  const s = await scoreAgent(agentDid, attestations, opts.policy);
  const reasons: Reason[] = [];
  const min = opts.minAttesters ?? 1;
  if (s.attesters < min) reasons.push({ code: 'REPUTATION_TOO_LOW', message: `${s.attesters} trusted attesters; at least ${min} required` });
  else if (s.score === null || s.score < opts.minReputation) reasons.push({ code: 'REPUTATION_TOO_LOW', message: `reputation ${s.score?.toFixed(3) ?? 'none'} is below ${opts.minReputation}` });
  return { ok: reasons.length === 0, reasons, score: s.score, counted: s.counted };
}
