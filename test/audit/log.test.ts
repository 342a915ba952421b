import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { checkpointAudit, pruneAuditLog, verifyAuditLog, signCheckpoint, type AuditVerification, type VerifyAuditOptions } from '../../src/audit/index.js';
import { AuditWriter } from '../../src/audit/writer.js';
import { signPayload, RECEIPT_TYP } from '../../src/audit/jws.js';
import { canonicalJson, sha256Digest } from '../../src/encoding/json.js';
import type { Issuer } from '../../src/credentials/types.js';
import { writeAuditLog, tamperedLog, type AuditLogWorld } from './log-world.js';
import { API, type World } from '../http/world.js';
import { makeIssuer } from '../helpers.js';

/**
 * The audit log's tamper evidence, on a real SQLite file: a log of allows and
 * denies is written through the pipeline, then copies of the file are
 * altered behind the store's back (as someone with database access would)
 * and `verifyAuditLog` must name the first entry that no longer holds.
 */
let w: World;
let dir: string;
let base: string;
let api: Issuer;
let chain: string;
const N = 12;

let log: AuditLogWorld;
beforeAll(async () => {
  log = await writeAuditLog(N, 'charter-log-');
  ({ w, api, chain, dir, base } = log);
}, 60_000);
afterAll(async () => w.close());

let copies = 0;
const tampered = (
  mutate: (db: Database.Database) => unknown,
  checkpoints: string[] = [],
  options: Omit<VerifyAuditOptions, 'resolver' | 'checkpoints'> = {},
): Promise<AuditVerification> => tamperedLog(log, mutate, checkpoints, options);

const row = (db: Database.Database, seq: number) => db.prepare('SELECT * FROM audit_entries WHERE seq = ?').get(seq) as { jws: string; hash: string };
const payloadOf = (jws: string) => JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

