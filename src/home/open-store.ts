import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { CharterError } from '../errors.js';
import type { Store } from '../store/types.js';
import { ensureHome, resolveHome } from './dir.js';
import { openSqliteStore } from '../store/sqlite/store.js';

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

/**
 * The store for a home: `CHARTER_STORE=postgres://…` selects PostgreSQL (shared
 * by a fleet of verifiers); otherwise the embedded SQLite file in the home.
 */
export async function openStore(options: OpenStoreOptions = {}): Promise<Store> {
  const env = options.env ?? process.env;
  const dir = options.home ?? resolveHome(env);
  const create = options.create ?? true;
  // ---- PostgreSQL branch (owner: postgres store) ----
  const url = env.CHARTER_STORE;
  if (url !== undefined && /^postgres(?:ql)?:\/\//.test(url)) {
    if (create) ensureHome(dir);
    // Loaded on demand: an embedded (SQLite) home never loads the pg driver.
    const { openPostgresStore } = await import('../store/postgres/store.js');
    const schema = env.CHARTER_STORE_SCHEMA;
    return openPostgresStore(url, schema !== undefined && schema.length > 0 ? { schema } : {});
  }
  // ---- end PostgreSQL branch ----
  const file = join(dir, SQLITE_FILE);
  if (!create && !existsSync(file)) {
    throw new CharterError('NOT_INITIALIZED', `no Charter home at ${dir}: run \`charter init\` first (or check --home and CHARTER_HOME)`);
  }
  return openSqliteStore(join(ensureHome(dir), SQLITE_FILE));
}
