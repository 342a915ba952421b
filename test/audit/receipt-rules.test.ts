import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPresentation } from '../../src/credentials/index.js';
import { orderChain } from '../../src/agents/index.js';
import { createResolver, didKeyRef } from '../../src/did/index.js';
import { decide } from '../../src/guard/decide.js';
import { guardTransaction } from '../../src/guard/transaction.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { decodeReceipt, exportEvidence, signCheckpoint, verifyAuditLog, verifyEvidence, verifyReceipt } from '../../src/audit/index.js';
import { CHECKPOINT_TYP, RECEIPT_TYP, signCanonical, signPayload } from '../../src/audit/jws.js';
import { sha256Digest } from '../../src/encoding/json.js';
import type { Issuer } from '../../src/credentials/types.js';
import type { LocalSigner } from '../../src/keys/types.js';
import { bound } from '../http/present.js';
import { API, openWorld, type World } from '../http/world.js';
import { makeIssuer, tempDir } from '../helpers.js';

/**
 * A signed receipt is read one way only: its time and iat agree, its header
 * says nothing its payload does not (no other iss, no b64), its status fits
 * its decision, its place in the chain is coherent, and its payload bytes
 * are the one form Charter writes. Each rule is attacked from several
 * angles, through verifyReceipt, the audit log and an evidence bundle, and
 * every receipt and checkpoint Charter itself signs still verifies.
 */
const v = makeIssuer();
const resolver = createResolver();
const base = {
  iss: v.did,
  jti: 'urn:uuid:00000000-0000-7000-8000-000000000001',
  iat: 1_700_000_000,
  time: '2023-11-14T22:13:20.000Z',
  kind: 'decision',
  verifier: 'did:web:api.example',
  decision: 'deny',
  status: 401,
  reasons: ['INVALID_PRESENTATION'],
  request: { none: true },
  policy: { kind: 'presentation' },
  credentials: [],
  chain: [],
  log: { chain: 'urn:uuid:c', seq: 1, prev: null },
};
/** A settlement of `base`'s decision, at seq 2, signed as `iss`. */
const settlementBy = (iss: string) => ({
  iss,
  jti: 'urn:uuid:s',
  iat: base.iat,
  time: base.time,
  kind: 'settlement',
  receipt: base.jti,
  spend: { reservation: 'r', state: 'committed' },
  log: { chain: 'urn:uuid:c', seq: 2, prev: 'sha256-x' },
});
const b64 = (s: string) => Buffer.from(s).toString('base64url');
/** A compact JWS of exactly this header and payload text, signed by `by`. */
async function raw(header: Record<string, unknown>, payload: string, by: Issuer = v): Promise<string> {
  const input = `${b64(JSON.stringify(header))}.${b64(payload)}`;
  return `${input}.${Buffer.from(await by.signer.sign(new TextEncoder().encode(input))).toString('base64url')}`;
}
const header = { alg: v.signer.alg, kid: v.kid, typ: RECEIPT_TYP };
const codes = async (jws: string, issuers = [v.did]) => (await verifyReceipt(jws, { resolver, issuers })).reasons.map((r) => r.code);
const messages = async (jws: string) => (await verifyReceipt(jws, { resolver, issuers: [v.did] })).reasons.map((r) => r.message).join('; ');

