import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, readlinkSync, realpathSync, statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MIGRATIONS } from '../../src/store/sqlite/schema.js';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { openWorld, type World } from '../http/world.js';
import { tempDir } from '../helpers.js';
import { expectSameMeaning, populate } from './fixtures/upgrade-rows.js';

/**
 * Upgrades of a store on disk: a file at every schema version this code has
 * ever written (MIGRATIONS[0..k] replayed by hand, so a migration appended
 * later is covered without touching this file), holding the rows a real
 * store held at that version, opened by the current code.
 */
let w: World;
let dir: string;
let ref: string;

/** A file at schema version k, as the Charter of that version left it. */
function atVersion(path: string, k: number): Database.Database {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  for (const m of MIGRATIONS.slice(0, k)) db.exec(m);
  db.pragma(`user_version = ${k}`);
  return db;
}

const tables = (db: Database.Database, schema = 'main') =>
  (db.prepare(`SELECT name FROM ${schema}.sqlite_master WHERE type = 'table' ORDER BY name`).all() as { name: string }[]).map((r) => r.name);
const columns = (db: Database.Database, table: string, schema = 'main') =>
  (db.prepare(`SELECT name FROM pragma_table_info(?, ?)`).all(table, schema) as { name: string }[]).map((r) => r.name);

/** The reference rows copied into an old file: every table that exists at its version, every column it had then. */
function copyRows(old: Database.Database): void {
  old.pragma('foreign_keys = OFF');
  old.prepare('ATTACH DATABASE ? AS ref').run(ref);
  for (const t of tables(old)) {
    const cols = columns(old, t).filter((c) => columns(old, t, 'ref').includes(c));
    const list = cols.map((c) => `"${c}"`).join(', ');
    old.exec(`INSERT INTO main."${t}" (${list}) SELECT ${list} FROM ref."${t}"`);
  }
  old.exec('DETACH DATABASE ref');
}

/** The rows of each table of `before` (a copy of the old file) all in `after`, column for column, none lost. */
function expectRowsKept(before: string, after: string): void {
  const db = new Database(after, { readonly: true });
  db.prepare('ATTACH DATABASE ? AS old').run(before);
  try {
    for (const t of tables(db, 'old')) {
      const list = columns(db, t, 'old')
        .map((c) => `"${c}"`)
        .join(', ');
      const n = (s: string) => (db.prepare(`SELECT count(*) AS n FROM ${s}."${t}"`).get() as { n: number }).n;
      expect(n('main'), t).toBe(n('old'));
      expect(db.prepare(`SELECT ${list} FROM old."${t}" EXCEPT SELECT ${list} FROM main."${t}"`).all(), t).toEqual([]);
    }
  } finally {
    db.close();
  }
}

/** The handles this process holds on a file: none once a store that could not open is gone. */
function handlesOn(path: string): number {
  const real = realpathSync(path);
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === real;
    } catch {
      return false;
    }
  }).length;
}

const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const version = (path: string) => {
  const db = new Database(path, { readonly: true });
  try {
    return db.pragma('user_version', { simple: true }) as number;
  } finally {
    db.close();
  }
};

beforeAll(async () => {
  w = await openWorld();
  await w.home.createIdentity({ alias: 'api' });
  dir = tempDir('charter-upgrade-');
  ref = join(dir, 'ref.db');
  const store = await openSqliteStore(ref);
  await populate(w, store);
  await store.close();
}, 60_000);
afterAll(async () => w.close());

describe('a store written at every earlier schema version, opened by this code', () => {
  // Versions 1..current-1: every file an earlier Charter left on disk.
  const versions = MIGRATIONS.slice(1).map((_, i) => i + 1);

  it.each(versions)('version %i: every row kept column for column; a used nonce stays used, spend stays counted, a revoked bit stays set, the audit chain verifies', async (k) => {
    const path = join(dir, `v${k}.db`);
    const old = atVersion(path, k);
    copyRows(old);
    const present = tables(old);
    const has = (t: string) => present.includes(t);
    old.close();
    const before = join(dir, `v${k}-before.db`);
    const copy = new Database(path);
    await copy.backup(before);
    copy.close();

    const s = await openSqliteStore(path);
    try {
      await expectSameMeaning(w, s, has);
    } finally {
      await s.close();
    }
    expect(version(path)).toBe(MIGRATIONS.length);
    expectRowsKept(before, path);
  });
});

