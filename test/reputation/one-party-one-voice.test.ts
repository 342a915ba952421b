import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import { createDidWeb, didKeyRef, documentResolver, resolveDidJwk, resolveDidKey } from '../../src/did/index.js';
import type { DIDDocument } from '../../src/did/types.js';
import type { Issuer } from '../../src/credentials/types.js';
import { aggregate, MIN_DECAY } from '../../src/reputation/aggregate.js';
import { checkReputation, importAttestations, issueAttestation, issueReceipt, reputationSource, scoreAgent, scoreFromStore, type ScorePolicy } from '../../src/reputation/index.js';
import { reputationReasons } from '../../src/agents/thresholds.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { createStatusChecker } from '../../src/status/index.js';
import { tempDir } from '../helpers.js';

/**
 * Three ways a threshold passed on evidence that should not count: one key
 * holder counted as several attesters (a did:key, a did:jwk and a did:web of
 * one key); ratings decayed to nothing still counting as a full attester, and
 * a lone one deciding the score; and a reputation source answering NaN or
 * leaving fields out, which compares false with every threshold.
 */
const mk = () => {
  const kp = generateKeyPair('Ed25519');
  const as = (method: 'key' | 'jwk'): Issuer => ({ ...didKeyRef(method, kp.publicJwk), signer: createSigner(kp.privateJwk) });
  return { kp, key: as('key'), jwk: as('jwk') };
};
const docs = new Map<string, DIDDocument>();
const resolver = documentResolver(async (did) => {
  const d = docs.get(did);
  if (d) return d;
  if (did.startsWith('did:key:')) return resolveDidKey(did);
  if (did.startsWith('did:jwk:')) return resolveDidJwk(did);
  throw Object.assign(new Error(`no document for ${did}`), { code: 'DID_RESOLUTION_FAILED' });
});
const status = createStatusChecker({ resolver, allowLoopback: true, allowHttp: true });
function web(domain: string, kp: ReturnType<typeof mk>['kp']): Issuer {
  const w = createDidWeb({ domain, publicJwk: kp.publicJwk });
  docs.set(w.did, w.document as DIDDocument);
  return { did: w.did, kid: w.kid, keyType: 'Ed25519', publicJwk: kp.publicJwk, signer: createSigner(kp.privateJwk) } as Issuer;
}
let n = 0;
const rate = async (agent: Issuer, rater: Issuer, score = 1) =>
  (await issueAttestation(null, rater, { receiptJwt: (await issueReceipt(null, agent, { counterparty: rater.did, interactionId: `i-${++n}` })).jwt, score })).jwt;

let store: Store;
beforeAll(async () => {
  store = await openSqliteStore(join(tempDir('charter-rep-voice-'), 'r.db'));
});
afterAll(async () => {
  await store.close();
});

/** Every scoring path: scoreAgent, checkReputation, scoreFromStore, reputationSource. */
async function everyPath(agent: string, jwts: string[], policy: ScorePolicy, minAttesters: number) {
  await importAttestations(store, jwts, { resolver, status });
  return {
    a: await scoreAgent(agent, jwts, policy),
    c: await checkReputation(agent, jwts, { minReputation: 0.5, minAttesters, policy }),
    f: await scoreFromStore(store, agent, policy),
    r: await reputationSource(store, policy)(agent, undefined),
  };
}

describe('one key holder is one attester', () => {
  it.each([
    ['did:key and did:jwk', (p: ReturnType<typeof mk>) => [p.key, p.jwk]],
    ['did:key and a did:web listing its key', (p: ReturnType<typeof mk>) => [p.key, web(`a${++n}.example`, p.kp)]],
    ['two did:webs listing one key', (p: ReturnType<typeof mk>) => [web(`b${++n}.example`, p.kp), web(`c${++n}.example`, p.kp)]],
    ['all three names', (p: ReturnType<typeof mk>) => [p.key, p.jwk, web(`d${++n}.example`, p.kp)]],
  ])('%s: counts once toward minAttesters, in every path', async (_label, names) => {
    const agent = mk().key;
    const one = names(mk());
    const jwts = await Promise.all(one.map((f) => rate(agent, f)));
    const policy: ScorePolicy = { resolver, status, trustedAttesters: one.map((f) => f.did) };
    const { a, c, f, r } = await everyPath(agent.did, jwts, policy, 2);
    expect([a.attesters, f.attesters, r.attesters]).toEqual([1, 1, 1]);
    expect(c.ok).toBe(false);
    expect(c.reasons.map((x) => x.code)).toEqual(['REPUTATION_TOO_LOW']);
    // A second, distinct party makes two.
    const other = mk().key;
    const more = [...jwts, await rate(agent, other)];
    const two = await everyPath(agent.did, more, { ...policy, trustedAttesters: [...policy.trustedAttesters!, other.did] }, 2);
    expect([two.a.attesters, two.f.attesters, two.r.attesters, two.c.ok]).toEqual([2, 2, 2, true]);
  });

  it('its names pool as one voice: three 1.0 ratings under three names against one 0.0 of another party average 0.5, not 0.75', async () => {
    const agent = mk().key;
    const p = mk();
    const names = [p.key, p.jwk, web(`e${++n}.example`, p.kp)];
    const critic = mk().key;
    const jwts = [...(await Promise.all(names.map((f) => rate(agent, f, 1)))), await rate(agent, critic, 0)];
    const s = await scoreAgent(agent.did, jwts, { resolver, status, trustedAttesters: [...names.map((f) => f.did), critic.did] });
    expect([s.score, s.attesters]).toEqual([0.5, 2]);
  });

  it('a party weighs what its most trusted name does, whichever name it rates under first', () => {
    const p = mk();
    const now = Date.now();
    const ratings = [
      { id: '1', attester: p.jwk.did, agent: 'did:x', receipt: 'r1', score: 0, issuedAt: now - 2000 },
      { id: '2', attester: p.key.did, agent: 'did:x', receipt: 'r2', score: 0, issuedAt: now - 1000 },
      { id: '3', attester: 'did:key:z6MkOther', agent: 'did:x', receipt: 'r3', score: 1, issuedAt: now - 1000 },
    ];
    const weights = { now, attesterWeight: (d: string) => (d === p.key.did ? 1 : d === 'did:key:z6MkOther' ? 1 : 0), trusted: (d: string) => d !== p.jwk.did };
    const s = aggregate(ratings, weights);
    expect([s.score, s.attesters]).toEqual([0.5, 2]);
  });
});