describe('verifyReceipt: the rules a receipt holds to', () => {
  it('the form Charter writes verifies (JSON.stringify and canonical JSON alike), and a header replicating a claim with the same value is fine', async () => {
    expect(await codes(await raw(header, JSON.stringify(base)))).toEqual([]);
    expect(await codes((await signCanonical(RECEIPT_TYP, base, v)).jws)).toEqual([]);
    expect(await codes(await raw({ ...header, iss: v.did, jti: base.jti }, JSON.stringify(base)))).toEqual([]);
  });

  const times: Record<string, Partial<typeof base> | Record<string, unknown>> = {
    'time a bare number': { time: '1' },
    'time in RFC 2822': { time: 'Tue, 14 Nov 2023 22:13:20 GMT' },
    'time a date only': { time: '2023-11-14' },
    'time with no zone (local time)': { time: '2023-11-14T22:13:20' },
    'time on 30 February': { time: '2023-02-30T22:13:20.000Z' },
    'time missing the T': { time: '2023-11-14 22:13:20Z' },
    'iat ten years after time': { iat: base.iat + 315_360_000 },
    'iat one second after time': { iat: base.iat + 1 },
    'iat one second before time': { iat: base.iat - 1 },
    'iat negative': { iat: -5 },
    'iat a fraction': { iat: base.iat + 0.5 },
    'iat as a string': { iat: String(base.iat) },
  };
  for (const [name, over] of Object.entries(times)) {
    it(`${name}: RECEIPT_INVALID`, async () => {
      expect(await codes(await raw(header, JSON.stringify({ ...base, ...over })))).toEqual(['RECEIPT_INVALID']);
    });
  }
  it('time with an offset whose second is iat is one instant, read one way: accepted', async () => {
    expect(await codes(await raw(header, JSON.stringify({ ...base, time: '2023-11-14T23:13:20.999+01:00' })))).toEqual([]);
  });

  it('the header: b64 (RFC 7797) either way, a replicated iss, sub, iat or jti of another value: RECEIPT_INVALID; crit: refused', async () => {
    const other = makeIssuer();
    for (const h of [{ b64: true }, { iss: other.did }, { sub: other.did }, { iat: base.iat + 1 }, { jti: 'urn:uuid:other' }, { iss: null }]) {
      expect([h, await codes(await raw({ ...header, ...h }, JSON.stringify(base)))]).toEqual([h, ['RECEIPT_INVALID']]);
    }
    // An unencoded payload is no compact JWS Charter reads at all.
    expect(await codes(await raw({ ...header, b64: false }, JSON.stringify(base)))).toEqual(['MALFORMED_JWT']);
    expect(await messages(await raw({ ...header, iss: other.did }, JSON.stringify(base)))).toMatch(/header parameter "iss" differs/);
    expect((await codes(await raw({ ...header, b64: false, crit: ['b64'] }, JSON.stringify(base)))).length).toBeGreaterThan(0);
  });

  it('payload bytes in any other spelling of the same claims: leading or trailing whitespace, pretty-printed, an escaped letter, 401.0, 4.01e2', async () => {
    const text = JSON.stringify(base);
    const variants = [
      ' ' + text,
      text + '\n',
      '\ufeff' + text,
      JSON.stringify(base, null, 2),
      text.replace('"deny"', '"d\\u0065ny"'),
      text.replace('"status":401', '"status":401.0'),
      text.replace('"status":401', '"status":4.01e2'),
      text.replace('"request":{"none":true}', '"request":{ "none":true}'),
    ];
    for (const payload of variants) {
      const jws = await raw(header, payload);
      const r = await verifyReceipt(jws, { resolver, issuers: [v.did] });
      expect(r.ok).toBe(false);
    }
    expect(await messages(await raw(header, ' ' + text))).toMatch(/not in the form Charter signs/);
  });

  const coherence: Record<string, Record<string, unknown>> = {
    'a deny with status 200': { status: 200 },
    'a deny with status 399': { status: 399 },
    'an allow with status 403': { decision: 'allow', reasons: [], status: 403 },
    'an allow with status 400': { decision: 'allow', reasons: [], status: 400 },
    'a status of 99': { status: 99 },
    'a status of 600': { status: 600 },
    'a status with a fraction': { status: 401.5 },
    'seq 1 naming a prev': { log: { chain: 'urn:uuid:c', seq: 1, prev: 'sha256-x' } },
    'seq 2 with no prev': { log: { chain: 'urn:uuid:c', seq: 2, prev: null } },
    'an empty jti': { jti: '' },
  };
  for (const [name, over] of Object.entries(coherence)) {
    it(`${name}: RECEIPT_INVALID, from verifyReceipt and in a bundle`, async () => {
      const claims = { ...base, ...over };
      const { jws, hash } = await signCanonical(RECEIPT_TYP, claims, v);
      expect(await codes(jws)).toEqual(['RECEIPT_INVALID']);
      const log = claims.log as { chain: string; seq: number };
      const cp = await signCheckpoint(v, log.chain, log.seq, hash);
      const bundle = {
        type: 'CharterEvidenceBundle',
        version: 1,
        exportedAt: base.time,
        receipt: jws,
        settlements: [],
        credentials: [],
        dids: {},
        statusLists: {},
        log: { entries: [jws], checkpoint: cp.jws },
      };
      expect((await verifyEvidence(bundle)).ok).toBe(false);
    });
  }

  it('an allow with status 200 and a deny with 401, 403, 429 or 503 verify; a settlement at seq 2 with its prev verifies', async () => {
    expect(await codes((await signCanonical(RECEIPT_TYP, { ...base, decision: 'allow', reasons: [], status: 200 }, v)).jws)).toEqual([]);
    for (const status of [401, 403, 429, 503]) expect(await codes((await signCanonical(RECEIPT_TYP, { ...base, status }, v)).jws)).toEqual([]);
    const settlement = settlementBy(v.did);
    expect(await codes((await signCanonical(RECEIPT_TYP, settlement, v)).jws)).toEqual([]);
    expect(await codes((await signCanonical(RECEIPT_TYP, { ...settlement, iat: 1 }, v)).jws)).toEqual(['RECEIPT_INVALID']);
    expect(await codes((await signCanonical(RECEIPT_TYP, { ...settlement, jti: '' }, v)).jws)).toEqual(['RECEIPT_INVALID']);
  });
});

