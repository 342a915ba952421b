import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCredential } from '../../src/credentials/index.js';
import { checkReputation, importAttestations, reputationSource, scoreAgent, scoreFromStore, type ScorePolicy } from '../../src/reputation/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { tempDir } from '../helpers.js';
import { mk, rate, resolver, status, web } from './listed-keys-world.js';

/**
 * The other direction of listed-key-silencing: a stranger's own did:web
 * document may list the agent's or its operator's public key (anyone can
 * list anyone's key). Who listed the shared key cannot be told (the operator
 * may as well have listed a critic's other key: shared-key-against), so the
 * stranger's ratings count only against the agent: its low ratings lower the
 * score as any rater's would, adding no attester. A stranger that can rate
 * (any customer holding a receipt, once it weighs anything) must never be
 * able to leave an honest agent without a score.
 */

let store: Store;
beforeAll(async () => {
  store = await openSqliteStore(join(tempDir('charter-rep-stranger-'), 'r.db'));
});
afterAll(async () => {
  await store.close();
});

/** Every scoring path: the friend's 1 and the stranger's two 0s count (`score`), the friend alone as an attester; the agent fails minReputation 0.8. */
async function expectStrangerLowers(agent: string, jwts: string[], policy: ScorePolicy, score: number) {
  await importAttestations(store, jwts, { resolver, status });
  const a = await scoreAgent(agent, jwts, policy);
  const f = await scoreFromStore(store, agent, policy);
  const c = await checkReputation(agent, jwts, { minReputation: 0.8, minAttesters: 1, policy });
  const { operator, ...noOperator } = policy;
  const r = await reputationSource(store, noOperator)(agent, operator);
  for (const s of [a, f]) {
    expect(s).toMatchObject({ attesters: 1, counted: 3, ignored: [] });
    expect(s.score).toBeCloseTo(score, 10);
    expect(s.countedAgainst).toHaveLength(2);
  }
  expect(c.ok).toBe(false);
  expect(r).toEqual({ score: a.score, attesters: 1 });
  return { a, f };
}

/** Every scoring path: the friend's 1 counts, the critic's two 0s do not, and the agent passes minReputation 0.8. */
async function expectFriendCounts(agent: string, jwts: string[], policy: ScorePolicy) {
  await importAttestations(store, jwts, { resolver, status });
  const a = await scoreAgent(agent, jwts, policy);
  const f = await scoreFromStore(store, agent, policy);
  const c = await checkReputation(agent, jwts, { minReputation: 0.8, minAttesters: 1, policy });
  const { operator, ...noOperator } = policy;
  const r = await reputationSource(store, noOperator)(agent, operator);
  for (const s of [a, f]) expect(s).toMatchObject({ score: 1, attesters: 1 });
  expect(c.ok).toBe(true);
  expect(r).toEqual({ score: 1, attesters: 1 });
}

describe("a stranger's document listing the agent's or operator's key lowers the agent's score at most, never takes it", () => {
  it("a trusted did:web customer listing the did:web agent's key", async () => {
    const agentKp = mk().kp;
    const agent = web('agent-s1.stranger.example', agentKp);
    const stranger = web('stranger-s1.stranger.example', mk().kp, [agentKp]);
    const friend = mk();
    const jwts = [await rate(agent, stranger, 0), await rate(agent, stranger, 0), await rate(agent, friend.key, 1)];
    // Kept at import (no longer refused as the agent rating itself), and counted against the agent when scored.
    const imported = await importAttestations(store, jwts, { resolver, status });
    expect(imported.skipped).toEqual([]);
    await expectStrangerLowers(agent.did, jwts, { resolver, status, operator: mk().key.did, trustedAttesters: [stranger.did, friend.key.did] }, 0.5);
  });

  it("a did:web customer listing the did:web operator's key, weighed by unknownAttesterWeight", async () => {
    const agent = mk();
    const opKp = mk().kp;
    const op = web('op-s2.stranger.example', opKp);
    const stranger = web('stranger-s2.stranger.example', mk().kp, [opKp]);
    const friend = mk();
    const jwts = [await rate(agent.key, stranger, 0), await rate(agent.key, stranger, 0), await rate(agent.key, friend.key, 1)];
    // The friend weighs 1, the strangers' pool 0.5: (1 + 0.5 × 0) / 1.5.
    await expectStrangerLowers(agent.key.did, jwts, { resolver, status, operator: op.did, trustedAttesters: [friend.key.did], unknownAttesterWeight: 0.5 }, 2 / 3);
  });

  it("a stranger listing the operator's key for authentication only", async () => {
    const agent = mk();
    const opKp = mk().kp;
    const op = web('op-s3.stranger.example', opKp);
    const stranger = web('stranger-s3.stranger.example', mk().kp, [opKp], ['authentication']);
    const friend = mk();
    const jwts = [await rate(agent.key, stranger, 0), await rate(agent.key, stranger, 0), await rate(agent.key, friend.key, 1)];
    await expectStrangerLowers(agent.key.did, jwts, { resolver, status, operator: op.did, trustedAttesters: [stranger.did, friend.key.did] }, 0.5);
  });

  it("an identity issuer whose document lists the operator's key vouches for a critic: the vouch is void, the agent keeps its score", async () => {
    const agent = mk();
    const opKp = mk().kp;
    const op = web('op-s4.stranger.example', opKp);
    const registry = web('registry-s4.stranger.example', mk().kp, [opKp]);
    const critic = mk();
    const friend = mk();
    const vouch = (await issueCredential({ issuer: registry, subject: critic.key.did, type: 'OrganizationCredential', claims: { name: 'critic' } })).jwt;
    const jwts = [await rate(agent.key, critic.key, 0), await rate(agent.key, critic.key, 0), await rate(agent.key, friend.key, 1)];
    await expectFriendCounts(agent.key.did, jwts, {
      resolver,
      status,
      operator: op.did,
      trustedAttesters: [friend.key.did],
      trustedIdentityIssuers: [registry.did],
      attesterCredentials: [vouch],
    });
  });
});
