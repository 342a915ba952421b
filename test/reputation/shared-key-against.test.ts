import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { Issuer } from '../../src/credentials/types.js';
import {
  checkReputation,
  importAttestations,
  issueAttestation,
  issueReceipt,
  reputationSource,
  scoreAgent,
  scoreFromStore,
  type ReputationScore,
  type ScorePolicy,
} from '../../src/reputation/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { scoreRatings, selfParties, weightPolicy, type ScoredRating } from '../../src/reputation/scoring.js';
import { keyString } from '../../src/did/parties.js';
import { tempDir } from '../helpers.js';
import { mk, resolver, status, web } from './listed-keys-world.js';

/**
 * A rater tied to the agent's parties only by a key its own did:web
 * document shares with theirs, not the key it signed with: the operator may
 * have listed a critic's other (or rotated-in) key to silence it, or a
 * stranger may have listed the agent's key to take its score away; which,
 * cannot be told. Such ratings count only against the agent: they may lower
 * its score, never raise it, never add an attester toward minAttesters, and
 * never leave it without a score. Ratings stored before keys were noted keep
 * the old rule (dropped as self-ratings).
 */

let n = 0;
/** `rater`'s attestation of `score` for `agent`, on a receipt of an interaction of its own. */
const rate = async (agent: Issuer, rater: Issuer, score: number, dimension?: string) =>
  (
    await issueAttestation(null, rater, {
      receiptJwt: (await issueReceipt(null, agent, { counterparty: rater.did, interactionId: `against-${++n}` })).jwt,
      score,
      ...(dimension ? { dimension } : {}),
    })
  ).jwt;

async function stored(jwts: string[]) {
  const path = join(tempDir('charter-rep-against-'), 'r.db');
  const store = await openSqliteStore(path);
  const result = await importAttestations(store, jwts, { resolver, status });
  expect(result.skipped).toEqual([]);
  return { path, store };
}

/**
 * Every path: scoreAgent and scoreFromStore field for field, reputationSource (the guard's) and
 * checkReputation at minReputation 0.8 and `minAttesters`. Returns the store's score.
 */
async function paths(agent: string, jwts: string[], policy: ScorePolicy, minAttesters = 1, jwtsVerify = true) {
  const { store } = await stored(jwts);
  try {
    const f = await scoreFromStore(store, agent, policy);
    if (jwtsVerify) expect(f).toEqual(await scoreAgent(agent, jwts, policy));
    const { operator, ...noOperator } = policy;
    expect(await reputationSource(store, noOperator)(agent, operator)).toEqual({ score: f.score, attesters: f.attesters });
    if (jwtsVerify) {
      const c = await checkReputation(agent, jwts, { minReputation: 0.8, minAttesters, policy });
      expect(c.score).toBe(f.score);
      return { s: f, ok: c.ok };
    }
    return { s: f, ok: undefined };
  } finally {
    await store.close();
  }
}

const codes = (s: ReputationScore) => s.ignored.map((i) => i.code);

