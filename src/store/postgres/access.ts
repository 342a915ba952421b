import type { PoolClient } from 'pg';
import type { Runner } from './run.js';
import type { Row } from '../rows.js';

/** Qualified table names of one schema. */
export interface Tables {
  config: string;
  identities: string;
  credentials: string;
  lists: string;
  allocations: string;
  ledger: string;
  mandates: string;
  reservations: string;
  nonces: string;
  auditEntries: string;
  auditCheckpoints: string;
  auditBlobs: string;
  accessReceipts: string;
  ratings: string;
  versions: string;
}

/** How the parts of the store reach the pool: retried runs, plain reads and row queries. */
export interface Access {
  run: Runner;
  read: <T>(fn: (q: PoolClient) => Promise<T>) => Promise<T>;
  rows: (sql: string, args: unknown[]) => Promise<Row[]>;
  t: Tables;
}
