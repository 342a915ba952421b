/** `charter/sqlite`: the embedded store (better-sqlite3, a native module), loaded only by those who use it. */
export { openSqliteStore, type SqliteStoreOptions } from './store.js';
