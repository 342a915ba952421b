import { closeSync, fsync, openSync } from 'node:fs';
import type { Database } from 'better-sqlite3';
import { CharterError } from '../../errors.js';
import { storeFault } from './wrap.js';

type Work = { run: () => unknown; resolve: (v: unknown) => void; reject: (e: unknown) => void };
type Result = { ok: true; value: unknown } | { ok: false; error: unknown };

/** A group commit: `commit(run)` queues a write; `close()` releases what it holds (before the database closes). */
export interface GroupCommit {
  <T>(run: () => T): Promise<T>;
  close(): void;
}

/**
 * Group commit for one connection: every write queued in one event-loop turn
 * (replay-cache entries, audit-log batches) runs in one IMMEDIATE
 * transaction, so they share one fsync instead of paying one each. A write
 * that throws rejects alone: one of several statements must be a
 * `db.transaction` of its own, which better-sqlite3 runs as a SAVEPOINT
 * inside the batch and rolls back alone (a single statement needs none).
 * An error that makes SQLite roll the whole transaction back (a full disk)
 * fails the whole batch, and nothing after it runs.
 * Each caller resolves only after the transaction holding its write is on
 * disk.
 *
 * better-sqlite3 commits synchronously, so with synchronous=FULL the WAL's
 * fsync would stall the event loop (about a millisecond per batch on common
 * disks: most of a guarded request's budget). On a file database in WAL mode
 * whose connection is at synchronous=FULL, a batch is therefore committed at
 * synchronous=NORMAL (the frames written, not synced) and the WAL file is
 * then fsynced in the thread pool; the batch's callers resolve only once an
 * fsync that began after their commit has completed. What a caller is told
 * is durable is exactly what FULL would have made durable: the WAL frames
 * of its commit, synced (SQLite's crash recovery keeps every frame up to the
 * last valid commit record). Writes queued while an fsync runs are committed
 * when it completes, as one batch: they would wait for the next fsync anyway,
 * and a COMMIT costs the event loop a write per page it dirtied (the replay
 * cache's random keys dirty a page each), so fewer, larger batches leave it
 * more time for requests. Other processes may read the commit before it
 * is synced, as they may under FULL between write and sync: for a replay
 * cache that can only refuse a request, never allow one. Writes outside the
 * group commit keep synchronous=FULL. A failed fsync rejects every caller
 * waiting on it (STORE_UNAVAILABLE): never acknowledged, so never relied on.
 */
export function groupCommit(db: Database): GroupCommit {
  let queue: Work[] = [];
  const batch = db.transaction((items: Work[]) =>
    items.map((w): Result => {
      try {
        return { ok: true, value: w.run() };
      } catch (e) {
        // SQLITE_FULL, IOERR, NOMEM... roll the whole transaction back: the writes before this one are gone
        // too, and the ones after would run in autocommit, kept while their callers are told they failed.
        // So the batch fails as a whole, with the store's fault.
        if (!db.inTransaction) throw e;
        return { ok: false, error: e };
      }
    }),
  );
  const wal = walSync(db);
  // Writes queued while the WAL's fsync runs wait for it, then commit as one batch (see above).
  let deferred = false;
  let closed = false;
  function flush(): void {
    if (queue.length === 0) return;
    if (wal?.syncing() && !closed) {
      deferred = true;
      return;
    }
    deferred = false;
    const items = queue;
    queue = [];
    let results: Result[];
    try {
      results = wal ? wal.commit(() => batch.immediate(items)) : batch.immediate(items);
    } catch (e) {
      const fault = storeFault(e);
      for (const w of items) w.reject(fault);
      return;
    }
    const settle = (fault?: Error) =>
      items.forEach((w, i) => {
        const r = results[i]!;
        if (fault) w.reject(fault);
        else if (r.ok) w.resolve(r.value);
        else w.reject(storeFault(r.error));
      });
    if (wal) wal.synced(settle);
    else settle();
  }
  const commit = (<T>(run: () => T) =>
    new Promise<T>((resolve, reject) => {
      queue.push({ run, resolve: resolve as (v: unknown) => void, reject });
      if (queue.length === 1) setImmediate(flush);
    })) as GroupCommit;
  wal?.onIdle(() => {
    if (deferred) flush();
  });
  commit.close = () => {
    closed = true;
    // Writes still waiting for an fsync were never committed: refused, so never relied on.
    if (deferred) {
      const items = queue;
      queue = [];
      deferred = false;
      for (const w of items) w.reject(new CharterError('STORE_UNAVAILABLE', 'the store is closed: try again'));
    }
    wal?.close();
  };
  return commit;
}

/** The WAL file's sync off the event loop, or undefined where it does not apply (memory, temp, not WAL, not FULL). */
interface WalSync {
  commit<T>(run: () => T): T;
  synced(done: (fault?: Error) => void): void;
  /** An fsync of the WAL is running. */
  syncing(): boolean;
  /** Called when an fsync completes, after its waiters were told and before the next one starts. */
  onIdle(f: () => void): void;
  close(): void;
}

function walSync(db: Database): WalSync | undefined {
  if (db.memory || !db.name || db.pragma('journal_mode', { simple: true }) !== 'wal' || db.pragma('synchronous', { simple: true }) !== 2) return undefined;
  let fd: number;
  try {
    // r+: Windows flushes only a handle opened for writing. Never created here: SQLite made it when WAL mode was set.
    fd = openSync(`${db.name}-wal`, 'r+');
  } catch {
    return undefined;
  }
  const normal = db.prepare('PRAGMA synchronous = NORMAL');
  const full = db.prepare('PRAGMA synchronous = FULL');
  let closed = false;
  let released = false;
  let syncing = false;
  // Batches committed since the running fsync began: they wait for the next one.
  let waiting: Array<(fault?: Error) => void> = [];
  let idle: (() => void) | undefined;
  const release = () => {
    if (released) return;
    released = true;
    try {
      closeSync(fd);
    } catch {
      // already gone
    }
  };
  const start = () => {
    const these = waiting;
    waiting = [];
    if (closed) {
      for (const done of these) done(new CharterError('STORE_UNAVAILABLE', 'the store is closed: try again'));
      return release();
    }
    syncing = true;
    fsync(fd, (err) => {
      syncing = false;
      const fault = err ? new CharterError('STORE_UNAVAILABLE', `the store cannot be written now (${err.code ?? 'fsync'}): try again`, { cause: err }) : undefined;
      for (const done of these) done(fault);
      idle?.();
      if (syncing) return;
      if (waiting.length > 0) start();
      else if (closed) release();
    });
  };
  return {
    commit(run) {
      normal.run();
      try {
        return run();
      } finally {
        full.run();
      }
    },
    synced(done) {
      waiting.push(done);
      if (!syncing) start();
    },
    syncing: () => syncing,
    onIdle(f) {
      idle = f;
    },
    close() {
      closed = true;
      // An fsync in flight keeps the descriptor until it completes (its callback releases it).
      if (!syncing) release();
    },
  };
}
