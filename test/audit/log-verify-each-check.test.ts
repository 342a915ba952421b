import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../src/guard/decide.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { verifyAuditLog, type AuditVerification, type VerifyAuditOptions } from '../../src/audit/index.js';
import { CHECKPOINT_TYP, RECEIPT_TYP, signCanonical, signPayload } from '../../src/audit/jws.js';
import { canonicalJson, sha256Digest } from '../../src/encoding/json.js';
import { documentResolver } from '../../src/did/document-resolver.js';
import { resolveDidJwk } from '../../src/did/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { writeAuditLog, tamperedLog, type AuditLogWorld } from './log-world.js';
import { API, type World } from '../http/world.js';
import { makeIssuer } from '../helpers.js';

/**
 * `charter audit verify` names the first broken entry and why (issue 17): each check of verifyAuditLog,
 * one at a time, on a real SQLite log altered behind the store's back. Every case here is one a single
 * check alone catches; without it the log would read as whole (found by mutation testing of
 * src/audit/verify-log.ts: each of these checks could be removed with every other test still passing).
 */
let w: World;
let dir: string;
let base: string;
let api: Issuer;
let chain: string;
const N = 8;

let log: AuditLogWorld;
beforeAll(async () => {
  log = await writeAuditLog(N, 'charter-log-checks-');
  ({ w, api, chain, dir, base } = log);
}, 60_000);
afterAll(async () => w.close());

const tampered = (
  mutate: (db: Database.Database) => unknown,
  checkpoints: string[] = [],
  options: Omit<VerifyAuditOptions, 'resolver' | 'checkpoints'> = {},
): Promise<AuditVerification> => tamperedLog(log, mutate, checkpoints, options);

type Row = { jws: string; hash: string; prev: string | null; receipt_id: string; at: string };
const row = (db: Database.Database, seq: number) => db.prepare('SELECT * FROM audit_entries WHERE seq = ?').get(seq) as Row;
const payloadOf = (jws: string) => JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;
const headAt = async (seq: number) => {
  const db = new Database(base, { readonly: true });
  try {
    return row(db, seq).hash;
  } finally {
    db.close();
  }
};
/** A checkpoint signed by the verifier's own key with the claims given (time and iat as Charter writes them unless overridden). */
async function checkpointClaims(claims: Record<string, unknown>): Promise<string> {
  const at = new Date();
  return (await signCanonical(CHECKPOINT_TYP, { iss: api.did, iat: Math.floor(at.getTime() / 1000), time: at.toISOString(), ...claims }, api)).jws;
}

