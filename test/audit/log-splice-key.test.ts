import { join } from 'node:path';
import Database from 'better-sqlite3';
import { beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../src/guard/decide.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { exportEvidence, verifyAuditLog, verifyEvidence, type EvidenceBundle } from '../../src/audit/index.js';
import { CHECKPOINT_TYP, payloadHash, RECEIPT_TYP, signCanonical, signPayload } from '../../src/audit/jws.js';
import { documentResolver } from '../../src/did/document-resolver.js';
import { canonicalJson } from '../../src/encoding/json.js';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import type { KeyPair } from '../../src/keys/types.js';
import type { Issuer } from '../../src/credentials/types.js';
import type { DIDDocument } from '../../src/did/types.js';
import { tempDir } from '../helpers.js';

/**
 * A chain is written by one verifier instance with one key. A verifier whose
 * document lists a second key (published ahead of a rotation, or kept after
 * one) could have that key re-sign the tail of an old chain, re-linked from
 * an entry the first key signed: every signature verifies with the
 * document, every link holds. The splice is the change of key inside one
 * chain, caught in the live log and in a bundle's log segment.
 */
const V = 'did:web:two-keys.example';
const k1 = generateKeyPair('Ed25519');
const k2 = generateKeyPair('P-256');
const vm = (id: string, kp: KeyPair) => ({ id: `${V}#${id}`, type: 'JsonWebKey2020', controller: V, publicKeyJwk: kp.publicJwk });
const DOC = { id: V, verificationMethod: [vm('k1', k1), vm('k2', k2)], assertionMethod: [`${V}#k1`, `${V}#k2`] } as unknown as DIDDocument;
const issuer = (id: string, kp: KeyPair): Issuer => ({ did: V, kid: `${V}#${id}`, keyType: kp.type, publicJwk: kp.publicJwk, signer: createSigner(kp.privateJwk) });
const resolver = documentResolver(async () => structuredClone(DOC), { cacheTtlMs: 0 });
const N = 4;
let dir: string;
let bundle: EvidenceBundle;

beforeAll(async () => {
  dir = tempDir('charter-log-splice-');
  const store: Store = await openSqliteStore(join(dir, 'api.db'));
  const v = createVerifier({ aud: 'did:web:api.example', store, resolver, http: false, receipts: { signer: issuer('k1', k1) } });
  const first = (await decide(v, 'not a presentation', { kind: 'presentation' }, { kind: 'none' })).receipt!;
  for (let i = 1; i < N; i++) await decide(v, 'not a presentation', { kind: 'presentation' }, { kind: 'none' });
  await v.receipts!.checkpoint();
  bundle = await exportEvidence(store, first);
  await store.close();
}, 30_000);

const claimsOf = (jws: string) => JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()) as Record<string, unknown> & { log: { prev: string } };

/** Entries `from`..N re-signed by `by` and re-linked from the entry before them; the returned head hash. */
async function resign(entries: string[], from: number, by: Issuer): Promise<{ entries: string[]; head: string }> {
  const out = [...entries];
  let prev = payloadHash(out[from - 2]!);
  for (let k = from; k <= out.length; k++) {
    const c = claimsOf(out[k - 1]!);
    c.log.prev = prev;
    const payload = canonicalJson(c);
    out[k - 1] = await signPayload(RECEIPT_TYP, payload, by);
    prev = payloadHash(out[k - 1]!);
  }
  return { entries: out, head: prev };
}

describe("a chain's tail re-signed with the verifier's other key", () => {
  it('the untouched log and bundle verify', async () => {
    const s = await openSqliteStore(join(dir, 'api.db'));
    try {
      expect((await verifyAuditLog(s, { resolver, issuers: [V] })).ok).toBe(true);
    } finally {
      await s.close();
    }
    expect(bundle.log.entries).toHaveLength(N);
    const v = await verifyEvidence(bundle);
    expect(['receipt', 'log', 'checkpoint'].map((p) => v.parts.find((x) => x.part === p)!.ok)).toEqual([true, true, true]);
  });

  it('in the live log, stored checkpoints re-signed too: a break at the first entry of the other key', async () => {
    for (const from of [2, N]) {
      const db = new Database(join(dir, 'api.db'));
      const rows = db.prepare('SELECT seq, jws FROM audit_entries ORDER BY seq').all() as { seq: number; jws: string }[];
      const chain = (db.prepare('SELECT chain FROM audit_entries LIMIT 1').get() as { chain: string }).chain;
      const { entries, head } = await resign(
        rows.map((r) => r.jws),
        from,
        issuer('k2', k2),
      );
      const file = join(dir, `splice-${from}.db`);
      await db.backup(file);
      db.close();
      const copy = new Database(file);
      for (let k = from; k <= N; k++) {
        const c = claimsOf(entries[k - 1]!);
        copy.prepare('UPDATE audit_entries SET jws = ?, hash = ?, prev = ? WHERE seq = ?').run(entries[k - 1], payloadHash(entries[k - 1]!), c.log.prev, k);
      }
      copy.prepare('DELETE FROM audit_checkpoints').run();
      const t = new Date();
      const cp = await signCanonical(CHECKPOINT_TYP, { iss: V, iat: Math.floor(t.getTime() / 1000), time: t.toISOString(), chain, seq: N, head }, issuer('k2', k2));
      copy.prepare('INSERT INTO audit_checkpoints (chain, seq, head, issuer, at, jws) VALUES (?, ?, ?, ?, ?, ?)').run(chain, N, head, V, t.getTime(), cp.jws);
      copy.close();
      const s = await openSqliteStore(file);
      try {
        const v = await verifyAuditLog(s, { resolver, issuers: [V] });
        expect([from, v.ok, v.broken?.seq, v.broken?.message]).toEqual([from, false, from, expect.stringMatching(/another key/)]);
      } finally {
        await s.close();
      }
    }
  });

  it('in a bundle: the segment after the receipt re-signed with the other key, checkpoint too, fails its log part', async () => {
    const { entries, head } = await resign(bundle.log.entries, 2, issuer('k2', k2));
    const cp = claimsOf(bundle.log.checkpoint);
    const t = new Date();
    const checkpoint = (await signCanonical(CHECKPOINT_TYP, { ...cp, head, iat: Math.floor(t.getTime() / 1000), time: t.toISOString() }, issuer('k2', k2))).jws;
    const v = await verifyEvidence({ ...structuredClone(bundle), log: { entries, checkpoint } });
    const log = v.parts.find((p) => p.part === 'log')!;
    expect([log.ok, log.reasons[0]?.message]).toEqual([false, expect.stringMatching(/another key than the receipt/)]);
    expect(v.parts.find((p) => p.part === 'checkpoint')!.ok).toBe(true);
  });
});
