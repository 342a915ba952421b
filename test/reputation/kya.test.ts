import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueAttestation, issueReceipt, scoreAgent, type ScorePolicy } from '../../src/reputation/index.js';
import { openWorld, type World } from '../agents/fixture.js';
import { attempt, buildChain, codes } from '../agents/setup.js';

describe('verifyAgent with trust.minReputation', () => {
  let w: World;
  beforeAll(async () => {
    w = await openWorld();
  });
  afterAll(async () => {
    await w.close();
  });

  it('refuses below the threshold, allows above it, and reports the reputation', async () => {
    const chain = await buildChain(w, 1);
    const agent = chain.agents[0]!;
    const shop = w.issuer('rep-shop');
    const receipt = await issueReceipt(null, agent, { counterparty: shop.did, interactionId: 'o-1' });
    const attestation = await issueAttestation(null, shop, { receiptJwt: receipt.jwt, score: 0.9 });
    const fake = await issueAttestation(null, chain.operator, {
      receiptJwt: (await issueReceipt(null, agent, { counterparty: chain.operator.did, interactionId: 'o-2' })).jwt,
      score: 1,
    });
    const policy: ScorePolicy = { resolver: w.resolver, status: w.status(), trustedAttesters: [shop.did, chain.operator.did] };
    const reputation = (a: string, operator: string | undefined) => scoreAgent(a, [attestation.jwt, fake.jwt], { ...policy, ...(operator ? { operator } : {}) });
    const ok = await attempt(w, {
      agent,
      identity: chain.identity,
      chain: chain.mandates.map((m) => m.jwt),
      options: { reputation, trust: { anyPrincipal: true, identityIssuers: [chain.operator.did], minReputation: 0.8 } },
    });
    expect(codes(ok)).toEqual([]);
    expect(ok.reputation).toMatchObject({ score: 0.9, attesters: 1 });
    expect((ok.reputation as unknown as { ignored: { code: string }[] }).ignored.map((i) => i.code)).toEqual(['SELF_ATTESTATION']);
    const low = await attempt(w, {
      agent,
      identity: chain.identity,
      chain: chain.mandates.map((m) => m.jwt),
      options: { reputation, trust: { anyPrincipal: true, identityIssuers: [chain.operator.did], minReputation: 0.95 } },
    });
    expect(codes(low)).toEqual(['REPUTATION_TOO_LOW']);
    const few = await attempt(w, {
      agent,
      identity: chain.identity,
      chain: chain.mandates.map((m) => m.jwt),
      options: { reputation, trust: { anyPrincipal: true, identityIssuers: [chain.operator.did], minReputation: 0.5, minAttesters: 2 } },
    });
    expect(codes(few)).toEqual(['REPUTATION_TOO_LOW']);
  });
});
