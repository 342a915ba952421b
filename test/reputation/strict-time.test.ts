import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { issueCredential, schemaIdFor, signJwt, verifyCredential } from '../../src/credentials/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { receiptShapeReasons } from '../../src/credentials/receipt-shape.js';
import { receiptReasons } from '../../src/audit/receipt.js';
import { createResolver } from '../../src/did/index.js';
import { checkReceiptEvidence, decisionReceiptEvidence, importAttestations, interactionReceiptEvidence, scoreAgent } from '../../src/reputation/index.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { makeIssuer, removeTempDirs, tempDir } from '../helpers.js';

/**
 * The time a rating's evidence dates its interaction by is read strictly (RFC 3339 with a time zone,
 * encoding/time.ts), never by Date.parse: a time the schema's lenient `format: date-time` lets through
 * but no clock reads must not skip the time-order checks, and a decision receipt's time is read as
 * verifyReceipt reads it (iat its second), whatever the host's time zone.
 */
const resolver = createResolver();
const noStatus = async () => [];
const DAY = 86_400_000;
const HOST_TZ = process.env.TZ;
afterEach(() => {
  if (HOST_TZ === undefined) delete process.env.TZ;
  else process.env.TZ = HOST_TZ;
});
afterAll(() => removeTempDirs());

/** The agent's InteractionReceipt with `time` as given (issueCredential checks it against the schema only). */
const interactionReceipt = (agent: Issuer, shop: Issuer, time: string) =>
  issueCredential({
    issuer: agent,
    id: `urn:uuid:${randomUUID()}`,
    subject: shop.did,
    type: 'InteractionReceipt',
    claims: { interaction: { id: randomUUID(), agent: agent.did, time } },
    credentialSchema: { id: schemaIdFor('InteractionReceipt')!, type: 'JsonSchema' },
  });

const rate = (shop: Issuer, agent: string, interaction: string, evidence: unknown, validFrom: Date) =>
  issueCredential({
    issuer: shop,
    subject: agent,
    type: 'ReputationAttestation',
    validFrom,
    claims: { rating: { score: 1 }, interaction },
    credentialSchema: { id: schemaIdFor('ReputationAttestation')!, type: 'JsonSchema' },
    extra: { evidence: [evidence] },
  }).then((c) => c.jwt);

async function ratedOn(time: string, validFrom = new Date(Date.now() - DAY)) {
  const [agent, shop] = [makeIssuer(), makeIssuer()];
  const receipt = await interactionReceipt(agent, shop, time);
  const entry = { id: receipt.id, type: ['Evidence', 'InteractionReceipt'], receipt: receipt.jwt };
  const jwt = await rate(shop, agent.did, receipt.id, entry, validFrom);
  return { agent, shop, receipt, entry, jwt, policy: { resolver, status: noStatus, trustedAttesters: [shop.did] } };
}

/** Spellings ajv-formats' date-time takes that are no RFC 3339 date-time with a time zone (or no day at all). */
const LENIENT_FUTURE = ['2099-12-31T23:59:60Z', '2099-12-31T10:00:00+01', '2099-06-30T23:59:60.5+00:00'];
const LENIENT_PAST = ['2016-12-31T23:59:60Z', '2020-01-01T10:00:00+01', '2020-01-01T10:00:00-05'];

