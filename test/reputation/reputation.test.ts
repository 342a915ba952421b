import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { issueAttestation, issueReceipt, scoreAgent, checkReputation, aggregate, oneRatingPerReceipt, type ScorePolicy, type VerifiedRating } from '../../src/reputation/index.js';
import { createResolver } from '../../src/did/index.js';
import { createStatusChecker, currentStatusListJwt, setCredentialStatus } from '../../src/status/index.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import type { Store } from '../../src/store/types.js';
import type { Issuer } from '../../src/credentials/types.js';
import { issueCredential } from '../../src/credentials/index.js';
import { makeIssuer, serve, tempDir } from '../helpers.js';

describe('reputation attestations and scoring', () => {
  const resolver = createResolver();
  const agent = makeIssuer();
  const operator = makeIssuer('P-256');
  const shopA = makeIssuer();
  const shopB = makeIssuer();
  const stranger = makeIssuer();
  let store: Store;
  let srv: Awaited<ReturnType<typeof serve>>;
  const issuers = new Map<string, Issuer>();
  let n = 0;
  beforeAll(async () => {
    store = await openSqliteStore(join(tempDir(), 'rep.db'));
    srv = await serve(async (req, res) => res.end(await currentStatusListJwt(store, (req.url ?? '').split('/').pop()!, async (d) => issuers.get(d)!)));
  });
  afterAll(async () => {
    await srv.close();
    await store.close();
  });
  const policy = (o: Partial<ScorePolicy> = {}): ScorePolicy => ({
    resolver,
    status: createStatusChecker({ resolver, allowLoopback: true, allowHttp: true }),
    trustedAttesters: [shopA.did, shopB.did],
    operator: operator.did,
    ...o,
  });
  async function rate(by: Issuer, score: number, o: { receiptBy?: Issuer; receiptFor?: Issuer; dimension?: string; receipt?: string } = {}) {
    issuers.set(by.did, by);
    const receipt =
      o.receipt ??
      (await issueReceipt(null, o.receiptBy ?? agent, { counterparty: (o.receiptFor ?? by).did, interactionId: `order-${n++}`, amount: { amount: '20', currency: 'USD' } })).jwt;
    return issueAttestation(store, by, { receiptJwt: receipt, score, ...(o.dimension ? { dimension: o.dimension } : {}), baseUrl: srv.url });
  }

  it('counts trusted counterparties bound to real receipts, per attester first', async () => {
    const a1 = await rate(shopA, 1, { dimension: 'delivery' });
    const a2 = await rate(shopA, 0.8, { dimension: 'delivery' });
    const b1 = await rate(shopB, 0.5, { dimension: 'accuracy' });
    const s = await scoreAgent(agent.did, [a1.jwt, a2.jwt, b1.jwt], policy());
    expect(s.ignored).toEqual([]);
    expect(s.counted).toBe(3);
    expect(s.attesters).toBe(2);
    expect(s.score).toBeCloseTo((0.9 + 0.5) / 2, 10);
    expect(s.byDimension.delivery!.score).toBeCloseTo(0.9, 10);
    expect(s.byDimension.accuracy!.score).toBeCloseTo(0.5, 10);
  });

  it('no counted evidence is no score, not zero; strangers weigh 0 by default', async () => {
    const x = await rate(stranger, 1);
    const s = await scoreAgent(agent.did, [x.jwt], policy());
    expect(s).toMatchObject({ score: null, counted: 1, attesters: 0 });
    expect((await scoreAgent(agent.did, [x.jwt], policy({ unknownAttesterWeight: 0.25 }))).score).toBe(1);
  });

  it('each rule refuses with its code', async () => {
    const good = await rate(shopA, 0.9);
    const selfRated = await rate(agent, 1, { receiptFor: agent }).catch((e: { code: string }) => e.code);
    expect(selfRated).toBe('INVALID_ARGUMENT');
    // the operator gets a receipt from its own agent and rates it
    const byOperator = await rate(operator, 1);
    // a receipt signed by someone other than the agent
    const forged = await rate(shopB, 1, { receiptBy: stranger });
    // a second rating on the same receipt
    const receipt = (await issueReceipt(null, agent, { counterparty: shopB.did, interactionId: 'dup' })).jwt;
    const first = await rate(shopB, 0.2, { receipt });
    const second = await rate(shopB, 1, { receipt });
    // revoked by its attester
    const withdrawn = await rate(shopA, 0.1);
    await setCredentialStatus(store, withdrawn.id, 'revocation', true, async (d) => issuers.get(d)!);
    // tampered
    const [h, p, s] = good.jwt.split('.') as [string, string, string];
    const body = JSON.parse(Buffer.from(p, 'base64url').toString());
    body.credentialSubject.rating.score = 0;
    const tampered = `${h}.${Buffer.from(JSON.stringify(body)).toString('base64url')}.${s}`;
    // shopB rates with a receipt that names shopA as the counterparty (built by hand: issueAttestation refuses it)
    const shopAReceipt = await issueReceipt(null, agent, { counterparty: shopA.did, interactionId: 'not-yours' });
    const misbound = await issueCredential({
      issuer: shopB,
      subject: agent.did,
      type: 'ReputationAttestation',
      claims: { rating: { score: 1 }, interaction: shopAReceipt.id },
      extra: { evidence: [{ id: shopAReceipt.id, type: ['Evidence', 'InteractionReceipt'], receipt: shopAReceipt.jwt }] },
    });

    const res = await scoreAgent(agent.did, [good.jwt, byOperator.jwt, forged.jwt, first.jwt, second.jwt, withdrawn.jwt, tampered, misbound.jwt], policy());
    const code = (id: string) => res.ignored.find((i) => i.id === id)?.code;
    expect(code(byOperator.id)).toBe('SELF_ATTESTATION');
    expect(code(forged.id)).toBe('INVALID_CREDENTIAL'); // it is about whoever signed the receipt, not this agent
    expect([code(first.id), code(second.id)].filter(Boolean)).toEqual(['RECEIPT_REUSED']);
    expect(code(withdrawn.id)).toBe('CREDENTIAL_REVOKED');
    expect(res.ignored.map((i) => i.code)).toContain('INVALID_SIGNATURE');
    expect(code(misbound.id)).toBe('RECEIPT_INVALID');
    expect(res.counted).toBe(2);
  });

  it('checkReputation refuses below a threshold or a minimum number of attesters', async () => {
    const a = await rate(shopA, 0.4);
    const b = await rate(shopB, 0.6);
    expect((await checkReputation(agent.did, [a.jwt, b.jwt], { minReputation: 0.5, minAttesters: 2, policy: policy() })).ok).toBe(true);
    expect((await checkReputation(agent.did, [a.jwt, b.jwt], { minReputation: 0.6, policy: policy() })).reasons.map((r) => r.code)).toEqual(['REPUTATION_TOO_LOW']);
    expect((await checkReputation(agent.did, [a.jwt], { minReputation: 0.1, minAttesters: 2, policy: policy() })).reasons.map((r) => r.code)).toEqual(['REPUTATION_TOO_LOW']);
  });

  it('half-life decay weighs old feedback less', async () => {
    const old = await rate(shopA, 0);
    const later = new Date(Date.now() + 90 * 86_400_000);
    const fresh = { ...policy({ now: later, halfLifeSeconds: 30 * 86_400 }) };
    const b = await rate(shopB, 1);
    const s = await scoreAgent(agent.did, [old.jwt, b.jwt], fresh);
    expect(s.score).toBeCloseTo(0.5, 5); // equal decay for both: same day issued
    const agg = aggregate(
      [
        { id: 'a', attester: 'x', receipt: 'r1', score: 0, issuedAt: 0 },
        { id: 'b', attester: 'y', receipt: 'r2', score: 1, issuedAt: 30 * 86_400_000 },
      ],
      { now: 30 * 86_400_000, halfLifeSeconds: 30 * 86_400, attesterWeight: () => 1 },
    );
    expect(agg.score).toBeCloseTo(1 / 1.5, 10);
  });

  it('property (signed): reordering and duplicating attestations never change the score', async () => {
    const jwts = [(await rate(shopA, 0.3)).jwt, (await rate(shopB, 0.9)).jwt, (await rate(shopA, 0.6, { dimension: 'delivery' })).jwt, (await rate(stranger, 1)).jwt];
    const base = await scoreAgent(agent.did, jwts, policy());
    await fc.assert(
      fc.asyncProperty(fc.shuffledSubarray([...jwts, ...jwts], { minLength: jwts.length * 2, maxLength: jwts.length * 2 }), async (order) => {
        const s = await scoreAgent(agent.did, order, policy());
        expect(s.score).toBe(base.score);
        expect(s.byDimension).toEqual(base.byDimension);
      }),
      { numRuns: 15 },
    );
  });
});

