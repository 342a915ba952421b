import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { orderChain } from '../../src/agents/index.js';
import { createPresentation } from '../../src/credentials/index.js';
import { authorizeTransaction } from '../../src/guard/transaction.js';
import { API, openWorld, type World } from '../http/world.js';

/**
 * A settlement the store refused is retried in the background (src/guard/spend.ts; mutation testing
 * found neither retry rule tested): it goes on past one failed retry until the store answers, and it
 * stops at once when the reservation is gone (RESERVATION_NOT_FOUND), with no more calls to the store.
 */
let w: World;
beforeAll(async () => {
  w = await openWorld();
}, 60_000);
afterAll(async () => w.close());

async function authorized() {
  const vp = await createPresentation({ holder: w.agent, credentials: [w.agentIdentity, ...orderChain([await w.mandate()])], aud: API });
  const d = await authorizeTransaction(vp, { verifier: w.verifier(), action: 'purchase', amount: '5 USD', trust: { principals: [w.principal.did] } });
  expect(d.reasons).toEqual([]);
  return d.spend!;
}

describe('background settlement retries', () => {
  it('a store down for several retries: the commit lands once it is back', async () => {
    const spend = await authorized();
    w.faults.commit = true;
    try {
      expect(await spend.settle(true)).toBe('held');
      // The retries at 250 ms and 750 ms fail too.
      await new Promise((r) => setTimeout(r, 900));
      expect(spend.state).toBe('held');
    } finally {
      w.faults.commit = false;
    }
    await expect.poll(() => spend.state, { timeout: 6000, interval: 50 }).toBe('committed');
    expect(await w.apiStore.listReservations({ state: 'reserved' })).toEqual([]);
  }, 20_000);

  it('a reservation gone meanwhile: one more attempt, then no more calls', async () => {
    const spend = await authorized();
    const real = w.apiStore.commitReservation;
    let calls = 0;
    w.apiStore.commitReservation = (...a) => {
      calls++;
      return real(...a);
    };
    try {
      w.faults.commit = true;
      expect(await spend.settle(true)).toBe('held');
      // Released elsewhere (a hold timeout) while the commit was failing.
      await w.apiStore.releaseReservation(spend.reservationId);
      w.faults.commit = false;
      await new Promise((r) => setTimeout(r, 2500));
      // The first attempt, and the retry at 250 ms that found it gone; none at 750 ms or 1750 ms.
      expect(calls).toBe(2);
      expect(spend.state).toBe('held');
    } finally {
      w.apiStore.commitReservation = real;
      w.faults.commit = false;
    }
  }, 20_000);

  it('settle() while a commit or release is in flight follows it, whatever success says', async () => {
    for (const [start, success, end] of [
      ['commit', false, 'committed'],
      ['release', true, 'released'],
    ] as const) {
      const spend = await authorized();
      const first = spend[start]();
      expect(await spend.settle(success), start).toBe(end);
      await first;
      expect(spend.state, start).toBe(end);
      expect(await spend.settle(!success), start).toBe(end);
    }
  });
});
