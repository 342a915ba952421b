import { partyKey } from '../did/parties.js';
import type { CountedAttestation } from './types.js';

/** An attestation that passed every check, before weighting. */
export interface VerifiedRating {
  id: string;
  attester: string;
  receipt: string;
  score: number;
  dimension?: string;
  /** ms since the epoch. */
  issuedAt: number;
}

export interface WeightPolicy {
  now: number;
  halfLifeSeconds?: number;
  attesterWeight: (did: string) => number;
  /** Whether an attester counts toward `attesters` (minAttesters): by default, any with a weight above 0. */
  trusted?: (did: string) => boolean;
  /**
   * Attesters that are one party: the same string for each (e.g. the agents
   * of one operator), undefined for an attester that stands alone. A group
   * counts and weighs as one attester, its ratings pooled as that
   * attester's would be.
   */
  groupOf?: (did: string) => string | undefined;
}

/** The widest instant a JS Date holds (ECMA-262 §21.4.1.1). */
const MAX_TIME = 8.64e15;
/** Code-unit order of strings (not locale order): the same on every machine. */
export const str = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
/** The order the stores list ratings in: issuedAt, then attester, then id. */
export const byTime = (a: VerifiedRating, b: VerifiedRating) => a.issuedAt - b.issuedAt || str(a.attester, b.attester) || str(a.id, b.id);

/** In order already (as a store lists them)? One pass, so stored input skips the sort. */
export function sorted<T extends VerifiedRating>(rs: readonly T[]): readonly T[] {
  for (let i = 1; i < rs.length; i++) if (byTime(rs[i - 1]!, rs[i]!) > 0) return [...rs].sort(byTime);
  return rs;
}

/**
 * A rating aggregate() can use: a finite score in [0, 1] and a time a Date
 * holds. Anything else is dropped, never averaged: a NaN would poison the
 * whole score. (Verification refuses such ratings long before; this guards
 * callers handing ratings in directly.)
 */
const usable = (r: VerifiedRating) =>
  typeof r.score === 'number' && r.score >= 0 && r.score <= 1 && typeof r.issuedAt === 'number' && Number.isFinite(r.issuedAt) && Math.abs(r.issuedAt) <= MAX_TIME;

/** TypeError unless the policy's numbers make sense: a misuse, caught where the policy is built. */
export function checkWeightPolicy(p: { halfLifeSeconds?: unknown; now?: unknown }): void {
  const h = p.halfLifeSeconds;
  if (h !== undefined && !(typeof h === 'number' && h > 0)) throw new TypeError('halfLifeSeconds must be a positive number of seconds (omit it for no decay)');
}

/**
 * A rating older than four half-lives (weighing under 1/16 of a fresh one)
 * no longer counts at all: decay alone would leave it a weight too small to
 * move a mean of several attesters, yet enough to be the whole mean of one
 * (a ten-year-old 1.0 scoring 1) and to count toward minAttesters. An agent
 * whose evidence is all that old has no score (null).
 */
export const MIN_DECAY = 1 / 16;

/** An attester's trust in [0, 1]: a weight that is not a finite number counts as 0. */
function trustOf(w: unknown): number {
  return typeof w === 'number' && Number.isFinite(w) ? Math.min(1, Math.max(0, w)) : 0;
}

/**
 * What "one rating per receipt" counts by: the receipt and its attester. A
 * receipt proves an interaction with one counterparty (an InteractionReceipt
 * names it; a decision receipt is the attester's own), so two attesters never
 * share one honestly. Keyed by the receipt id alone, anyone could cite a
 * trusted attester's receipt id in a proof of their own (a decision receipt
 * they sign themselves, dated earlier) and pre-empt that attester's rating.
 */
export const receiptKey = (r: { attester: string; receipt: string }) => `${r.attester}\n${r.receipt}`;

/**
 * One rating per receipt and attester: the earliest (then by id) counts, so
 * the choice does not depend on input order. The same rating given twice
 * (same time, attester and id) is one rating. Returns the kept ratings, in
 * that order, and the ids of the reused ones.
 */
export function oneRatingPerReceipt<T extends VerifiedRating>(ratings: readonly T[]): { kept: T[]; reused: string[] } {
  const byReceipt = new Set<string>();
  const kept: T[] = [];
  const reused: string[] = [];
  let prev: T | undefined;
  for (const r of sorted(ratings)) {
    // Sorted, so copies sit side by side.
    if (prev !== undefined && byTime(prev, r) === 0) continue;
    prev = r;
    const key = receiptKey(r);
    if (byReceipt.has(key)) reused.push(r.id);
    else {
      byReceipt.add(key);
      kept.push(r);
    }
  }
  return { kept, reused };
}

