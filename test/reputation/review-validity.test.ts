import { join } from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolver } from '../../src/did/index.js';
import { issueCredential, schemaIdFor, signJwt } from '../../src/credentials/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { importAttestations, issueAttestation, issueReceipt, reputationSource, scoreAgent, scoreFromStore, type ScorePolicy } from '../../src/reputation/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { createStatusChecker } from '../../src/status/index.js';
import { makeIssuer, tempDir } from '../helpers.js';

const resolver = createResolver();
const status = createStatusChecker({ resolver, allowLoopback: true, allowHttp: true });
const HOUR = 3_600_000;

let store: Store;
beforeAll(async () => {
  store = await openSqliteStore(join(tempDir('charter-rep-validity-'), 'r.db'));
});
afterAll(async () => {
  await store.close();
});

/** A receipt valid until `until` (validUntil, or the JWT's exp), made at `t0`. */
async function receipt(agent: Issuer, shop: Issuer, t0: number, until: { validUntil?: number; exp?: number }): Promise<string> {
  const id = `urn:uuid:${randomUUID()}`;
  return (
    await issueCredential({
      issuer: agent,
      id,
      subject: shop.did,
      type: 'InteractionReceipt',
      claims: { interaction: { id, agent: agent.did, time: new Date(t0).toISOString() } },
      ...(until.validUntil !== undefined ? { validUntil: new Date(until.validUntil) } : {}),
      credentialSchema: { id: schemaIdFor('InteractionReceipt')!, type: 'JsonSchema' },
      ...(until.exp !== undefined ? { extra: { exp: Math.floor(until.exp / 1000) } } : {}),
    })
  ).jwt;
}

/** score and attesters in the three paths, at `now`. */
async function at(agent: string, jwts: string[], now: number, shop: string) {
  const policy: ScorePolicy = { resolver, status, trustedAttesters: [shop], now: new Date(now) };
  const a = await scoreAgent(agent, jwts, policy);
  const f = await scoreFromStore(store, agent, policy);
  const r = await reputationSource(store, policy)(agent, undefined);
  return { a: { score: a.score, attesters: a.attesters }, f: { score: f.score, attesters: f.attesters }, r, fIgnored: f.ignored.map((i) => i.code) };
}

/**
 * README: validity is checked at import and again "at scoring ... validity at
 * the scoring time"; DESIGN.md: a rating counts "only when the receipt is
 * valid". A receipt is the agent's consent to be rated for an interaction;
 * when it ends, the rating stops counting in the store as in scoreAgent.
 */