describe('verifyAuditLog: each check, alone', () => {
  it('the untouched log verifies, and a well-formed checkpoint the verifier signed by hand matches', async () => {
    const good = await checkpointClaims({ chain, seq: 4, head: await headAt(4) });
    expect(await tampered(() => undefined, [good])).toMatchObject({ ok: true, chains: [{ chain, entries: N }] });
  });

  it('a checkpoint whose iat is not the second of its time is malformed, however well it matches the chain', async () => {
    const at = new Date();
    const misdated = await checkpointClaims({ chain, seq: 4, head: await headAt(4), time: at.toISOString(), iat: Math.floor(at.getTime() / 1000) - 3600 });
    const v = await tampered(() => undefined, [misdated]);
    expect(v.ok).toBe(false);
    expect(v.broken).toMatchObject({ code: 'AUDIT_CHAIN_BROKEN', message: expect.stringMatching(/checkpoint is malformed/) });
  });

  it('a stored checkpoint whose seq column is not the seq it signs is named as differing from what it signs', async () => {
    const v = await tampered((db) => db.prepare('UPDATE audit_checkpoints SET seq = 3 WHERE seq = 4').run());
    expect(v.ok).toBe(false);
    expect(v.broken).toMatchObject({ chain, seq: 3, message: expect.stringMatching(/stored checkpoint at seq 3 differs from what it signs/) });
  });

  it('a stored checkpoint signed for another chain, filed under this one, is named as differing from what it signs', async () => {
    // The verifier's own signature, the right seq and head: only the chain it names is another.
    const other = await checkpointClaims({ chain: 'urn:uuid:00000000-0000-4000-8000-000000000000', seq: 4, head: await headAt(4) });
    const v = await tampered((db) => db.prepare('UPDATE audit_checkpoints SET jws = ? WHERE seq = 4').run(other));
    expect(v.ok).toBe(false);
    expect(v.broken).toMatchObject({ chain, seq: 4, message: expect.stringMatching(/stored checkpoint at seq 4 differs from what it signs/) });
  });

  /** Entry `seq` re-signed by the verifier's own key with `edit` applied to its claims; its hash column follows. */
  async function resign(db: Database.Database, seq: number, edit: (claims: Record<string, unknown> & { log: Record<string, unknown> }) => void): Promise<void> {
    const claims = payloadOf(row(db, seq).jws) as Record<string, unknown> & { log: Record<string, unknown> };
    edit(claims);
    const payload = canonicalJson(claims);
    db.prepare('UPDATE audit_entries SET jws = ?, hash = ? WHERE seq = ?').run(await signPayload(RECEIPT_TYP, payload, api), sha256Digest(payload), seq);
    // The stored checkpoint at the end would name the old head: it goes too, so only the receipt's own claim is left to catch.
    db.prepare('DELETE FROM audit_checkpoints WHERE seq >= ?').run(seq);
  }

  it('the last entry re-signed by the verifier to name another chain is a break at that entry', async () => {
    const v = await tampered((db) => resign(db, N, (c) => void (c.log.chain = 'urn:uuid:00000000-0000-4000-8000-000000000000')));
    expect(v.broken).toMatchObject({ chain, seq: N, message: expect.stringMatching(/names another place in the log/) });
  });

  it('the last entry re-signed by the verifier to name another seq is a break at that entry', async () => {
    const v = await tampered((db) => resign(db, N, (c) => void (c.log.seq = N + 1)));
    expect(v.broken).toMatchObject({ chain, seq: N, message: expect.stringMatching(/names another place in the log/) });
  });

  it('the last entry re-signed by the verifier in a form no receipt has (an allow with status 500) is a break at that entry', async () => {
    const v = await tampered((db) =>
      resign(db, N, (c) => {
        c.status = c.decision === 'allow' ? 500 : 200;
      }),
    );
    expect(v.broken).toMatchObject({ chain, seq: N, message: expect.stringMatching(/the receipt is malformed/) });
  });

  it('the stored prev column altered (the receipts untouched) is a break at that entry', async () => {
    const v = await tampered((db) => db.prepare("UPDATE audit_entries SET prev = 'sha256-AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA' WHERE seq = 5").run());
    expect(v.broken).toMatchObject({ chain, seq: 5, message: expect.stringMatching(/stored prev hash differs/) });
  });

  const columns: [string, string, (db: Database.Database) => void][] = [
    ['receipt id', 'receipt_id', (db) => db.prepare("UPDATE audit_entries SET receipt_id = 'urn:uuid:00000000-0000-7000-8000-000000000000' WHERE seq = 3").run()],
    ['signer', 'issuer', (db) => db.prepare("UPDATE audit_entries SET issuer = 'did:web:someone.example' WHERE seq = 3").run()],
    ['outcome', 'outcome', (db) => db.prepare("UPDATE audit_entries SET outcome = CASE outcome WHEN 'allow' THEN 'deny' ELSE 'allow' END WHERE seq = 3").run()],
    ['subject', 'subject', (db) => db.prepare("UPDATE audit_entries SET subject = 'did:key:zsomeoneelse' WHERE seq = 3").run()],
    ['time', 'at', (db) => db.prepare('UPDATE audit_entries SET at = at - 86400000 WHERE seq = 3').run()],
  ];
  for (const [name, column, alter] of columns) {
    it(`the stored ${column} column altered is a break at that entry, naming the ${name}`, async () => {
      const v = await tampered(alter);
      expect(v.broken).toMatchObject({ chain, seq: 3, message: `the stored ${name} differs from the signed receipt` });
    });
  }
});

describe('verifyAuditLog: a chain whose start is gone', () => {
  const deleteThrough =
    (through: number, checkpointsThrough = through) =>
    (db: Database.Database) => {
      db.prepare('DELETE FROM audit_entries WHERE seq <= ?').run(through);
      db.prepare('DELETE FROM audit_checkpoints WHERE seq <= ?').run(checkpointsThrough);
    };
  const held = async (seq: number) => checkpointClaims({ chain, seq, head: await headAt(seq) });

  it('a checkpoint only a third party holds does not anchor a pruned chain, even with acceptPruned: the log must hold its own anchor', async () => {
    const v = await tampered(deleteThrough(4), [await held(4)], { acceptPruned: true });
    expect(v.ok).toBe(false);
    expect(v.broken).toMatchObject({ chain, seq: 1, message: 'entries 1 to 4 are missing and no checkpoint anchors the rest' });
  });

  it('with no anchor, the first entry named is the one after the last stored checkpoint below the gap, not one above it', async () => {
    // Entries 1..7 deleted, the stored checkpoints at 4 and 8 kept: 5 is the first entry nothing accounts for.
    const v = await tampered(deleteThrough(7, 0));
    expect(v.broken).toMatchObject({ chain, seq: 5, message: 'entries 5 to 7 are missing and no checkpoint anchors the rest' });
  });
});