describe('verifyReceipt: only a signer you accept', () => {
  const allow = { ...base, decision: 'allow', reasons: [], status: 200 };
  const verdict = async (jws: string, issuers: readonly string[]) => {
    const r = await verifyReceipt(jws, { resolver, issuers });
    return [r.ok, r.reasons.map((x) => x.code)];
  };

  it("an allow signed by anyone else (the agent's own key, a did:jwk of the verifier's very key, a fresh P-256 key) is UNTRUSTED_ISSUER, though its signature is valid", async () => {
    const agent = makeIssuer();
    const sameKeyAsJwk = { ...didKeyRef('jwk', v.publicJwk), signer: v.signer };
    for (const by of [agent, makeIssuer('P-256'), makeIssuer('Ed25519', 'jwk'), sameKeyAsJwk]) {
      const forged = (await signCanonical(RECEIPT_TYP, { ...allow, iss: by.did }, by)).jws;
      expect(await verdict(forged, [v.did])).toEqual([false, ['UNTRUSTED_ISSUER']]);
      // The same receipt, accepted by whoever pins that signer.
      expect(await verdict(forged, [by.did])).toEqual([true, []]);
    }
    // A settlement too; and the receipt's own rules still apply under an untrusted signer.
    const settlement = settlementBy(agent.did);
    expect(await verdict((await signCanonical(RECEIPT_TYP, settlement, agent)).jws, [v.did])).toEqual([false, ['UNTRUSTED_ISSUER']]);
    expect(await verdict((await signCanonical(RECEIPT_TYP, { ...allow, iss: agent.did, status: 401 }, agent)).jws, [v.did])).toEqual([
      false,
      ['UNTRUSTED_ISSUER', 'RECEIPT_INVALID'],
    ]);
  });

  it("the verifier's own receipt verifies among several accepted signers, and matching is exact (case, a trailing space, a DID URL)", async () => {
    const jws = (await signCanonical(RECEIPT_TYP, allow, v)).jws;
    expect(await verdict(jws, ['did:web:other.example', v.did])).toEqual([true, []]);
    for (const near of [v.did.toUpperCase(), `${v.did} `, `${v.did}#${v.did.slice(8)}`, v.did.slice(0, -1)])
      expect(await verdict(jws, [near])).toEqual([false, ['UNTRUSTED_ISSUER']]);
  });

  it('issuers is required, a list of non-empty strings: anything else is a TypeError before any check', async () => {
    const jws = (await signCanonical(RECEIPT_TYP, allow, v)).jws;
    for (const issuers of [undefined, null, v.did, [], [''], [1], [v.did, null], { 0: v.did }]) {
      await expect(verifyReceipt(jws, { resolver, issuers } as never)).rejects.toThrow(TypeError);
    }
    await expect(verifyReceipt(jws, { resolver } as never)).rejects.toThrow(/issuers/);
  });
});