describe('the audit log', () => {
  it('an untouched log verifies: one chain, every entry, the checkpoints matched', async () => {
    const v = await tampered(() => undefined);
    expect(v).toMatchObject({ ok: true, chains: [{ chain, entries: N, first: 1, last: N, checkpoints: 3 }] });
  });

  const mutations = {
    'a character of a receipt changed': (db: Database.Database, k: number) => {
      const { jws } = row(db, k);
      const i = jws.indexOf('.') + 20;
      db.prepare('UPDATE audit_entries SET jws = ? WHERE seq = ?').run(jws.slice(0, i) + (jws[i] === 'A' ? 'B' : 'A') + jws.slice(i + 1), k);
    },
    'a deny rewritten as an allow in the stored column': (db: Database.Database, k: number) => {
      db.prepare("UPDATE audit_entries SET outcome = CASE outcome WHEN 'allow' THEN 'deny' ELSE 'allow' END WHERE seq = ?").run(k);
    },
    'the stored hash replaced': (db: Database.Database, k: number) => {
      db.prepare("UPDATE audit_entries SET hash = 'sha256-AAAA' WHERE seq = ?").run(k);
    },
    'an entry deleted': (db: Database.Database, k: number) => {
      db.prepare('DELETE FROM audit_entries WHERE seq = ?').run(k);
    },
    'two receipts swapped': (db: Database.Database, k: number) => {
      const other = k === N ? k - 1 : k + 1;
      const [a, b] = [row(db, k), row(db, other)];
      db.prepare('UPDATE audit_entries SET jws = ?, hash = ? WHERE seq = ?').run(b.jws, b.hash, k);
      db.prepare('UPDATE audit_entries SET jws = ?, hash = ? WHERE seq = ?').run(a.jws, a.hash, other);
    },
    'the subject column changed': (db: Database.Database, k: number) => {
      db.prepare("UPDATE audit_entries SET subject = 'did:key:zsomeoneelse' WHERE seq = ?").run(k);
    },
  };

  it('property: any one alteration of any entry is found, at that entry (or the one it was swapped with first)', async () => {
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...Object.keys(mutations)) as fc.Arbitrary<keyof typeof mutations>, fc.integer({ min: 1, max: N }), async (m, k) => {
        const v = await tampered((db) => mutations[m](db, k));
        expect(v.ok).toBe(false);
        const expected = m === 'two receipts swapped' ? Math.min(k, k === N ? k - 1 : k + 1) : k;
        expect(v.broken).toMatchObject({ chain, seq: expected, code: 'AUDIT_CHAIN_BROKEN' });
      }),
      { numRuns: Number(process.env.LOG_RUNS ?? 40) },
    );
  }, 120_000);

  it('the tail cut after the last checkpoint is found only with a checkpoint a third party holds', async () => {
    const store = await openSqliteStore(base);
    const [head] = await checkpointAudit(store, api);
    await store.close();
    expect(head).toMatchObject({ chain, seq: N });
    // Without the stored checkpoint at N (removed with the entry), the shortened log looks whole...
    const cut = (db: Database.Database) => {
      db.prepare('DELETE FROM audit_entries WHERE seq = ?').run(N);
      db.prepare('DELETE FROM audit_checkpoints WHERE seq = ?').run(N);
    };
    expect((await tampered(cut)).ok).toBe(true);
    // ...but not to someone holding that checkpoint.
    expect((await tampered(cut, [head!.jws])).broken).toMatchObject({ seq: N, message: expect.stringMatching(/entries were removed/) });
  });

  it('a rewrite re-signed with the verifier key itself is caught by an earlier third-party checkpoint', async () => {
    const store = await openSqliteStore(base);
    const cps = await store.listAuditCheckpoints(chain);
    await store.close();
    const held = cps.find((c) => c.seq === 8)!;
    // Entry 6 rewritten (a deny turned allow), then every entry after it re-chained and re-signed, stored checkpoints dropped.
    const entries: { seq: number; jws: string }[] = [];
    const file = join(dir, `rewrite.db`);
    copyFileSync(base, file);
    const db = new Database(file);
    for (let k = 1; k <= N; k++) entries.push({ seq: k, jws: row(db, k).jws });
    let prev = row(db, 5).hash;
    for (let k = 6; k <= N; k++) {
      const claims = payloadOf(entries[k - 1]!.jws);
      if (k === 6) Object.assign(claims, { decision: 'allow', status: 200, reasons: [] });
      (claims.log as { prev: string }).prev = prev;
      const payload = canonicalJson(claims);
      const jws = await signPayload(RECEIPT_TYP, payload, api);
      prev = sha256Digest(payload);
      db.prepare("UPDATE audit_entries SET jws = ?, hash = ?, prev = ?, outcome = CASE WHEN seq = 6 THEN 'allow' ELSE outcome END WHERE seq = ?").run(
        jws,
        prev,
        (claims.log as { prev: string }).prev,
        k,
      );
    }
    db.prepare('DELETE FROM audit_checkpoints WHERE seq >= 8').run();
    const fresh = await signCheckpoint(api, chain, N, prev);
    db.prepare('INSERT INTO audit_checkpoints (chain, seq, head, issuer, at, jws) VALUES (?, ?, ?, ?, ?, ?)').run(chain, N, prev, api.did, Date.now(), fresh.jws);
    db.close();
    const s = await openSqliteStore(file);
    try {
      expect((await verifyAuditLog(s, { resolver: w.resolver })).ok).toBe(true);
      expect((await verifyAuditLog(s, { resolver: w.resolver, checkpoints: [held.jws] })).broken).toMatchObject({ seq: 8, message: expect.stringMatching(/rewritten/) });
    } finally {
      await s.close();
    }
  });

  it('pruning keeps the chain verifiable from its anchor checkpoint; a pruned chain with a forged anchor is refused', async () => {
    const file = join(dir, 'prune.db');
    copyFileSync(base, file);
    const store = await openSqliteStore(file);
    try {
      const r = await pruneAuditLog(store, { before: new Date(Date.now() + 60_000), resolver: w.resolver });
      expect(r.chains).toEqual([{ chain, anchor: 12, entries: 12 }]);
      expect(r.blobs).toBeGreaterThan(0);
      expect(await verifyAuditLog(store, { resolver: w.resolver })).toMatchObject({ ok: true, chains: [{ entries: 0, anchor: 12 }] });
    } finally {
      await store.close();
    }
    const partly = join(dir, 'prune-partly.db');
    copyFileSync(base, partly);
    const s2 = await openSqliteStore(partly);
    try {
      await s2.pruneAudit({ chain, throughSeq: 4 });
      expect(await verifyAuditLog(s2, { resolver: w.resolver })).toMatchObject({ ok: true, chains: [{ first: 5, anchor: 4, entries: 8 }] });
      await s2.pruneAudit({ chain, throughSeq: 5 });
      // No checkpoint at 5: entry 5 is gone and nothing anchors entry 6.
      expect((await verifyAuditLog(s2, { resolver: w.resolver })).broken).toMatchObject({ seq: 5, message: expect.stringMatching(/no checkpoint anchors/) });
    } finally {
      await s2.close();
    }
  });

  it('a pruned start anchored by a checkpoint someone else signed is refused, at the anchor', async () => {
    const forge = async (through: number, issuerColumn: 'forger' | 'api') => {
      const file = join(dir, `anchor-${copies++}.db`);
      copyFileSync(base, file);
      const db = new Database(file);
      // The genuine head at `through` (the next entry's prev), so only the signer is wrong.
      const head = (db.prepare('SELECT prev FROM audit_entries WHERE seq = ?').get(through + 1) as { prev: string }).prev;
      db.prepare('DELETE FROM audit_entries WHERE seq <= ?').run(through);
      db.prepare('DELETE FROM audit_checkpoints WHERE seq <= ?').run(through);
      const forged = await signCheckpoint(w.alice, chain, through, head);
      db.prepare('INSERT INTO audit_checkpoints (chain, seq, head, issuer, at, jws) VALUES (?, ?, ?, ?, ?, ?)').run(
        chain,
        through,
        head,
        issuerColumn === 'forger' ? w.alice.did : api.did,
        Date.now(),
        forged.jws,
      );
      db.close();
      const store = await openSqliteStore(file);
      try {
        return await verifyAuditLog(store, { resolver: w.resolver });
      } finally {
        await store.close();
      }
    };
    // At a seq the verifier checkpointed (4) and at one it never did (3); with the stored issuer column
    // naming the forger or copied from the verifier.
    for (const through of [3, 4, 7]) {
      for (const col of ['forger', 'api'] as const) {
        const v = await forge(through, col);
        expect(v.ok).toBe(false);
        expect(v.broken).toMatchObject({ chain, seq: through, code: 'AUDIT_CHAIN_BROKEN', message: expect.stringMatching(/anchoring the pruned chain/) });
      }
    }
  });

  it("a rewritten start, pruned and re-anchored by the verifier's own key, is caught by a checkpoint a third party holds at the anchor", async () => {
    // The operator (holding the verifier's key) turns deny 6 into an allow, re-signs and re-chains 6..12,
    // prunes through `through` and anchors the rest with a fresh checkpoint of its rewritten head.
    const rewrite = async (through: number) => {
      const src = await openSqliteStore(base);
      const held = (await src.listAuditCheckpoints(chain)).find((c) => c.seq === through)!;
      await src.close();
      const file = join(dir, `reanchor-${copies++}.db`);
      copyFileSync(base, file);
      const db = new Database(file);
      const row = (k: number) => db.prepare('SELECT jws, hash FROM audit_entries WHERE seq = ?').get(k) as { jws: string; hash: string };
      const claimsOf = (jws: string) => JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()) as Record<string, unknown> & { log: { prev: string } };
      let prev = row(5).hash;
      let head = '';
      for (let k = 6; k <= N; k++) {
        const claims = claimsOf(row(k).jws);
        if (k === 6) Object.assign(claims, { decision: 'allow', status: 200, reasons: [] });
        claims.log.prev = prev;
        const payload = canonicalJson(claims);
        const jws = await signPayload(RECEIPT_TYP, payload, api);
        db.prepare('UPDATE audit_entries SET jws = ?, hash = ?, prev = ? WHERE seq = ?').run(jws, sha256Digest(payload), prev, k);
        prev = sha256Digest(payload);
        if (k === through) head = prev;
      }
      db.prepare('DELETE FROM audit_entries WHERE seq <= ?').run(through);
      db.prepare('DELETE FROM audit_checkpoints').run();
      const anchor = await signCheckpoint(api, chain, through, head);
      db.prepare('INSERT INTO audit_checkpoints (chain, seq, head, issuer, at, jws) VALUES (?, ?, ?, ?, ?, ?)').run(chain, through, head, api.did, Date.now(), anchor.jws);
      db.close();
      return { file, held: held.jws };
    };
    const verify = async (file: string, checkpoints: string[]) => {
      const store = await openSqliteStore(file);
      try {
        return await verifyAuditLog(store, { resolver: w.resolver, checkpoints });
      } finally {
        await store.close();
      }
    };
    for (const through of [8, 12]) {
      const { file, held } = await rewrite(through);
      // Alone, the re-anchored log is self-consistent: that is what a held checkpoint is for.
      expect((await verify(file, [])).ok).toBe(true);
      expect((await verify(file, [held])).broken).toMatchObject({
        chain,
        seq: through,
        code: 'AUDIT_CHAIN_BROKEN',
        message: expect.stringMatching(/given checkpoint at seq \d+ names another head/),
      });
      // A checkpoint at the anchor by another key, or naming another head, is never counted as matching.
      for (const other of [await signCheckpoint(w.alice, chain, through, 'sha256-garbage'), await signCheckpoint(api, chain, through, 'sha256-garbage')]) {
        expect((await verify(file, [other.jws])).ok).toBe(false);
      }
    }
  });

  it('a checkpoint stored with another head, or signed by someone else, breaks the chain', async () => {
    const other = w.alice;
    const forged = await signCheckpoint(other, chain, 4, 'sha256-whatever');
    const v = await tampered((db) => db.prepare("UPDATE audit_checkpoints SET head = 'sha256-x' WHERE seq = 4").run());
    expect(v.broken).toMatchObject({ seq: 4 });
    const v2 = await tampered((db) => db.prepare('UPDATE audit_checkpoints SET jws = ?, head = ? WHERE seq = 4').run(forged.jws, 'sha256-whatever'));
    expect(v2.broken).toMatchObject({ seq: 4 });
  });
});