describe('decay', () => {
  const DAY = 86_400_000;
  const half = 90 * 86_400;
  const now = Date.UTC(2026, 11, 4);
  const rating = (attester: string, ageDays: number, score = 1) => ({
    id: attester + ageDays,
    attester,
    agent: 'did:x',
    receipt: `r-${attester}-${ageDays}`,
    score,
    issuedAt: now - ageDays * DAY,
  });
  const weights = { now, halfLifeSeconds: half, attesterWeight: () => 1 };

  it('a rating older than four half-lives no longer counts: not toward minAttesters, not in the score', () => {
    const s = aggregate([rating('did:key:zA', 3650), rating('did:key:zB', 1, 0.7)], weights);
    expect([s.score, s.attesters]).toEqual([0.7, 1]);
    expect(aggregate([rating('did:key:zA', 3650)], weights)).toMatchObject({ score: null, attesters: 0 });
    // The edge: just inside four half-lives counts, just outside does not.
    expect(aggregate([rating('did:key:zA', 359)], weights).attesters).toBe(1);
    expect(aggregate([rating('did:key:zA', 361)], weights).attesters).toBe(0);
    expect(MIN_DECAY).toBe(1 / 16);
  });

  it('an attester counts while any of its ratings is fresh enough; its ancient ones do not dilute the fresh', () => {
    const s = aggregate([rating('did:key:zA', 3650, 0), rating('did:key:zA', 10, 1)], weights);
    expect([s.score, s.attesters]).toEqual([1, 1]);
  });

  it('without a half-life nothing decays', () => {
    expect(aggregate([rating('did:key:zA', 3650)], { now, attesterWeight: () => 1 })).toMatchObject({ score: 1, attesters: 1 });
  });
});

describe('a reputation source of your own is read strictly', () => {
  it.each([
    [{ score: Number.NaN, attesters: 5 }],
    [{ score: 0.9, attesters: Number.NaN }],
    [{ score: undefined, attesters: 3 }],
    [{ attesters: 3 }],
    [{ score: 0.9 }],
    [{ score: '0.9', attesters: 3 }],
    [{ score: 1.5, attesters: 3 }],
    [{ score: -0.1, attesters: 3 }],
    [{ score: 0.9, attesters: 2.5 }],
    [{ score: 0.9, attesters: -1 }],
    [{ score: 0.9, attesters: '3' }],
    [{ score: Infinity, attesters: 3 }],
    [null],
    [undefined],
    ['0.9'],
  ])('%j is refused (REPUTATION_TOO_LOW), never passed', (answer) => {
    expect(reputationReasons(answer, 0.5, 1).map((r) => r.code)).toEqual(['REPUTATION_TOO_LOW']);
    expect(reputationReasons(answer, 0, 0).map((r) => r.code)).toEqual(['REPUTATION_TOO_LOW']);
  });

  it('a well-formed answer is judged by the thresholds', () => {
    expect(reputationReasons({ score: 0.9, attesters: 2 }, 0.5, 2)).toEqual([]);
    expect(reputationReasons({ score: 0, attesters: 0 }, 0, 0)).toEqual([]);
    expect(reputationReasons({ score: null, attesters: 0 }, 0, 0).map((r) => r.code)).toEqual(['REPUTATION_TOO_LOW']);
    expect(reputationReasons({ score: 0.4, attesters: 2 }, 0.5, 2).map((r) => r.code)).toEqual(['REPUTATION_TOO_LOW']);
    expect(reputationReasons({ score: 0.9, attesters: 1 }, 0.5, 2).map((r) => r.code)).toEqual(['REPUTATION_TOO_LOW']);
  });
});
