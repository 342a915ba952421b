import { join } from 'node:path';
import type { Store } from '../store/types.js';
import { ensureHome, resolveHome } from './dir.js';
import { openSqliteStore } from '../store/sqlite/store.js';

export interface OpenStoreOptions {
  home?: string;
  env?: NodeJS.ProcessEnv;
}

/**
 * The store for a home: `CHARTER_STORE=postgres://…` selects PostgreSQL (shared
 * by a fleet of verifiers); otherwise the embedded SQLite file in the home.
 */
export async function openStore(options: OpenStoreOptions = {}): Promise<Store> {
  const env = options.env ?? process.env;
  const home = ensureHome(options.home ?? resolveHome(env));
  // ---- PostgreSQL branch (owner: postgres store) ----
  const url = env.CHARTER_STORE;
  if (url !== undefined && /^postgres(?:ql)?:\/\//.test(url)) {
    // Loaded on demand: an embedded (SQLite) home never loads the pg driver.
    const { openPostgresStore } = await import('../store/postgres/store.js');
    const schema = env.CHARTER_STORE_SCHEMA;
    return openPostgresStore(url, schema !== undefined && schema.length > 0 ? { schema } : {});
  }
  // ---- end PostgreSQL branch ----
  return openSqliteStore(join(home, 'charter.db'));
}
