import { accessSync, closeSync, constants, fchmodSync, lstatSync, openSync, type Stats } from 'node:fs';
import Database from 'better-sqlite3';
import { CharterError, shown } from '../../errors.js';
import type { Store } from '../types.js';
import { MIGRATIONS } from './schema.js';
import { storeFault, wrap } from './wrap.js';
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

/**
 * The store file, made ready to open: created 0600 (never through a link,
 * never over a file another process made first) when it does not exist,
 * else checked to be a regular file (not a link, not a directory) that this
 * process can read and write, that no other user can write and that no other
 * user (but root) owns, as its -wal, -shm and -journal files. Returns true
 * when this call created it.
 * Nothing is chmodded: an existing file keeps the mode its owner gave it.
 * A path that cannot hold the store is CONFIG_INVALID (exit 2) naming it,
 * not a store fault.
 */
export function prepareSqliteFile(path: string): boolean {
  try {
    const fd = openSync(path, constants.O_RDWR | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    try {
      // The umask may have removed bits from 0600; the file is ours, and the descriptor is the file (no link followed).
      fchmodSync(fd, 0o600);
    } finally {
      closeSync(fd);
    }
    return true;
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== 'EEXIST' && code !== 'ELOOP') throw badPath(path, e, 'cannot be created');
  }
  let st;
  try {
    st = lstatSync(path);
  } catch (e) {
    throw badPath(path, e, 'cannot be read');
  }
  if (st.isSymbolicLink()) throw badPath(path, undefined, 'is a symbolic link: the store must be the file itself (Charter does not follow a link to it)');
  if (st.isDirectory()) throw badPath(path, undefined, 'is a directory, not a store file');
  if (!st.isFile()) throw badPath(path, undefined, 'is not a regular file');
  try {
    accessSync(path, constants.R_OK | constants.W_OK);
  } catch (e) {
    throw badPath(path, e, 'cannot be read and written by this user');
  }
  // The home directory's rule (checkHome), for the files themselves: whoever can write the store can
  // rewrite its ledger, nonces, status bits and audit log. Its journal files too, when there: SQLite
  // replays a -wal into the store.
  for (const file of [path, `${path}-wal`, `${path}-shm`, `${path}-journal`]) {
    const s = file === path ? st : lstatOrUndefined(file);
    if (s !== undefined) checkOwnFile(file, s);
  }
  return false;
}

function lstatOrUndefined(path: string): Stats | undefined {
  try {
    return lstatSync(path);
  } catch {
    return undefined;
  }
}

/** CONFIG_INVALID for a store file that other users can write, or that another user (not root) owns. */
function checkOwnFile(file: string, st: Stats): void {
  if ((st.mode & 0o022) !== 0) {
    throw new CharterError(
      'CONFIG_INVALID',
      `the store file ${file} can be written by other users (mode ${(st.mode & 0o7777).toString(8)}): make it yours alone (\`chmod 600 ${file}\`)`,
    );
  }
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid && st.uid !== 0) {
    throw new CharterError('CONFIG_INVALID', `the store file ${file} belongs to another user (uid ${st.uid}): use a store of your own (check --home and CHARTER_HOME)`);
  }
}

function badPath(path: string, cause: unknown, what: string): CharterError {
  const code = (cause as NodeJS.ErrnoException | undefined)?.code;
  return new CharterError('CONFIG_INVALID', `the store file ${path} ${what}${code ? ` (${code})` : ''}: check the path and its permissions`, cause === undefined ? {} : { cause });
}