describe("an operator listing a did:web critic's key it did not sign with does not silence the critic", () => {
  it("the critic's low ratings still count: the agent fails minReputation as it would without the listing", async () => {
    const agent = mk();
    const [ck, other] = [mk().kp, mk().kp];
    const critic = web('critic-1.against.example', ck, [other]);
    const friend = mk();
    const jwts = [await rate(agent.key, critic, 0), await rate(agent.key, critic, 0), await rate(agent.key, friend.key, 1)];
    const trustedAttesters = [critic.did, friend.key.did];
    const honest = await paths(agent.key.did, jwts, { resolver, status, operator: web('op-1a.against.example', mk().kp).did, trustedAttesters });
    expect(honest.s).toMatchObject({ score: 0.5, attesters: 2 });
    const op = web('op-1b.against.example', mk().kp, [other]);
    const { s, ok } = await paths(agent.key.did, jwts, { resolver, status, operator: op.did, trustedAttesters });
    expect(s).toMatchObject({ score: 0.5, attesters: 1, counted: 3, ignored: [] });
    expect(s.countedAgainst).toHaveLength(2);
    expect(s.attestations.map((a) => a.attester).sort()).toEqual([critic.did, critic.did, friend.key.did].sort());
    expect(ok).toBe(false);
  });

  it("the critic's key rotated in after its ratings were stored, listed by the operator: still counted", async () => {
    const agent = mk();
    const [old, fresh] = [mk().kp, mk().kp];
    const critic = web('critic-2.against.example', old);
    const friend = mk();
    const jwts = [await rate(agent.key, critic, 0), await rate(agent.key, friend.key, 1)];
    const { store } = await stored(jwts);
    // The critic rotates to a new key; the operator lists it.
    web('critic-2.against.example', fresh);
    const op = web('op-2.against.example', mk().kp, [fresh]);
    const policy: ScorePolicy = { resolver, status, operator: op.did, trustedAttesters: [critic.did, friend.key.did] };
    const s = await scoreFromStore(store, agent.key.did, policy);
    expect(s).toMatchObject({ score: 0.5, attesters: 1, counted: 2 });
    expect(await reputationSource(store, { resolver, status, trustedAttesters: [critic.did, friend.key.did] })(agent.key.did, op.did)).toEqual({
      score: 0.5,
      attesters: 1,
    });
    await store.close();
  });

  it("a critic's high ratings under the same tie do not raise the score", async () => {
    const agent = mk();
    const [ck, other] = [mk().kp, mk().kp];
    const fan = web('fan-3.against.example', ck, [other]);
    const friend = mk();
    const op = web('op-3.against.example', mk().kp, [other]);
    const jwts = [await rate(agent.key, fan, 1), await rate(agent.key, fan, 1), await rate(agent.key, friend.key, 0.2)];
    const { s, ok } = await paths(agent.key.did, jwts, { resolver, status, operator: op.did, trustedAttesters: [fan.did, friend.key.did] });
    expect(s).toMatchObject({ score: 0.2, attesters: 1, counted: 1 });
    expect(s.countedAgainst).toBeUndefined();
    expect(codes(s)).toEqual(['SELF_ATTESTATION', 'SELF_ATTESTATION']);
    expect(s.ignored[0]!.message).toMatch(/counted only against the agent/);
    expect(ok).toBe(false);
  });

  it('per dimension: counted where they lower the score, not where they would raise it', async () => {
    const agent = mk();
    const [ck, other] = [mk().kp, mk().kp];
    const critic = web('critic-4.against.example', ck, [other]);
    const friend = mk();
    const op = web('op-4.against.example', mk().kp, [other]);
    const jwts = [
      await rate(agent.key, friend.key, 1, 'delivery'),
      await rate(agent.key, friend.key, 0.2, 'accuracy'),
      await rate(agent.key, critic, 0, 'delivery'),
      await rate(agent.key, critic, 1, 'accuracy'),
    ];
    const { s } = await paths(agent.key.did, jwts, { resolver, status, operator: op.did, trustedAttesters: [critic.did, friend.key.did] });
    // Overall: the friend's 0.6 alone, 0.55 with the critic's mean 0.5: lowered, so counted.
    expect(s.score).toBeCloseTo(0.55, 10);
    expect(s.attesters).toBe(1);
    expect(s.byDimension.delivery).toEqual({ score: 0.5, counted: 2 });
    expect(s.byDimension.accuracy).toEqual({ score: 0.2, counted: 1 });
  });

  it('minAttesters is not met through such raters, however high they rate', async () => {
    const agent = mk();
    const [ck, other] = [mk().kp, mk().kp];
    const critic = web('critic-5.against.example', ck, [other]);
    const friend = mk();
    const op = web('op-5.against.example', mk().kp, [other]);
    const jwts = [await rate(agent.key, critic, 0.9), await rate(agent.key, friend.key, 1)];
    const { s, ok } = await paths(agent.key.did, jwts, { resolver, status, operator: op.did, trustedAttesters: [critic.did, friend.key.did] }, 2);
    expect(s).toMatchObject({ attesters: 1 });
    expect(s.score).toBeCloseTo(0.95, 10);
    expect(ok).toBe(false);
  });
});

