/** `charter/postgres`: the store a fleet of verifiers shares (the `pg` driver is an optional peer dependency). */
export { openPostgresStore, type PostgresStoreOptions } from './store.js';