export interface Aggregate {
  /** In [0, 1], or null when no attester with a positive weight counted. */
  score: number | null;
  /** Attesters whose weight counted (positive). */
  attesters: number;
  /** Per rating, with its weight (trust times decay); only with `detail`. */
  counted: CountedAttestation[];
}

/**
 * Weighted mean per attester first, then across attesters by their trust
 * weight: an attester's influence is bounded by its weight however many
 * receipts it holds, so volume from one party cannot buy a score. Decay
 * halves a rating's weight every `halfLifeSeconds` of age; an attester
 * weighs its trust times the decay of its freshest rating. The result is
 * null or a finite number in [0, 1], whatever the input.
 */
export function aggregate(ratings: readonly VerifiedRating[], policy: WeightPolicy, opts: { detail?: boolean; inOrder?: boolean } = {}): Aggregate {
  checkWeightPolicy(policy);
  const detail = opts.detail !== false;
  const now = policy.now;
  if (typeof now !== 'number' || !Number.isFinite(now)) throw new TypeError('aggregate needs policy.now (ms)');
  const half = policy.halfLifeSeconds;
  const counted: CountedAttestation[] = [];
  const perAttester = new Map<string, { num: number; den: number; trust: number; decayMax: number; who: string }>();
  const groupOf = policy.groupOf;
  const seen = new Map<string, { key: string; trust: number }>();
  // In time order, ratings of one instant sit side by side: their decay and time text are worked out once.
  let at = Number.NaN;
  let decay = 0;
  let issuedAt = '';
  for (const r of opts.inOrder === true ? ratings : sorted(ratings)) {
    if (!usable(r)) continue;
    if (r.issuedAt !== at) {
      at = r.issuedAt;
      // 0.5^x underflows to 0 for very old ratings: they weigh nothing, never NaN.
      decay = half === undefined ? 1 : Math.pow(0.5, Math.max(0, now - at) / 1000 / half);
      issuedAt = '';
    }
    if (decay < MIN_DECAY) continue;
    // One party, one voice: a did:key and a did:jwk of one key are one attester (partyKey: "key …"), as
    // are the members of a group. Neither key is a DID ("did:" never starts it), so neither collides
    // with a lone attester.
    // Per attester, not per rating (most attesters rate many times): its group, party and trust.
    let who = seen.get(r.attester);
    if (who === undefined) {
      const g = groupOf?.(r.attester);
      seen.set(r.attester, (who = { key: g === undefined ? partyKey(r.attester) : `\u0000${g}`, trust: trustOf(policy.attesterWeight(r.attester)) }));
    }
    const { key, trust } = who;
    let a = perAttester.get(key);
    if (a === undefined) perAttester.set(key, (a = { num: 0, den: 0, trust, decayMax: 0, who: r.attester }));
    else if (trust > a.trust) {
      // A party weighs what its most trusted name does (it is one party, whichever name it rates under).
      a.trust = trust;
      a.who = r.attester;
    }
    if (detail) {
      if (issuedAt === '') issuedAt = new Date(at).toISOString();
      // Field by field, in this order (no spread): a store scores 100,000 of them at once.
      const c: CountedAttestation = r.dimension
        ? { id: r.id, attester: r.attester, receipt: r.receipt, score: r.score, dimension: r.dimension, weight: a.trust * decay, issuedAt }
        : { id: r.id, attester: r.attester, receipt: r.receipt, score: r.score, weight: a.trust * decay, issuedAt };
      counted.push(c);
    }
    a.num += decay * r.score;
    a.den += decay;
    if (decay > a.decayMax) a.decayMax = decay;
  }
  let num = 0;
  let den = 0;
  let attesters = 0;
  // Attesters nobody vouches for (weighed by unknownAttesterWeight) pool into one: anyone can make keys,
  // so sixty strangers must not outweigh two trusted attesters. Together they weigh what the heaviest of
  // them does, their scores averaged by weight.
  let strangerNum = 0;
  let strangerDen = 0;
  let strangerMax = 0;
  for (const key of [...perAttester.keys()].sort(str)) {
    const a = perAttester.get(key)!;
    const w = a.trust * a.decayMax;
    if (!(w > 0) || !(a.den > 0)) continue;
    const mean = Math.min(1, a.num / a.den);
    if (policy.trusted !== undefined && !policy.trusted(a.who)) {
      strangerNum += w * mean;
      strangerDen += w;
      strangerMax = Math.max(strangerMax, w);
      continue;
    }
    attesters++;
    num += w * mean;
    den += w;
  }
  if (strangerDen > 0) {
    num += strangerMax * Math.min(1, strangerNum / strangerDen);
    den += strangerMax;
  }
  const s = den > 0 ? num / den : Number.NaN;
  return { score: Number.isFinite(s) ? Math.min(1, Math.max(0, s)) : null, attesters, counted };
}