/** The checkpoints the verifier stored (and a third party may have been given), by seq. */
async function storedCheckpoints(): Promise<Map<number, string>> {
  const store = await openSqliteStore(base);
  try {
    return new Map((await store.listAuditCheckpoints(chain)).map((c) => [c.seq, c.jws]));
  } finally {
    await store.close();
  }
}

describe('a checkpoint a third party holds, older than the anchor of a pruned chain', () => {
  const deletePrefix = (through: number) => (db: Database.Database) => db.prepare('DELETE FROM audit_entries WHERE seq <= ?').run(through);

  it('entries 1..8 deleted behind the store (the stored checkpoint at 8 left as the anchor): the held checkpoint at 4 is a break, named as predating the anchor', async () => {
    const held = (await storedCheckpoints()).get(4)!;
    const v = await tampered(deletePrefix(8), [held]);
    expect(v.ok).toBe(false);
    expect(v.broken).toMatchObject({
      chain,
      seq: 4,
      code: 'AUDIT_CHAIN_BROKEN',
      message: expect.stringMatching(/checkpoint at seq 4 predates the anchor 8: the entries it covers were removed/),
    });
    // Without it the shortened log is self-consistent: what the holder's checkpoint is for.
    expect((await tampered(deletePrefix(8))).ok).toBe(true);
    // Deleted through 4, the held checkpoint being the anchor itself: the entries it covers are gone all the
    // same, so it is a break too (README: "if entries it covers were pruned ... fails"); 0.1 counted it as
    // matched, so a database writer could delete exactly what a third party's checkpoint covered.
    expect((await tampered(deletePrefix(4), [held])).broken).toMatchObject({
      seq: 4,
      message: expect.stringMatching(/checkpoint at seq 4 is at the anchor 4: the entries it covers were removed/),
    });
    expect(await tampered(deletePrefix(4), [held], { acceptPruned: true })).toMatchObject({ ok: true, chains: [{ anchor: 4, first: 5, predating: [4] }] });
  });

  it('acceptPruned: the holder expected the retention; the checkpoint is reported as predating, never counted as matched', async () => {
    const cps = await storedCheckpoints();
    const plain = await tampered(deletePrefix(8));
    const v = await tampered(deletePrefix(8), [cps.get(4)!], { acceptPruned: true });
    expect(v).toMatchObject({ ok: true, chains: [{ chain, anchor: 8, first: 9, predating: [4] }] });
    expect(v.chains[0]!.checkpoints).toBe(plain.chains[0]!.checkpoints);
    // One after the anchor still matches; the ones below it and at it cover removed entries: set apart.
    const all = await tampered(deletePrefix(8), [cps.get(4)!, cps.get(8)!, cps.get(12)!], { acceptPruned: true });
    expect(all).toMatchObject({ ok: true, chains: [{ predating: [4, 8], checkpoints: plain.chains[0]!.checkpoints + 1 }] });
    // An untouched log has no anchor: nothing predates anything.
    expect((await tampered(() => undefined, [cps.get(4)!])).chains[0]!.predating).toBeUndefined();
  });

  it('options are read strictly: acceptPruned is a boolean ("false" is not off), a misspelt option is a TypeError', async () => {
    const cps = await storedCheckpoints();
    for (const v of ['false', 'true', 0, 1, null, {}]) {
      await expect(tampered(deletePrefix(8), [cps.get(4)!], { acceptPruned: v as never }), String(v)).rejects.toThrow(/"acceptPruned" must be true or false/);
    }
    // A misspelt issuers would accept a chain signed by anyone.
    for (const bad of [{ issuer: ['did:web:x.example'] }, { Issuers: ['did:web:x.example'] }, { acceptpruned: true }, { checkpoint: [cps.get(4)!] }]) {
      await expect(tampered(() => undefined, [], bad as never)).rejects.toThrow(/verifyAuditLog: unknown option/);
    }
  });

  it('a predating checkpoint signed by someone else, or naming another chain, is a break even with acceptPruned', async () => {
    const forged = await signCheckpoint(w.alice, chain, 4, 'sha256-whatever');
    expect((await tampered(deletePrefix(8), [forged.jws], { acceptPruned: true })).broken).toMatchObject({ seq: 4, message: expect.stringMatching(/signed by another verifier/) });
    const elsewhere = await signCheckpoint(api, 'urn:uuid:another-chain', 4, 'sha256-whatever');
    expect((await tampered(deletePrefix(8), [elsewhere.jws], { acceptPruned: true })).broken).toMatchObject({ message: expect.stringMatching(/no longer holds/) });
    // A checkpoint at seq 0 or below holds nothing and is refused as malformed.
    const zero = await signCheckpoint(api, chain, 0, 'sha256-whatever');
    expect((await tampered(() => undefined, [zero.jws])).broken).toMatchObject({ message: expect.stringMatching(/lacks chain, seq or head/) });
  });

  it('after a legitimate pruneAuditLog the documented flow holds: the log verifies alone; an older held checkpoint needs acceptPruned, and is reported', async () => {
    const cps = await storedCheckpoints();
    const file = join(dir, `pruned-${copies++}.db`);
    copyFileSync(base, file);
    const store = await openSqliteStore(file);
    try {
      // Retention of everything but the newest entries: the anchor becomes the newest checkpoint (12), entries all gone.
      expect((await pruneAuditLog(store, { before: new Date(Date.now() + 60_000), resolver: w.resolver })).chains).toEqual([{ chain, anchor: 12, entries: 12 }]);
      expect((await verifyAuditLog(store, { resolver: w.resolver })).ok).toBe(true);
      const held = [cps.get(4)!, cps.get(8)!];
      expect((await verifyAuditLog(store, { resolver: w.resolver, checkpoints: held })).broken).toMatchObject({ seq: 4, message: expect.stringMatching(/predates the anchor 12/) });
      expect(await verifyAuditLog(store, { resolver: w.resolver, checkpoints: held, acceptPruned: true })).toMatchObject({
        ok: true,
        chains: [{ anchor: 12, entries: 0, predating: [4, 8] }],
      });
      // The checkpoint at the anchor covers pruned entries too: a break without acceptPruned, predating with it
      // (and it still names the anchor's head: a rewritten, re-anchored start would be caught by it).
      expect((await verifyAuditLog(store, { resolver: w.resolver, checkpoints: [cps.get(12)!] })).broken).toMatchObject({
        seq: 12,
        message: expect.stringMatching(/is at the anchor 12/),
      });
      expect(await verifyAuditLog(store, { resolver: w.resolver, checkpoints: [cps.get(12)!], acceptPruned: true })).toMatchObject({
        ok: true,
        chains: [{ anchor: 12, predating: [12] }],
      });
    } finally {
      await store.close();
    }
  });
});

