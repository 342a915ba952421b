import { join } from 'node:path';
import type { Store } from './types.js';
import { ensureHome, resolveHome } from './home.js';
import { openSqliteStore } from './sqlite.js';

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
  return openSqliteStore(join(home, 'charter.db'));
}