describe('a rating lasts no longer than the receipt it rests on', () => {
  it('an expired receipt (validUntil) stops the rating in every path', async () => {
    const agent = makeIssuer();
    const shop = makeIssuer();
    const t0 = Date.now();
    const att = await issueAttestation(null, shop, { receiptJwt: await receipt(agent, shop, t0, { validUntil: t0 + 10 * 60_000 }), score: 1 });
    expect((await importAttestations(store, [att.jwt], { resolver, status })).imported).toHaveLength(1);
    const during = await at(agent.did, [att.jwt], t0 + 5 * 60_000, shop.did);
    expect([during.a, during.f, during.r]).toEqual([
      { score: 1, attesters: 1 },
      { score: 1, attesters: 1 },
      { score: 1, attesters: 1 },
    ]);
    for (const later of [t0 + HOUR, t0 + 24 * HOUR, t0 + 365 * 24 * HOUR]) {
      const after = await at(agent.did, [att.jwt], later, shop.did);
      expect([after.a, after.f, after.r]).toEqual([
        { score: null, attesters: 0 },
        { score: null, attesters: 0 },
        { score: null, attesters: 0 },
      ]);
      expect(after.fIgnored).toEqual(['CREDENTIAL_EXPIRED']);
    }
  });

  it('the receipt JWT exp alone bounds it too', async () => {
    const agent = makeIssuer();
    const shop = makeIssuer();
    const t0 = Date.now();
    const att = await issueAttestation(null, shop, { receiptJwt: await receipt(agent, shop, t0, { exp: t0 + 20 * 60_000 }), score: 0.7 });
    await importAttestations(store, [att.jwt], { resolver, status });
    const after = await at(agent.did, [att.jwt], t0 + 2 * HOUR, shop.did);
    expect([after.a.score, after.f.score, after.r.score]).toEqual([null, null, null]);
  });

  it('a fractional NumericDate (RFC 7519 §2) imports, rounded inward to whole milliseconds as both stores keep them', async () => {
    const agent = makeIssuer();
    const shop = makeIssuer();
    const t0 = Date.now();
    const exp = Math.floor(t0 / 1000) + 1200.0004;
    const rid = `urn:uuid:${randomUUID()}`;
    const plain = (
      await issueCredential({
        issuer: agent,
        id: rid,
        subject: shop.did,
        type: 'InteractionReceipt',
        claims: { interaction: { id: rid, agent: agent.did, time: new Date(t0).toISOString() } },
        credentialSchema: { id: schemaIdFor('InteractionReceipt')!, type: 'JsonSchema' },
      })
    ).jwt;
    // Charter issues whole seconds; another issuer may not.
    const [h, p] = plain
      .split('.')
      .slice(0, 2)
      .map((x) => JSON.parse(Buffer.from(x, 'base64url').toString()) as Record<string, unknown>) as [Record<string, unknown>, Record<string, unknown>];
    const r = await signJwt(h, { ...p, exp }, agent.signer, agent.kid);
    const att = await issueAttestation(null, shop, { receiptJwt: r, score: 0.4 });
    const done = await importAttestations(store, [att.jwt], { resolver, status });
    expect([done.imported.length, done.skipped]).toEqual([1, []]);
    const held = (await store.listRatings(agent.did))[0]!;
    expect([Number.isSafeInteger(held.issuedAt), held.validUntil]).toEqual([true, Math.floor(exp * 1000)]);
  });

  it('an attestation valid longer than its receipt is bounded by the receipt; a shorter one by itself', async () => {
    const agent = makeIssuer();
    const shop = makeIssuer();
    const t0 = Date.now();
    const r = await receipt(agent, shop, t0, { validUntil: t0 + 2 * HOUR });
    const rid = JSON.parse(Buffer.from(r.split('.')[1]!, 'base64url').toString()).id as string;
    const attest = async (until: number) =>
      (
        await issueCredential({
          issuer: shop,
          id: `urn:uuid:${randomUUID()}`,
          subject: agent.did,
          type: 'ReputationAttestation',
          validFrom: new Date(t0),
          validUntil: new Date(until),
          claims: { rating: { score: 1 }, interaction: rid },
          credentialSchema: { id: schemaIdFor('ReputationAttestation')!, type: 'JsonSchema' },
          extra: { evidence: [{ id: rid, type: ['Evidence', 'InteractionReceipt'], receipt: r }] },
        })
      ).jwt;
    const longer = await attest(t0 + 30 * 24 * HOUR);
    await importAttestations(store, [longer], { resolver, status, now: new Date(t0 + 60_000) });
    const mid = await at(agent.did, [longer], t0 + HOUR, shop.did);
    expect([mid.a.score, mid.f.score, mid.r.score]).toEqual([1, 1, 1]);
    const past = await at(agent.did, [longer], t0 + 3 * HOUR, shop.did);
    expect([past.a.score, past.f.score, past.r.score]).toEqual([null, null, null]);
    // an attestation ending before its receipt: its own end holds (another agent, so the two do not share a listing)
    const agent2 = makeIssuer();
    const r2 = await receipt(agent2, shop, t0, { validUntil: t0 + 2 * HOUR });
    const rid2 = JSON.parse(Buffer.from(r2.split('.')[1]!, 'base64url').toString()).id as string;
    const shorter = (
      await issueCredential({
        issuer: shop,
        id: `urn:uuid:${randomUUID()}`,
        subject: agent2.did,
        type: 'ReputationAttestation',
        validFrom: new Date(t0),
        validUntil: new Date(t0 + HOUR),
        claims: { rating: { score: 1 }, interaction: rid2 },
        credentialSchema: { id: schemaIdFor('ReputationAttestation')!, type: 'JsonSchema' },
        extra: { evidence: [{ id: rid2, type: ['Evidence', 'InteractionReceipt'], receipt: r2 }] },
      })
    ).jwt;
    await importAttestations(store, [shorter], { resolver, status, now: new Date(t0 + 60_000) });
    const between = await at(agent2.did, [shorter], t0 + 1.5 * HOUR, shop.did);
    expect([between.a.score, between.f.score, between.r.score]).toEqual([null, null, null]);
  });

  it('a receipt with no end (issueReceipt) keeps the rating counting', async () => {
    const agent = makeIssuer();
    const shop = makeIssuer();
    const att = await issueAttestation(null, shop, { receiptJwt: (await issueReceipt(null, agent, { counterparty: shop.did, interactionId: 'open' })).jwt, score: 0.6 });
    await importAttestations(store, [att.jwt], { resolver, status });
    const later = await at(agent.did, [att.jwt], Date.now() + 365 * 24 * HOUR, shop.did);
    expect([later.a.score, later.f.score, later.r.score]).toEqual([0.6, 0.6, 0.6]);
  });
});