describe('the rules in the audit log and on checkpoints, and every record Charter signs', () => {
  let w: World;
  let dir: string;
  let base2: string;
  let api: Issuer;
  let chain: string;
  const N = 5;
  beforeAll(async () => {
    w = await openWorld();
    await w.home.createIdentity({ alias: 'api' });
    api = await w.home.issuer('api');
    dir = tempDir('charter-rules-');
    base2 = join(dir, 'base.db');
    const store = await openSqliteStore(base2);
    const verifier = createVerifier({ aud: API, store, resolver: w.resolver, status: w.status, http: false, receipts: { signer: api, checkpointEvery: 2 } });
    const g = await w.grant();
    for (let i = 0; i < 3; i++) {
      await decide(
        verifier,
        await bound(w.app, [g.jwt]),
        { kind: 'grant', resource: i === 1 ? 'calendar' : 'profile/email', action: 'read', owner: w.alice.did },
        { kind: 'claims', claims: { htm: 'GET', htu: 'http://127.0.0.1:9999/profile/email' } },
      );
    }
    // A purchase: its decision and its settlement (committed) receipts.
    const vp = await createPresentation({ holder: w.agent, credentials: [w.agentIdentity, ...orderChain([await w.mandate()])], aud: API });
    const paid = await guardTransaction(vp, { verifier, action: 'purchase', amount: '25 USD', trust: { principals: [w.principal.did] } }, () => 'paid');
    expect(paid).toMatchObject({ ok: true });
    await verifier.receipts!.checkpoint();
    chain = verifier.receipts!.chain;
    await store.close();
  }, 60_000);
  afterAll(async () => w?.close());

  it('every receipt (allow, deny, decision and settlement) and every checkpoint Charter signed verifies, in the log, alone and in bundles', async () => {
    const store = await openSqliteStore(base2);
    try {
      const entries = await store.listAudit({ chain, limit: 100 });
      expect(entries).toHaveLength(N);
      expect(new Set(entries.map((e) => `${e.kind}:${e.outcome}`))).toEqual(new Set(['decision:allow', 'decision:deny', 'settlement:committed']));
      for (const e of entries) expect([e.seq, await codes(e.jws, [api.did])]).toEqual([e.seq, []]);
      const checkpoints = (await store.listAuditCheckpoints(chain)).map((c) => c.jws);
      expect(checkpoints.length).toBeGreaterThan(1);
      expect(await verifyAuditLog(store, { resolver: w.resolver, checkpoints, issuers: [api.did] })).toMatchObject({ ok: true, chains: [{ entries: N }] });
      for (const e of entries.filter((x) => x.kind === 'decision')) expect((await verifyEvidence(await exportEvidence(store, e.receiptId))).ok).toBe(true);
    } finally {
      await store.close();
    }
  });

  /** A copy of the log whose last entry is replaced by `payload` signed by the verifier, its columns kept consistent. */
  async function lastReplaced(edit: (claims: Record<string, unknown>) => string): Promise<{ ok: boolean; seq?: number; message?: string }> {
    const file = join(dir, `edit-${Math.random().toString(36).slice(2)}.db`);
    copyFileSync(base2, file);
    const db = new Database(file);
    const last = db.prepare('SELECT * FROM audit_entries WHERE chain = ? ORDER BY seq DESC LIMIT 1').get(chain) as { seq: number; jws: string };
    const claims = decodeReceipt(last.jws) as unknown as Record<string, unknown>;
    const payload = edit(claims);
    const jws = await signPayload(RECEIPT_TYP, payload, api);
    db.prepare('UPDATE audit_entries SET jws = ?, hash = ? WHERE chain = ? AND seq = ?').run(jws, sha256Digest(payload), chain, last.seq);
    db.prepare('DELETE FROM audit_checkpoints WHERE chain = ? AND seq >= ?').run(chain, last.seq);
    db.close();
    const store = await openSqliteStore(file);
    try {
      const r = await verifyAuditLog(store, { resolver: w.resolver });
      return { ok: r.ok, ...(r.broken ? { seq: r.broken.seq, message: r.broken.message } : {}) };
    } finally {
      await store.close();
    }
  }

  it('the log refuses an entry re-signed by the verifier itself that breaks a rule, at that entry', async () => {
    // Unchanged but re-signed: still fine (the control).
    expect(await lastReplaced((c) => JSON.stringify(c))).toEqual({ ok: true });
    const cases: [string, (c: Record<string, unknown>) => string, RegExp][] = [
      ['payload padded', (c) => JSON.stringify(c) + ' ', /not in the form Charter signs/],
      ['pretty-printed', (c) => JSON.stringify(c, null, 1), /not in the form Charter signs/],
      ['iat off its time', (c) => JSON.stringify({ ...c, iat: (c.iat as number) + 3600 }), /iat is not the second of its time/],
      ['time not RFC 3339', (c) => JSON.stringify({ ...c, time: new Date(c.time as string).toUTCString() }), /not an RFC 3339 date-time/],
      ['prev dropped', (c) => JSON.stringify({ ...c, log: { ...(c.log as object), prev: null } }), /prev/],
    ];
    for (const [name, edit, message] of cases) {
      const r = await lastReplaced(edit);
      expect([name, r.ok, r.seq]).toEqual([name, false, N]);
      expect(r.message).toMatch(message);
    }
  });

  it('a checkpoint whose iat is not the second of its time, or whose time is not RFC 3339, is refused given, stored or in a bundle', async () => {
    const store = await openSqliteStore(base2);
    let head: { seq: number; hash: string };
    let receiptId: string;
    try {
      const [e] = await store.listAudit({ chain, fromSeq: N, limit: 1 });
      head = { seq: e!.seq, hash: e!.hash };
      receiptId = (await store.listAudit({ chain, limit: 1 }))[0]!.receiptId;
    } finally {
      await store.close();
    }
    const at = new Date();
    const bad = [
      { iat: Math.floor(at.getTime() / 1000) + 7200, time: at.toISOString() },
      { iat: Math.floor(at.getTime() / 1000), time: at.toUTCString() },
    ];
    for (const t of bad) {
      const { jws } = await signCanonical(CHECKPOINT_TYP, { iss: api.did, ...t, chain, seq: head.seq, head: head.hash }, api);
      const file = join(dir, `cp-${Math.random().toString(36).slice(2)}.db`);
      copyFileSync(base2, file);
      const s = await openSqliteStore(file);
      try {
        expect((await verifyAuditLog(s, { resolver: w.resolver, checkpoints: [jws] })).broken).toMatchObject({ message: expect.stringMatching(/checkpoint is malformed/) });
        const bundle = await exportEvidence(s, receiptId);
        const swapped = { ...bundle, log: { ...bundle.log, checkpoint: jws } };
        const r = await verifyEvidence(JSON.parse(JSON.stringify(swapped)));
        expect(r.parts.find((p) => p.part === 'checkpoint')).toMatchObject({ ok: false });
      } finally {
        await s.close();
      }
      // Stored in place of the verifier's own checkpoint at that seq (behind the store's back).
      const db = new Database(file);
      db.prepare('UPDATE audit_checkpoints SET jws = ? WHERE chain = ? AND seq = ?').run(jws, chain, head.seq);
      db.close();
      const s2 = await openSqliteStore(file);
      try {
        expect((await verifyAuditLog(s2, { resolver: w.resolver })).broken).toMatchObject({ seq: head.seq, message: expect.stringMatching(/checkpoint is malformed/) });
      } finally {
        await s2.close();
      }
    }
  });
});

describe('receipts are signed in the thread pool when the key is local', () => {
  it('signPayload uses signOffThread when the signer has one, and sign otherwise; both verify', async () => {
    const typ = RECEIPT_TYP;
    const issuer = makeIssuer();
    const calls: string[] = [];
    const local = issuer.signer as LocalSigner;
    const offThread: Issuer = {
      ...issuer,
      signer: { ...local, sign: (d) => (calls.push('sign'), local.sign(d)), signOffThread: (d) => (calls.push('off'), local.signOffThread!(d)) } as LocalSigner,
    };
    const onThread: Issuer = { ...issuer, signer: { alg: local.alg, keyType: local.keyType, sign: (d: Uint8Array) => (calls.push('sign'), local.sign(d)) } };
    const a = await signPayload(typ, '{"a":1}', offThread);
    const b = await signPayload(typ, '{"a":1}', onThread);
    expect(calls).toEqual(['off', 'sign']);
    // Ed25519 is deterministic: the same JWS either way.
    expect(a).toBe(b);
  });
});