describe('aggregation invariants (property, over verified ratings)', () => {
  const rating = fc.record({
    id: fc.uuid(),
    attester: fc.constantFrom('did:key:a', 'did:key:b', 'did:key:c', 'did:key:agent'),
    receipt: fc.constantFrom('r1', 'r2', 'r3', 'r4', 'r5', 'r6'),
    score: fc.double({ min: 0, max: 1, noNaN: true }),
    issuedAt: fc.integer({ min: 0, max: 1e12 }),
  }) as fc.Arbitrary<VerifiedRating>;
  const policy = { now: 1e12, halfLifeSeconds: 86_400 * 90, attesterWeight: (d: string) => (d === 'did:key:agent' ? 0 : d === 'did:key:c' ? 0.5 : 1) };
  const run = (rs: VerifiedRating[]) => aggregate(oneRatingPerReceipt(rs).kept, policy).score;

  it('the score stays in [0, 1] and is invariant under reordering and duplication', () => {
    fc.assert(
      fc.property(fc.array(rating, { maxLength: 30 }), fc.integer(), (rs, seed) => {
        const s = run(rs);
        if (s !== null) expect(s >= 0 && s <= 1).toBe(true);
        const shuffled = [...rs].sort((a, b) => ((a.id.charCodeAt(0) * seed) % 7) - ((b.id.charCodeAt(0) * seed) % 7));
        expect(run([...shuffled, ...rs])).toBe(s);
      }),
    );
  });

  it('self-made ratings (weight 0) and reused receipts cannot raise the score', () => {
    fc.assert(
      fc.property(fc.array(rating, { minLength: 1, maxLength: 20 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 10 }), (rs, extra) => {
        const before = run(rs);
        const selfMade: VerifiedRating[] = extra.map((score, i) => ({ id: `self-${i}`, attester: 'did:key:agent', receipt: `own-${i}`, score: 1, issuedAt: 1e12 }));
        const reused: VerifiedRating[] = rs.map((r, i) => ({ ...r, id: `zz-reuse-${i}`, score: 1, issuedAt: r.issuedAt + 1 }));
        const after = run([...rs, ...selfMade, ...reused]);
        if (before === null) expect(after).toBeNull();
        else expect(after).toBe(before);
      }),
    );
  });
});

