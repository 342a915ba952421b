import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../src/guard/decide.js';
import { createVerifier, type Verifier } from '../../src/guard/verifier.js';
import { acceptAccessReport, accessReports, createAccessReport, exportEvidence, reportableReceipts, verifyEvidence, homeReportUrl } from '../../src/audit/index.js';
import type { DecisionReceipt } from '../../src/audit/receipt.js';
import type { Issuer } from '../../src/credentials/types.js';
import { acceptedStatus, leavePool, membershipOf, signLeave } from '../../src/pools/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { bound } from '../http/present.js';
import { tempDir } from '../helpers.js';
import { openPoolWorld, type PoolWorld } from './world.js';

/**
 * A pool's grant is issued by the pool, never by the member whose data is
 * asked for: a refusal's receipt withholds that member's DID (it goes back to
 * whoever asked), and its bundle still re-checks offline, the owner's own
 * codes (MEMBER_WITHDRAWN) taken as recorded and every other one re-derived.
 */
const API = 'did:web:health-data.example';
const URL_ = 'http://127.0.0.1:9999/members/m0/sleep';
let w: PoolWorld;
let api: Store;
let shop: Issuer;
let v: Verifier;
beforeAll(async () => {
  w = await openPoolWorld();
  api = await openSqliteStore(join(tempDir('charter-pool-receipts-'), 'api.db'));
  await w.home.createIdentity({ alias: 'shop' });
  shop = await w.home.issuer('shop');
  // The world's current checker (freshStatus replaces it), snapshots included (what receipts keep as evidence).
  const status = Object.assign((c: Parameters<PoolWorld['status']>[0], ctx: Parameters<PoolWorld['status']>[1]) => w.status(c, ctx), {
    snapshot: (url: string) => w.status.snapshot(url),
  });
  v = createVerifier({ aud: API, store: api, resolver: w.resolver, status, http: false, receipts: { signer: shop } });
}, 60_000);
afterAll(async () => {
  await api?.close();
  await w?.close();
});

const payloadOf = (jws: string) => JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()) as DecisionReceipt;
/** The receipt but its evidence: the DIDs resolved for the grant's votes (members who approved) are in the grant the caller holds. */
const named = (jws: string) => JSON.stringify({ ...payloadOf(jws), evidence: undefined });
const binding = { kind: 'http' as const, method: 'GET', url: URL_ };
const policy = (owner: string, purpose = 'model-training') => ({ kind: 'grant' as const, resource: 'health/m0/sleep', action: 'read', owner, purpose });

async function evidence(receiptId: string) {
  await v.receipts!.flush();
  const e = await verifyEvidence(await exportEvidence(api, receiptId, { signer: shop }));
  expect(e.parts.filter((p) => !p.ok).map((p) => `${p.part}: ${p.reasons.map((r) => r.message).join('; ')}`)).toEqual([]);
  return e;
}

describe("receipts of a pool's grant", () => {
  it('allowed: the member is named and the bundle re-checks; refused for the terms: withheld, re-checked for the terms', async () => {
    const owner = w.members[0]!.did;
    const g = await w.grant({ terms: { purpose: ['model-training'] } });
    const ok = await decide(v, await bound(w.platform, [g.jwt], { aud: API, url: URL_ }), policy(owner), binding);
    expect(ok.ok).toBe(true);
    expect(payloadOf(ok.receipt!).policy).toMatchObject({ owner });
    expect((await evidence(ok.receiptId!)).ok).toBe(true);

    const no = await decide(v, await bound(w.platform, [g.jwt], { aud: API, url: URL_ }), policy(owner, 'advertising'), binding);
    expect(no.reasons.map((r) => r.code)).toEqual(['PURPOSE_NOT_ALLOWED']);
    expect(payloadOf(no.receipt!).policy).toMatchObject({ ownerWithheld: true });
    expect(named(no.receipt!)).not.toContain(owner);
    const e = await evidence(no.receiptId!);
    expect(e.ok).toBe(true);
  });

  it("a pool grant's allowed use (naming the member, not the pool) is reported and kept; its refusals (owner withheld) are not sent", async () => {
    const owner = w.members[1]!.did;
    const g = await w.grant({ terms: { purpose: ['model-training'] } });
    const ok = await decide(v, await bound(w.platform, [g.jwt], { aud: API, url: URL_ }), policy(owner), binding);
    const no = await decide(v, await bound(w.platform, [g.jwt], { aud: API, url: URL_ }), policy(owner, 'advertising'), binding);
    expect([ok.ok, no.ok]).toEqual([true, false]);
    expect(reportableReceipts(g.jwt, [ok.receipt!, no.receipt!])).toEqual([ok.receipt!]);
    // The pool's home takes it (the verifier reporting its own receipt), and shows it as a use inside the grant.
    const r = await acceptAccessReport(w.home.store, await createAccessReport(shop, { aud: homeReportUrl(w.server.url), grant: g.id, receipts: [ok.receipt!, no.receipt!] }), {
      resolver: w.resolver,
      aud: homeReportUrl(w.server.url),
    });
    expect([r.accepted, r.refused.map((x) => x.index)]).toEqual([1, [1]]);
    const uses = await accessReports(w.home.store, g.id);
    expect(uses.map((u) => [u.outcome, u.outsideGrant === true])).toEqual([['allow', false]]);
  });

  it('a member who withdrew: MEMBER_WITHDRAWN, the member withheld, the bundle verifies', async () => {
    const g = await w.grant({ terms: { purpose: ['model-training'] } });
    const leaver = w.members[0]!;
    const held = await membershipOf(w.home.store, w.pool.did, leaver.did);
    await leavePool(w.home.store, w.pool, {
      notice: await signLeave(leaver, w.pool.did, acceptedStatus((held!.subject.membership as { accepted: string }).accepted)),
      resolver: w.resolver,
    });
    w.freshStatus();
    const d = await decide(v, await bound(w.platform, [g.jwt], { aud: API, url: URL_ }), policy(leaver.did), binding);
    expect(d.reasons.map((r) => r.code)).toEqual(['MEMBER_WITHDRAWN']);
    expect(payloadOf(d.receipt!).policy).toMatchObject({ ownerWithheld: true });
    expect(named(d.receipt!)).not.toContain(leaver.did);
    expect((await evidence(d.receiptId!)).ok).toBe(true);
  });
});