describe('a store this code cannot upgrade', () => {
  it.each(['delete', 'wal'])('a file from a newer Charter (journal mode %s): STORE_ERROR saying upgrade Charter, not a byte written, no handle kept', async (mode) => {
    const path = join(dir, `newer-${mode}.db`);
    const db = new Database(path);
    db.pragma(`journal_mode = ${mode}`);
    for (const m of MIGRATIONS) db.exec(m);
    db.exec("INSERT INTO nonces (scope, value, expires_at) VALUES ('jti', 'x', 1)");
    db.pragma(`user_version = ${MIGRATIONS.length + 1}`);
    db.close();
    const before = sha(path);
    await expect(openSqliteStore(path)).rejects.toMatchObject({ code: 'STORE_ERROR', message: expect.stringMatching(/newer than this Charter knows.*upgrade Charter/) });
    expect(sha(path)).toBe(before);
    expect(handlesOn(path)).toBe(0);
    expect(version(path)).toBe(MIGRATIONS.length + 1);
  });

  it('a migration refused by old data (a row an older version wrote past a CHECK): STORE_ERROR naming the upgrade, the file still at its version with every row, openable once the row is fixed', async () => {
    // Migration 6 copies access_receipts into a rebuilt table, through its CHECK on outcome.
    const k = 5;
    const path = join(dir, 'bad-row.db');
    const old = atVersion(path, k);
    copyRows(old);
    old.pragma('ignore_check_constraints = ON');
    old.exec("INSERT INTO access_receipts (grant_id, receipt_id, verifier, reporter, outcome, at, received_at, jws) VALUES ('g', 'bad', 'v', 'v', 'maybe', 1, 2, 'j')");
    old.close();
    const before = sha(path);
    const e = await openSqliteStore(path).catch((x: unknown) => x);
    expect(e).toMatchObject({ name: 'CharterError', code: 'STORE_ERROR' });
    expect((e as Error).message).toMatch(new RegExp(`upgrading the store's schema from version ${k} to ${MIGRATIONS.length} failed .*still at version ${k}`));
    expect((e as Error).message).not.toMatch(/already exists/);
    expect(handlesOn(path)).toBe(0);
    expect(version(path)).toBe(k);
    expect(sha(path)).toBe(before);
    // The owner fixes the row; the same file then upgrades with everything else in it.
    const fix = new Database(path);
    fix.exec("DELETE FROM access_receipts WHERE receipt_id = 'bad'");
    fix.close();
    const s = await openSqliteStore(path);
    await expectSameMeaning(w, s, () => true);
    await s.close();
    expect(version(path)).toBe(MIGRATIONS.length);
  });
});

/**
 * A process opening the store (under `sh` limits when given): prints ok, or the error's name, code and message.
 * `before`: code the process runs first (a hook into the driver).
 */
