import { describe, expect, it } from 'vitest';
import { createResolver, didKeyRef } from '../../src/did/index.js';
import { verifyMandateChain, type MandateDecision, type TrustAnchor } from '../../src/mandates/index.js';
import { renderMandateDecision } from '../../src/cli/mandate.js';
import { ap2Checkout, ap2Open, ap2Pay } from '../guard/mandate-build.js';

/*
 * `charter mandate verify` lists a chain's ledger links for a person to read. An AP2 root pinned by a DID is
 * charged under its key and under the method id 0.1 keyed it by (the same ids and limits under a second
 * issuer): the list shows each link once and says the second key counts too, never the same id twice as if
 * it were two limits. The decision itself (--json, the guard) keeps both.
 */
const NOW = new Date(Math.floor(Date.now() / 1000) * 1000);
const AUD = 'https://psp.example';
const resolver = createResolver();
const payments = (r: string) => [
  { type: 'payment.reference', conditional_transaction_id: r },
  { type: 'payment.amount_range', currency: 'USD', max: 20000 },
  { type: 'payment.budget', currency: 'USD', max: 300 },
  { type: 'payment.agent_recurrence', frequency: 'WEEKLY', max_occurrences: 3 },
];

async function verified(pin: (jwk: object) => TrustAnchor): Promise<MandateDecision> {
  const w = await ap2Open(NOW, payments);
  const c = await ap2Checkout(w, NOW);
  const payment = await ap2Pay(w, c.hash, AUD, NOW);
  const d = await verifyMandateChain(
    { payment, checkout: c.checkout },
    { profile: 'ap2', trust: { issuers: [pin(w.root.publicJwk)], resolver }, now: NOW, paymentAud: AUD, checkoutAud: 'merchant', allowMissingNonce: true },
  );
  expect(d.reasons).toEqual([]);
  return d;
}
const linkLines = (text: string) => text.slice(text.indexOf('ledger links')).split('\n').slice(1);
const idOf = (line: string) => line.replace(/^\S+ /, '').split(': ')[0]!;

describe('mandate verify lists an AP2 root pinned by a DID once per link', () => {
  it.each([
    ['did:jwk', (jwk: object) => didKeyRef('jwk', jwk as never).did],
    ['did:key', (jwk: object) => didKeyRef('key', jwk as never).did],
  ] as const)('%s: each link id once, the 0.1 key named beside it; the decision keeps both', async (_n, pin) => {
    const d = await verified(pin);
    const anchor = d.mandates.find((m) => m.kind === 'payment')!.anchor!;
    expect(anchor).toMatch(/^did:(jwk|key):.+#/);
    // The ledger still takes both issuers' links (one spend counts under each).
    const root = d.mandates.find((m) => m.kind === 'payment')!;
    expect(d.links.filter((l) => l.issuer === anchor).map((l) => l.id)).toEqual(d.links.filter((l) => l.issuer === root.issuer).map((l) => l.id));
    const lines = linkLines(renderMandateDecision(d));
    const ids = lines.map(idOf);
    expect(new Set(ids).size).toBe(ids.length);
    expect(ids).toEqual(expect.arrayContaining([root.id, `${root.id}#uses`, `${root.id}#frequency`]));
    // Every line of the root's links names the second key, and only those.
    for (const line of lines) expect([idOf(line), line.includes(`counted under ${anchor} too`)]).toEqual([idOf(line), idOf(line).startsWith(root.id)]);
  });

  it('a JWK pin: the same lines, with no second key', async () => {
    const byJwk = await verified((jwk) => jwk as TrustAnchor);
    const byDid = await verified((jwk) => didKeyRef('jwk', jwk as never).did);
    const a = linkLines(renderMandateDecision(byJwk));
    const b = linkLines(renderMandateDecision(byDid));
    expect(a.join('\n')).not.toMatch(/counted under/);
    expect(b.length).toBe(a.length);
    expect(byDid.links.length).toBe(byJwk.links.length + 3);
  });
});