describe('an InteractionReceipt dates its interaction by a strict RFC 3339 time', () => {
  it('the schema signs the lenient spellings (the hole): a leap second and a two-digit offset are "date-time" to ajv', async () => {
    const [agent, shop] = [makeIssuer(), makeIssuer()];
    for (const time of [...LENIENT_FUTURE, ...LENIENT_PAST]) {
      const r = await interactionReceipt(agent, shop, time);
      expect([time, (await verifyCredential(r.jwt, { resolver, status: noStatus, requireType: 'InteractionReceipt' })).ok]).toEqual([time, true]);
    }
  });

  it('a rating of an interaction dated 2099 in a spelling Date.parse cannot read does not count', async () => {
    for (const time of LENIENT_FUTURE) {
      const { agent, jwt, policy } = await ratedOn(time);
      const s = await scoreAgent(agent.did, [jwt], policy);
      expect([time, s.counted, s.ignored.map((i) => i.code)]).toEqual([time, 0, ['RECEIPT_INVALID']]);
      expect(s.ignored[0]!.message).toMatch(/RFC 3339/);
    }
  });

  it('a past time in such a spelling is refused too: unreadable, not "undated"', async () => {
    for (const time of LENIENT_PAST) {
      const { agent, jwt, policy } = await ratedOn(time);
      const s = await scoreAgent(agent.did, [jwt], policy);
      expect([time, s.counted, s.ignored.map((i) => i.code)]).toEqual([time, 0, ['RECEIPT_INVALID']]);
    }
  });

  it('the evidence check itself refuses it (a custom evidence list or importer sees the same)', async () => {
    const { agent, shop, entry } = await ratedOn('2099-12-31T23:59:60Z');
    const ctx = {
      agent: agent.did,
      attester: shop.did,
      now: new Date(),
      resolver,
      verify: (j: string, type: string) => verifyCredential(j, { resolver, status: noStatus, requireType: type }),
    };
    expect(await interactionReceiptEvidence(entry, ctx)).toMatchObject({ code: 'RECEIPT_INVALID' });
    const ok = await ratedOn('2020-01-01T10:00:00+01:00');
    expect(await interactionReceiptEvidence(ok.entry, { ...ctx, agent: ok.agent.did, attester: ok.shop.did })).toMatchObject({ id: ok.receipt.id, at: Date.UTC(2020, 0, 1, 9) });
  });

  it('importAttestations records none of them, and records the strict control', async () => {
    const store = await openSqliteStore(join(tempDir(), 'strict-time.db'));
    try {
      const bad = await Promise.all([...LENIENT_FUTURE, ...LENIENT_PAST].map((t) => ratedOn(t)));
      const good = await ratedOn(new Date(Date.now() - 2 * DAY).toISOString());
      const r = await importAttestations(store, [...bad.map((b) => b.jwt), good.jwt], { resolver, status: noStatus });
      expect(r.imported.length).toBe(1);
      expect(r.skipped.map((s) => s.code)).toEqual(bad.map(() => 'RECEIPT_INVALID'));
    } finally {
      await store.close();
    }
  });

  it('strict times count as before, and their offset is applied: Z, ±hh:mm, -00:00, more fraction digits than ms', async () => {
    const at = new Date(Date.now() - 2 * DAY);
    const iso = at.toISOString().slice(0, 19);
    for (const time of [`${iso}Z`, `${iso}.123456789Z`, `${iso}-00:00`, `${iso}+00:00`]) {
      const { agent, jwt, policy } = await ratedOn(time);
      expect([time, (await scoreAgent(agent.did, [jwt], policy)).counted]).toEqual([time, 1]);
    }
    // +14:00 puts the instant 14 h earlier than the wall clock; -12:00 12 h later: the time-order check sees the instant.
    const wall = new Date(Date.now() + 6 * 3_600_000).toISOString().slice(0, 19);
    const east = await ratedOn(`${wall}+14:00`, new Date());
    expect((await scoreAgent(east.agent.did, [east.jwt], east.policy)).counted).toBe(1);
    const west = await ratedOn(`${wall}-12:00`, new Date());
    expect((await scoreAgent(west.agent.did, [west.jwt], west.policy)).ignored.map((i) => i.code)).toEqual(['RECEIPT_INVALID']);
  });
});

/** A decision receipt as verifyReceipt's shape wants it, with `time` and `iat` as given. */
function receiptPayload(verifier: Issuer, agent: string, time: string, iat: number): Record<string, unknown> {
  return {
    iss: verifier.did,
    sub: agent,
    kind: 'decision',
    decision: 'allow',
    jti: `urn:uuid:${randomUUID()}`,
    iat,
    time,
    log: { chain: `urn:uuid:${randomUUID()}`, seq: 1, prev: null },
    verifier: verifier.did,
    status: 200,
    reasons: [],
    request: { kind: 'none' },
    policy: { kind: 'agent' },
    credentials: [],
    chain: [],
  };
}

const sign = (verifier: Issuer, payload: Record<string, unknown>) => signJwt({ typ: 'charter-receipt+jwt' }, payload, verifier.signer, verifier.kid);
const second = (ms: number) => Math.floor(ms / 1000);

async function scoredOnReceipt(time: string, iat: number) {
  const [agent, shop] = [makeIssuer(), makeIssuer()];
  const payload = receiptPayload(shop, agent.did, time, iat);
  const receipt = await sign(shop, payload);
  const ev = decisionReceiptEvidence(receipt);
  const s = await scoreAgent(agent.did, [await rate(shop, agent.did, ev.id, ev, new Date())], { resolver, status: noStatus, trustedAttesters: [shop.did] });
  const checked = await checkReceiptEvidence(receipt, { resolver, agent: agent.did, attester: shop.did });
  return { payload, s, checked };
}

