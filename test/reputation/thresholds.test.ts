import { describe, expect, it } from 'vitest';
import { checkReputation } from '../../src/reputation/index.js';

/**
 * A reputation gate given a threshold it cannot read must refuse to be built
 * (TypeError), never open: a minAttesters of "two" or NaN asked for no
 * attester at all, so one trusted rating passed a gate set to three.
 */
describe('checkReputation thresholds', () => {
  const policy = { status: () => Promise.resolve([]) } as never;
  it.each([['two'], [Number.NaN], [{}], [-1], [1.5], [Infinity], [null], ['3']])('minAttesters %j: TypeError before anything is scored', async (minAttesters) => {
    await expect(checkReputation('did:key:z6Mk', [], { minReputation: 0.5, minAttesters: minAttesters as never, policy })).rejects.toThrow(/minAttesters/);
  });
  it.each([[Number.NaN], [-0.1], [1.1], ['0.5'], [undefined]])('minReputation %j: TypeError', async (minReputation) => {
    await expect(checkReputation('did:key:z6Mk', [], { minReputation: minReputation as never, policy })).rejects.toThrow(TypeError);
  });
});
