import { describe, expect, it } from 'vitest';
import { reserveLinks } from '../../src/agents/index.js';
import { didKeyRef } from '../../src/did/index.js';
import { authorizeMandatePayment } from '../../src/guard/transaction.js';
import type { TrustAnchor } from '../../src/mandates/types.js';
import { eachStore } from '../store/fixtures/each-store.js';
import { AUD, codes, NOW, pay, resolver, verifierOn } from './ap2-anchor-world.js';
import { ap2Checkout, ap2Open, ap2Pay, type Ap2Open } from './mandate-build.js';

/*
 * The caller pins the user who signs an AP2 root mandate as it likes: a JWK, the did:jwk of that key (in
 * any member order, with a kid), its did:key. One key is one user, and its mandate one mandate: a mandate
 * that pays once pays once, whichever pinned form (two routes of one PSP, two instances sharing a store,
 * a trust list rewritten) verified each payment. The ledger knows the root by its key; a root pinned by a
 * DID was keyed by the DID method's id before, and those links still count.
 */
const stores = eachStore('anchor');

/** The pinned forms of the root's one key. */
function anchors(w: Ap2Open): [string, TrustAnchor][] {
  const { kty, crv, x, y } = w.root.publicJwk as { kty: string; crv: string; x: string; y: string };
  const respelt = `did:jwk:${Buffer.from(JSON.stringify({ y, x, crv, kty, kid: 'k1' })).toString('base64url')}`;
  return [
    ['JWK', w.root.publicJwk as TrustAnchor],
    ['did:jwk', didKeyRef('jwk', w.root.publicJwk).did],
    ['did:key', didKeyRef('key', w.root.publicJwk).did],
    ['did:jwk respelt', respelt],
  ];
}
const single = (r: string) => [
  { type: 'payment.reference', conditional_transaction_id: r },
  { type: 'payment.amount_range', currency: 'USD', max: 20000 },
];
describe.each(stores)('an AP2 mandate pays as often as it says, however its signer is pinned (%s)', (_name, open) => {
  it('a single-use mandate paid under one pinned form is used up under every other', async () => {
    const v = await verifierOn(open);
    const forms = anchors(await ap2Open(NOW, single));
    for (const [firstName] of forms) {
      const w = await ap2Open(NOW, single);
      const all = anchors(w);
      const first = all.find(([n]) => n === firstName)!;
      expect([firstName, (await pay(w, v, first[1])).ok]).toEqual([firstName, true]);
      for (const [name, anchor] of all) {
        const again = await pay(w, v, anchor);
        expect([firstName, name, again.ok, codes(again)]).toEqual([firstName, name, false, ['RATE_EXCEEDED']]);
      }
    }
  });

  it('max_occurrences 2, payments alternating between the pinned forms, at once: two are charged', async () => {
    const v = await verifierOn(open);
    const w = await ap2Open(NOW, (r) => [
      ...single(r),
      { type: 'payment.budget', max: 100000, currency: 'USD' },
      { type: 'payment.agent_recurrence', frequency: 'ON_DEMAND', max_occurrences: 2 },
    ]);
    const forms = anchors(w);
    const all = await Promise.all(Array.from({ length: 8 }, (_, i) => pay(w, v, forms[i % forms.length]![1])));
    expect(all.filter((r) => r.ok)).toHaveLength(2);
  });
});

describe('the ledger key of an AP2 root', () => {
  it('is its key whatever pinned it; a DID anchor also takes the links 0.1 keyed by the method id, and a payment made then still counts', async () => {
    const v = await verifierOn(stores[0]![1]);
    const w = await ap2Open(NOW, single);
    const c = await ap2Checkout(w, NOW);
    const thumbprints = new Set<string>();
    for (const [name, anchor] of anchors(w)) {
      const d = await authorizeMandatePayment(
        { payment: await ap2Pay(w, c.hash, AUD, NOW), checkout: c.checkout },
        { verifier: await verifierOn(stores[0]![1]), profile: 'ap2', trust: { issuers: [anchor], resolver }, now: NOW },
      );
      expect([name, d.ok]).toEqual([name, true]);
      const root = d.mandate!.mandates[0]!;
      thumbprints.add(root.issuer);
      // A JWK anchor was keyed by the key's thumbprint already: nothing else is taken, its 0.1 links are these.
      if (name === 'JWK') expect(root.anchor).toBeUndefined();
      else expect(root.anchor).toMatch(/^did:(jwk|key):.+#/);
      if (root.anchor !== undefined)
        expect(d.mandate!.links.filter((l) => l.issuer === root.anchor).map((l) => l.id)).toEqual(d.mandate!.links.filter((l) => l.issuer === root.issuer).map((l) => l.id));
    }
    expect([...thumbprints]).toHaveLength(1);
    expect([...thumbprints][0]).toMatch(/^urn:ietf:params:oauth:jwk-thumbprint:sha-256:/);

    // A mandate that paid under 0.1 pinned by its did:key: only the links keyed by the method id hold that payment.
    const fresh = await ap2Open(NOW, single);
    const byDidKey = anchors(fresh).find(([n]) => n === 'did:key')![1];
    const c2 = await ap2Checkout(fresh, NOW);
    const probe = await authorizeMandatePayment(
      { payment: await ap2Pay(fresh, c2.hash, AUD, NOW), checkout: c2.checkout },
      { verifier: await verifierOn(stores[0]![1]), profile: 'ap2', trust: { issuers: [byDidKey], resolver }, now: NOW },
    );
    const root = probe.mandate!.mandates[0]!;
    const legacy = probe.mandate!.links.filter((l) => l.issuer === root.anchor && !l.id.startsWith('urn:charter:checkout:'));
    expect(legacy.length).toBeGreaterThan(0);
    const old = await reserveLinks(v.store, legacy, probe.mandate!.payment!.amount, { now: NOW });
    expect(old.ok).toBe(true);
    await v.store.commitReservation(old.reservationId!);
    expect(probe.ok).toBe(true);
    expect(codes(await pay(fresh, v, byDidKey))).toEqual(['RATE_EXCEEDED']);
  });
});
