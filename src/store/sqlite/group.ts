import type { Database } from 'better-sqlite3';
import { storeFault } from './wrap.js';

type Work = { run: () => unknown; resolve: (v: unknown) => void; reject: (e: unknown) => void };

/**
 * Group commit for one connection: every write queued in one event-loop turn
 * (replay-cache entries, audit-log batches) runs in one IMMEDIATE
 * transaction, so they share one fsync (synchronous=FULL) instead of paying
 * one each; better-sqlite3 commits synchronously, so each fsync saved is
 * time the whole process gets back. A write that throws rejects alone: one
 * of several statements must be a `db.transaction` of its own, which
 * better-sqlite3 runs as a SAVEPOINT inside the batch and rolls back alone
 * (a single statement needs none). Each caller resolves only after the
 * transaction holding its write committed.
 */
export function groupCommit(db: Database): <T>(run: () => T) => Promise<T> {
  let queue: Work[] = [];
  const batch = db.transaction((items: Work[]) =>
    items.map((w) => {
      try {
        return { ok: true as const, value: w.run() };
      } catch (e) {
        return { ok: false as const, error: e };
      }
    }),
  );
  function flush(): void {
    const items = queue;
    queue = [];
    try {
      const results = batch.immediate(items);
      items.forEach((w, i) => {
        const r = results[i]!;
        if (r.ok) w.resolve(r.value);
        else w.reject(storeFault(r.error));
      });
    } catch (e) {
      const fault = storeFault(e);
      for (const w of items) w.reject(fault);
    }
  }
  return <T>(run: () => T) =>
    new Promise<T>((resolve, reject) => {
      queue.push({ run, resolve: resolve as (v: unknown) => void, reject });
      if (queue.length === 1) setImmediate(flush);
    });
}
