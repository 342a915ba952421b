import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { aggregate, MIN_DECAY, type VerifiedRating } from '../../src/reputation/aggregate.js';
import { importAttestations, issueAttestation, issueReceipt, reputationSource, scoreAgent, scoreFromStore, type ScorePolicy } from '../../src/reputation/index.js';
import { createResolver } from '../../src/did/index.js';
import type { Issuer, StatusChecker } from '../../src/credentials/types.js';
import { createStatusChecker, currentStatusListJwt, setCredentialStatus } from '../../src/status/index.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import type { NewRating, Store } from '../../src/store/types.js';
import { makeIssuer, serve, tempDir } from '../helpers.js';
import * as world from './listed-keys-world.js';

const DAY = 86_400_000;

/**
 * Scores from the store are the scores of the JWTs: scoreFromStore (and
 * reputationSource) against scoreAgent over one varied set, and the
 * aggregation's per-rating figures against a reference worked out here, not
 * by the code under test.
 */
describe('a score from the store is the score of the attestations', () => {
  const resolver = createResolver();
  const agent = makeIssuer();
  const operator = makeIssuer('P-256');
  const trusted = [makeIssuer(), makeIssuer('P-256'), makeIssuer('secp256k1'), makeIssuer()];
  const strangers = [makeIssuer(), makeIssuer('P-256')];
  const issuers = new Map<string, Issuer>();
  let issuerStore: Store;
  let srv: Awaited<ReturnType<typeof serve>>;
  let n = 0;
  beforeAll(async () => {
    issuerStore = await openSqliteStore(join(tempDir(), 'issuers.db'));
    srv = await serve(async (req, res) => res.end(await currentStatusListJwt(issuerStore, (req.url ?? '').split('/').pop()!, async (d) => issuers.get(d)!)));
  });
  afterAll(async () => {
    vi.useRealTimers();
    await srv.close();
    await issuerStore.close();
  });
  const checker = (): StatusChecker => createStatusChecker({ resolver, allowLoopback: true, allowHttp: true });
  async function rate(by: Issuer, score: number, at: number, dimension?: string) {
    issuers.set(by.did, by);
    vi.setSystemTime(at);
    const receipt = await issueReceipt(null, agent, { counterparty: by.did, interactionId: `order-${n++}` });
    return issueAttestation(n % 2 === 0 ? issuerStore : null, by, { receiptJwt: receipt.jwt, score, baseUrl: srv.url, ...(dimension ? { dimension } : {}) });
  }

  it('scoreFromStore and reputationSource give what scoreAgent gives, field for field, under several policies', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    const t0 = Date.UTC(2026, 0, 1);
    const jwts: string[] = [];
    const dims = [undefined, 'delivery', 'accuracy'];
    // Several ratings in one second (one issuedAt, side by side in the store's order), by different
    // attesters, with and without a dimension; others spread over a year of decay.
    for (let i = 0; i < 24; i++) {
      const by = [...trusted, ...strangers][i % 6]!;
      const at = i < 12 ? t0 + 1000 * Math.floor(i / 4) : t0 + (i - 11) * 17 * DAY + i;
      jwts.push((await rate(by, ((i * 7) % 11) / 10, at, dims[i % 3])).jwt);
    }
    jwts.push((await rate(operator, 1, t0 + 2000)).jwt);
    const revoked = await rate(trusted[0]!, 0, t0 + 5 * DAY);
    jwts.push(revoked.jwt);
    vi.setSystemTime(t0 + 300 * DAY);
    await setCredentialStatus(issuerStore, revoked.id, 'revocation', true, async (d) => issuers.get(d)!);

    const store = await openSqliteStore(join(tempDir(), 'verifier.db'));
    const imported = await importAttestations(store, jwts, { resolver, status: checker() });
    expect(imported.imported).toHaveLength(25);
    expect(imported.skipped.map((s) => s.code)).toEqual(['CREDENTIAL_REVOKED']);
    const policies: Partial<ScorePolicy>[] = [
      { trustedAttesters: trusted.map((t) => t.did) },
      { trustedAttesters: trusted.slice(0, 2).map((t) => t.did), unknownAttesterWeight: 0.4, halfLifeSeconds: 90 * 86_400 },
      { attesterWeight: (d) => (d === trusted[1]!.did ? 0.25 : d === strangers[0]!.did ? 0.8 : undefined), unknownAttesterWeight: 0.1, halfLifeSeconds: 45 * 86_400 },
      { trustedAttesters: [...trusted, operator].map((t) => t.did), operator: operator.did, halfLifeSeconds: 400 * 86_400 },
    ];
    for (const o of policies) {
      const p: ScorePolicy = { resolver, status: checker(), now: new Date(t0 + 310 * DAY), ...o };
      const fromJwts = await scoreAgent(agent.did, jwts, p);
      const fromStore = await scoreFromStore(store, agent.did, p);
      for (const k of ['score', 'counted', 'attesters', 'byDimension', 'attestations'] as const) expect([k, fromStore[k]]).toEqual([k, fromJwts[k]]);
      // scoreAgent also lists the revoked JWT it was given; the store never held it.
      expect(fromStore.ignored).toEqual(fromJwts.ignored.filter((i) => i.id !== revoked.id));
      expect(fromJwts.attestations.length).toBeGreaterThan(4);
      expect(await reputationSource(store, p)(agent.did, undefined)).toEqual({ score: fromStore.score, attesters: fromStore.attesters });
    }
    vi.useRealTimers();
    await store.close();
  });

  /** A stored rating, as import records it, without status (nothing to re-check). */
  const row = (attester: string, id: string, receipt: string, score: number, issuedAt: number): NewRating => ({
    attester,
    id,
    agent: agent.did,
    receipt,
    score,
    issuedAt,
    importedAt: issuedAt,
  });

  it('one rating per receipt and attester, whether or not another attester cites the same receipt id', async () => {
    const [a, b] = [trusted[0]!.did, trusted[1]!.did];
    const policy = { resolver, status: checker(), trustedAttesters: [a, b], now: new Date(10 * DAY) };
    // Two attesters citing one receipt id: both count (a receipt id proves nothing across attesters).
    const shared = await openSqliteStore(join(tempDir(), 'shared.db'));
    await shared.putRatings([row(a, 'a1', 'r1', 1, DAY), row(b, 'b1', 'r1', 0, DAY)]);
    const s1 = await scoreFromStore(shared, agent.did, policy);
    expect([s1.score, s1.counted, s1.ignored]).toEqual([0.5, 2, []]);
    // The same attester twice on one receipt: the earlier counts, however the receipt is shared with others.
    // (Another attester citing it first, or in between, or not at all.)
    for (const others of [[], [row(b, 'b1', 'r1', 0, DAY)], [row(b, 'b0', 'r1', 0, DAY / 2)], [row(b, 'b1', 'r2', 0, DAY), row(b, 'b2', 'r1', 0, 2 * DAY)]]) {
      const store = await openSqliteStore(join(tempDir(), 'reused.db'));
      await store.putRatings([row(a, 'a1', 'r1', 1, DAY), row(a, 'a2', 'r1', 0, 3 * DAY), ...others]);
      const s = await scoreFromStore(store, agent.did, policy);
      expect(s.ignored).toEqual([{ id: 'a2', code: 'RECEIPT_REUSED', message: 'another attestation already used this receipt' }]);
      expect(s.attestations.map((c) => c.id).sort()).toEqual(['a1', ...others.map((o) => o.id)].sort());
      await store.close();
    }
    await shared.close();
  });

  it('each counted rating carries its own time and weight, also among ratings of one instant and beside one that is dropped', () => {
    const half = 10 * 86_400;
    const now = 100 * DAY;
    const w: Record<string, number> = { 'did:key:a': 1, 'did:key:b': 0.5, 'did:key:c': 0.25 };
    const at = (attester: string, issuedAt: number, score: number, dimension?: string): VerifiedRating => ({
      id: `${attester}@${issuedAt}#${score}`,
      attester,
      receipt: `r-${attester}-${issuedAt}-${score}`,
      score,
      issuedAt,
      ...(dimension ? { dimension } : {}),
    });
    const ratings = [
      at('did:key:a', 90 * DAY, 1, 'x'),
      at('did:key:b', 90 * DAY, 0.5),
      at('did:key:c', 90 * DAY, 0, 'x'),
      at('did:key:a', 90 * DAY, Number.NaN), // dropped, never averaged: the next ones keep their own figures
      at('did:key:a', 90 * DAY + 1, 0.2),
      at('did:key:b', 95 * DAY, 0.7, 'y'),
      at('did:key:c', 95 * DAY, 0.9),
      at('did:key:a', 20 * DAY, 1), // older than four half-lives: dropped
      at('did:key:b', 99 * DAY, 0.1),
      at('did:key:a', 99 * DAY, 0.3),
    ];
    const decay = (t: number) => 0.5 ** ((now - t) / 1000 / half);
    const counted = ratings
      .filter((r) => Number.isFinite(r.score) && decay(r.issuedAt) >= MIN_DECAY)
      .sort((x, y) => x.issuedAt - y.issuedAt || (x.attester < y.attester ? -1 : x.attester > y.attester ? 1 : 0) || (x.id < y.id ? -1 : 1));
    const expected = counted.map((r) => ({
      id: r.id,
      attester: r.attester,
      receipt: r.receipt,
      score: r.score,
      ...(r.dimension ? { dimension: r.dimension } : {}),
      weight: w[r.attester]! * decay(r.issuedAt),
      issuedAt: new Date(r.issuedAt).toISOString(),
    }));
    // Each attester: its decayed mean, weighed by its trust times its freshest rating's decay.
    let num = 0;
    let den = 0;
    for (const d of Object.keys(w)) {
      const own = counted.filter((r) => r.attester === d);
      const mean = own.reduce((s, r) => s + decay(r.issuedAt) * r.score, 0) / own.reduce((s, r) => s + decay(r.issuedAt), 0);
      const weight = w[d]! * Math.max(...own.map((r) => decay(r.issuedAt)));
      num += weight * mean;
      den += weight;
    }
    for (const input of [ratings, [...ratings].reverse(), [...ratings.slice(5), ...ratings.slice(0, 5)]]) {
      const s = aggregate(input, { now, halfLifeSeconds: half, attesterWeight: (d) => w[d]! });
      expect(s.counted.map((c) => [c.id, c.issuedAt])).toEqual(expected.map((c) => [c.id, c.issuedAt]));
      s.counted.forEach((c, i) => {
        expect(Object.keys(c)).toEqual(Object.keys(expected[i]!));
        expect(c.weight).toBeCloseTo(expected[i]!.weight, 14);
      });
      expect(s.score).toBeCloseTo(num / den, 12);
      expect(s.attesters).toBe(3);
    }
  });
});