describe('a decision receipt as evidence reads its time as verifyReceipt does', () => {
  it('a zone-less time is refused in every host time zone (Date.parse would read it as local time)', async () => {
    // The UTC wall clock 3 h ahead: in the future for a UTC host, 11 h ago for a host at +14:00.
    const ahead = Date.now() + 3 * 3_600_000;
    const wall = new Date(ahead).toISOString().slice(0, 19);
    for (const tz of ['UTC', 'America/Los_Angeles', 'Pacific/Kiritimati']) {
      process.env.TZ = tz;
      const { s, checked } = await scoredOnReceipt(wall, second(ahead));
      expect([tz, s.counted, s.ignored.map((i) => i.code), checked.ok]).toEqual([tz, 0, ['RECEIPT_INVALID'], false]);
    }
  });

  it('"Dec 1 2026", an impossible day, a lower-case or space separator: not a receipt time', async () => {
    for (const [time, iat] of [
      ['Dec 1 2026', 2_000_000_000],
      ['Dec 1 2026', second(Date.parse('Dec 1 2026'))],
      ['2026-02-30T10:00:00Z', second(Date.UTC(2026, 2, 2, 10))],
      ['2024-06-01t10:00:00z', second(Date.UTC(2024, 5, 1, 10))],
      ['2024-06-01 10:00:00Z', second(Date.UTC(2024, 5, 1, 10))],
      ['2016-12-31T23:59:60Z', second(Date.UTC(2017, 0, 1))],
    ] as const) {
      const { s, checked } = await scoredOnReceipt(time, iat);
      expect([time, s.counted, checked.ok]).toEqual([time, 0, false]);
      expect(checked.reasons[0]!.message).toMatch(/RFC 3339/);
    }
  });

  it('iat must be the second of time: an hour off, or a second off, is refused; the same instant in another offset is fine', async () => {
    const at = Date.now() - DAY;
    const time = new Date(at).toISOString();
    for (const iat of [second(at) + 3600, second(at) - 3600, second(at) + 1, second(at) - 1]) {
      const { s, checked } = await scoredOnReceipt(time, iat);
      expect([iat - second(at), s.counted, checked.reasons.map((r) => r.message)]).toEqual([iat - second(at), 0, [expect.stringMatching(/iat is not the second of its time/)]]);
    }
    for (const t of [time, `${time.slice(0, 19)}.999999Z`, `${new Date(at + 2 * 3_600_000).toISOString().slice(0, 19)}+02:00`]) {
      const { s, checked } = await scoredOnReceipt(t, second(Date.parse(`${time.slice(0, 19)}Z`)));
      expect([t, s.counted, checked.ok]).toEqual([t, 1, true]);
    }
  });

  it("one rule with verifyReceipt's: evidence accepts a payload exactly when receiptReasons does", async () => {
    const shop = makeIssuer();
    const agent = makeIssuer();
    const at = Date.now() - DAY;
    const iso = new Date(at).toISOString();
    const cases: [string, number][] = [
      [iso, second(at)],
      [iso, second(at) + 7200],
      [iso.slice(0, 19), second(at)],
      ['Dec 1 2026', 2_000_000_000],
      [`${iso.slice(0, 19)}+00`, second(at)],
      [`${iso.slice(0, 19)}-00:00`, second(at)],
    ];
    for (const [time, iat] of cases) {
      const payload = receiptPayload(shop, agent.did, time, iat);
      const audit = receiptReasons(payload).map((r) => r.code);
      expect([time, receiptShapeReasons(payload).map((r) => r.code)]).toEqual([time, audit]);
      const checked = await checkReceiptEvidence(await sign(shop, payload), { resolver, agent: agent.did, attester: shop.did });
      expect([time, checked.ok]).toEqual([time, audit.length === 0]);
    }
  });

  it('the decision time it reports is the one the evidence check reads (strict), and a real one still rates', async () => {
    const at = Date.now() - DAY;
    const { checked, payload } = await scoredOnReceipt(new Date(at).toISOString(), second(at));
    expect(checked).toMatchObject({ ok: true, at: payload.time });
  });
});
