import type { CountedAttestation } from './types.js';

/** An attestation that passed every check, before weighting. */
export interface VerifiedRating {
  id: string;
  attester: string;
  receipt: string;
  score: number;
  dimension?: string;
  issuedAt: number;
}

export interface WeightPolicy {
  now: number;
  halfLifeSeconds?: number;
  attesterWeight: (did: string) => number;
}

const cmp = (a: VerifiedRating, b: VerifiedRating) => a.issuedAt - b.issuedAt || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/**
 * One rating per receipt: the earliest (then the lowest id) counts, so the
 * choice does not depend on input order. Returns the kept ratings and the
 * ids of the reused ones.
 */
export function oneRatingPerReceipt(ratings: readonly VerifiedRating[]): { kept: VerifiedRating[]; reused: string[] } {
  const byReceipt = new Map<string, VerifiedRating>();
  const reused: string[] = [];
  const seen = new Set<string>();
  for (const r of [...ratings].sort(cmp)) {
    if (seen.has(r.id)) continue; // the same credential given twice is one credential
    seen.add(r.id);
    if (byReceipt.has(r.receipt)) reused.push(r.id);
    else byReceipt.set(r.receipt, r);
  }
  return { kept: [...byReceipt.values()], reused };
}

/**
 * Weighted mean per attester first, then across attesters by their trust
 * weight: an attester's influence is bounded by its weight however many
 * receipts it holds, so volume from one party cannot buy a score.
 * Decay halves a rating's weight every `halfLifeSeconds` of age.
 */
export function aggregate(ratings: readonly VerifiedRating[], policy: WeightPolicy): { score: number | null; attesters: number; counted: CountedAttestation[] } {
  const counted: CountedAttestation[] = [];
  const perAttester = new Map<string, { num: number; den: number; trust: number; decayMax: number }>();
  for (const r of [...ratings].sort(cmp)) {
    const trust = Math.min(1, Math.max(0, policy.attesterWeight(r.attester)));
    const age = Math.max(0, policy.now - r.issuedAt) / 1000;
    const decay = policy.halfLifeSeconds ? Math.pow(0.5, age / policy.halfLifeSeconds) : 1;
    counted.push({ id: r.id, attester: r.attester, receipt: r.receipt, score: r.score, ...(r.dimension ? { dimension: r.dimension } : {}), weight: trust * decay, issuedAt: new Date(r.issuedAt).toISOString() });
    const a = perAttester.get(r.attester) ?? { num: 0, den: 0, trust, decayMax: 0 };
    a.num += decay * r.score;
    a.den += decay;
    a.decayMax = Math.max(a.decayMax, decay);
    perAttester.set(r.attester, a);
  }
  let num = 0;
  let den = 0;
  let attesters = 0;
  for (const [, a] of [...perAttester.entries()].sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))) {
    const w = a.trust * a.decayMax;
    if (w <= 0 || a.den <= 0) continue;
    attesters++;
    num += w * (a.num / a.den);
    den += w;
  }
  const score = den > 0 ? Math.min(1, Math.max(0, num / den)) : null;
  return { score, attesters, counted };
}
