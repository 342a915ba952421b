import { describe, expect, it } from 'vitest';
import { reserveLinks } from '../../src/agents/index.js';
import { didKeyRef } from '../../src/did/index.js';
import type { TrustAnchor } from '../../src/mandates/types.js';
import { eachStore } from '../store/fixtures/each-store.js';
import { codes, NOW, pay, verifierOn } from './ap2-anchor-world.js';
import { ap2Open } from './mandate-build.js';

/*
 * An AP2 root pinned by a DID is charged under two ledger issuers (its key, and the DID method id 0.1
 * keyed it by). Each is its own ledger row, so the user's budget is whole (not halved), a released
 * payment gives both back, and a refusal is said once (with the tighter row's figures when only it refuses).
 */
const stores = eachStore('anchorbudget');
// 250.00 USD over the mandate's life (AP2 budget: major units), payments of 100.00 USD, any number of them.
const budget = (r: string) => [
  { type: 'payment.reference', conditional_transaction_id: r },
  { type: 'payment.amount_range', currency: 'USD', max: 20000 },
  { type: 'payment.budget', max: 250, currency: 'USD' },
  { type: 'payment.agent_recurrence', frequency: 'ON_DEMAND', max_occurrences: 10 },
];
describe.each(stores)('an AP2 root pinned by a DID, charged under its key and its 0.1 method id (%s)', (_name, open) => {
  it('spends its whole budget, not half: a released payment gives both rows back, committed ones use both', async () => {
    const v = await verifierOn(open);
    const w = await ap2Open(NOW, budget);
    const byKey = didKeyRef('key', w.root.publicJwk).did;
    const byJwk = w.root.publicJwk as TrustAnchor;
    const first = await pay(w, v, byKey);
    expect(first.ok).toBe(true);
    await first.spend!.commit();
    const released = await pay(w, v, byKey);
    expect(released.ok).toBe(true);
    await released.spend!.release();
    const second = await pay(w, v, byJwk);
    expect(second.ok).toBe(true);
    await second.spend!.commit();
    // 200 of 250 spent on every row: a third 100 is refused, said once, whichever form pinned it.
    for (const a of [byKey, byJwk, didKeyRef('jwk', w.root.publicJwk).did]) {
      const third = await pay(w, v, a);
      expect(codes(third)).toEqual(['BUDGET_EXCEEDED']);
      expect(third.reasons![0]!.message).toMatch(/50 of 250 left/);
    }
  });

  it('a payment made before the upgrade (the method id row only) counts, and the refusal says the row that refused', async () => {
    const v = await verifierOn(open);
    const w = await ap2Open(NOW, budget);
    const byKey = didKeyRef('key', w.root.publicJwk).did;
    const probe = await pay(w, v, byKey);
    expect(probe.ok).toBe(true);
    await probe.spend!.release();
    const root = probe.mandate!.mandates[0]!;
    expect(root.anchor).toMatch(/^did:key:/);
    const legacy = probe.mandate!.links.filter((l) => l.issuer === root.anchor);
    expect(legacy.length).toBeGreaterThan(0);
    // 0.1 paid 100 twice under the method id: 50 left there, 250 under the key.
    for (let i = 0; i < 2; i++) {
      const old = await reserveLinks(v.store, legacy, { amount: '100.00', currency: 'USD' }, { now: NOW });
      expect(old.ok).toBe(true);
      await v.store.commitReservation(old.reservationId!);
    }
    const now = await pay(w, v, byKey);
    expect(codes(now)).toEqual(['BUDGET_EXCEEDED']);
    expect(now.reasons![0]!.message).toMatch(/50 of 250 left/);
  });
  it('both rows refuse: one refusal, with the figures of the tighter row, whichever of the two it is', async () => {
    for (const legacyFirst of [true, false]) {
      const v = await verifierOn(open);
      const w = await ap2Open(NOW, budget);
      const byKey = didKeyRef('key', w.root.publicJwk).did;
      const byJwk = w.root.publicJwk as TrustAnchor;
      const probe = await pay(w, v, byKey);
      await probe.spend!.release();
      const root = probe.mandate!.mandates[0]!;
      const legacy = probe.mandate!.links.filter((l) => l.issuer === root.anchor);
      // Key row: 200 spent on the JWK route (50 left). Method id row (0.1): 250 or 175 spent (0 or 75 left).
      for (let i = 0; i < 2; i++) await (await pay(w, v, byJwk)).spend!.commit();
      for (const amount of legacyFirst ? ['125.00', '125.00'] : ['100.00', '75.00']) {
        const old = await reserveLinks(v.store, legacy, { amount, currency: 'USD' }, { now: NOW });
        expect(old.ok).toBe(true);
        await v.store.commitReservation(old.reservationId!);
      }
      const now = await pay(w, v, byKey);
      expect(codes(now)).toEqual(['BUDGET_EXCEEDED']);
      expect([legacyFirst, now.reasons![0]!.message]).toEqual([legacyFirst, expect.stringMatching(legacyFirst ? / 0 of 250 left/ : /50 of 250 left/)]);
    }
  });
});
