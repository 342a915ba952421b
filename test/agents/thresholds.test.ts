import { describe, expect, it } from 'vitest';
import { checkReputationThresholds, reputationReasons } from '../../src/agents/thresholds.js';

/** The reputation gate's bounds, each on both sides (found by mutation testing: a `<=` read as `<` went unnoticed). */
describe('reputation thresholds', () => {
  it('minReputation is a number from 0 to 1 inclusive; anything else is a TypeError where it is given', () => {
    for (const minReputation of [0, 0.5, 1]) expect(() => checkReputationThresholds('t', { minReputation })).not.toThrow();
    for (const minReputation of [-0.001, 1.001, Number.NaN, Infinity, '0.5', null]) {
      expect(() => checkReputationThresholds('t', { minReputation })).toThrow(TypeError);
    }
  });

  it('minAttesters is a whole number from 0', () => {
    for (const minAttesters of [0, 1, 3]) expect(() => checkReputationThresholds('t', { minAttesters })).not.toThrow();
    for (const minAttesters of [-1, 1.5, Number.NaN, '2']) expect(() => checkReputationThresholds('t', { minAttesters })).toThrow(TypeError);
  });

  it('a score equal to the threshold passes, at 0 and at 1; one just below does not', () => {
    expect(reputationReasons({ score: 1, attesters: 1 }, 1, 1)).toEqual([]);
    expect(reputationReasons({ score: 0, attesters: 1 }, 0, 1)).toEqual([]);
    expect(reputationReasons({ score: 0.5, attesters: 1 }, 0.5, 1)).toEqual([]);
    expect(reputationReasons({ score: 0.499, attesters: 1 }, 0.5, 1).map((r) => r.code)).toEqual(['REPUTATION_TOO_LOW']);
    expect(reputationReasons({ score: 0.99, attesters: 1 }, 1, 1).map((r) => r.code)).toEqual(['REPUTATION_TOO_LOW']);
  });

  it('a score outside 0..1 or an attester count that is no whole number is no answer: refused whatever the threshold', () => {
    for (const s of [
      { score: -0.1, attesters: 1 },
      { score: 1.1, attesters: 1 },
      { score: Number.NaN, attesters: 1 },
      { score: '0.9', attesters: 1 },
      { score: 0.9, attesters: -1 },
      { score: 0.9, attesters: 1.5 },
      { score: 0.9 },
      null,
    ]) {
      expect(reputationReasons(s, 0, 0).map((r) => r.code)).toEqual(['REPUTATION_TOO_LOW']);
    }
  });
});
