import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPresentation } from '../../src/credentials/index.js';
import { orderChain } from '../../src/agents/index.js';
import { sha256Digest } from '../../src/encoding/json.js';
import { CharterError } from '../../src/errors.js';
import { decide } from '../../src/guard/decide.js';
import { authorizeTransaction, guardTransaction } from '../../src/guard/transaction.js';
import { verifyReceipt, verifyAuditLog, type DecisionReceipt, type SettlementReceipt } from '../../src/audit/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import type { Store } from '../../src/store/types.js';
import { bound, URL_ } from '../http/present.js';
import { API, openWorld, type World } from '../http/world.js';

let w: World;
let api: Issuer;
beforeAll(async () => {
  w = await openWorld();
  await w.home.createIdentity({ alias: 'api' });
  api = await w.home.issuer('api');
});
afterAll(async () => w.close());

const http = (url = URL_) => ({ kind: 'http' as const, method: 'GET', url });
const grantPolicy = (resource = 'profile/email') => ({ kind: 'grant' as const, resource, action: 'read', owner: w.alice.did });
const claimsOf = <T>(jws: string) => JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()) as T;

describe('decision receipts', () => {
  it('an allowed grant request gets a signed receipt: decision, binding, hashes of the presentation and each credential, the authority, the evidence used', async () => {
    const v = w.verifier({ receipts: { signer: api }, trustHostHeader: undefined, http: false });
    const g = await w.grant();
    const vp = await bound(w.app, [g.jwt]);
    const d = await decide(v, vp, grantPolicy(), { kind: 'claims', claims: { htm: 'GET', htu: URL_ } });
    expect(d.ok).toBe(true);
    const r = await verifyReceipt(d.receipt!, { resolver: w.resolver, issuers: [api.did] });
    expect(r.reasons).toEqual([]);
    const c = r.claims as DecisionReceipt;
    expect(c).toMatchObject({
      iss: api.did,
      jti: d.receiptId,
      kind: 'decision',
      verifier: API,
      decision: 'allow',
      status: 200,
      reasons: [],
      sub: w.app.did,
      vp: sha256Digest(vp),
      credentials: [{ h: sha256Digest(g.jwt), id: g.id, iss: w.alice.did, type: ['DataAccessGrant'] }],
      chain: [{ id: g.id, iss: w.alice.did }],
      policy: { kind: 'grant', resource: 'profile/email', action: 'read', owner: w.alice.did },
      log: { chain: v.receipts!.chain, seq: 1, prev: null },
    });
    expect(Object.keys(c.evidence!.did).sort()).toEqual([api.did, w.alice.did, w.app.did].sort());
    // A grant has a revocation and a suspension entry: both lists, as fetched.
    expect(Object.keys(c.evidence!.status)).toHaveLength(2);
    // Only hashes and ids: the grant's contents (resources, purpose) are not in the receipt.
    expect(d.receipt!.length).toBeLessThan(4096);
    expect(JSON.stringify(c)).not.toContain('tests');
  });

  it('refusals get receipts too, with every reason code; a replay is refused and receipted', async () => {
    const v = w.verifier({ receipts: { signer: api } });
    const g = await w.grant();
    const vp = await bound(w.app, [g.jwt], { url: 'http://127.0.0.1:9999/calendar' });
    const scope = await decide(v, vp, grantPolicy('calendar'), http('http://127.0.0.1:9999/calendar'));
    expect(scope).toMatchObject({ ok: false, status: 403, reasons: [{ code: 'GRANT_SCOPE' }] });
    expect(claimsOf<DecisionReceipt>(scope.receipt!)).toMatchObject({
      decision: 'deny',
      status: 403,
      reasons: ['GRANT_SCOPE'],
      request: { htm: 'GET', htu: 'http://127.0.0.1:9999/calendar' },
      log: { seq: 1 },
    });
    const ok = await bound(w.app, [g.jwt]);
    expect((await decide(v, ok, grantPolicy(), http())).ok).toBe(true);
    const replay = await decide(v, ok, grantPolicy(), http());
    expect(claimsOf<DecisionReceipt>(replay.receipt!)).toMatchObject({ decision: 'deny', status: 401, reasons: ['REPLAY_DETECTED'], log: { seq: 3 } });
    const none = await decide(v, undefined, { kind: 'presentation' }, { kind: 'none' });
    expect(claimsOf<DecisionReceipt>(none.receipt!)).toMatchObject({
      decision: 'deny',
      reasons: ['INVALID_PRESENTATION'],
      request: { none: true },
      credentials: [],
      log: { seq: 4 },
    });
    expect(claimsOf<DecisionReceipt>(none.receipt!).vp).toBeUndefined();
    const log = await verifyAuditLog(w.apiStore, { resolver: w.resolver, chain: v.receipts!.chain });
    expect(log).toMatchObject({ ok: true, chains: [{ entries: 4, first: 1, last: 4 }] });
  });

  it("unauthenticated: 'skip' writes no receipt for a request whose presentation did not authenticate", async () => {
    const v = w.verifier({ receipts: { signer: api, unauthenticated: 'skip' } });
    const none = await decide(v, 'not-a-jwt', { kind: 'presentation' }, { kind: 'none' });
    expect(none.ok).toBe(false);
    expect(none.receipt).toBeUndefined();
    const g = await w.grant();
    const scope = await decide(v, await bound(w.app, [g.jwt]), grantPolicy('calendar'), http());
    expect(scope.receipt).toBeDefined();
  });

  it('a decision whose receipt cannot be logged is not made: 503, and the spend it reserved is released', async () => {
    let failing = false;
    const store: Store = { ...w.apiStore, appendAudit: (b) => (failing ? Promise.reject(new CharterError('STORE_UNAVAILABLE', 'down')) : w.apiStore.appendAudit(b)) };
    const v = w.verifier({ store, receipts: { signer: api } });
    const mandate = await w.mandate({ limits: { budget: { amount: '50', currency: 'USD', period: 'P30D' }, counterparties: [API] } });
    const present = () => createPresentation({ holder: w.agent, credentials: [w.agentIdentity, ...orderChain([mandate])], aud: API });
    const request = { verifier: v, action: 'purchase', amount: '50 USD', trust: { principals: [w.principal.did] } };
    failing = true;
    let ran = false;
    const refused = await guardTransaction(await present(), request, () => (ran = true));
    expect(refused).toMatchObject({ ok: false, status: 503, reasons: [{ code: 'STORE_UNAVAILABLE' }] });
    expect(ran).toBe(false);
    failing = false;
    // The whole budget is free again: the reservation of the unlogged decision was released.
    const r = await guardTransaction(await present(), request, () => 'paid');
    expect(r).toMatchObject({ ok: true, spend: 'committed' });
    // The chain stayed whole: the failed batch took no place in it.
    expect(await verifyAuditLog(w.apiStore, { resolver: w.resolver, chain: v.receipts!.chain })).toMatchObject({ ok: true, chains: [{ entries: 2 }] });
  });

  it('a transaction with a budget: the receipt records the reservation, and a settlement receipt follows it in the log', async () => {
    const v = w.verifier({ receipts: { signer: api } });
    const mandate = await w.mandate();
    const vp = await createPresentation({ holder: w.agent, credentials: [w.agentIdentity, ...orderChain([mandate])], aud: API });
    const r = await guardTransaction(vp, { verifier: v, action: 'purchase', amount: '20 USD', trust: { principals: [w.principal.did] } }, () => 'done');
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const c = claimsOf<DecisionReceipt>(r.receipt!);
    expect(c).toMatchObject({
      decision: 'allow',
      sub: w.agent.did,
      principal: w.principal.did,
      policy: { kind: 'agent', action: 'purchase', amount: { amount: '20', currency: 'USD' }, counterparty: API },
      spend: { state: 'reserved', amount: { amount: '20', currency: 'USD' } },
    });
    expect(c.chain.map((l) => l.iss)).toEqual([w.principal.did]);
    const s = claimsOf<SettlementReceipt>(r.settlement!);
    expect(s).toMatchObject({ kind: 'settlement', receipt: c.jti, spend: { reservation: c.spend!.reservation, state: 'committed' }, log: { seq: c.log.seq + 1 } });
    // Released through authorizeTransaction's hold: logged as released.
    const d = await authorizeTransaction(await createPresentation({ holder: w.agent, credentials: [w.agentIdentity, ...orderChain([mandate])], aud: API }), {
      verifier: v,
      action: 'purchase',
      amount: '5 USD',
      trust: { principals: [w.principal.did] },
    });
    await d.spend!.release();
    expect(claimsOf<SettlementReceipt>(d.spend!.receipt!).spend.state).toBe('released');
    const entries = await w.apiStore.listAudit({ chain: v.receipts!.chain });
    expect(entries.map((e) => e.outcome)).toEqual(['allow', 'committed', 'allow', 'released']);
  });

  it('a checkpoint is signed every checkpointEvery entries, and on demand', async () => {
    const v = w.verifier({ receipts: { signer: api, checkpointEvery: 3 } });
    for (let i = 0; i < 7; i++) await decide(v, undefined, { kind: 'presentation' }, { kind: 'none' });
    const cps = await w.apiStore.listAuditCheckpoints(v.receipts!.chain);
    expect(cps.map((c) => c.seq)).toEqual([3, 6]);
    const now = await v.receipts!.checkpoint();
    expect(now?.seq).toBe(7);
    expect(await verifyAuditLog(w.apiStore, { resolver: w.resolver, chain: v.receipts!.chain })).toMatchObject({ ok: true, chains: [{ entries: 7, checkpoints: 3 }] });
  });

  it('concurrent decisions of one verifier share batches and still form one unbroken chain', async () => {
    const v = w.verifier({ receipts: { signer: api, checkpointEvery: 10 } });
    const g = await w.grant();
    const results = await Promise.all(Array.from({ length: 40 }, async () => decide(v, await bound(w.app, [g.jwt]), grantPolicy(), http())));
    expect(results.every((d) => d.ok && d.receipt)).toBe(true);
    expect(new Set(results.map((d) => claimsOf<DecisionReceipt>(d.receipt!).log.seq)).size).toBe(40);
    const log = await verifyAuditLog(w.apiStore, { resolver: w.resolver, chain: v.receipts!.chain });
    expect(log).toMatchObject({ ok: true, chains: [{ entries: 40 }] });
    // Checkpoints fall on batch boundaries, at least every 10 entries' worth.
    expect(log.chains[0]!.checkpoints).toBeGreaterThanOrEqual(1);
  });

  it("append: 'after-reply' hands receipts out once signed and placed; entries are stored in order, retried through a store outage", async () => {
    let failing = false;
    const store: Store = { ...w.apiStore, appendAudit: (b) => (failing ? Promise.reject(new CharterError('STORE_UNAVAILABLE', 'down')) : w.apiStore.appendAudit(b)) };
    const v = w.verifier({ store, receipts: { signer: api, append: 'after-reply', checkpointEvery: 4 } });
    const g = await w.grant();
    failing = true;
    const during = await Promise.all(Array.from({ length: 6 }, async () => decide(v, await bound(w.app, [g.jwt]), grantPolicy(), http())));
    expect(during.every((d) => d.ok && d.receipt)).toBe(true);
    expect(await w.apiStore.listAudit({ chain: v.receipts!.chain })).toEqual([]);
    failing = false;
    await v.receipts!.flush();
    const log = await verifyAuditLog(w.apiStore, { resolver: w.resolver, chain: v.receipts!.chain });
    expect(log).toMatchObject({ ok: true, chains: [{ entries: 6 }] });
    // Each receipt handed out is the one stored, in its place.
    for (const d of during) expect((await w.apiStore.findAudit(d.receiptId!))?.jws).toBe(d.receipt);
  });

  it('misuse is a TypeError when the verifier is built', () => {
    expect(() => w.verifier({ receipts: {} as never })).toThrow(TypeError);
    expect(() => w.verifier({ receipts: { signer: api, unauthenticated: 'never' as never } })).toThrow(TypeError);
    expect(() => w.verifier({ receipts: { signer: api, checkpointEvery: -1 } })).toThrow(TypeError);
    expect(() => w.verifier({ receipts: { signer: api, append: 'later' as never } })).toThrow(TypeError);
  });
});
