import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  aggregate,
  checkReputation,
  importAttestations,
  issueAttestation,
  issueReceipt,
  oneRatingPerReceipt,
  reputationSource,
  scoreAgent,
  scoreFromStore,
  type VerifiedRating,
} from '../../src/reputation/index.js';
import { createResolver } from '../../src/did/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { decodeCredential, issueCredential, schemaIdFor, signJwt } from '../../src/credentials/index.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import type { NewRating, Store } from '../../src/store/types.js';
import { makeIssuer, tempDir } from '../helpers.js';

/**
 * Issue "Every allow is earned" §7: a score is a finite number in the
 * schema's range whether or not the attestation names its schema; anything
 * else is ignored with a reason, never a crash and never NaN; one attester
 * cannot outweigh the rest beyond its trust weight.
 */
const resolver = createResolver();
const noStatus = async () => [];
const b64 = (s: string) => Buffer.from(s).toString('base64url');

/** Signs a payload given as raw JSON text, so it can say what JSON.stringify never writes (-0, 1e400, a key twice). */
async function signRaw(issuer: Issuer, payloadText: string): Promise<string> {
  const input = `${b64(JSON.stringify({ alg: issuer.signer.alg, kid: issuer.kid, typ: 'vc+jwt' }))}.${b64(payloadText)}`;
  const sig = await issuer.signer.sign(new TextEncoder().encode(input));
  return `${input}.${Buffer.from(sig).toString('base64url')}`;
}

