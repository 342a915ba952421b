import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPresentation } from '../../src/credentials/index.js';
import { commitSpend, releaseSpend, staleReservations } from '../../src/agents/index.js';
import { authorizeTransaction, guardTransaction } from '../../src/guard/transaction.js';
import { API, openWorld, type World } from '../http/world.js';

/**
 * A reservation whose transaction never settles (a crash, a lost process)
 * still counts against every budget (never an overspend), is visible as
 * stale, can be settled by hand, and, only when the verifier opts in, is
 * released by a hold timeout that the ledger records.
 */
describe('orphaned reservations', () => {
  let w: World;
  beforeAll(async () => {
    w = await openWorld();
  });
  afterAll(() => w.close());

  const trust = () => ({ principals: [w.principal.did] });
  const present = async (mandate: string) => createPresentation({ holder: w.agent, credentials: [w.agentIdentity, mandate], aud: API });
  const mine = async (mandateId: string) => (await w.apiStore.listReservations({})).filter((r) => r.entries.some((e) => e.mandateId.endsWith(mandateId)));

  it('by default a held amount keeps counting; it is listed as stale and settled by hand', async () => {
    const mandate = await w.mandate(); // 50 per order, 100 in all
    const verifier = w.verifier({ http: false });
    const held = await authorizeTransaction(await present(mandate), { verifier, action: 'purchase', amount: '50 USD', trust: trust() });
    expect(held.ok).toBe(true);
    // ... the process dies here: nobody settles it.
    const second = await authorizeTransaction(await present(mandate), { verifier, action: 'purchase', amount: '50 USD', trust: trust() });
    await second.spend!.commit();
    const third = await authorizeTransaction(await present(mandate), { verifier, action: 'purchase', amount: '50 USD', trust: trust() });
    expect(third.reasons.map((r) => r.code)).toEqual(['BUDGET_EXCEEDED']);

    const stale = await staleReservations(w.apiStore, { olderThanSeconds: 0 });
    expect(stale.map((r) => r.reservationId)).toContain(held.spend!.reservationId);
    expect(stale.find((r) => r.reservationId === held.spend!.reservationId)).toMatchObject({ state: 'reserved', entries: [{ amount: '50', currency: 'USD' }] });
    expect((await staleReservations(w.apiStore, { olderThanSeconds: 3600 })).map((r) => r.reservationId)).not.toContain(held.spend!.reservationId);

    await releaseSpend(w.apiStore, held.spend!.reservationId);
    const fourth = await authorizeTransaction(await present(mandate), { verifier, action: 'purchase', amount: '50 USD', trust: trust() });
    expect(fourth.ok).toBe(true);
    await expect(commitSpend(w.apiStore, held.spend!.reservationId)).rejects.toMatchObject({ code: 'RESERVATION_NOT_FOUND' });
  });

  it('a hold settled one way refuses to settle the other: commit after release (even while the release runs) is RESERVATION_NOT_FOUND, and the reverse', async () => {
    const mandate = await w.mandate(); // 50 per order, 100 in all
    const verifier = w.verifier({ http: false });
    const hold = async () => (await authorizeTransaction(await present(mandate), { verifier, action: 'purchase', amount: '10 USD', trust: trust() })).spend!;

    const released = await hold();
    await released.release();
    await expect(released.commit()).rejects.toMatchObject({ code: 'RESERVATION_NOT_FOUND', message: expect.stringContaining('released') });
    await released.release(); // the same way again: idempotent
    expect(released.state).toBe('released');

    const racing = await hold();
    const releasing = racing.release();
    // Asked while the release is still on its way to the store: refused at once, never "done".
    await expect(racing.commit()).rejects.toMatchObject({ code: 'RESERVATION_NOT_FOUND' });
    await releasing;
    expect(racing.state).toBe('released');

    const committed = await hold();
    await committed.commit();
    await expect(committed.release()).rejects.toMatchObject({ code: 'RESERVATION_NOT_FOUND', message: expect.stringContaining('committed') });
    await committed.commit();
    expect(committed.state).toBe('committed');
    // settle() follows the first settlement whatever it is asked, and never throws.
    expect(await racing.settle(true)).toBe('released');
    expect(await committed.settle(false)).toBe('committed');
  });

  it('opt-in hold timeout: an unsettled reservation is released after it, and the release is recorded as a timeout', async () => {
    const mandate = await w.mandate({ limits: { budget: { amount: '50', currency: 'USD', period: 'P30D' }, counterparties: [API] } });
    const verifier = w.verifier({ http: false, holdTimeoutSeconds: 1 });
    const orphan = await authorizeTransaction(await present(mandate), { verifier, action: 'purchase', amount: '50 USD', trust: trust() });
    expect(orphan.ok).toBe(true);
    const [rec] = await mine(decodeId(mandate));
    expect(rec!.holdUntil).toBeDefined();
    const tooSoon = await authorizeTransaction(await present(mandate), { verifier, action: 'purchase', amount: '1 USD', trust: trust() });
    expect(tooSoon.reasons.map((r) => r.code)).toEqual(['BUDGET_EXCEEDED']);

    await new Promise((r) => setTimeout(r, 1100));
    const after = await authorizeTransaction(await present(mandate), { verifier, action: 'purchase', amount: '50 USD', trust: trust() });
    expect(after.ok).toBe(true);
    const released = (await mine(decodeId(mandate))).find((r) => r.reservationId === orphan.spend!.reservationId)!;
    expect(released).toMatchObject({ state: 'released', settledBy: 'timeout' });
    expect(released.settledAt).toBeDefined();

    // The lost transaction did happen after all: committing it records the spend (it counts again).
    await orphan.spend!.commit();
    const committed = (await mine(decodeId(mandate))).find((r) => r.reservationId === orphan.spend!.reservationId)!;
    expect(committed).toMatchObject({ state: 'committed', settledBy: 'commit' });
  });

  it('guardTransaction tells fn when the hold runs out (an AbortSignal), and an outcome finished after it says holdExpired', async () => {
    const mandate = await w.mandate({
      limits: { budget: { amount: '100', currency: 'USD', period: 'P30D' }, perTransaction: { amount: '50', currency: 'USD' }, counterparties: [API] },
    });
    const verifier = w.verifier({ http: false, holdTimeoutSeconds: 1 });
    const request = () => ({ verifier, action: 'purchase', amount: '50 USD', trust: trust() });
    // In time: the signal never fires, no flag, committed.
    const quick = await guardTransaction(await present(mandate), request(), (_d, run) => (expect(run.signal.aborted).toBe(false), 'done'));
    expect(quick).toMatchObject({ ok: true, spend: 'committed' });
    expect(quick).not.toHaveProperty('holdExpired');
    // A slow fn that listens stops when the hold runs out: its spend is released, nothing overspent.
    let aborted: unknown;
    await expect(
      guardTransaction(await present(mandate), request(), async (_d, run) => {
        await new Promise<void>((resolve, reject) => run.signal.addEventListener('abort', () => reject((aborted = run.signal.reason))));
        return 'never';
      }),
    ).rejects.toMatchObject({ code: 'RESERVATION_NOT_FOUND' });
    expect(aborted).toMatchObject({ code: 'RESERVATION_NOT_FOUND' });
    // A slow fn that ignores it: the spend happened and is recorded, and the outcome says the hold had run out.
    const slow = await guardTransaction(await present(mandate), request(), async (_d, run) => {
      await new Promise((r) => setTimeout(r, 1300));
      expect(run.signal.aborted).toBe(true);
      return 'late';
    });
    expect(slow).toMatchObject({ ok: true, value: 'late', spend: 'committed', holdExpired: true });
    // Without holdTimeoutSeconds: never aborted, never flagged.
    const plain = await guardTransaction(await present(await w.mandate()), { ...request(), verifier: w.verifier({ http: false }) }, (_d, run) => run.signal.aborted);
    expect(plain).toMatchObject({ ok: true, value: false });
    expect(plain).not.toHaveProperty('holdExpired');
  }, 15_000);

  it('holdTimeoutSeconds is checked when the verifier is built', () => {
    for (const bad of [0, -1, Number.NaN, 10 ** 9]) expect(() => w.verifier({ http: false, holdTimeoutSeconds: bad })).toThrow(TypeError);
  });
});

function decodeId(jwt: string): string {
  return (JSON.parse(Buffer.from(jwt.split('.')[1]!, 'base64url').toString()) as { id: string }).id;
}