/** One attester, two attestations claiming one id: the same one counts in scoreAgent and in the store, whatever the order. */
describe('same-id attestations of one attester: one rule in every path', () => {
  async function pair(agent: Issuer, shop: Issuer, a: { score: number; from: number }, b: { score: number; from: number }) {
    const r = await issueReceipt(null, agent, { counterparty: shop.did, interactionId: `i-${randomUUID()}`, at: new Date(Math.min(a.from, b.from) - HOUR) });
    const id = `urn:uuid:${randomUUID()}`;
    const make = (x: { score: number; from: number }) =>
      issueCredential({
        issuer: shop,
        id,
        subject: agent.did,
        type: 'ReputationAttestation',
        validFrom: new Date(x.from),
        claims: { rating: { score: x.score }, interaction: r.id },
        credentialSchema: { id: schemaIdFor('ReputationAttestation')!, type: 'JsonSchema' },
        extra: { evidence: [{ id: r.id, type: ['Evidence', 'InteractionReceipt'], receipt: r.jwt }] },
      }).then((c) => c.jwt);
    return [await make(a), await make(b)] as const;
  }

  it.each([
    ['later first', [0, 1]],
    ['earlier first', [1, 0]],
  ] as const)('the earlier validFrom counts (%s), in scoreAgent and in one import', async (_, order) => {
    const now = Date.now();
    const agent = makeIssuer();
    const shop = makeIssuer();
    const [late0, early1] = await pair(agent, shop, { score: 0, from: now - 60_000 }, { score: 1, from: now - 30 * 60_000 });
    const given = order.map((i) => [late0, early1][i]!);
    const policy: ScorePolicy = { resolver, status, trustedAttesters: [shop.did] };
    const a = await scoreAgent(agent.did, given, policy);
    const db = await openSqliteStore(join(tempDir('charter-rep-sameid-'), 'r.db'));
    try {
      const imp = await importAttestations(db, given, { resolver, status });
      expect(imp.imported).toHaveLength(1);
      expect(imp.skipped.map((s) => s.code)).toEqual(['INVALID_CREDENTIAL']);
      const f = await scoreFromStore(db, agent.did, policy);
      expect(a.score).toBe(1);
      expect(f.score).toBe(1);
      expect(f.attestations.map((x) => x.issuedAt)).toEqual(a.attestations.map((x) => x.issuedAt));
    } finally {
      await db.close();
    }
  });

  it('at the same validFrom, the smaller JWT counts in both, whatever the order', async () => {
    const from = Date.now() - 60_000;
    const agent = makeIssuer();
    const shop = makeIssuer();
    const [x, y] = await pair(agent, shop, { score: 0.25, from }, { score: 0.75, from });
    const smaller = x < y ? 0.25 : 0.75;
    const policy: ScorePolicy = { resolver, status, trustedAttesters: [shop.did] };
    for (const given of [
      [x, y],
      [y, x],
    ]) {
      const db = await openSqliteStore(join(tempDir('charter-rep-sameid-'), 'r.db'));
      try {
        await importAttestations(db, given, { resolver, status });
        expect((await scoreFromStore(db, agent.did, policy)).score).toBe(smaller);
        expect((await scoreAgent(agent.did, given, policy)).score).toBe(smaller);
      } finally {
        await db.close();
      }
    }
  });
});
