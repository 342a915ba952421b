import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAgentIdentity } from '../../src/agents/index.js';
import { issueAttestation, issueReceipt, importAttestations, reputationSource } from '../../src/reputation/index.js';
import { requireAgent } from '../../src/http/adapters/express.js';
import { openWorld, type World } from '../agents/fixture.js';
import { attempt, buildChain, codes } from '../agents/setup.js';

/**
 * The operator rule ("the agent and its operator cannot rate the agent")
 * knows the operator only from the identity credential the agent shows. An
 * agent whose real operator is a trusted attester and rated it 1.0 showed an
 * identity credential from a throwaway key instead, and the operator's
 * rating counted as a third party's. A reputation rule now needs the
 * operators the verifier trusts (`trust.identityIssuers`), everywhere trust
 * is given; with them, the swap is refused.
 */
let w: World;
beforeAll(async () => {
  w = await openWorld();
});
afterAll(async () => {
  await w.close();
});

describe('a reputation rule needs pinned operators', () => {
  it('minReputation without identityIssuers (absent or empty) is a TypeError in verifyAgent and requireAgent', async () => {
    const chain = await buildChain(w, 1);
    const agent = chain.agents[0]!;
    const reputation = async () => ({ score: 1, attesters: 5 });
    for (const trust of [
      { anyPrincipal: true, minReputation: 0.5 },
      { anyPrincipal: true, minReputation: 0, identityIssuers: [] },
      { anyPrincipal: true, minReputation: 0.5, minAttesters: 3 },
    ]) {
      await expect(attempt(w, { agent, identity: chain.identity, chain: chain.mandates.map((m) => m.jwt), options: { reputation, trust } })).rejects.toThrow(/identityIssuers/);
      expect(() => requireAgent({ action: 'pay:card', trust, reputation })).toThrow(/identityIssuers/);
    }
    // Without a reputation rule, identityIssuers stays optional.
    expect(() => requireAgent({ action: 'pay:card', trust: { anyPrincipal: true } })).not.toThrow();
  });

  it("an agent hiding its real operator behind an identity from a key of its own is refused; the operator's own rating never counts", async () => {
    const chain = await buildChain(w, 1);
    const agent = chain.agents[0]!;
    const operator = chain.operator;
    const shop = w.issuer('pinned-shop');
    const jwts: string[] = [];
    for (const [who, score, id] of [
      [operator, 1, 'by-operator'],
      [shop, 0.2, 'by-shop'],
    ] as const) {
      const r = await issueReceipt(null, agent, { counterparty: who.did, interactionId: id });
      jwts.push((await issueAttestation(null, who, { receiptJwt: r.jwt, score })).jwt);
    }
    await importAttestations(w.store, jwts, { resolver: w.resolver, status: w.status() });
    const reputation = reputationSource(w.store, { resolver: w.resolver, status: w.status(), trustedAttesters: [operator.did, shop.did] });
    const trust = { anyPrincipal: true, identityIssuers: [operator.did], minReputation: 0.5 };
    const base = { agent, chain: chain.mandates.map((m) => m.jwt), options: { reputation, trust } };
    const honest = await attempt(w, { ...base, identity: chain.identity });
    expect(codes(honest)).toEqual(['REPUTATION_TOO_LOW']);
    expect(honest.reputation).toEqual({ score: 0.2, attesters: 1 });
    const throwaway = w.issuer('pinned-throwaway');
    const swapped = await issueAgentIdentity(null, throwaway, { agent: agent.did, name: 'shopper', software: { name: 'bot', version: '1.0.0' } });
    const d = await attempt(w, { ...base, identity: swapped.jwt });
    expect(d.ok).toBe(false);
    expect(d.reputation).toBeUndefined();
    expect(codes(d)).not.toContain('REPUTATION_TOO_LOW');
    expect(codes(d).length).toBeGreaterThan(0);
  });
});