/** The embedded store: one SQLite file (WAL, busy timeout, synchronous=FULL) that several processes may share. */
export async function openSqliteStore(path: string, options: SqliteStoreOptions = {}): Promise<Store> {
  const busy = options.busyTimeoutMs ?? 10_000;
  if (!Number.isInteger(busy) || busy < 0) throw new TypeError('busyTimeoutMs must be a non-negative integer');
  for (const p of options.pragmas ?? []) if (typeof p !== 'string' || !PRAGMA.test(p)) throw new TypeError(`not a PRAGMA statement: ${shown(p, 40)}`);
  if (path !== ':memory:') prepareSqliteFile(path);
  const db = wrap(() => new Database(path));
  try {
    const seen = wrap(() => {
      db.pragma(`busy_timeout = ${busy}`);
      // A newer schema is refused before anything is written to its file, its journal mode included.
      const v = refuseNewer(db.pragma('user_version', { simple: true }) as number);
      db.pragma('journal_mode = WAL');
      db.pragma('foreign_keys = ON');
      db.pragma('synchronous = FULL');
      return v;
    });
    migrateSqlite(db, seen);
    wrap(() => {
      for (const p of options.pragmas ?? []) db.pragma(p);
    });
  } catch (e) {
    // A store that cannot be opened keeps no handle on its file.
    db.close();
    throw e;
  }
  // One group commit per connection: replay-cache writes and audit appends of one turn share an fsync (run off the event loop).
  const commit = groupCommit(db);
  const store: Store = {
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
  connections.set(store, db);
  return store;
}

/** Fail closed: a newer Charter changed the tables; reading them with older rules could overspend. */
function refuseNewer(v: number): number {
  if (v > MIGRATIONS.length) throw new CharterError('STORE_ERROR', `the store's schema is at version ${v}, newer than this Charter knows (${MIGRATIONS.length}): upgrade Charter`);
  return v;
}

/**
 * Brings the schema up to date in one immediate transaction: of processes
 * opening an old file at once, one migrates while the others wait for its
 * lock (busy timeout), then find nothing left to do. A migration that fails
 * rolls back every statement and the version with it, and says so: a raw
 * constraint error would read as "that record already exists".
 */
function migrateSqlite(db: Database.Database, seen: number): void {
  let from = seen;
  try {
    db.transaction(() => {
      from = db.pragma('user_version', { simple: true }) as number;
      refuseNewer(from);
      for (let i = from; i < MIGRATIONS.length; i++) db.exec(MIGRATIONS[i]!);
      if (from < MIGRATIONS.length) db.pragma(`user_version = ${MIGRATIONS.length}`);
    }).immediate();
  } catch (e) {
    const fault = storeFault(e) as CharterError;
    // Nothing to upgrade (the lock was busy, say): the fault as any other.
    if (e instanceof CharterError || from === MIGRATIONS.length) throw fault;
    const code = fault.code === 'STORE_UNAVAILABLE' ? 'STORE_UNAVAILABLE' : 'STORE_ERROR';
    const sqlite = (e as { code?: unknown }).code;
    throw new CharterError(
      code,
      `upgrading the store's schema from version ${from} to ${MIGRATIONS.length} failed (${typeof sqlite === 'string' ? sqlite : 'unknown'}); ` +
        `nothing was changed, the store is still at version ${from}: ` +
        (code === 'STORE_UNAVAILABLE' ? 'free disk space or wait for the process holding the store, then try again' : 'keep a copy of the file and report this to Charter'),
      { cause: e },
    );
  }
}

/** The connection of each store opened here, for claimConfig. */
const connections = new WeakMap<Store, Database.Database>();

/**
 * Sets `key` to `value` unless it already has a value, and returns the value
 * it holds afterwards (this one, or the one another process set first): one
 * INSERT … ON CONFLICT DO NOTHING and its read-back in an immediate
 * transaction, so of two racing writers exactly one wins and both learn which.
 * Undefined for a store not opened by openSqliteStore.
 */
export function claimSqliteConfig(store: Store, key: string, value: string): string | undefined {
  const db = connections.get(store);
  if (db === undefined) return undefined;
  return wrap(() =>
    db
      .transaction(() => {
        db.prepare('INSERT INTO config (key, value) VALUES (?, ?) ON CONFLICT(key) DO NOTHING').run(key, value);
        return (db.prepare('SELECT value FROM config WHERE key = ?').get(key) as { value: string }).value;
      })
      .immediate(),
  );
}
