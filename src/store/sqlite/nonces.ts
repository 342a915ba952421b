import type { Database } from 'better-sqlite3';
import { CharterError } from '../../errors.js';
import type { NonceStore } from '../types.js';
import type { Row } from '../rows.js';

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
  const get = db.prepare('SELECT expires_at FROM nonces WHERE scope = ? AND value = ?');
  const set = db.prepare('INSERT INTO nonces (scope, value, expires_at) VALUES (?, ?, ?) ON CONFLICT(scope, value) DO UPDATE SET expires_at = excluded.expires_at');
  const sweep = db.prepare('DELETE FROM nonces WHERE expires_at <= ?');
  return {
    consumeNonce(scope, value, expiresAt) {
      // Checked before queueing: one bad call must not fail the batch it would share.
      if (typeof scope !== 'string' || typeof value !== 'string' || !(expiresAt instanceof Date) || !Number.isFinite(expiresAt.getTime())) {
        return Promise.reject(new CharterError('INVALID_ARGUMENT', 'consumeNonce needs a scope, a value and a valid expiry date'));
      }
      const until = expiresAt.getTime();
      return commit(() => {
        const now = Date.now();
        if (++calls % 256 === 0) sweep.run(now);
        const r = get.get(scope, value) as Row | undefined;
        if (r && (r.expires_at as number) > now) return false;
        set.run(scope, value, until);
        return true;
      });
    },
  };
}
