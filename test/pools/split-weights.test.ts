import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { didKeyRef } from '../../src/did/index.js';
import type { GrantTerms } from '../../src/grants/index.js';
import { openPoolWorld, type PoolWorld } from './world.js';

/*
 * A pool grant's split of its compensation names members by DID, and a
 * payout pays the snapshot's DIDs by those names exactly. A weight under any
 * other name (another DID of a member's key, which looks like it names that
 * member; a stranger; a DID that differs in case) would pay that member
 * nothing while the others share its part: refused when proposed.
 */

let w: PoolWorld;
beforeAll(async () => {
  w = await openPoolWorld({ members: 3, threshold: 2 });
});
afterAll(async () => {
  await w.close();
});

const split = (weights: Record<string, string>): GrantTerms => ({ compensation: { amount: '1', currency: 'EUR', per: 'use', split: { weights } } });

describe('split weights name members of the snapshot', () => {
  it('weights for the members as the snapshot names them: proposed', async () => {
    const [a, b, c] = w.members.map((m) => m.did) as [string, string, string];
    const p = await w.proposeGrant({ terms: split({ [a]: '2', [b]: '1', [c]: '1' }) });
    expect(p.proposal.grant!.terms!.compensation!.split).toEqual({ weights: { [a]: '2', [b]: '1', [c]: '1' } });
  });

  it('a member named by the did:jwk of its key (it would be paid nothing): INVALID_ARGUMENT', async () => {
    const [a, b, c] = w.members as [(typeof w.members)[0], (typeof w.members)[0], (typeof w.members)[0]];
    const alias = didKeyRef('jwk', a.publicJwk).did;
    expect(alias).not.toBe(a.did);
    await expect(w.proposeGrant({ terms: split({ [alias]: '2', [b.did]: '1', [c.did]: '1' }) })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('a stranger among the weights: INVALID_ARGUMENT', async () => {
    const [a, b] = w.members.map((m) => m.did) as [string, string];
    await expect(w.proposeGrant({ terms: split({ [a]: '1', [b]: '1', [w.platform.did]: '5' }) })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('a member DID spelt in another case: INVALID_ARGUMENT', async () => {
    const [a, b] = w.members.map((m) => m.did) as [string, string];
    const upper = a.replace(/^did:key:z/, 'did:key:Z');
    await expect(w.proposeGrant({ terms: split({ [upper]: '1', [b]: '1' }) })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
