import { DECIMAL_SCALE, formatDecimal } from '../encoding/decimal.js';

/**
 * Exact apportionment of money among members. Amounts are scaled integers
 * (10^-18 units, as in encoding/decimal.ts); a member's share of an amount
 * split by weights is a fraction, kept exact (BigInt numerator and
 * denominator) until the very end, where the total is rounded once and
 * apportioned by largest remainder, so the shares always add up to it.
 */

export interface Fraction {
  n: bigint;
  d: bigint;
}

const gcd = (a: bigint, b: bigint): bigint => {
  a = a < 0n ? -a : a;
  while (b !== 0n) [a, b] = [b, a % b];
  return a;
};

export function frac(n: bigint, d = 1n): Fraction {
  if (d === 0n) throw new RangeError('zero denominator');
  const g = gcd(n, d) || 1n;
  return { n: n / g, d: d / g };
}

export const add = (a: Fraction, b: Fraction): Fraction => frac(a.n * b.d + b.n * a.d, a.d * b.d);

/** a < b ? -1 : a > b ? 1 : 0 */
export const compare = (a: Fraction, b: Fraction): number => {
  const x = a.n * b.d;
  const y = b.n * a.d;
  return x < y ? -1 : x > y ? 1 : 0;
};

/** `amount` (scaled) split by `weights` (scaled, all ≥ 0, sum > 0): each key's exact share. */
export function splitExact(amount: bigint, weights: ReadonlyMap<string, bigint>): Map<string, Fraction> {
  let total = 0n;
  for (const w of weights.values()) total += w;
  const out = new Map<string, Fraction>();
  if (total === 0n) return out;
  for (const [k, w] of weights) out.set(k, frac(amount * w, total));
  return out;
}

/** Rounds a scaled amount to `minor` fraction digits, half up. Returns scaled units. */
export function roundHalfUp(amount: bigint, minor: number): bigint {
  const unit = 10n ** BigInt(DECIMAL_SCALE - minor);
  const q = amount / unit;
  const r = amount % unit;
  return (r * 2n >= unit ? q + 1n : q) * unit;
}

/**
 * Largest-remainder apportionment (Hamilton's method) of `total` (scaled,
 * already a whole number of minor units) among exact `quotas` (scaled)
 * summing to about it: each gets its quota rounded down to a minor unit, and
 * the minor units left go one each to the largest remainders, ties broken by
 * key in code-point order. The results add up to `total` exactly.
 */
export function apportion(total: bigint, quotas: ReadonlyMap<string, Fraction>, minor: number): Map<string, bigint> {
  const unit = 10n ** BigInt(DECIMAL_SCALE - minor);
  const rows = [...quotas].map(([k, q]) => {
    const units = frac(q.n, q.d * unit);
    const floor = units.n / units.d;
    return { k, floor, rest: frac(units.n - floor * units.d, units.d) };
  });
  let left = total / unit - rows.reduce((s, r) => s + r.floor, 0n);
  if (left < 0n || left > BigInt(rows.length)) throw new RangeError('quotas do not add up to the total');
  const order = [...rows].sort((a, b) => compare(b.rest, a.rest) || (a.k < b.k ? -1 : a.k > b.k ? 1 : 0));
  const bonus = new Set<string>();
  for (const r of order) {
    if (left === 0n) break;
    bonus.add(r.k);
    left--;
  }
  return new Map(rows.map((r) => [r.k, (r.floor + (bonus.has(r.k) ? 1n : 0n)) * unit]));
}

export const decimalOf = (scaled: bigint) => formatDecimal(scaled);
/** A fraction of scaled units as a decimal string, truncated to 18 digits (display only). */
export const decimalOfFraction = (f: Fraction) => formatDecimal(f.n / f.d);
