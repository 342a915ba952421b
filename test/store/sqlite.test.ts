import { statSync } from 'node:fs';
import { join } from 'node:path';
import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { ensureHome } from '../../src/home/dir.js';
import { tempDir } from '../helpers.js';
import { expectOneFirstList, runStoreContract } from './contract.js';

runStoreContract('sqlite', () => openSqliteStore(join(tempDir(), 'charter.db')));

function run(script: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', join(__dirname, 'fixtures', script), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d));
    p.stderr.on('data', (d: Buffer) => (err += d));
    p.on('close', (code) => (code === 0 ? resolve(out) : reject(new Error(`exit ${code}: ${err}`))));
  });
}

describe('sqlite store files', () => {
  it('creates the database 0600 inside a 0700 home', async () => {
    const home = ensureHome(join(tempDir(), 'home'));
    const s = await openSqliteStore(join(home, 'charter.db'));
    await s.close();
    expect(statSync(home).mode & 0o777).toBe(0o700);
    expect(statSync(join(home, 'charter.db')).mode & 0o777).toBe(0o600);
  });

  it('real parallel processes never overspend any link of a chain and never share a status index', async () => {
    const db = join(tempDir(), 'shared.db');
    const init = await openSqliteStore(db);
    await init.createStatusList({ id: 'l', issuerDid: 'did:key:zi', purpose: 'revocation', size: 131072, ttlSeconds: 60, url: 'https://x/status/l' });
    await init.close();
    // 4 processes x 15 reservations of 7 USD against a chain whose tighter link allows 60: exactly 8 fit.
    const outs = await Promise.all([0, 1, 2, 3].map((w) => run('sqlite-worker.ts', [db, String(w), '15'])));
    const results = outs.map((o) => JSON.parse(o) as { ok: number; indices: number[] });
    expect(results.reduce((a, r) => a + r.ok, 0)).toBe(8);
    const check = await openSqliteStore(db);
    const usage = await check.previewReservation({
      reservationId: 'q',
      at: new Date(),
      entries: [{ mandateId: 'parent', amount: '0', currency: 'USD', budget: { amount: '100', currency: 'USD', periodSeconds: 3600 } }],
    });
    expect(usage.usage[0]!.spent).toBe('56');
    await check.close();
    const all = results.flatMap((r) => r.indices);
    expect(all.length).toBe(60);
    expect(new Set(all).size).toBe(60);
  }, 60_000);
});

describe('sqlite status lists shared by connections', () => {
  it("two connections to one file (as two processes) issuing an issuer's first entries at once create one list", async () => {
    const db = join(tempDir(), 'first-list.db');
    const [a, b] = [await openSqliteStore(db), await openSqliteStore(db)];
    try {
      await expectOneFirstList([a, b]);
    } finally {
      await a.close();
      await b.close();
    }
  });
});