describe('a rating score is a finite number in [0, 1], named schema or not', () => {
  const agent = makeIssuer();
  const shop = makeIssuer();
  let store: Store;
  let k = 0;
  beforeAll(async () => {
    store = await openSqliteStore(join(tempDir(), 'adv.db'));
  });
  afterAll(async () => store.close());

  /** An attestation about `agent` by `shop`, on a real receipt, with `rating` written as raw JSON text. */
  async function attestation(ratingText: string, withSchema: boolean): Promise<{ id: string; jwt: string }> {
    const receipt = await issueReceipt(null, agent, { counterparty: shop.did, interactionId: `adv-${k}` });
    const id = `urn:uuid:00000000-0000-4000-8000-${String(k++).padStart(12, '0')}`;
    const schema = withSchema ? `,"credentialSchema":{"id":"${schemaIdFor('ReputationAttestation')}","type":"JsonSchema"}` : '';
    const subject = ratingText === '' ? `{"id":"${agent.did}","interaction":"${receipt.id}"}` : `{"id":"${agent.did}","rating":${ratingText},"interaction":"${receipt.id}"}`;
    const payload =
      `{"@context":["https://www.w3.org/ns/credentials/v2"],"id":"${id}","type":["VerifiableCredential","ReputationAttestation"],"issuer":"${shop.did}",` +
      `"validFrom":"${new Date(Math.floor(Date.now() / 1000) * 1000).toISOString()}","credentialSubject":${subject}${schema},` +
      `"evidence":[{"id":"${receipt.id}","type":["Evidence","InteractionReceipt"],"receipt":"${receipt.jwt}"}]}`;
    return { id, jwt: await signRaw(shop, payload) };
  }

  // A literal overflowing to ±Infinity is refused before any schema: no JSON Charter reads holds one (RFC 7493 §2.2).
  const refused: [string, string, string?][] = [
    ['{"score":"0.5"}', 'a string'],
    ['{"score":"1e6"}', 'a numeric string'],
    ['{"score":1e6}', '1e6'],
    ['{"score":1e400}', 'a literal that parses to Infinity', 'MALFORMED_JWT'],
    ['{"score":-1e400}', 'a literal that parses to -Infinity', 'MALFORMED_JWT'],
    ['{"score":null}', 'null (what JSON makes of NaN)'],
    ['{"score":-0.000001}', 'negative'],
    ['{"score":-1}', 'negative'],
    ['{"score":1.0000000001}', 'above 1'],
    ['{"score":2}', 'above 1'],
    ['{"score":true}', 'a boolean'],
    ['{"score":{}}', 'an object'],
    ['{"score":{"valueOf":1}}', 'an object pretending'],
    ['{"score":[0.5]}', 'an array'],
    ['{"score":[]}', 'an empty array'],
    ['{}', 'a rating without a score'],
    ['{"dimension":"delivery"}', 'a rating without a score'],
    ['', 'no rating'],
    ['"0.9"', 'a rating that is a string'],
    ['0.9', 'a rating that is a number'],
    ['[{"score":0.9}]', 'a rating that is an array'],
    ['null', 'a null rating'],
    ['{"score":0.5,"dimension":7}', 'a dimension that is not a string'],
    ['{"score":0.5,"dimension":""}', 'an empty dimension'],
    ['{"score":0.5,"dimension":"x' + 'y'.repeat(100) + '"}', 'a dimension too long'],
    ['{"score":0.5,"weight":100}', 'a field the schema does not define'],
  ];

  for (const withSchema of [true, false]) {
    it(`${withSchema ? 'naming' : 'without'} its credentialSchema: every bad score is skipped (SCHEMA_INVALID, or MALFORMED_JWT), never imported or counted`, async () => {
      const bad = await Promise.all(refused.map(([text]) => attestation(text, withSchema)));
      const good = await attestation('{"score":0.25}', withSchema);
      const r = await importAttestations(store, [...bad.map((b) => b.jwt), good.jwt], { resolver, status: noStatus });
      expect(r.imported.map((i) => i.id)).toEqual([good.id]);
      const codes = Object.fromEntries(r.skipped.map((s) => [s.id, s.code]));
      // One that does not decode is named by its JWT's last 16 characters (its id unread).
      expect(bad.map((b, i) => [refused[i]![1], refused[i]![0], codes[b.id] ?? codes[`#${b.jwt.slice(-16)}`]])).toEqual(
        refused.map(([text, what, code]) => [what, text, code ?? 'SCHEMA_INVALID']),
      );
      // The same JWTs scored directly: ignored with the same reasons, the score untouched by them.
      const s = await scoreAgent(agent.did, [...bad.map((b) => b.jwt), good.jwt], { resolver, status: noStatus, trustedAttesters: [shop.did] });
      expect(s.score).toBe(0.25);
      expect(s.ignored.length).toBe(refused.length);
      expect(new Set(s.ignored.map((i) => i.code))).toEqual(new Set(['SCHEMA_INVALID', 'MALFORMED_JWT']));
    });
  }

  it('-0 is a score of 0 (and so is a literal that underflows to it); 0 and 1 themselves are scores', async () => {
    const agentStore = await openSqliteStore(join(tempDir(), 'zero.db'));
    const atts = await Promise.all(['{"score":-0}', '{"score":1e-400}', '{"score":0}', '{"score":1}', '{"score":-0.0e5}'].map((t) => attestation(t, true)));
    const r = await importAttestations(
      agentStore,
      atts.map((a) => a.jwt),
      { resolver, status: noStatus },
    );
    expect(r.skipped).toEqual([]);
    const rows = await agentStore.listRatings(agent.did);
    expect(rows.map((x) => x.score).every((v) => Object.is(v, 0) || v === 1)).toBe(true);
    expect(rows.filter((x) => Object.is(x.score, 0)).length).toBe(4);
    await agentStore.close();
  });

  it('a name given twice in the JSON (in rating, or at the top) is MALFORMED_JWT: parsers disagree on which counts', async () => {
    const twiceInRating = await attestation('{"score":0.1,"score":1}', true);
    const p = (await attestation('{"score":0.3}', false)).jwt.split('.')[1]!;
    const text = Buffer.from(p, 'base64url').toString();
    const twiceAtTop = await signRaw(shop, text.replace(/^\{/, `{"issuer":"${agent.did}",`));
    const r = await importAttestations(store, [twiceInRating.jwt, twiceAtTop], { resolver, status: noStatus });
    expect(r.imported).toEqual([]);
    expect(r.skipped.map((x) => x.code)).toEqual(['MALFORMED_JWT', 'MALFORMED_JWT']);
  });

  it('junk of every kind is skipped with a code, never thrown', async () => {
    const junk = ['', '.', 'a.b.c', 'x'.repeat(70_000), 42, null, undefined, {}, ['a.b.c'], `${b64('{"alg":"none"}')}.${b64('{}')}.`] as unknown as string[];
    const r = await importAttestations(store, junk, { resolver, status: noStatus });
    expect(r.imported).toEqual([]);
    expect(r.skipped.length).toBe(junk.length);
    for (const s of r.skipped) expect(typeof s.code).toBe('string');
    const s = await scoreAgent(agent.did, junk, { resolver, status: noStatus });
    expect(s.score).toBeNull();
  });
});

describe('one attester cannot outweigh the rest beyond its trust weight', () => {
  it('an attester flooding 200 signed ratings of 0 weighs as one attester against two honest ones', async () => {
    const store = await openSqliteStore(join(tempDir(), 'flood.db'));
    const agent = makeIssuer();
    const [flooder, a, b] = [makeIssuer(), makeIssuer(), makeIssuer()];
    const jwts: string[] = [];
    for (let i = 0; i < 200; i++) {
      const receipt = await issueReceipt(null, agent, { counterparty: flooder.did, interactionId: `flood-${i}` });
      jwts.push((await issueAttestation(null, flooder, { receiptJwt: receipt.jwt, score: 0 })).jwt);
    }
    for (const honest of [a, b]) {
      const receipt = await issueReceipt(null, agent, { counterparty: honest.did, interactionId: `honest-${honest.did}` });
      jwts.push((await issueAttestation(null, honest, { receiptJwt: receipt.jwt, score: 1 })).jwt);
    }
    expect((await importAttestations(store, jwts, { resolver, status: noStatus })).imported.length).toBe(202);
    const trusted = { resolver, status: noStatus, trustedAttesters: [flooder.did, a.did, b.did] };
    const s = await scoreFromStore(store, agent.did, trusted);
    expect(s).toMatchObject({ counted: 202, attesters: 3 });
    expect(s.score).toBeCloseTo(2 / 3, 12);
    // At half the trust, it has half the say.
    const half = await scoreFromStore(store, agent.did, { ...trusted, attesterWeight: (d: string) => (d === flooder.did ? 0.5 : undefined) });
    expect(half.score).toBeCloseTo(2 / 2.5, 12);
    await store.close();
  });

  it('many attesters of weight 0 count for nothing: no score, no attesters; one trusted attester decides alone', async () => {
    const store = await openSqliteStore(join(tempDir(), 'zero-weight.db'));
    const agent = 'did:key:zAgent';
    const rows: NewRating[] = Array.from({ length: 500 }, (_, i) => ({
      id: `s-${i}`,
      attester: `did:key:zStranger${i}`,
      agent,
      receipt: `r-${i}`,
      score: 1,
      issuedAt: Date.now() - 1000,
      importedAt: Date.now(),
    }));
    await store.putRatings(rows);
    const policy = { resolver, status: noStatus };
    expect(await scoreFromStore(store, agent, policy)).toMatchObject({ score: null, attesters: 0, counted: 500 });
    expect(await reputationSource(store, { ...policy, attesterWeight: () => 0 })(agent, undefined)).toEqual({ score: null, attesters: 0 });
    await store.putRatings([{ id: 't', attester: 'did:key:zTrusted', agent, receipt: 'r-t', score: 0.2, issuedAt: Date.now() - 1000, importedAt: Date.now() }]);
    expect(await reputationSource(store, { ...policy, trustedAttesters: ['did:key:zTrusted'] })(agent, undefined)).toEqual({ score: 0.2, attesters: 1 });
    await store.close();
  });

  it('weights that are not numbers in [0, 1] never make a NaN: NaN, infinities, negatives and non-numbers weigh 0, above 1 weighs 1', () => {
    const r = (attester: string, score: number): VerifiedRating => ({ id: `${attester}-${score}`, attester, receipt: `${attester}-${score}`, score, issuedAt: 0 });
    const weights: Record<string, unknown> = { nan: Number.NaN, neg: -1, inf: Infinity, ninf: -Infinity, big: 7, str: '1', obj: {}, one: 1 };
    const ratings = Object.keys(weights).map((k) => r(k, k === 'one' ? 0.2 : k === 'big' ? 0.8 : 1));
    const s = aggregate(ratings, { now: 0, attesterWeight: (d) => weights[d] as number });
    expect(s.attesters).toBe(2);
    expect(s.score).toBeCloseTo((0.8 + 0.2) / 2, 12);
    expect(
      s.counted
        .filter((c) => c.weight > 0)
        .map((c) => c.attester)
        .sort(),
    ).toEqual(['big', 'one']);
  });
});

describe("no one can spend another attester's receipt", () => {
  /**
   * A trusted shop rates the agent 0.1 on the agent's receipt. Others cite the same receipt id,
   * dated earlier so "the earliest counts" would pick them: a stranger with a decision receipt it
   * signed itself, and a sybil holding a second receipt the agent issued with the same id.
   */
  const world = async () => {
    const [agent, shop, eve, sybil] = [makeIssuer(), makeIssuer(), makeIssuer(), makeIssuer()];
    const receipt = await issueReceipt(null, agent, { counterparty: shop.did, interactionId: 'order-1' });
    const honest = await issueAttestation(null, shop, { receiptJwt: receipt.jwt, score: 0.1 });
    const receiptId = (decodeCredential(honest.jwt).evidence as { id: string }[])[0]!.id;
    const forged = await signJwt(
      { typ: 'charter-receipt+jwt' },
      {
        iss: eve.did,
        sub: agent.did,
        kind: 'decision',
        decision: 'allow',
        jti: receiptId,
        iat: 946_684_800,
        time: '2000-01-01T00:00:00Z',
        log: { chain: 'urn:uuid:eve', seq: 1, prev: null },
        verifier: eve.did,
        status: 200,
        reasons: [],
        request: { kind: 'none' },
        policy: { kind: 'agent' },
        credentials: [],
        chain: [],
      },
      eve.signer,
      eve.kid,
    );
    const stranger = await issueCredential({
      issuer: eve,
      subject: agent.did,
      type: 'ReputationAttestation',
      validFrom: new Date('2001-01-01T00:00:00Z'),
      claims: { rating: { score: 1 }, interaction: receiptId },
      extra: { evidence: [{ id: receiptId, type: ['Evidence', 'CharterDecisionReceipt'], receipt: forged }] },
    });
    // The agent's second receipt under the same id, to its own sybil, rated earlier.
    const twin = await issueCredential({
      issuer: agent,
      subject: sybil.did,
      type: 'InteractionReceipt',
      id: receiptId,
      // The interaction dated before the rating (a rating older than what it rates is refused on its own).
      claims: { interaction: { id: 'order-1', agent: agent.did, time: '2000-06-01T00:00:00Z' } },
      credentialSchema: { id: schemaIdFor('InteractionReceipt')!, type: 'JsonSchema' },
    });
    const sybilRating = await issueCredential({
      issuer: sybil,
      subject: agent.did,
      type: 'ReputationAttestation',
      validFrom: new Date('2001-01-01T00:00:00Z'),
      claims: { rating: { score: 1 }, interaction: receiptId },
      extra: { evidence: [{ id: receiptId, type: ['Evidence', 'InteractionReceipt'], receipt: twin.jwt }] },
    });
    return { agent, shop, eve, sybil, honest: honest.jwt, others: [stranger.jwt, sybilRating.jwt] };
  };

  it('scoreAgent: the trusted rating still counts, alone among the trusted; the others count as themselves', async () => {
    const w = await world();
    const policy = { resolver, status: noStatus, trustedAttesters: [w.shop.did] };
    const before = await scoreAgent(w.agent.did, [w.honest], policy);
    expect([before.score, before.attesters]).toEqual([0.1, 1]);
    for (const others of [[w.others[0]!], [w.others[1]!], w.others]) {
      const after = await scoreAgent(w.agent.did, [...others, w.honest], policy);
      expect([after.score, after.attesters, after.ignored.map((i) => i.message)]).toEqual([0.1, 1, []]);
    }
    // Trusting everyone, each rater counts once, on its own proof.
    const all = await scoreAgent(w.agent.did, [w.honest, ...w.others], { ...policy, trustedAttesters: [w.shop.did, w.eve.did, w.sybil.did] });
    expect([all.attesters, all.ignored]).toEqual([3, []]);
  });

  it('imported and scored from the store: the same', async () => {
    const w = await world();
    const store = await openSqliteStore(join(tempDir(), 'preempt.db'));
    expect((await importAttestations(store, [...w.others, w.honest], { resolver, status: noStatus })).imported.length).toBe(3);
    const s = await scoreFromStore(store, w.agent.did, { resolver, status: noStatus, trustedAttesters: [w.shop.did] });
    expect([s.score, s.attesters, s.ignored]).toEqual([0.1, 1, []]);
    const viaSource = await reputationSource(store, { resolver, status: noStatus, trustedAttesters: [w.shop.did] })(w.agent.did, undefined);
    expect(viaSource.score).toBe(0.1);
    await store.close();
  });

  it('one attester still rates one receipt once: its second rating of it is RECEIPT_REUSED', async () => {
    const w = await world();
    const receipt = await issueReceipt(null, w.agent, { counterparty: w.shop.did, interactionId: 'order-2' });
    const [a, b] = [await issueAttestation(null, w.shop, { receiptJwt: receipt.jwt, score: 0 }), await issueAttestation(null, w.shop, { receiptJwt: receipt.jwt, score: 1 })];
    const s = await scoreAgent(w.agent.did, [a.jwt, b.jwt], { resolver, status: noStatus, trustedAttesters: [w.shop.did] });
    expect(s.ignored.map((i) => i.code)).toEqual(['RECEIPT_REUSED']);
    expect(s.counted).toBe(1);
  });
});

describe('decay edge cases', () => {
  const at = (issuedAt: number, score: number, attester = 'did:key:a', id = `${attester}-${issuedAt}-${score}`): VerifiedRating => ({ id, attester, receipt: id, score, issuedAt });
  const day = 86_400_000;

  it('a half-life that is zero, negative or NaN is a TypeError; Infinity means no decay', () => {
    for (const halfLifeSeconds of [0, -1, Number.NaN, -Infinity]) expect(() => aggregate([at(0, 1)], { now: 0, halfLifeSeconds, attesterWeight: () => 1 })).toThrow(TypeError);
    expect(aggregate([at(0, 0.3, 'did:key:a'), at(1000 * day, 0.9, 'did:key:b')], { now: 1000 * day, halfLifeSeconds: Infinity, attesterWeight: () => 1 }).score).toBeCloseTo(
      0.6,
      12,
    );
    expect(() => aggregate([at(0, 1)], { now: Number.NaN, attesterWeight: () => 1 })).toThrow(TypeError);
  });

  it('ratings so old they decay to nothing leave no score (not 0); a fresh one beside them decides', () => {
    const old = [at(0, 0, 'did:key:a'), at(1, 1, 'did:key:b')];
    const policy = { now: 1e15, halfLifeSeconds: 1, attesterWeight: () => 1 };
    expect(aggregate(old, policy)).toMatchObject({ score: null, attesters: 0 });
    expect(aggregate([...old, at(1e15, 0.7, 'did:key:c')], policy).score).toBe(0.7);
  });

  it('a rating dated in the future gains no weight beyond 1; times a Date cannot hold are dropped', () => {
    const policy = { now: 0, halfLifeSeconds: 60, attesterWeight: () => 1 };
    const s = aggregate([at(1e12, 1, 'did:key:future'), at(0, 0, 'did:key:now')], policy);
    expect(s.score).toBeCloseTo(0.5, 12);
    const weird = aggregate([at(1e300, 1, 'did:key:x'), at(Number.NaN, 1, 'did:key:y'), at(-Infinity, 1, 'did:key:z'), at(0, 0.4, 'did:key:w')], policy);
    expect(weird).toMatchObject({ score: 0.4, attesters: 1 });
    expect(weird.counted.map((c) => c.attester)).toEqual(['did:key:w']);
  });

  it('within one attester, old ratings count less than fresh ones, and the attester weighs as its freshest', () => {
    const policy = { now: 60 * day, halfLifeSeconds: 30 * 86_400, attesterWeight: () => 1 };
    // a: 0 two half-lives ago (weight 1/4) and 1 now (weight 1) -> 0.8; b: 0 now.
    const s = aggregate([at(0, 0, 'did:key:a'), at(60 * day, 1, 'did:key:a'), at(60 * day, 0, 'did:key:b')], policy);
    expect(s.score).toBeCloseTo(0.8 / 2, 12);
  });
});

describe('properties', () => {
  const attesters = ['did:key:a', 'did:key:b', 'did:key:c', 'did:key:x'];
  const anyNumber = fc.oneof(fc.double(), fc.constantFrom(Number.NaN, Infinity, -Infinity, -0, 0, 1, 1e6, -1, 5e-324, 8.64e15, 8.64e15 + 1));
  const anyRating = fc.record({
    id: fc.string({ maxLength: 4 }),
    attester: fc.constantFrom(...attesters),
    receipt: fc.constantFrom('r1', 'r2', 'r3', 'r4', 'r5'),
    score: fc.oneof(anyNumber, fc.constantFrom('0.5' as unknown as number, null as unknown as number, {} as unknown as number)),
    issuedAt: anyNumber,
  }) as fc.Arbitrary<VerifiedRating>;
  const anyWeight = fc.oneof(anyNumber, fc.constant(undefined as unknown as number));

  it('the score is always null or a finite number in [0, 1], whatever the ratings, weights, clock and half-life', () => {
    fc.assert(
      fc.property(
        fc.array(anyRating, { maxLength: 40 }),
        fc.dictionary(fc.constantFrom(...attesters), anyWeight),
        fc.double({ min: -1e15, max: 1e15, noNaN: true }),
        fc.option(fc.oneof(fc.double({ min: 1e-300, max: 1e300, noNaN: true }), fc.constant(Infinity)), { nil: undefined }),
        (ratings, w, now, halfLifeSeconds) => {
          const { kept } = oneRatingPerReceipt(ratings);
          const s = aggregate(kept, { now, ...(halfLifeSeconds !== undefined ? { halfLifeSeconds } : {}), attesterWeight: (d) => w[d]! });
          expect(s.score === null || (Number.isFinite(s.score) && s.score >= 0 && s.score <= 1)).toBe(true);
          for (const c of s.counted) expect(Number.isFinite(c.weight) && c.weight >= 0 && c.weight <= 1).toBe(true);
        },
      ),
      { numRuns: 400 },
    );
  });

  it('the score from the store is always null or a finite number in [0, 1]', async () => {
    const store = await openSqliteStore(join(tempDir(), 'prop.db'));
    let run = 0;
    const validRow = fc.record({
      attester: fc.constantFrom(...attesters),
      receipt: fc.constantFrom('r1', 'r2', 'r3', 'r4', 'r5', 'r6'),
      score: fc.double({ min: 0, max: 1, noNaN: true }),
      issuedAt: fc.integer({ min: 0, max: 2e12 }),
      dimension: fc.option(fc.constantFrom('delivery', 'accuracy'), { nil: undefined }),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.array(validRow, { maxLength: 25 }),
        fc.dictionary(fc.constantFrom(...attesters), anyWeight),
        fc.option(fc.integer({ min: 1, max: 1e9 }), { nil: undefined }),
        async (rows, w, halfLifeSeconds) => {
          const agent = `did:key:zProp${run++}`;
          await store.putRatings(rows.map((r, i) => ({ ...r, id: `p-${i}`, agent, importedAt: 0, ...(r.dimension ? { dimension: r.dimension } : {}) })));
          const policy = { resolver, status: noStatus, now: new Date(2e12), attesterWeight: (d: string) => w[d], ...(halfLifeSeconds ? { halfLifeSeconds } : {}) };
          const s = await scoreFromStore(store, agent, policy);
          for (const v of [s.score, ...Object.values(s.byDimension).map((d) => d.score)]) expect(v === null || (Number.isFinite(v) && v >= 0 && v <= 1)).toBe(true);
          // The guard's source (listing kept in memory, receipts possibly shared) says the same, twice.
          const source = reputationSource(store, policy);
          expect(await source(agent, undefined)).toEqual({ score: s.score, attesters: s.attesters });
          expect(await source(agent, undefined)).toEqual({ score: s.score, attesters: s.attesters });
        },
      ),
      { numRuns: 60 },
    );
    await store.close();
  });

  it("one attester's influence never exceeds its trust weight share, however many ratings it floods", () => {
    const honest = fc.record({
      attester: fc.constantFrom('did:key:a', 'did:key:b', 'did:key:c'),
      score: fc.double({ min: 0, max: 1, noNaN: true }),
      issuedAt: fc.integer({ min: 0, max: 1e10 }),
    });
    const flood = fc.array(fc.record({ score: fc.double({ min: 0, max: 1, noNaN: true }), issuedAt: fc.integer({ min: 0, max: 1e10 }) }), { minLength: 1, maxLength: 60 });
    fc.assert(
      fc.property(
        fc.array(honest, { maxLength: 12 }),
        flood,
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.dictionary(fc.constantFrom('did:key:a', 'did:key:b', 'did:key:c'), fc.double({ min: 0, max: 1, noNaN: true })),
        fc.option(fc.integer({ min: 1, max: 1e7 }), { nil: undefined }),
        (others, flooded, t, weights, halfLifeSeconds) => {
          const now = 1e10;
          const policy = { now, ...(halfLifeSeconds ? { halfLifeSeconds } : {}), attesterWeight: (d: string) => (d === 'did:key:x' ? t : (weights[d] ?? 1)) };
          const base: VerifiedRating[] = others.map((o, i) => ({ id: `o${i}`, receipt: `o${i}`, ...o }));
          const x = (score: number, issuedAt: number, i: number): VerifiedRating => ({ id: `x${i}`, attester: 'did:key:x', receipt: `x${i}`, score, issuedAt });
          const score = (rs: VerifiedRating[]) => aggregate(rs, policy).score;
          const withFlood = score([...base, ...flooded.map((f, i) => x(f.score, f.issuedAt, i))]);
          // X's strongest possible say: one fresh rating at either extreme, at its full trust.
          const low = score([...base, x(0, now, 0)]);
          const high = score([...base, x(1, now, 0)]);
          if (withFlood === null) {
            // X's flood had no weight (trust 0, or decayed to nothing), and nobody else counted.
            expect(score(base)).toBeNull();
            return;
          }
          expect(withFlood).toBeGreaterThanOrEqual(low! - 1e-12);
          expect(withFlood).toBeLessThanOrEqual(high! + 1e-12);
          // With the rest weighing W (fresh honest attesters, no decay), X moves the score by at most t / (t + W).
          const without = score(base);
          if (without !== null && halfLifeSeconds === undefined) {
            const W = [...new Set(others.map((o) => o.attester))].reduce((a, d) => a + (weights[d] ?? 1), 0);
            expect(Math.abs(withFlood - without)).toBeLessThanOrEqual(t / (t + W) + 1e-12);
          }
        },
      ),
      { numRuns: 400 },
    );
  });
});

describe('who vouches for an attester, and who counts toward minAttesters', () => {
  const setup = async () => {
    const [agent, operator, registry, x, shop] = [makeIssuer(), makeIssuer(), makeIssuer(), makeIssuer(), makeIssuer()];
    const rate = async (attester: Issuer, score: number, id: string) =>
      (await issueAttestation(null, attester, { receiptJwt: (await issueReceipt(null, agent, { counterparty: attester.did, interactionId: id })).jwt, score })).jwt;
    return { agent, operator, registry, x, shop, rate };
  };

  it("only an identity credential vouches: a trusted registry's rating, receipt or grant about X does not make X trusted", async () => {
    const { agent, registry, x, rate } = await setup();
    const byX = await rate(x, 1, 'x-1');
    const other = makeIssuer();
    const notIdentity = [
      // A rating of X by the registry (score 0), and a receipt naming X as its counterparty.
      (await issueAttestation(null, registry, { receiptJwt: (await issueReceipt(null, x, { counterparty: registry.did, interactionId: 'r' })).jwt, score: 0 })).jwt,
      (await issueReceipt(null, registry, { counterparty: x.did, interactionId: 'r2' })).jwt,
      (await issueCredential({ issuer: registry, subject: x.did, type: 'DataAccessGrant', claims: { grant: { resources: ['a'], actions: ['read'], purpose: 'p' } } })).jwt,
      (await issueCredential({ issuer: registry, subject: x.did, type: 'AgentAuthorityCredential', claims: { authority: { actions: ['a'], maxDelegationDepth: 0 } } })).jwt,
    ];
    for (const vouch of notIdentity) {
      const s = await scoreAgent(agent.did, [byX], { resolver, status: noStatus, trustedIdentityIssuers: [registry.did], attesterCredentials: [vouch] });
      expect([s.score, s.attesters]).toEqual([null, 0]);
    }
    // An identity statement does vouch (the control), and one from someone not trusted does not.
    const kyb = (await issueCredential({ issuer: registry, subject: x.did, type: 'BusinessRegistration', claims: { name: 'X Ltd' } })).jwt;
    expect((await scoreAgent(agent.did, [byX], { resolver, status: noStatus, trustedIdentityIssuers: [registry.did], attesterCredentials: [kyb] })).score).toBe(1);
    const stray = (await issueCredential({ issuer: other, subject: x.did, type: 'BusinessRegistration', claims: { name: 'X Ltd' } })).jwt;
    expect((await scoreAgent(agent.did, [byX], { resolver, status: noStatus, trustedIdentityIssuers: [registry.did], attesterCredentials: [stray] })).score).toBeNull();
  });

  it("an attester vouched for only by the agent's operator (or the agent) is the operator's own word; another issuer's vouch still counts", async () => {
    const { agent, operator, registry, x, rate } = await setup();
    const byX = await rate(x, 1, 'sock-1');
    const sockId = (await issueCredential({ issuer: operator, subject: x.did, type: 'AgentIdentityCredential', claims: { agent: { name: 'sock', operator: operator.did } } })).jwt;
    const fromAgent = (await issueCredential({ issuer: agent, subject: x.did, type: 'BusinessRegistration', claims: { name: 'sock' } })).jwt;
    const policy = { resolver, status: noStatus, operator: operator.did, trustedIdentityIssuers: [operator.did, agent.did, registry.did] };
    for (const vouch of [sockId, fromAgent]) {
      expect((await scoreAgent(agent.did, [byX], { ...policy, attesterCredentials: [vouch] })).score).toBeNull();
    }
    // The same vouch counts for scoring an agent of someone else.
    const other = makeIssuer();
    const forOther = (await issueAttestation(null, x, { receiptJwt: (await issueReceipt(null, other, { counterparty: x.did, interactionId: 'o-1' })).jwt, score: 1 })).jwt;
    expect((await scoreAgent(other.did, [forOther], { ...policy, operator: makeIssuer().did, attesterCredentials: [sockId] })).score).toBe(1);
    // Vouched by the registry as well: counts.
    const kyb = (await issueCredential({ issuer: registry, subject: x.did, type: 'BusinessRegistration', claims: { name: 'X' } })).jwt;
    expect((await scoreAgent(agent.did, [byX], { ...policy, attesterCredentials: [sockId, kyb] })).score).toBe(1);
  });

  it('minAttesters counts trusted attesters only: strangers weighed by unknownAttesterWeight move the score, not the count', async () => {
    const { agent, shop, rate } = await setup();
    const jwts = [await rate(shop, 0.9, 's-1')];
    for (let i = 0; i < 3; i++) jwts.push(await rate(makeIssuer(), 1, `sybil-${i}`));
    const s = await scoreAgent(agent.did, jwts, { resolver, status: noStatus, trustedAttesters: [shop.did], unknownAttesterWeight: 0.001 });
    expect(s.attesters).toBe(1);
    expect(s.score).toBeGreaterThan(0.9);
    const c = await checkReputation(agent.did, jwts, {
      minReputation: 0.5,
      minAttesters: 2,
      policy: { resolver, status: noStatus, trustedAttesters: [shop.did], unknownAttesterWeight: 0.001 },
    });
    expect(c.ok).toBe(false);
    // attesterWeight is trust said out loud: those it weighs above 0 count.
    const all = await scoreAgent(agent.did, jwts, { resolver, status: noStatus, attesterWeight: () => 0.5 });
    expect(all.attesters).toBe(4);
  });
});
