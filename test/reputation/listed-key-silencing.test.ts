import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueCredential } from '../../src/credentials/index.js';
import { checkReputation, importAttestations, reputationSource, scoreAgent, scoreFromStore, type ScorePolicy } from '../../src/reputation/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { tempDir } from '../helpers.js';
import { mk, rate, resolver, status, web } from './listed-keys-world.js';

/**
 * Anyone can list anyone's public key in a DID document (a did:key is its
 * key). An agent whose own (or whose operator's) did:web document lists a
 * trusted critic's key must not have that critic's ratings dropped as its
 * own and pass a reputation rule on the ratings left: the tie cannot be told
 * from the operator rating under another name, so no rating of that agent
 * counts (score null, SELF_ATTESTATION). Only the agent's or the operator's
 * own document can do that to it.
 */

let store: Store;
beforeAll(async () => {
  store = await openSqliteStore(join(tempDir('charter-rep-listed-'), 'r.db'));
});
afterAll(async () => {
  await store.close();
});

/** Every scoring path, for an agent whose critic rated 0 twice and whose friend rated 1. */
async function paths(agent: string, jwts: string[], policy: ScorePolicy) {
  const imported = await importAttestations(store, jwts, { resolver, status });
  const a = await scoreAgent(agent, jwts, policy);
  const c = await checkReputation(agent, jwts, { minReputation: 0.8, minAttesters: 1, policy });
  const f = await scoreFromStore(store, agent, policy);
  const { operator, ...noOperator } = policy;
  const r = await reputationSource(store, noOperator)(agent, operator);
  return { imported, a, c, f, r };
}

async function expectNoScore(agent: string, jwts: string[], policy: ScorePolicy) {
  const { imported, a, c, f, r } = await paths(agent, jwts, policy);
  // The critic's ratings are kept (not refused as the agent's own at import)...
  expect(imported.skipped).toEqual([]);
  expect(imported.imported).toHaveLength(3);
  // ...and no rating of this agent counts: the friend's 1 alone would pass minReputation 0.8.
  for (const s of [a, f]) {
    expect(s).toMatchObject({ score: null, attesters: 0, counted: 0 });
    expect(s.ignored.map((i) => i.code)).toEqual(['SELF_ATTESTATION', 'SELF_ATTESTATION', 'SELF_ATTESTATION']);
  }
  expect(c.ok).toBe(false);
  expect(c.reasons.map((x) => x.code)).toEqual(['REPUTATION_TOO_LOW']);
  expect(r).toEqual({ score: null, attesters: 0 });
}

describe("an agent's or operator's document listing a trusted critic's key does not drop the critic's ratings", () => {
  it('a did:web operator listing a did:key critic', async () => {
    const agent = mk();
    const critic = mk();
    const friend = mk();
    const op = web('op-1.listed.example', mk().kp, [critic.kp]);
    const jwts = [await rate(agent.key, critic.key, 0), await rate(agent.key, critic.key, 0), await rate(agent.key, friend.key, 1)];
    await expectNoScore(agent.key.did, jwts, { resolver, status, operator: op.did, trustedAttesters: [critic.key.did, friend.key.did] });
  });

  it('a did:web operator listing a did:jwk critic', async () => {
    const agent = mk();
    const critic = mk();
    const friend = mk();
    const op = web('op-2.listed.example', mk().kp, [critic.kp]);
    const jwts = [await rate(agent.key, critic.jwk, 0), await rate(agent.key, critic.jwk, 0), await rate(agent.key, friend.key, 1)];
    await expectNoScore(agent.key.did, jwts, { resolver, status, operator: op.did, trustedAttesters: [critic.jwk.did, friend.key.did] });
  });

  it('a did:web agent listing its critic (refused at import before, as "the agent rating itself")', async () => {
    const critic = mk();
    const friend = mk();
    const agent = web('agent-3.listed.example', mk().kp, [critic.kp]);
    const jwts = [await rate(agent, critic.key, 0), await rate(agent, critic.key, 0), await rate(agent, friend.key, 1)];
    await expectNoScore(agent.did, jwts, { resolver, status, operator: mk().key.did, trustedAttesters: [critic.key.did, friend.key.did] });
  });

  it('a did:web critic whose own signing key the did:web operator lists too: the key it signed with says the tie is the operator’s doing', async () => {
    const agent = mk();
    const criticKp = mk().kp;
    const critic = web('critic-4.listed.example', criticKp);
    const friend = mk();
    const op = web('op-4.listed.example', mk().kp, [criticKp]);
    const jwts = [await rate(agent.key, critic, 0), await rate(agent.key, critic, 0), await rate(agent.key, friend.key, 1)];
    await expectNoScore(agent.key.did, jwts, { resolver, status, operator: op.did, trustedAttesters: [critic.did, friend.key.did] });
  });

  it('a did:web operator listing the key of the only identity issuer vouching for the critic', async () => {
    const agent = mk();
    const registry = mk();
    const critic = mk();
    const friend = mk();
    const op = web('op-5.listed.example', mk().kp, [registry.kp]);
    const vouch = (await issueCredential({ issuer: registry.key, subject: critic.key.did, type: 'OrganizationCredential', claims: { name: 'critic' } })).jwt;
    const jwts = [await rate(agent.key, critic.key, 0), await rate(agent.key, critic.key, 0), await rate(agent.key, friend.key, 1)];
    await expectNoScore(agent.key.did, jwts, {
      resolver,
      status,
      operator: op.did,
      trustedAttesters: [friend.key.did],
      trustedIdentityIssuers: [registry.key.did],
      attesterCredentials: [vouch],
    });
  });
});
