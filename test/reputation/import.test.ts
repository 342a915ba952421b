import { join } from 'node:path';
import { readFileSync } from 'node:fs';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  importAttestations,
  issueAttestation,
  issueReceipt,
  interactionReceiptEvidence,
  reputationSource,
  scoreAgent,
  scoreFromStore,
  SCORE_RANGE,
  type EvidenceCheck,
  type ScorePolicy,
} from '../../src/reputation/index.js';
import { createResolver } from '../../src/did/index.js';
import type { CharterResolver } from '../../src/did/types.js';
import { issueCredential } from '../../src/credentials/index.js';
import type { Issuer, StatusChecker } from '../../src/credentials/types.js';
import { createStatusChecker, currentStatusListJwt, setCredentialStatus } from '../../src/status/index.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import type { Store } from '../../src/store/types.js';
import { makeIssuer, serve, tamper, tempDir } from '../helpers.js';

/** importAttestations verifies once; scoreFromStore and reputationSource score what the store holds. */
describe('importing attestations and scoring from the store', () => {
  const resolver = createResolver();
  const agent = makeIssuer();
  const operator = makeIssuer('P-256');
  const shopA = makeIssuer();
  const shopB = makeIssuer('secp256k1');
  const stranger = makeIssuer();
  const issuers = new Map<string, Issuer>();
  let issuerStore: Store;
  let srv: Awaited<ReturnType<typeof serve>>;
  let fetches = 0;
  let down = false;
  let n = 0;
  beforeAll(async () => {
    issuerStore = await openSqliteStore(join(tempDir(), 'issuers.db'));
    srv = await serve(async (req, res) => {
      fetches++;
      if (down) return void res.writeHead(503).end();
      res.end(await currentStatusListJwt(issuerStore, (req.url ?? '').split('/').pop()!, async (d) => issuers.get(d)!));
    });
  });
  afterAll(async () => {
    await srv.close();
    await issuerStore.close();
  });
  afterEach(() => {
    vi.useRealTimers();
    down = false;
  });
  const verifierStore = () => openSqliteStore(join(tempDir(), 'verifier.db'));
  const checker = (): StatusChecker => createStatusChecker({ resolver, allowLoopback: true, allowHttp: true });
  const policy = (status: StatusChecker, o: Partial<ScorePolicy> = {}) => ({ resolver, status, trustedAttesters: [shopA.did, shopB.did, operator.did], ...o });
  async function rate(by: Issuer, score: number, o: { dimension?: string; receiptBy?: Issuer; revocable?: boolean } = {}) {
    issuers.set(by.did, by);
    const receipt = await issueReceipt(null, o.receiptBy ?? agent, { counterparty: by.did, interactionId: `order-${n++}` });
    return issueAttestation(o.revocable === false ? null : issuerStore, by, {
      receiptJwt: receipt.jwt,
      score,
      ...(o.dimension ? { dimension: o.dimension } : {}),
      ...(o.revocable === false ? {} : { baseUrl: srv.url }),
    });
  }

  it('the score range in code is the one schemas/ReputationAttestation.json defines', () => {
    const schema = JSON.parse(readFileSync(join(__dirname, '../../schemas/ReputationAttestation.json'), 'utf8'));
    const score = schema.properties.rating.properties.score;
    expect(score.type).toBe('number');
    expect({ minimum: score.minimum, maximum: score.maximum }).toEqual(SCORE_RANGE);
  });

  it('imports what verifies, skips the rest with a code, and scores from the store exactly as scoreAgent does from JWTs', async () => {
    const store = await verifierStore();
    const good = [
      await rate(shopA, 1, { dimension: 'delivery' }),
      await rate(shopA, 0.8, { dimension: 'delivery' }),
      await rate(shopB, 0.5, { dimension: 'accuracy' }),
      await rate(stranger, 0.1),
    ];
    const byOperator = await rate(operator, 1);
    const tampered = tamper(good[0]!.jwt, 1, (p) => ((p.credentialSubject as { rating: { score: number } }).rating.score = 0));
    const revoked = await rate(shopB, 0);
    await setCredentialStatus(issuerStore, revoked.id, 'revocation', true, async (d) => issuers.get(d)!);
    const jwts = [...good.map((g) => g.jwt), byOperator.jwt, tampered, revoked.jwt, 'not-a-jwt', good[1]!.jwt];
    const r = await importAttestations(store, jwts, { resolver, status: checker() });
    expect(r.imported.map((i) => i.id).sort()).toEqual([...good.map((g) => g.id), byOperator.id].sort());
    expect(r.imported.every((i) => i.agent === agent.did)).toBe(true);
    const code = Object.fromEntries(r.skipped.map((s) => [s.id, s.code]));
    expect(code[revoked.id]).toBe('CREDENTIAL_REVOKED');
    expect(code[good[1]!.id]).toBe('ALREADY_EXISTS'); // given twice
    expect(r.skipped.map((s) => s.code).sort()).toEqual(['ALREADY_EXISTS', 'CREDENTIAL_REVOKED', 'INVALID_SIGNATURE', 'MALFORMED_JWT']);

    // The operator rule is the verifier's view at decision time: its rating is held, and not counted.
    const p = policy(checker(), { operator: operator.did });
    const fromStore = await scoreFromStore(store, agent.did, p);
    const fromJwts = await scoreAgent(agent.did, [...good.map((g) => g.jwt), byOperator.jwt], p);
    expect(fromStore.score).toBeCloseTo((0.9 + 0.5) / 2, 12);
    for (const k of ['score', 'counted', 'attesters', 'byDimension', 'ignored', 'attestations'] as const) expect([k, fromStore[k]]).toEqual([k, fromJwts[k]]);
    expect(fromStore.ignored.map((i) => i.code)).toEqual(['SELF_ATTESTATION']);
    const source = reputationSource(store, policy(checker()));
    expect(await source(agent.did, operator.did)).toEqual({ score: fromStore.score, attesters: 2 });
    expect((await source(agent.did, undefined)).attesters).toBe(3);
    expect(await source(stranger.did, undefined)).toEqual({ score: null, attesters: 0 });
    await store.close();
  });

  it('a second import of the same attestations verifies nothing (skipped before any crypto)', async () => {
    const store = await verifierStore();
    const jwts = [(await rate(shopA, 0.7)).jwt, (await rate(shopB, 0.6)).jwt];
    let resolutions = 0;
    const counting: CharterResolver = { ...resolver, resolveKey: (...a) => (resolutions++, resolver.resolveKey(...a)) };
    expect((await importAttestations(store, jwts, { resolver: counting, status: checker() })).imported.length).toBe(2);
    expect(resolutions).toBe(4); // two signatures each
    const again = await importAttestations(store, jwts, { resolver: counting, status: checker() });
    expect(again.imported).toEqual([]);
    expect(again.skipped.map((s) => s.code)).toEqual(['ALREADY_EXISTS', 'ALREADY_EXISTS']);
    expect(resolutions).toBe(4);
    await store.close();
  });

  it('keep: a home also holds each imported attestation as a credential', async () => {
    const store = await verifierStore();
    const a = await rate(shopA, 0.9);
    await importAttestations(store, [a.jwt], { resolver, status: checker(), keep: store });
    expect(await store.getCredential(a.id)).toMatchObject({ jwt: a.jwt, direction: 'held', issuer: shopA.did, subject: agent.did, types: ['ReputationAttestation'] });
    await store.close();
  });

  it('a revoked rating stops counting within the freshness bound (statusFreshnessSeconds plus the list cache)', async () => {
    // Attesters of its own: their lists get signed at the faked times.
    const [x, y] = [makeIssuer(), makeIssuer()];
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = await verifierStore();
    const a = await rate(x, 0.2);
    const b = await rate(y, 1);
    const status = checker();
    await importAttestations(store, [a.jwt, b.jwt], { resolver, status });
    const p = { ...policy(status), trustedAttesters: [x.did, y.did], statusFreshnessSeconds: 30 };
    expect((await scoreFromStore(store, agent.did, p)).score).toBeCloseTo(0.6, 12);
    await setCredentialStatus(issuerStore, a.id, 'revocation', true, async (d) => issuers.get(d)!);
    // Within the bound the cached answer may still count it...
    expect((await scoreFromStore(store, agent.did, p)).score).toBeCloseTo(0.6, 12);
    // ...past the memo (30 s) and the list's ttl (60 s, as Charter publishes lists) it never does.
    vi.setSystemTime(Date.now() + 91_000);
    const after = await scoreFromStore(store, agent.did, p);
    expect(after.score).toBe(1);
    expect(after.ignored).toEqual([expect.objectContaining({ id: a.id, code: 'CREDENTIAL_REVOKED' })]);
    // A verifier that must see it at once asks every time and refreshes the list.
    const c = await rate(y, 0);
    const fresh = createStatusChecker({ resolver, allowLoopback: true, allowHttp: true });
    await importAttestations(store, [c.jwt], { resolver, status: fresh });
    const now0 = { ...policy(fresh), trustedAttesters: [x.did, y.did], statusFreshnessSeconds: 0 };
    expect((await scoreFromStore(store, agent.did, now0)).counted).toBe(2);
    await setCredentialStatus(issuerStore, c.id, 'revocation', true, async (d) => issuers.get(d)!);
    await fresh.refresh(JSON.parse(Buffer.from(c.jwt.split('.')[1]!, 'base64url').toString()).credentialStatus.statusListCredential);
    expect((await scoreFromStore(store, agent.did, now0)).counted).toBe(1);
    await store.close();
  });

  it('reputationSource too: a revoked rating stops counting within the freshness bound, though the listing stays in memory', async () => {
    const [x, y] = [makeIssuer(), makeIssuer()];
    vi.useFakeTimers({ toFake: ['Date'] });
    const store = await verifierStore();
    const a = await rate(x, 0.2);
    const b = await rate(y, 1);
    const status = checker();
    await importAttestations(store, [a.jwt, b.jwt], { resolver, status });
    const source = reputationSource(store, { ...policy(status), trustedAttesters: [x.did, y.did], statusFreshnessSeconds: 30 });
    expect((await source(agent.did, undefined)).score).toBeCloseTo(0.6, 12);
    await setCredentialStatus(issuerStore, a.id, 'revocation', true, async (d) => issuers.get(d)!);
    vi.setSystemTime(Date.now() + 20_000);
    expect((await source(agent.did, undefined)).score).toBeCloseTo(0.6, 12); // remembered answers, within the bound
    vi.setSystemTime(Date.now() + 71_000);
    expect(await source(agent.did, undefined)).toEqual({ score: 1, attesters: 1 });
    // and it stays refused
    expect(await source(agent.did, undefined)).toEqual({ score: 1, attesters: 1 });
    await store.close();
  });

  it('revocation is re-checked with one fetch per status list, not per rating', async () => {
    const store = await verifierStore();
    const jwts: string[] = [];
    for (let i = 0; i < 30; i++) jwts.push((await rate(i % 2 ? shopA : shopB, 0.5)).jwt);
    await importAttestations(store, jwts, { resolver, status: checker() });
    const before = fetches;
    const s = await scoreFromStore(store, agent.did, policy(checker()));
    expect(s.counted).toBe(30);
    expect(fetches - before).toBe(2); // one list per attester
    await store.close();
  });

  it('steady scoring reads no status entries at all; a newly imported rating has its own read by key', async () => {
    const store = await verifierStore();
    const calls: (number | 'all')[] = [];
    const spy = {
      ...store,
      listRatingStatus: (agent: string, keys?: readonly { attester: string; id: string }[]) => (calls.push(keys ? keys.length : 'all'), store.listRatingStatus(agent, keys)),
    } as Store;
    const status = checker();
    const jwts: string[] = [];
    for (let i = 0; i < 8; i++) jwts.push((await rate(i % 2 ? shopA : shopB, 0.5)).jwt);
    await importAttestations(store, jwts, { resolver, status });
    const source = reputationSource(spy, policy(status));
    expect((await source(agent.did, undefined)).score).toBe(0.5);
    expect(calls).toEqual(['all']); // first sight: every entry, in one query
    await source(agent.did, undefined);
    await source(agent.did, undefined);
    expect(calls).toEqual(['all']);
    const later: string[] = [(await rate(shopA, 0.5)).jwt];
    for (let i = 0; i < 4; i++) later.push((await rate(shopB, 0.5, { revocable: false })).jwt);
    await importAttestations(store, later, { resolver, status });
    expect(await source(agent.did, undefined)).toEqual({ score: 0.5, attesters: 2 });
    expect(calls).toEqual(['all', 1]);
    await store.close();
  });

  it('reputationSource keeps ratings in memory while the store version holds, and sees a new import at the next decision', async () => {
    const store = await verifierStore();
    const counts = { list: 0, version: 0 };
    const spy = {
      ...store,
      listRatings: (a: string) => (counts.list++, store.listRatings(a)),
      ratingsVersion: (a: string) => (counts.version++, store.ratingsVersion(a)),
    } as Store;
    const status = checker();
    await importAttestations(store, [(await rate(shopA, 1, { revocable: false })).jwt], { resolver, status });
    const source = reputationSource(spy, policy(status));
    for (let i = 0; i < 3; i++) expect(await source(agent.did, undefined)).toEqual({ score: 1, attesters: 1 });
    expect(counts).toEqual({ list: 1, version: 3 });
    await importAttestations(store, [(await rate(shopB, 0, { revocable: false })).jwt], { resolver, status });
    expect(await source(agent.did, undefined)).toEqual({ score: 0.5, attesters: 2 });
    expect(counts).toEqual({ list: 2, version: 4 });
    // Without the cache, every decision lists.
    const uncached = reputationSource(spy, { ...policy(status), cachedRatings: 0 });
    await uncached(agent.did, undefined);
    await uncached(agent.did, undefined);
    expect(counts.list).toBe(4);
    await store.close();
  });

  it('a status list that cannot be had fails closed: the rating does not count, and is asked again next time', async () => {
    const store = await verifierStore();
    const a = await rate(shopA, 0.9);
    const plain = await rate(shopB, 0.3, { revocable: false });
    await importAttestations(store, [a.jwt, plain.jwt], { resolver, status: checker() });
    down = true;
    const status = checker();
    const s = await scoreFromStore(store, agent.did, policy(status));
    expect(s.score).toBe(0.3);
    expect(s.ignored).toEqual([expect.objectContaining({ id: a.id, code: 'STATUS_UNAVAILABLE' })]);
    down = false;
    expect((await scoreFromStore(store, agent.did, policy(status))).score).toBeCloseTo(0.6, 12);
    await store.close();
  });

  it('an expired rating stops counting at scoring time; one not yet valid at the scoring time does not count', async () => {
    const store = await verifierStore();
    const receipt = await issueReceipt(null, agent, { counterparty: shopA.did, interactionId: `order-${n++}` });
    const short = await issueCredential({
      issuer: shopA,
      subject: agent.did,
      type: 'ReputationAttestation',
      validUntil: new Date(Date.now() + 3_600_000),
      claims: { rating: { score: 0.4 }, interaction: receipt.id },
      extra: { evidence: [{ id: receipt.id, type: ['Evidence', 'InteractionReceipt'], receipt: receipt.jwt }] },
    });
    expect((await importAttestations(store, [short.jwt], { resolver, status: checker() })).imported.length).toBe(1);
    expect((await scoreFromStore(store, agent.did, policy(checker()))).score).toBe(0.4);
    const later = await scoreFromStore(store, agent.did, policy(checker(), { now: new Date(Date.now() + 7_200_000) }));
    expect(later.ignored.map((i) => i.code)).toEqual(['CREDENTIAL_EXPIRED']);
    expect(later.score).toBeNull();
    const earlier = await scoreFromStore(store, agent.did, policy(checker(), { now: new Date(Date.now() - 7_200_000) }));
    expect(earlier.ignored.map((i) => i.code)).toEqual(['CREDENTIAL_NOT_YET_VALID']);
    await store.close();
  });

  it('each import rule refuses with its code', async () => {
    const store = await verifierStore();
    const ownReceipt = await issueReceipt(null, agent, { counterparty: shopA.did, interactionId: 'self' });
    const selfRated = await issueCredential({
      issuer: agent,
      subject: agent.did,
      type: 'ReputationAttestation',
      claims: { rating: { score: 1 }, interaction: ownReceipt.id },
      extra: { evidence: [{ id: ownReceipt.id, type: ['Evidence', 'InteractionReceipt'], receipt: ownReceipt.jwt }] },
    });
    const noEvidence = await issueCredential({ issuer: shopA, subject: agent.did, type: 'ReputationAttestation', claims: { rating: { score: 1 }, interaction: 'x' } });
    const shopAReceipt = await issueReceipt(null, agent, { counterparty: shopA.did, interactionId: 'not-yours' });
    const misbound = await issueCredential({
      issuer: shopB,
      subject: agent.did,
      type: 'ReputationAttestation',
      claims: { rating: { score: 1 }, interaction: shopAReceipt.id },
      extra: { evidence: [{ id: shopAReceipt.id, type: ['Evidence', 'InteractionReceipt'], receipt: shopAReceipt.jwt }] },
    });
    const otherInteraction = await issueCredential({
      issuer: shopA,
      subject: agent.did,
      type: 'ReputationAttestation',
      claims: { rating: { score: 1 }, interaction: 'urn:uuid:another' },
      extra: { evidence: [{ id: shopAReceipt.id, type: ['Evidence', 'InteractionReceipt'], receipt: shopAReceipt.jwt }] },
    });
    const notAnAttestation = await issueCredential({ issuer: shopA, subject: agent.did, type: 'EmailCredential', claims: { email: 'a@b.c' } });
    const twoSubjects = tamper(misbound.jwt, 1, (p) => (p.credentialSubject = [p.credentialSubject, { id: shopA.did }]));
    const forgedReceipt = await issueCredential({
      issuer: shopA,
      subject: agent.did,
      type: 'ReputationAttestation',
      claims: { rating: { score: 1 }, interaction: shopAReceipt.id },
      extra: {
        evidence: [
          { id: shopAReceipt.id, type: ['Evidence', 'InteractionReceipt'], receipt: tamper(shopAReceipt.jwt, 1, (p) => ((p.credentialSubject as { id: string }).id = shopB.did)) },
        ],
      },
    });
    const r = await importAttestations(store, [selfRated.jwt, noEvidence.jwt, misbound.jwt, otherInteraction.jwt, notAnAttestation.jwt, twoSubjects, forgedReceipt.jwt], {
      resolver,
      status: checker(),
    });
    expect(r.imported).toEqual([]);
    const code = (id: string) => r.skipped.find((s) => s.id === id)?.code;
    expect(code(selfRated.id)).toBe('SELF_ATTESTATION');
    expect(code(noEvidence.id)).toBe('RECEIPT_INVALID');
    expect(code(misbound.id)).toBe('RECEIPT_INVALID');
    expect(code(otherInteraction.id)).toBe('RECEIPT_INVALID');
    expect(code(notAnAttestation.id)).toBe('INVALID_CREDENTIAL');
    expect(code(forgedReceipt.id)).toBe('RECEIPT_INVALID');
    expect(r.skipped.length).toBe(7);
    await store.close();
  });

  it('the evidence seam: another kind of interaction proof counts when the importer is given its check', async () => {
    const store = await verifierStore();
    // A stand-in for a verifier's decision receipt: proves an interaction by naming it.
    const decisionEvidence: EvidenceCheck = async (entry, ctx) => {
      if (entry.type !== 'TestDecision') return undefined;
      if (entry.agent !== ctx.agent || entry.counterparty !== ctx.attester) return { code: 'RECEIPT_INVALID', message: 'not this interaction' };
      return { id: entry.id as string };
    };
    const att = (interaction: string, counterparty: string) =>
      issueCredential({
        issuer: shopA,
        subject: agent.did,
        type: 'ReputationAttestation',
        claims: { rating: { score: 0.75 }, interaction },
        extra: { evidence: [{ id: interaction, type: 'TestDecision', agent: agent.did, counterparty }] },
      });
    const ok = await att('urn:decision:1', shopA.did);
    const wrong = await att('urn:decision:2', shopB.did);
    const byDefault = await importAttestations(store, [ok.jwt], { resolver, status: checker() });
    expect(byDefault.skipped.map((s) => s.code)).toEqual(['RECEIPT_INVALID']);
    const r = await importAttestations(store, [ok.jwt, wrong.jwt], { resolver, status: checker(), evidence: [interactionReceiptEvidence, decisionEvidence] });
    expect(r.imported.map((i) => i.id)).toEqual([ok.id]);
    expect(r.skipped.map((s) => [s.id, s.code])).toEqual([[wrong.id, 'RECEIPT_INVALID']]);
    const rows = await store.listRatings(agent.did);
    expect(rows.map((x) => [x.receipt, x.score])).toEqual([['urn:decision:1', 0.75]]);
    await store.close();
  });

  it('misuse is a TypeError, checked when the source is built', async () => {
    const store = await verifierStore();
    const status = checker();
    expect(() => reputationSource(store, { resolver, status, halfLifeSeconds: 0 })).toThrow(TypeError);
    expect(() => reputationSource(store, { resolver, status, halfLifeSeconds: Number.NaN })).toThrow(TypeError);
    expect(() => reputationSource(store, { resolver, status, halfLifeSeconds: -5 })).toThrow(TypeError);
    expect(() => reputationSource(store, { resolver, status, unknownAttesterWeight: Number.NaN })).toThrow(TypeError);
    expect(() => reputationSource(store, { resolver, status, statusFreshnessSeconds: -1 })).toThrow(TypeError);
    expect(() => reputationSource(store, { resolver } as unknown as ScorePolicy)).toThrow(TypeError);
    expect(() => reputationSource({} as Store, { resolver, status })).toThrow(TypeError);
    await expect(importAttestations(store, 'x' as unknown as string[], { resolver, status })).rejects.toThrow(TypeError);
    await expect(importAttestations(store, [], { resolver, status, concurrency: 0 })).rejects.toThrow(TypeError);
    await store.close();
  });
});
