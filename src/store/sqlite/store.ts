import { closeSync, chmodSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { CharterError } from '../../errors.js';
import type { Store } from '../types.js';
import { MIGRATIONS } from './schema.js';
import { wrap } from './wrap.js';
import { sqliteRecords } from './records.js';
import { sqliteStatus } from './status.js';
import { sqliteLedger } from './ledger.js';
import { sqliteNonces } from './nonces.js';
import { sqliteAudit } from './audit.js';
import { groupCommit } from './group.js';
import { sqliteRatings } from './ratings.js';

export interface SqliteStoreOptions {
  /** How long a write waits for another process's lock before failing with STORE_UNAVAILABLE, in ms. Default 10000. */
  busyTimeoutMs?: number;
  /** Extra PRAGMA statements run after opening, e.g. `max_page_count = 1000` (quotas) or `query_only = ON`. */
  pragmas?: string[];
}

const PRAGMA = /^[a-z_]+(?:\s*=\s*[A-Za-z0-9_]+)?$/;

/** The embedded store: one SQLite file (WAL, busy timeout, synchronous=FULL) that several processes may share. */
export async function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Promise<Store> {
  const busy = options.busyTimeoutMs ?? 10_000;
  if (!Number.isInteger(busy) || busy < 0) throw new TypeError('busyTimeoutMs must be a non-negative integer');
  for (const p of options.pragmas ?? []) if (typeof p !== 'string' || !PRAGMA.test(p)) throw new TypeError(`not a PRAGMA statement: ${String(p).slice(0, 40)}`);
  if (path !== ':memory:') {
    wrap(() => {
      closeSync(openSync(path, 'a', 0o600));
      chmodSync(path, 0o600);
    });
  }
  const db = wrap(() => new Database(path));
  wrap(() => {
    db.pragma('journal_mode = WAL');
    db.pragma(`busy_timeout = ${busy}`);
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = FULL');
    db.transaction(() => {
      const v = db.pragma('user_version', { simple: true }) as number;
      // Fail closed: a newer Charter changed the tables; reading them with older rules could overspend.
      if (v > MIGRATIONS.length)
        throw new CharterError('STORE_ERROR', `the store's schema is at version ${v}, newer than this Charter knows (${MIGRATIONS.length}): upgrade Charter`);
      for (let i = v; i < MIGRATIONS.length; i++) db.exec(MIGRATIONS[i]!);
      if (v < MIGRATIONS.length) db.pragma(`user_version = ${MIGRATIONS.length}`);
    }).immediate();
    for (const p of options.pragmas ?? []) db.pragma(p);
  });
  // One group commit per connection: replay-cache writes and audit appends of one turn share an fsync (run off the event loop).
  const commit = groupCommit(db);
  return {
    kind: 'sqlite',
    async close() {
      commit.close();
      if (db.open) db.close();
    },
    ...sqliteRecords(db),
    ...sqliteStatus(db),
    ...sqliteLedger(db),
    ...sqliteNonces(db, commit),
    ...sqliteAudit(db, commit),
    ...sqliteRatings(db),
  };
}