describe("a stranger listing the agent's key in its own did:web document", () => {
  it('its low rating counts like any rater’s, and the agent keeps a score', async () => {
    const akp = mk().kp;
    const agent = web('agent-6.against.example', akp);
    const stranger = web('stranger-6.against.example', mk().kp, [akp]);
    const friend = mk();
    const jwts = [await rate(agent, stranger, 0), await rate(agent, friend.key, 1)];
    const { s, ok } = await paths(agent.did, jwts, { resolver, status, operator: mk().key.did, trustedAttesters: [stranger.did, friend.key.did] });
    expect(s).toMatchObject({ score: 0.5, attesters: 1, counted: 2 });
    expect(ok).toBe(false);
  });

  it('its high rating does not raise the score', async () => {
    const akp = mk().kp;
    const agent = web('agent-7.against.example', akp);
    const stranger = web('stranger-7.against.example', mk().kp, [akp]);
    const friend = mk();
    const jwts = [await rate(agent, stranger, 1), await rate(agent, friend.key, 0.4)];
    const { s } = await paths(agent.did, jwts, { resolver, status, operator: mk().key.did, trustedAttesters: [stranger.did, friend.key.did] });
    expect(s).toMatchObject({ score: 0.4, attesters: 1, counted: 1 });
    expect(codes(s)).toEqual(['SELF_ATTESTATION']);
  });

  it('never takes the score away: alone it gives none, beside another rater it only lowers', async () => {
    const opKp = mk().kp;
    const op = web('op-8.against.example', opKp);
    const agent = mk();
    const stranger = web('stranger-8.against.example', mk().kp, [opKp]);
    const friend = mk();
    const alone = await paths(agent.key.did, [await rate(agent.key, stranger, 0)], { resolver, status, operator: op.did, trustedAttesters: [stranger.did] });
    expect(alone.s).toMatchObject({ score: null, attesters: 0, counted: 0 });
    // Weighed as a stranger (unknownAttesterWeight) beside a trusted friend: lowers, never removes.
    const jwts = [await rate(agent.key, stranger, 0), await rate(agent.key, stranger, 0.1), await rate(agent.key, friend.key, 1)];
    const { s } = await paths(agent.key.did, jwts, { resolver, status, operator: op.did, trustedAttesters: [friend.key.did], unknownAttesterWeight: 0.5 });
    expect(s.score).not.toBeNull();
    expect(s.score!).toBeLessThan(1);
    expect(s.attesters).toBe(1);
  });
});

describe('ratings stored before their key was noted keep the old rule', () => {
  it('a NULL key: the shared-key rater is dropped as the agent’s own, as before', async () => {
    const agent = mk();
    const [ck, other] = [mk().kp, mk().kp];
    const critic = web('critic-9.against.example', ck, [other]);
    const friend = mk();
    const op = web('op-9.against.example', mk().kp, [other]);
    const jwts = [await rate(agent.key, critic, 0), await rate(agent.key, friend.key, 1)];
    const { path, store } = await stored(jwts);
    await store.close();
    const db = new Database(path);
    db.prepare('UPDATE ratings SET signed_with = NULL').run();
    db.close();
    const again = await openSqliteStore(path);
    const policy: ScorePolicy = { resolver, status, operator: op.did, trustedAttesters: [critic.did, friend.key.did] };
    const s = await scoreFromStore(again, agent.key.did, policy);
    expect(s).toMatchObject({ score: 1, attesters: 1, counted: 1 });
    expect(s.countedAgainst).toBeUndefined();
    expect(s.ignored.map((i) => [i.code, i.message])).toEqual([['SELF_ATTESTATION', 'the agent and its operator cannot rate the agent']]);
    await again.close();
  });
});

describe('a rating counted only against the agent is told from others by more than its id', () => {
  it("a stranger's rating reusing a trusted rater's id does not take that rater's rating out of the score", async () => {
    const akp = mk().kp;
    const agent = web('agent-10.against.example', akp);
    const skp = mk().kp;
    const stranger = web('stranger-10.against.example', skp, [akp]);
    const friend = mk();
    const at = Date.now() - 1000;
    const ratings: ScoredRating[] = [
      { id: 'urn:uuid:same', attester: friend.key.did, receipt: 'urn:r:1', score: 1, issuedAt: at, signedWith: keyString(friend.kp.publicJwk) },
      { id: 'urn:uuid:same', attester: stranger.did, receipt: 'urn:r:2', score: 1, issuedAt: at, signedWith: keyString(skp.publicJwk) },
    ];
    const policy: ScorePolicy = { resolver, status, trustedAttesters: [friend.key.did, stranger.did] };
    const self = await selfParties(policy, agent.did, []);
    const s = await scoreRatings(agent.did, ratings, [], 2, { policy, weights: await weightPolicy(policy, Date.now(), self), self, detail: true });
    expect(s).toMatchObject({ score: 1, attesters: 1, counted: 1 });
    expect(s.attestations.map((a) => a.attester)).toEqual([friend.key.did]);
    expect(codes(s)).toEqual(['SELF_ATTESTATION']);
  });
});