describe('chains signed by someone other than the expected verifiers (issuers)', () => {
  /** A copy of the log with a whole chain of a stranger's appended, as a database writer with a key of its own would. */
  async function withForeignChain(): Promise<{ file: string; stranger: Issuer; foreign: string }> {
    const file = join(dir, `foreign-${copies++}.db`);
    copyFileSync(base, file);
    const store = await openSqliteStore(file);
    const stranger = makeIssuer();
    try {
      const writer = new AuditWriter(store, { signer: stranger, checkpointSeconds: 0 });
      const time = new Date();
      await writer.append(
        {
          jti: 'urn:uuid:00000000-0000-7000-8000-0000000000ff',
          iat: Math.floor(time.getTime() / 1000),
          time: time.toISOString(),
          kind: 'decision',
          verifier: API,
          decision: 'allow',
          status: 200,
          reasons: [],
          sub: w.app.did,
          request: { htm: 'GET', htu: 'http://127.0.0.1:9999/profile/phone' },
          policy: { kind: 'grant', resource: 'profile/phone', action: 'read' },
          credentials: [],
          chain: [{ id: 'urn:uuid:some-grant', iss: w.alice.did }],
        },
        [],
      );
      await writer.checkpoint();
      return { file, stranger, foreign: writer.chain };
    } finally {
      await store.close();
    }
  }
  const verifyFile = async (file: string, options: Omit<VerifyAuditOptions, 'resolver'> = {}) => {
    const store = await openSqliteStore(file);
    try {
      return await verifyAuditLog(store, { resolver: w.resolver, ...options });
    } finally {
      await store.close();
    }
  };

  it('a chain signed by a stranger is a break naming the chain and its signer; without issuers it verifies on its own terms', async () => {
    const { file, stranger, foreign } = await withForeignChain();
    expect((await verifyFile(file)).ok).toBe(true);
    const v = await verifyFile(file, { issuers: [api.did] });
    expect(v.ok).toBe(false);
    expect(v.broken).toMatchObject({ chain: foreign, seq: 1, code: 'AUDIT_CHAIN_BROKEN', message: expect.stringContaining(stranger.did) });
    expect(v.broken!.message).toMatch(/not one of the expected verifiers/);
    // Naming both signers lets both chains pass; naming neither refuses the first chain read.
    expect(await verifyFile(file, { issuers: [api.did, stranger.did] })).toMatchObject({ ok: true, chains: [{}, {}] });
    expect((await verifyFile(file, { issuers: [] })).ok).toBe(false);
    // Only the expected chain asked for: the stranger's is not read.
    expect((await verifyFile(file, { issuers: [api.did], chain })).ok).toBe(true);
  });

  it("the stranger's rows relabelled with the verifier's DID (the stored signer column) are still caught: the signature is the stranger's", async () => {
    const { file, foreign } = await withForeignChain();
    const db = new Database(file);
    db.prepare('UPDATE audit_entries SET issuer = ? WHERE chain = ?').run(api.did, foreign);
    db.prepare('UPDATE audit_checkpoints SET issuer = ? WHERE chain = ?').run(api.did, foreign);
    db.close();
    const v = await verifyFile(file, { issuers: [api.did] });
    expect(v.ok).toBe(false);
    expect(v.broken).toMatchObject({ chain: foreign, code: 'AUDIT_CHAIN_BROKEN' });
  });

  it('the verifier whose own chain it is passes; issuers must be a list of DIDs', async () => {
    expect(await tampered(() => undefined, [], { issuers: [api.did] })).toMatchObject({ ok: true, chains: [{ chain, issuer: api.did }] });
    const store = await openSqliteStore(base);
    try {
      await expect(verifyAuditLog(store, { resolver: w.resolver, issuers: 'did:key:z' as never })).rejects.toBeInstanceOf(TypeError);
      await expect(verifyAuditLog(store, { resolver: w.resolver, issuers: [1] as never })).rejects.toBeInstanceOf(TypeError);
      await expect(verifyAuditLog(store, { resolver: w.resolver, issuers: [''] })).rejects.toBeInstanceOf(TypeError);
    } finally {
      await store.close();
    }
  });
});