/**
 * The same, among did:web raters tied to each other and to the operator by the keys they sign with
 * and the keys their documents list: the store scores by the key each rating was signed with, noted at
 * import, as scoreAgent does by the key its own verification noted.
 */
describe('a score from the store is the score of the attestations, whoever signed them', () => {
  it('field for field, with documents listing others’ keys, raters sharing a signing key, and operators listing raters’ keys', async () => {
    const { mk, rate, resolver, status, web } = world;
    const agent = mk();
    const [k1, k2, k3, k4] = [mk(), mk(), mk(), mk()];
    const raters = [
      web('r0.parity.example', k1.kp, [k2.kp]),
      web('r1.parity.example', k1.kp),
      web('r2.parity.example', k2.kp, [k3.kp, k4.kp]),
      web('r3.parity.example', k3.kp),
      k4.jwk,
      k4.key,
      k3.key,
    ];
    const jwts: string[] = [];
    for (const [i, r] of raters.entries()) for (let j = 0; j <= i % 3; j++) jwts.push(await rate(agent.key, r, ((i * 3 + j * 5) % 11) / 10));
    const store = await openSqliteStore(join(tempDir(), 'parity.db'));
    expect((await importAttestations(store, jwts, { resolver, status })).skipped).toEqual([]);
    const all = raters.map((r) => r.did);
    const operators = [
      undefined,
      web('op0.parity.example', mk().kp).did,
      web('op1.parity.example', mk().kp, [k2.kp]).did,
      k3.jwk.did,
      web('op3.parity.example', mk().kp, [k4.kp]).did,
    ];
    const seen = new Set<string>();
    for (const operator of operators) {
      for (const o of [{ trustedAttesters: all }, { trustedAttesters: all.slice(0, 3), unknownAttesterWeight: 0.3 }]) {
        const p: ScorePolicy = { resolver, status, ...o, ...(operator ? { operator } : {}) };
        const fromJwts = await scoreAgent(agent.key.did, jwts, p);
        const fromStore = await scoreFromStore(store, agent.key.did, p);
        expect(fromStore).toEqual(fromJwts);
        seen.add(`${fromStore.score === null ? 'none' : fromStore.attesters}`);
      }
    }
    // The policies reach different answers: no score, and several counts of voices.
    expect(seen.size).toBeGreaterThanOrEqual(3);
    await store.close();
  });

  it('field for field, with raters tied to the parties only by a key they did not sign with (counted only against the agent)', async () => {
    const { mk, resolver, status, web } = world;
    const agentKp = mk().kp;
    const agent = web('agent.against-parity.example', agentKp);
    const [s0, s1, s2, x0, x1] = [mk(), mk(), mk(), mk(), mk()];
    const raters = [
      web('r0.against-parity.example', s0.kp, [x0.kp]),
      web('r1.against-parity.example', s1.kp, [x1.kp]),
      web('r2.against-parity.example', s2.kp, [agentKp]),
      web('r3.against-parity.example', mk().kp),
      mk().key,
    ];
    const dims = [undefined, 'delivery', 'accuracy'];
    const jwts: string[] = [];
    for (const [i, r] of raters.entries())
      for (let j = 0; j < 3; j++) {
        const receipt = await issueReceipt(null, agent, { counterparty: r.did, interactionId: `against-parity-${i}-${j}` });
        jwts.push((await issueAttestation(null, r, { receiptJwt: receipt.jwt, score: ((i * 7 + j * 3) % 11) / 10, ...(dims[j] ? { dimension: dims[j] } : {}) })).jwt);
      }
    const store = await openSqliteStore(join(tempDir(), 'against-parity.db'));
    expect((await importAttestations(store, jwts, { resolver, status })).skipped).toEqual([]);
    const all = raters.map((r) => r.did);
    const operators = [undefined, web('op0.against-parity.example', mk().kp, [x0.kp]).did, web('op1.against-parity.example', mk().kp, [x0.kp, x1.kp]).did, x1.jwk.did];
    const seen = new Set<string>();
    for (const operator of operators) {
      for (const o of [{ trustedAttesters: all }, { trustedAttesters: all.slice(0, 2), unknownAttesterWeight: 0.3 }, { trustedAttesters: all.slice(2) }]) {
        const p: ScorePolicy = { resolver, status, ...o, ...(operator ? { operator } : {}) };
        const fromJwts = await scoreAgent(agent.did, jwts, p);
        const fromStore = await scoreFromStore(store, agent.did, p);
        expect(fromStore).toEqual(fromJwts);
        const { operator: op, ...rest } = p;
        expect(await reputationSource(store, rest)(agent.did, op)).toEqual({ score: fromStore.score, attesters: fromStore.attesters });
        seen.add(`${fromStore.score} ${fromStore.attesters} ${fromStore.countedAgainst?.length ?? 0}`);
      }
    }
    // Some answers counted such ratings against the agent, some did not, and they differ.
    expect([...seen].some((x) => !x.endsWith(' 0'))).toBe(true);
    expect(seen.size).toBeGreaterThanOrEqual(6);
    await store.close();
  });
});
