import { existsSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { CharterError } from '../errors.js';
import type { Store } from '../store/types.js';
import { createHome, ensureHome, resolveHome } from './dir.js';
import { openSqliteStore, prepareSqliteFile } from '../store/sqlite/store.js';

/** The embedded store's file inside a home directory. */
export const SQLITE_FILE = 'charter.db';

export interface OpenStoreOptions {
  home?: string;
  env?: NodeJS.ProcessEnv;
  /**
   * Create the home directory and the SQLite file when missing. Default true.
   * With false, a missing SQLite home is NOT_INITIALIZED and nothing is
   * created (a PostgreSQL store is opened as configured: it lives elsewhere).
   */
  create?: boolean;
}

/** What one openHomeStore call put on disk, filled in as it goes (so a failure part-way still says). */
export interface Created {
  /** Directories made, deepest first. */
  dirs: string[];
  /** The SQLite file, when this call created it. */
  file?: string;
}

/** `postgres://` or `postgresql://`, in any case: the URL schemes that select PostgreSQL. */
const POSTGRES_URL = /^postgres(?:ql)?:\/\//i;

/**
 * The store for a home: `CHARTER_STORE=postgres://…` selects PostgreSQL (shared
 * by a fleet of verifiers); unset or empty, the embedded SQLite file in the
 * home. Any other value is CONFIG_INVALID: a mistyped URL never falls back
 * to a local file silently.
 */
export async function openStore(options: OpenStoreOptions = {}): Promise<Store> {
  return openHomeStore(options, { dirs: [] });
}

/** openStore, recording in `made` what it created (for `charter init` to undo exactly that). */
export async function openHomeStore(options: OpenStoreOptions, made: Created): Promise<Store> {
  const env = options.env ?? process.env;
  const dir = options.home ?? resolveHome(env);
  const create = options.create ?? true;
  // ---- PostgreSQL branch (owner: postgres store) ----
  const url = env.CHARTER_STORE;
  if (url !== undefined && url.length > 0) {
    if (!POSTGRES_URL.test(url))
      throw new CharterError('CONFIG_INVALID', `CHARTER_STORE must be a postgres:// or postgresql:// URL, or unset for the home's SQLite file (it starts "${redacted(url)}")`);
    if (create) made.dirs.push(...createHome(dir));
    // Loaded on demand: an embedded (SQLite) home never loads the pg driver.
    const { openPostgresStore } = await import('../store/postgres/store.js');
    const schema = env.CHARTER_STORE_SCHEMA;
    return openPostgresStore(url, schema !== undefined && schema.length > 0 ? { schema } : {});
  }
  // ---- end PostgreSQL branch ----
  const file = join(dir, SQLITE_FILE);
  if (!create) {
    // An empty file is no home either (charter init writes its schema at once): opening it would write one.
    if (!existsSync(file) || isEmptyFile(file))
      throw new CharterError('NOT_INITIALIZED', `no Charter home at ${dir}: run \`charter init\` first (or check --home and CHARTER_HOME)`);
    ensureHome(dir);
  } else {
    made.dirs.push(...createHome(dir));
    if (prepareSqliteFile(file)) made.file = file;
  }
  return openSqliteStore(file);
}

/** How a store setting starts, to name it in an error: its scheme, never the user, password or host after it. */
function redacted(value: string): string {
  const start = /^[^:@/]*(?::\/\/)?/.exec(value)![0].slice(0, 24);
  // eslint-disable-next-line no-control-regex -- control characters are what this hides
  return `${start.replace(/[\u0000-\u001f\u007f-\u009f]/g, '?')}…`;
}

/** A regular file of zero bytes (a link or anything else is left to openSqliteStore, which refuses it by name). */
function isEmptyFile(file: string): boolean {
  try {
    const st = lstatSync(file);
    return st.isFile() && st.size === 0;
  } catch {
    return false;
  }
}