describe('verifyAuditLog with issuers: a chain nobody expected', () => {
  it("is named for its signer before any of it is read: rows a stranger's column claims, holding no receipt at all, are not reported as unreadable receipts", async () => {
    const stranger = 'did:web:stranger.example';
    const foreign = 'urn:uuid:00000000-0000-4000-8000-0000000000aa';
    const v = await tampered(
      (db) =>
        void db
          .prepare(
            "INSERT INTO audit_entries (chain, seq, hash, prev, receipt_id, kind, outcome, issuer, subject, at, jws, recorded_at) VALUES (?, 1, 'sha256-x', NULL, 'urn:uuid:00000000-0000-7000-8000-0000000000aa', 'decision', 'allow', ?, NULL, ?, 'not.a.receipt', ?)",
          )
          .run(foreign, stranger, Date.now(), Date.now()),
      [],
      { issuers: [api.did] },
    );
    expect(v.ok).toBe(false);
    expect(v.broken).toMatchObject({ chain: foreign, seq: 1, message: expect.stringMatching(/signed by did:web:stranger\.example, which is not one of the expected verifiers/) });
  });
});

describe('verifyAuditLog: who signed what', () => {
  it('a checkpoint someone else signed, naming the right head, is a break at its seq: stored or given', async () => {
    const stranger = makeIssuer();
    const at = new Date();
    const forged = (
      await signCanonical(CHECKPOINT_TYP, { iss: stranger.did, iat: Math.floor(at.getTime() / 1000), time: at.toISOString(), chain, seq: 4, head: await headAt(4) }, stranger)
    ).jws;
    const stored = await tampered((db) => void db.prepare('UPDATE audit_checkpoints SET jws = ?, issuer = ? WHERE seq = 4').run(forged, stranger.did));
    expect(stored.broken).toMatchObject({ chain, seq: 4, message: 'the checkpoint at seq 4 is signed by another verifier than the chain' });
    const given = await tampered(() => undefined, [forged]);
    expect(given.broken).toMatchObject({ chain, seq: 4, message: 'the checkpoint at seq 4 is signed by another verifier than the chain' });
  });

  it("a pruned chain's entries after its anchor, re-linked from it and signed by someone else (the signer column left the verifier's), are a break at the first of them", async () => {
    const stranger = makeIssuer();
    const v = await tampered(async (db) => {
      db.prepare('DELETE FROM audit_entries WHERE seq <= 4').run();
      db.prepare('DELETE FROM audit_checkpoints WHERE seq > 4').run();
      let prev = (db.prepare('SELECT head FROM audit_checkpoints WHERE seq = 4').get() as { head: string }).head;
      for (let k = 5; k <= N; k++) {
        const claims = payloadOf(row(db, k).jws) as Record<string, unknown> & { log: { prev: string } };
        claims.iss = stranger.did;
        claims.log.prev = prev;
        const payload = canonicalJson(claims);
        const jws = await signPayload(RECEIPT_TYP, payload, stranger);
        prev = sha256Digest(payload);
        db.prepare('UPDATE audit_entries SET jws = ?, hash = ?, prev = ? WHERE seq = ?').run(jws, prev, claims.log.prev, k);
      }
    });
    expect(v.ok).toBe(false);
    expect(v.broken).toMatchObject({ chain, seq: 5, message: 'the receipt is signed by another verifier than the rest of the chain' });
  });
});

describe('verifyAuditLog: an entry signed by another verifier whose key has the same relative kid', () => {
  it("is a break at that entry: the signer is compared, not only the kid (two did:jwk verifiers both sign as '#0')", async () => {
    const signer: Issuer = { ...makeIssuer('Ed25519', 'jwk'), kid: '#0' };
    const forger: Issuer = { ...makeIssuer('Ed25519', 'jwk'), kid: '#0' };
    const file = join(dir, 'jwk.db');
    const jwkResolver = documentResolver(async (did) => resolveDidJwk(did), { cacheTtlMs: 0 });
    const store = await openSqliteStore(file);
    const v = createVerifier({ aud: API, store, resolver: jwkResolver, http: false, receipts: { signer } });
    for (let i = 0; i < 2; i++) await decide(v, 'not a presentation', { kind: 'presentation' }, { kind: 'none' });
    await store.close();
    const db = new Database(file);
    const claims = payloadOf(row(db, 2).jws);
    claims.iss = forger.did;
    const payload = canonicalJson(claims);
    // The signer column follows the forged receipt, so only the comparison with the chain's signer is left to catch it.
    db.prepare('UPDATE audit_entries SET jws = ?, hash = ?, issuer = ? WHERE seq = 2').run(await signPayload(RECEIPT_TYP, payload, forger), sha256Digest(payload), forger.did);
    db.prepare('DELETE FROM audit_checkpoints').run();
    db.close();
    const s = await openSqliteStore(file);
    try {
      const r = await verifyAuditLog(s, { resolver: jwkResolver });
      expect(r.broken).toMatchObject({ seq: 2, message: 'the receipt is signed by another verifier than the rest of the chain' });
    } finally {
      await s.close();
    }
  });
});
