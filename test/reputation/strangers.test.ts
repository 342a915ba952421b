import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { aggregate, type VerifiedRating } from '../../src/reputation/aggregate.js';

/**
 * Strangers (attesters nobody vouches for, weighed by unknownAttesterWeight)
 * pool into one attester: keys cost nothing, so their number must not buy
 * influence over the attesters the scorer trusts.
 */
const NOW = Date.parse('2026-06-01T00:00:00Z');
const rating = (attester: string, score: number, i = 0): VerifiedRating => ({
  id: `urn:r:${attester}:${i}`,
  attester,
  receipt: `rc-${attester}-${i}`,
  score,
  issuedAt: NOW - 1000,
});
const policy = (trusted: string[], unknown: number) => ({
  now: NOW,
  attesterWeight: (d: string) => (trusted.includes(d) ? 1 : unknown),
  trusted: (d: string) => trusted.includes(d),
});

describe('strangers weigh as one, however many', () => {
  it('forty strangers rating 0 cannot sink an agent two trusted shops rate 1; sixty rating 1 cannot lift one they rate 0', () => {
    const trusted = ['did:ex:shop1', 'did:ex:shop2'];
    const honest = [rating('did:ex:shop1', 1), rating('did:ex:shop2', 1), ...Array.from({ length: 40 }, (_, i) => rating(`did:ex:sybil${i}`, 0))];
    const sunk = aggregate(honest, policy(trusted, 0.1));
    expect(sunk.score).toBeCloseTo(2 / 2.1, 10);
    expect(sunk.attesters).toBe(2);
    const bad = [rating('did:ex:shop1', 0), rating('did:ex:shop2', 0), ...Array.from({ length: 60 }, (_, i) => rating(`did:ex:sock${i}`, 1))];
    expect(aggregate(bad, policy(trusted, 0.1)).score).toBeCloseTo(0.1 / 2.1, 10);
  });
  it('with strangers only, their pooled mean is the score; with a weight of 0 they count for nothing', () => {
    const rs = [rating('did:ex:a', 1), rating('did:ex:b', 0.5), rating('did:ex:c', 0)];
    expect(aggregate(rs, policy([], 0.2)).score).toBeCloseTo(0.5, 10);
    expect(aggregate(rs, policy([], 0)).score).toBeNull();
  });
  it('adding any number of strangers moves the score by at most one stranger weight against the trusted total (property)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 5 }),
        fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 200 }),
        fc.double({ min: 0.001, max: 1, noNaN: true }),
        (trustedScores, strangerScores, u) => {
          const trusted = trustedScores.map((_, i) => `did:ex:t${i}`);
          const base = trustedScores.map((s, i) => rating(trusted[i]!, s));
          const before = aggregate(base, policy(trusted, u)).score!;
          const after = aggregate([...base, ...strangerScores.map((s, i) => rating(`did:ex:s${i}`, s))], policy(trusted, u)).score!;
          expect(Math.abs(after - before)).toBeLessThanOrEqual(u / (trusted.length + u) + 1e-9);
        },
      ),
      { numRuns: 200 },
    );
  });
});