describe('attester trust through identity issuers', () => {
  it('an attester vouched for by a trusted identity issuer counts; without the credential it weighs 0', async () => {
    const { issueCredential } = await import('../../src/credentials/index.js');
    const resolver = createResolver();
    const agent = makeIssuer();
    const registry = makeIssuer('P-256');
    const shop = makeIssuer();
    const receipt = await issueReceipt(null, agent, { counterparty: shop.did, interactionId: 'x' });
    const att = await issueAttestation(null, shop, { receiptJwt: receipt.jwt, score: 0.6 });
    const kyb = await issueCredential({ issuer: registry, subject: shop.did, type: 'BusinessRegistration', claims: { name: 'Shop Ltd' } });
    const base = { resolver, status: async () => [] };
    expect((await scoreAgent(agent.did, [att.jwt], base)).score).toBeNull();
    expect((await scoreAgent(agent.did, [att.jwt], { ...base, trustedIdentityIssuers: [registry.did], attesterCredentials: [kyb.jwt] })).score).toBe(0.6);
    expect((await scoreAgent(agent.did, [att.jwt], { ...base, trustedIdentityIssuers: [shop.did], attesterCredentials: [kyb.jwt] })).score).toBeNull();
    expect((await scoreAgent(agent.did, [att.jwt], { ...base, attesterWeight: () => 0.5 })).score).toBe(0.6);
  });
});
