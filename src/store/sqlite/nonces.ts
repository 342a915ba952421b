import type { Database } from 'better-sqlite3';
import { nonceKeys } from '../keys.js';
import type { NonceStore } from '../types.js';

/**
 * The replay cache with group commit: every consumeNonce of one event-loop
 * turn goes into one transaction (shared with the audit log's appends, see
 * group.ts), so concurrent requests share one fsync (synchronous=FULL)
 * instead of paying one each. Each call resolves only after the transaction
 * holding its row has committed; values repeated in one batch are seen in
 * order (the second one is a replay).
 */
export function sqliteNonces(db: Database, commit: <T>(run: () => T) => Promise<T>): NonceStore {
  let calls = 0;
  // One statement: a new value is inserted, an expired one taken again, a live one left alone (no change: a replay).
  const use = db.prepare(
    'INSERT INTO nonces (scope, value, expires_at) VALUES (?, ?, ?) ON CONFLICT(scope, value) DO UPDATE SET expires_at = excluded.expires_at WHERE nonces.expires_at <= ?',
  );
  // The expired range of the expiry index, a bounded slice at a time: the batch it rides in stays short.
  const sweep = db.prepare('DELETE FROM nonces WHERE (scope, value) IN (SELECT scope, value FROM nonces WHERE expires_at <= ? LIMIT 2048)');
  return {
    consumeNonce(scope, value, expiresAt) {
      // Checked before queueing: one bad call must not fail the batch it would share.
      let k: ReturnType<typeof nonceKeys>;
      try {
        k = nonceKeys(scope, value, expiresAt);
      } catch (e) {
        return Promise.reject(e);
      }
      return commit(() => {
        const now = Date.now();
        if (++calls % 256 === 0) sweep.run(now);
        return use.run(k.scope, k.value, k.until, now).changes === 1;
      });
    },
  };
}