describe('sqlite access reports (schema 6: keyed by grant, verifier and receipt id)', () => {
  it("a store from schema 5 keeps its reported uses through the upgrade; from then on another verifier's receipt of the same id is its own", async () => {
    const path = join(tempDir(), 'v5.db');
    const Database = (await import('better-sqlite3')).default;
    const { MIGRATIONS } = await import('../../src/store/sqlite/schema.js');
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    for (const m of MIGRATIONS.slice(0, 5)) old.exec(m);
    old.pragma('user_version = 5');
    old
      .prepare('INSERT INTO access_receipts (grant_id, receipt_id, verifier, reporter, holder, outcome, at, received_at, jws) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run('g', 'r1', 'did:key:zapi', 'did:key:zapi', 'did:key:zapp', 'allow', 1000, 2000, 'h.r1.s');
    old.close();

    const s = await openSqliteStore(path);
    expect(await s.listAccessReceipts({ grantId: 'g' })).toEqual([
      {
        grantId: 'g',
        receiptId: 'r1',
        verifier: 'did:key:zapi',
        reporter: 'did:key:zapi',
        holder: 'did:key:zapp',
        outcome: 'allow',
        at: new Date(1000).toISOString(),
        receivedAt: new Date(2000).toISOString(),
        jws: 'h.r1.s',
      },
    ]);
    const rec = (verifier: string) => ({
      grantId: 'g',
      receiptId: 'r1',
      verifier,
      reporter: verifier,
      outcome: 'deny' as const,
      at: new Date(3000).toISOString(),
      receivedAt: new Date(4000).toISOString(),
      jws: 'h.x.s',
    });
    expect(await s.putAccessReceipts([rec('did:key:zforger'), rec('did:key:zapi')])).toEqual(['added', 'duplicate']);
    await s.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    db.close();
  });
});

describe('sqlite ratings (schema 7: the key each rating was signed with)', () => {
  it('a store from schema 6 keeps its ratings through the upgrade, without a key (scored as before); new ones keep theirs', async () => {
    const path = join(tempDir(), 'v6.db');
    const Database = (await import('better-sqlite3')).default;
    const { MIGRATIONS } = await import('../../src/store/sqlite/schema.js');
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    for (const m of MIGRATIONS.slice(0, 6)) old.exec(m);
    old.pragma('user_version = 6');
    old
      .prepare('INSERT INTO ratings (attester, id, agent, receipt, score, dimension, issued_at, valid_until, status, imported_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run('did:web:critic.example', 'urn:uuid:old', 'did:key:zagent', 'urn:uuid:r0', 0.25, null, 1000, null, '{"type":"BitstringStatusListEntry"}', 2000);
    old.prepare('INSERT INTO rating_versions (agent, version) VALUES (?, ?)').run('did:key:zagent', 1);
    old.close();

    const s = await openSqliteStore(path);
    const before = {
      id: 'urn:uuid:old',
      attester: 'did:web:critic.example',
      agent: 'did:key:zagent',
      receipt: 'urn:uuid:r0',
      score: 0.25,
      issuedAt: 1000,
      importedAt: 2000,
      revocable: true,
    };
    expect(await s.listRatings('did:key:zagent')).toEqual([before]);
    expect(await s.listRatingStatus('did:key:zagent')).toEqual([{ attester: 'did:web:critic.example', id: 'urn:uuid:old', status: '{"type":"BitstringStatusListEntry"}' }]);
    const v = await s.ratingsVersion('did:key:zagent');
    const fresh = {
      id: 'urn:uuid:new',
      attester: 'did:web:critic.example',
      agent: 'did:key:zagent',
      receipt: 'urn:uuid:r1',
      score: 1,
      issuedAt: 3000,
      importedAt: 4000,
      signedWith: 'OKP Ed25519 abc ',
    };
    expect(await s.putRatings([fresh])).toEqual([{ attester: 'did:web:critic.example', id: 'urn:uuid:new' }]);
    expect(await s.listRatings('did:key:zagent')).toEqual([before, { ...fresh, revocable: false }]);
    expect(await s.ratingsVersion('did:key:zagent')).not.toBe(v);
    await s.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    expect(db.prepare('SELECT id, signed_with FROM ratings ORDER BY id').all()).toEqual([
      { id: 'urn:uuid:new', signed_with: 'OKP Ed25519 abc ' },
      { id: 'urn:uuid:old', signed_with: null },
    ]);
    db.close();
  });
});

describe('sqlite replay cache (schema 5: one b-tree, an expiry index)', () => {
  it('a store from schema 4 keeps its live nonces through the upgrade: a replay after it is still refused', async () => {
    const path = join(tempDir(), 'v4.db');
    const Database = (await import('better-sqlite3')).default;
    const { MIGRATIONS } = await import('../../src/store/sqlite/schema.js');
    const old = new Database(path);
    old.pragma('journal_mode = WAL');
    for (const m of MIGRATIONS.slice(0, 4)) old.exec(m);
    old.pragma('user_version = 4');
    const until = Date.now() + 60_000;
    old.prepare('INSERT INTO nonces (scope, value, expires_at) VALUES (?, ?, ?)').run('jti', 'did:key:zA seen-before', until);
    old.prepare('INSERT INTO nonces (scope, value, expires_at) VALUES (?, ?, ?)').run('jti', 'did:key:zA long-gone', Date.now() - 1000);
    old.close();

    const s = await openSqliteStore(path);
    const soon = new Date(until);
    expect(await s.consumeNonce('jti', 'did:key:zA seen-before', soon)).toBe(false);
    expect(await s.consumeNonce('jti', 'did:key:zA long-gone', soon)).toBe(true);
    expect(await s.consumeNonce('jti', 'did:key:zA new', soon)).toBe(true);
    await s.close();
    const db = new Database(path, { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(MIGRATIONS.length);
    const plan = db.prepare('EXPLAIN QUERY PLAN SELECT scope, value FROM nonces WHERE expires_at <= ?').all(0) as { detail: string }[];
    expect(plan.map((r) => r.detail).join(' ')).toMatch(/USING (COVERING )?INDEX nonces_expires/);
    db.close();
  });

  it('the sweep deletes what expired and nothing live, whatever the order values were used in', async () => {
    const path = join(tempDir(), 'sweep.db');
    const s = await openSqliteStore(path);
    const past = new Date(Date.now() + 150);
    const later = new Date(Date.now() + 60_000);
    // 300 short-lived values, then (once they expired) 300 calls: the 256th sweeps, the live ones stay.
    await Promise.all(Array.from({ length: 300 }, (_, i) => s.consumeNonce('jti', `short ${i}`, past)));
    await Promise.all(Array.from({ length: 10 }, (_, i) => s.consumeNonce('jti', `live ${i}`, later)));
    await new Promise((r) => setTimeout(r, 200));
    for (let i = 0; i < 290; i++) expect(await s.consumeNonce('jti', `other ${i}`, later)).toBe(true);
    await s.close();
    const Database = (await import('better-sqlite3')).default;
    const db = new Database(path, { readonly: true });
    const rows = db.prepare('SELECT value FROM nonces').all() as { value: string }[];
    db.close();
    expect(rows.filter((r) => r.value.startsWith('short '))).toEqual([]);
    expect(rows.filter((r) => r.value.startsWith('live ')).length).toBe(10);
    // Live values are still refused after the sweep.
    const again = await openSqliteStore(path);
    expect(await again.consumeNonce('jti', 'live 3', later)).toBe(false);
    expect(await again.consumeNonce('jti', 'other 7', later)).toBe(false);
    await again.close();
  });
});
