import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countVotes, type Proposal } from '../../src/grants/index.js';
import { openPoolWorld, type PoolWorld } from '../pools/world.js';

/**
 * countVotes is public: a caller may hand it a proposal nobody shape-checked.
 * Whatever the epoch says, no votes are never a quorum: a threshold of 0,
 * -1, null, a string or above the member count, or an empty member list, is
 * refused (the proposal's own reasons), not counted as met.
 */
let w: PoolWorld;
let proposal: Proposal;
beforeAll(async () => {
  w = await openPoolWorld({ members: 3, threshold: 2 });
  proposal = (await w.proposeGrant()).proposal;
}, 60_000);
afterAll(async () => w?.close());

describe('countVotes reads the proposal it is given', () => {
  it('the control: a well-formed 2-of-3 proposal with no votes is QUORUM_NOT_MET', async () => {
    const q = await countVotes(proposal, [], { resolver: w.resolver });
    expect([q.ok, q.threshold, q.reasons.map((r) => r.code)]).toEqual([false, 2, ['QUORUM_NOT_MET']]);
  });

  it.each([0, -1, null, undefined, false, '', '2', [], NaN, 1.5, 4, Infinity])('threshold %j: refused with no approval counted', async (threshold) => {
    const q = await countVotes({ ...proposal, epoch: { ...proposal.epoch, threshold: threshold as never } }, [], { resolver: w.resolver });
    expect(q.ok).toBe(false);
    expect(q.approvals).toEqual([]);
    expect(q.reasons[0]!.message).toMatch(/threshold/);
  });

  it('an empty member list, a missing epoch, or no proposal at all: refused, never a crash', async () => {
    for (const p of [{ ...proposal, epoch: { ...proposal.epoch, members: [], threshold: 0 } }, { ...proposal, epoch: undefined }, null, 'p', { ...proposal, pool: 'not a did' }]) {
      const q = await countVotes(p as never, [], { resolver: w.resolver });
      expect(q.ok, JSON.stringify(p)?.slice(0, 60)).toBe(false);
      expect(q.approvals).toEqual([]);
    }
  });
});