function openIn(path: string, limits = '', started?: (p: ChildProcess) => void, before = ''): Promise<string> {
  const script = `${before}
    import { openSqliteStore } from ${JSON.stringify(join(__dirname, '../../src/store/sqlite/store.ts'))};
    try { const s = await openSqliteStore(process.argv[1]); await s.close(); console.log('ok'); }
    catch (e) { console.log(e.name + ' ' + e.code + ' ' + e.message); }`;
  return new Promise((resolve, reject) => {
    const node = [process.execPath, '--import', 'tsx', '--input-type=module', '-e', script, path].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    const p = spawn('sh', ['-c', `${limits} exec ${node}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    started?.(p);
    let out = '';
    let err = '';
    p.stdout.on('data', (d: Buffer) => (out += d));
    p.stderr.on('data', (d: Buffer) => (err += d));
    p.on('close', (code, signal) => (code === 0 ? resolve(out.trim()) : signal ? resolve(signal) : reject(new Error(`exit ${code}: ${err}`))));
  });
}

describe('processes opening one old file at once', () => {
  it('four processes open a file at the first version: each opens it (one migrates, the others wait), no raw duplicate-column error, every row kept', async () => {
    const path = join(dir, 'race.db');
    const old = atVersion(path, 1);
    copyRows(old);
    old.close();
    const before = join(dir, 'race-before.db');
    const copy = new Database(path);
    await copy.backup(before);
    copy.close();
    expect(await Promise.all([0, 1, 2, 3].map(() => openIn(path)))).toEqual(['ok', 'ok', 'ok', 'ok']);
    expect(version(path)).toBe(MIGRATIONS.length);
    expectRowsKept(before, path);
  }, 60_000);
});

describe('an old file whose write lock another process holds', () => {
  it('past the busy timeout: STORE_UNAVAILABLE saying to try again, nothing changed; once the lock is free, it upgrades', async () => {
    const path = join(dir, 'locked.db');
    const old = atVersion(path, 1);
    copyRows(old);
    old.close();
    const holder = new Database(path);
    holder.exec('BEGIN IMMEDIATE');
    try {
      await expect(openSqliteStore(path, { busyTimeoutMs: 50 })).rejects.toMatchObject({
        name: 'CharterError',
        code: 'STORE_UNAVAILABLE',
        message: expect.stringMatching(
          /^upgrading the store's schema from version 1 to \d+ failed \(SQLITE_BUSY[A-Z_]*\); nothing was changed, the store is still at version 1: .*try again$/,
        ),
      });
    } finally {
      holder.exec('ROLLBACK');
      holder.close();
    }
    // SQLite defers closing a file while this process holds a lock on it: none is left once the holder is gone.
    expect(handlesOn(path)).toBe(0);
    expect(version(path)).toBe(1);
    const s = await openSqliteStore(path);
    await expectSameMeaning(w, s, (t) => t !== 'audit_entries' && t !== 'audit_checkpoints' && t !== 'ratings' && t !== 'access_receipts');
    await s.close();
    expect(version(path)).toBe(MIGRATIONS.length);
  });
});

describe('a migration cut short', () => {
  /** A file at version 4 with 40000 live nonces: migration 5 copies them all, several MB through the WAL. */
  function bigOld(name: string): string {
    const path = join(dir, name);
    const db = atVersion(path, 4);
    const ins = db.prepare('INSERT INTO nonces (scope, value, expires_at) VALUES (?, ?, ?)');
    const until = Date.now() + 3_600_000;
    db.transaction(() => {
      for (let i = 0; i < 40_000; i++) ins.run('jti', `did:key:zA nonce-${i}-${'x'.repeat(40)}`, until);
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    return path;
  }

  async function expectUpgradedIntact(path: string): Promise<void> {
    const s = await openSqliteStore(path);
    try {
      expect(await s.consumeNonce('jti', `did:key:zA nonce-0-${'x'.repeat(40)}`, new Date(Date.now() + 60_000))).toBe(false);
      expect(await s.consumeNonce('jti', `did:key:zA nonce-39999-${'x'.repeat(40)}`, new Date(Date.now() + 60_000))).toBe(false);
    } finally {
      await s.close();
    }
    expect(version(path)).toBe(MIGRATIONS.length);
    const db = new Database(path, { readonly: true });
    expect((db.prepare("SELECT count(*) AS n FROM nonces WHERE value LIKE 'did:key:zA nonce-%'").get() as { n: number }).n).toBe(40_000);
    db.close();
  }

  it('the disk fills during the upgrade (a 1 MB file size limit): STORE_UNAVAILABLE naming the upgrade, the file untouched at its version, upgraded whole later', async () => {
    const path = bigOld('full.db');
    const before = sha(path);
    const out = await openIn(path, 'ulimit -f 2048;');
    expect(out).toMatch(
      /^CharterError STORE_UNAVAILABLE upgrading the store's schema from version 4 to \d+ failed \(SQLITE_(IOERR|FULL)[A-Z_]*\).*still at version 4: free disk space/,
    );
    expect(sha(path)).toBe(before);
    expect(version(path)).toBe(4);
    await expectUpgradedIntact(path);
  }, 60_000);

  it('the process killed during the upgrade (SIGKILL after every migration ran, before the commit): the file still at its version, upgraded whole later', async () => {
    const path = bigOld('killed.db');
    const before = sha(path);
    // Killed at a set point, not when a poll sees the WAL grow: that happened only as the commit wrote it, and a
    // poll that came late (a loaded machine) killed after the commit or during the checkpoint. The child says
    // when its migrations have all run (the last version is set last, in the transaction) and waits to be killed; a
    // small page cache makes them spill their pages to the WAL before that, uncommitted.
    const hook = `import Database from 'better-sqlite3';
      const pragma = Database.prototype.pragma;
      Database.prototype.pragma = function (s, o) {
        if (s === 'journal_mode = WAL') {
          const mode = pragma.call(this, s, o);
          pragma.call(this, 'cache_size = 16');
          return mode;
        }
        if (this.inTransaction && s === 'user_version = ${MIGRATIONS.length}') {
          console.log('migrated');
          Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0);
        }
        return pragma.call(this, s, o);
      };`;
    const killed = openIn(path, '', (p) => p.stdout?.on('data', (d: Buffer) => String(d).includes('migrated') && p.kill('SIGKILL')), hook);
    expect(await killed).toBe('SIGKILL');
    // The migrations wrote their pages through the WAL before the kill: what was cut short was a real upgrade.
    expect(statSync(`${path}-wal`).size).toBeGreaterThan(1_000_000);
    expect(sha(path)).toBe(before);
    expect(version(path)).toBe(4);
    await expectUpgradedIntact(path);
  }, 60_000);
});
