import { pbkdf2 } from 'node:crypto';
import { join } from 'node:path';
import { promisify } from 'node:util';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { groupCommit } from '../../src/store/sqlite/group.js';
import { tempDir } from '../helpers.js';

function open(path: string, synchronous = 'FULL') {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${synchronous}`);
  db.exec('CREATE TABLE IF NOT EXISTS t (k TEXT PRIMARY KEY)');
  return db;
}

describe('sqlite group commit (the WAL synced off the event loop)', () => {
  it('every write of a batch resolves once committed, visible to another connection, and the connection is back at synchronous=FULL', async () => {
    const path = join(tempDir(), 'g.db');
    const db = open(path);
    const commit = groupCommit(db);
    const insert = db.prepare('INSERT INTO t (k) VALUES (?)');
    const done = await Promise.all(Array.from({ length: 50 }, (_, i) => commit(() => insert.run(`k${i}`).changes)));
    expect(done).toEqual(Array(50).fill(1));
    // Outside the batch, this connection's own writes keep FULL.
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    const other = new Database(path, { readonly: true });
    expect((other.prepare('SELECT count(*) AS n FROM t').get() as { n: number }).n).toBe(50);
    other.close();
    commit.close();
    db.close();
  });

  it('a write that throws rejects alone; the others of its batch commit', async () => {
    const db = open(join(tempDir(), 'g.db'));
    const commit = groupCommit(db);
    const insert = db.prepare('INSERT INTO t (k) VALUES (?)');
    const r = await Promise.allSettled([commit(() => insert.run('a')), commit(() => insert.run('a')), commit(() => insert.run('b'))]);
    expect(r.map((x) => x.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    expect((r[1] as PromiseRejectedResult).reason.code).toBe('ALREADY_EXISTS');
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    commit.close();
    db.close();
  });

  it('a full disk in the middle of a batch fails the whole batch (STORE_UNAVAILABLE); nothing after it is written outside the transaction', async () => {
    const db = open(join(tempDir(), 'g.db'));
    const commit = groupCommit(db);
    const insert = db.prepare('INSERT INTO t (k) VALUES (?)');
    // The file may not grow by a page: a small row still fits, a large one is SQLITE_FULL, which rolls the transaction back.
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true }) as number}`);
    const r = await Promise.allSettled([
      commit(() => insert.run('a')),
      commit(() => insert.run('x'.repeat(100_000))),
      commit(() => insert.run('c')),
      commit(() => insert.run('d')),
    ]);
    expect(r.map((x) => (x.status === 'rejected' ? (x.reason as { code: string }).code : 'ok'))).toEqual([
      'STORE_UNAVAILABLE',
      'STORE_UNAVAILABLE',
      'STORE_UNAVAILABLE',
      'STORE_UNAVAILABLE',
    ]);
    // Every caller was told "failed": none of the rows is there, so each value may be used again.
    expect((db.prepare('SELECT k FROM t').all() as { k: string }[]).map((x) => x.k)).toEqual([]);
    expect(db.inTransaction).toBe(false);
    expect(db.pragma('synchronous', { simple: true })).toBe(2);
    // The disk has room again: the next batch commits.
    db.pragma('max_page_count = 1073741823');
    await expect(Promise.all([commit(() => insert.run('c').changes), commit(() => insert.run('d').changes)])).resolves.toEqual([1, 1]);
    commit.close();
    db.close();
  });

  it('writes queued while the WAL is being synced wait for that fsync, then commit as one batch', async () => {
    const db = open(join(tempDir(), 'g.db'));
    const commit = groupCommit(db);
    const insert = db.prepare('INSERT INTO t (k) VALUES (?)');
    // Each write records the event-loop turn its batch ran in.
    let turn = 0;
    let ticking = true;
    const tick = () => {
      turn++;
      if (ticking) setImmediate(tick);
    };
    tick();
    const ranIn: Record<string, number> = {};
    const write = (k: string) =>
      commit(() => {
        ranIn[k] = turn;
        return insert.run(k).changes;
      });
    const first = write('first');
    // Every thread of the pool busy: the first batch's fsync waits behind them.
    const busy = Array.from({ length: Number(process.env.UV_THREADPOOL_SIZE) || 4 }, () => promisify(pbkdf2)('x', 'y', 200_000, 32, 'sha256'));
    let firstDone = false;
    void first.then(() => (firstDone = true));
    const later: Promise<number>[] = [];
    for (let i = 0; i < 5; i++) {
      await new Promise((r) => setImmediate(r));
      later.push(write(`k${i}`));
    }
    expect(ranIn.first).toBeDefined();
    // Queued in five turns while the fsync waited, none has run yet.
    expect(Object.keys(ranIn)).toEqual(['first']);
    await Promise.all(busy);
    expect(await Promise.all(later)).toEqual([1, 1, 1, 1, 1]);
    expect(firstDone).toBe(true);
    // One batch, after the first one's fsync.
    expect(new Set([0, 1, 2, 3, 4].map((i) => ranIn[`k${i}`])).size).toBe(1);
    expect(ranIn.k0!).toBeGreaterThan(ranIn.first!);
    ticking = false;
    commit.close();
    db.close();
  });

  it('writes still waiting for an fsync when the store closes are refused, never committed', async () => {
    const db = open(join(tempDir(), 'g.db'));
    const commit = groupCommit(db);
    const insert = db.prepare('INSERT INTO t (k) VALUES (?)');
    const first = commit(() => insert.run('a'));
    const busy = Array.from({ length: Number(process.env.UV_THREADPOOL_SIZE) || 4 }, () => promisify(pbkdf2)('x', 'y', 200_000, 32, 'sha256'));
    await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    const waiting = commit(() => insert.run('b'));
    await new Promise((r) => setImmediate(r));
    commit.close();
    await expect(waiting).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    await Promise.all(busy);
    // The first was committed before close and its fsync, begun before close too, completed: acknowledged.
    expect((await first).changes).toBe(1);
    expect((db.prepare('SELECT k FROM t').all() as { k: string }[]).map((x) => x.k)).toEqual(['a']);
    db.close();
  });

  it('batches after close are refused as STORE_UNAVAILABLE (never acknowledged unsynced)', async () => {
    const db = open(join(tempDir(), 'g.db'));
    const commit = groupCommit(db);
    const insert = db.prepare('INSERT INTO t (k) VALUES (?)');
    const first = commit(() => insert.run('a'));
    await first;
    commit.close();
    await expect(commit(() => insert.run('b'))).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
    db.close();
  });

  it('a connection set to another synchronous level (or in memory) is left as it is', async () => {
    const db = open(join(tempDir(), 'g.db'), 'NORMAL');
    const commit = groupCommit(db);
    await commit(() => db.prepare('INSERT INTO t (k) VALUES (?)').run('a'));
    expect(db.pragma('synchronous', { simple: true })).toBe(1);
    commit.close();
    db.close();
    const mem = new Database(':memory:');
    mem.exec('CREATE TABLE t (k TEXT PRIMARY KEY)');
    const c = groupCommit(mem);
    expect(await c(() => mem.prepare('INSERT INTO t (k) VALUES (?)').run('a').changes)).toBe(1);
    c.close();
    mem.close();
  });
});
