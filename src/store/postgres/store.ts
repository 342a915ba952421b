import { Pool, type PoolClient } from 'pg';
import { CharterError } from '../../errors.js';
import type { Store } from '../types.js';
import { migrate, quoteSchema } from './schema.js';
import { createRunner, DEFAULT_RETRY, type RetryPolicy } from './run.js';
import { createLedger } from './ledger.js';
import type { Row } from '../rows.js';
import type { Access, Tables } from './access.js';
import { postgresRecords } from './records.js';
import { postgresStatus } from './status.js';
import { postgresNonces } from './nonces.js';
import { postgresAudit } from './audit.js';
import { postgresRatings } from './ratings.js';

export interface PostgresStoreOptions {
  /** Schema holding Charter's tables, created if missing (default `public`); several homes may share a database. */
  schema?: string;
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** How long one attempt waits for a connection, in ms (default 5000): a pool busy or a server silent that long is retried as `retry` says. */
  connectTimeoutMs?: number;
  /** Retries of transient faults (connection lost, server restarting, deadlock). */
  retry?: Partial<RetryPolicy>;
  /**
   * Longest a statement may run, in ms (default 30000), including a wait for a mandate's lock;
   * beyond it the operation fails with STORE_UNAVAILABLE instead of hanging. A server that stops
   * answering altogether is given up 5 s after it. 0: none of Charter's (the server's own statement_timeout
   * applies, none by default), and no limit on a reply either.
   */
  statementTimeoutMs?: number;
}

// In any case (RFC 3986 §3.1: schemes are case-insensitive), as CHARTER_STORE is read (home/open-store.ts).
const URL_SCHEME = /^postgres(?:ql)?:\/\//i;
const noop = () => undefined;
/**
 * How much longer than statementTimeoutMs the driver waits for a reply before giving the connection up:
 * statement_timeout is enforced by the server, so a server that stops answering (a partition, a frozen
 * host) would otherwise hold an operation, and its pool connection, until TCP gives up hours later.
 */
const REPLY_MARGIN_MS = 5000;

/**
 * The fleet store: PostgreSQL shared by many verifier instances, with the
 * semantics of the SQLite store for every method (one contract test suite
 * runs against both). Faults surface as STORE_UNAVAILABLE after bounded
 * retries; a write whose COMMIT outcome is unknown is confirmed by reading it
 * back, or reported as STORE_UNAVAILABLE, never as a success.
 */
export async function openPostgresStore(url: string, options: PostgresStoreOptions = {}): Promise<Store> {
  if (typeof url !== 'string' || !URL_SCHEME.test(url)) throw new CharterError('INVALID_ARGUMENT', 'a PostgreSQL store needs a postgres:// or postgresql:// URL');
  const schema = options.schema ?? 'public';
  const s = quoteSchema(schema);
  const statementTimeout = options.statementTimeoutMs ?? 30_000;
  const pool = new Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: 'charter',
    statement_timeout: statementTimeout,
    // statementTimeoutMs 0 sets no statement_timeout (pg sends none): no margin over a limit that is not there.
    ...(statementTimeout > 0 ? { query_timeout: statementTimeout + REPLY_MARGIN_MS } : {}),
    // A verifier frozen inside a transaction must not hold a mandate's lock for ever.
    idle_in_transaction_session_timeout: 60_000,
  });
  // A server restart kills idle and checked-out connections alike; without listeners
  // their 'error' events would crash the process. The failed query reports the fault.
  pool.on('error', noop);
  pool.on('connect', (c) => c.on('error', noop));
  const run = createRunner(pool, { ...DEFAULT_RETRY, ...options.retry });
  try {
    await run({ tx: true, idempotent: true }, (q) => migrate(q, schema));
  } catch (e) {
    await pool.end().catch(noop);
    throw e;
  }

  const t: Tables = {
    config: `${s}.config`,
    identities: `${s}.identities`,
    credentials: `${s}.credentials`,
    lists: `${s}.status_lists`,
    allocations: `${s}.status_allocations`,
    ledger: `${s}.ledger`,
    mandates: `${s}.mandates`,
    reservations: `${s}.reservations`,
    nonces: `${s}.nonces`,
    auditEntries: `${s}.audit_entries`,
    auditCheckpoints: `${s}.audit_checkpoints`,
    auditBlobs: `${s}.audit_blobs`,
    accessReceipts: `${s}.access_receipts`,
    ratings: `${s}.ratings`,
    versions: `${s}.rating_versions`,
  };
  const read = <T>(fn: (q: PoolClient) => Promise<T>) => run({ tx: false, idempotent: true }, fn);
  const rows = async (sql: string, args: unknown[]): Promise<Row[]> => (await read((q) => q.query<Row>(sql, args))).rows;
  const access: Access = { run, read, rows, t };
  let closed = false;
  return {
    kind: 'postgres',
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
    ...postgresRecords(access),
    ...postgresStatus(access),
    ...createLedger(run, t),
    ...postgresNonces(access),
    ...postgresAudit(access),
    ...postgresRatings(access),
  };
}
