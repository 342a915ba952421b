import type { Pool, PoolClient } from 'pg';
import { CharterError } from '../../errors.js';

/**
 * Running one store operation against a pool, with the fault rules of the
 * PostgreSQL store:
 * - a connection fault before COMMIT was sent leaves nothing behind (the
 *   server rolls back a transaction whose connection dies), so it is retried
 *   a bounded number of times;
 * - a fault while COMMIT is in flight leaves the outcome unknown: the
 *   operation is confirmed by reading back what it wrote, and when that is
 *   not possible it fails with STORE_UNAVAILABLE. It never reports success
 *   for a write that was not committed.
 * - serialization failures and deadlocks are retried too.
 */
export interface RetryPolicy {
  /** Attempts in all, including the first (default 6). */
  attempts: number;
  /** First back-off in ms, doubled each time with jitter (default 50). */
  baseDelayMs: number;
  /** Longest back-off in ms (default 1000). */
  maxDelayMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseDelayMs: 50, maxDelayMs: 1000 };

export interface RunOptions<T> {
  /** Wrap in BEGIN/COMMIT. */
  tx: boolean;
  /** Safe to run twice (reads, upserts): an unknown outcome is simply retried. */
  idempotent?: boolean;
  /** After an unknown COMMIT outcome: does the database hold what the attempt wrote? */
  confirm?: (q: PoolClient, value: T) => Promise<boolean>;
  /** Also retry on unique violations (a race the operation resolves by trying again). */
  retryOnConflict?: boolean;
}

type Fault = 'connection' | 'busy' | 'refused' | 'conflict' | 'value' | 'other';

const SESSION_ENDED = new Set(['57P01', '57P02', '57P03', '53300', '25P03', '25P04', '57P05']);
const CONNECTION_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ECONNABORTED']);
// 'Query read timeout': the driver's query_timeout (store.ts) ran out, the server silent; the client is then destroyed.
const CONNECTION_MESSAGES = /Connection terminated|not queryable|Query read timeout|timeout exceeded when trying to connect/;
// The pool's connectionTimeoutMillis ran out: no client free in time (a burst: retried), or a new connection not established in time.
const WAITED_MESSAGES = /timeout exceeded when trying to connect|Connection terminated due to connection timeout/;

/** Sorts a driver error by what the store should do about it. */
export function classify(e: unknown): Fault {
  const code = typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : '';
  // SQLSTATE class 08 (connection exception), 57P01-03 (server shutting down or starting up), 53300 (too many connections);
  // 25P03, 25P04 and 57P05 end the session (idle in transaction, transaction and idle session timeouts): the connection is gone.
  if (code.startsWith('08') || SESSION_ENDED.has(code)) return 'connection';
  if (CONNECTION_CODES.has(code)) return 'connection';
  if (code === '' && e instanceof Error && CONNECTION_MESSAGES.test(e.message)) return 'connection';
  if (code === '40001' || code === '40P01') return 'busy';
  // 28xxx authentication, 3D000 no such database: the store cannot be used as configured.
  if (code.startsWith('28') || code === '3D000') return 'refused';
  if (code === '23505') return 'conflict';
  // 57014 statement_timeout (or a cancel), 55P03 lock_timeout (a lock held too long, an overloaded server): reported, not retried.
  if (code === '57014' || code === '55P03') return 'refused';
  // Class 22, data exception: a value the column cannot hold (a NUL in TEXT, 22021; a fraction or an
  // overflow in BIGINT, 22P02 / 22003; a negative LIMIT, 2201W): the caller's value, not the store, is wrong.
  if (code.startsWith('22')) return 'value';
  return 'other';
}

/** What to do about an unavailable store, by cause: the caller (or its operator) can act on it. */
function unavailable(e: unknown, code: string): string {
  const message = e instanceof Error ? e.message : '';
  if (code === '57014')
    return 'a PostgreSQL statement ran past statement_timeout (statementTimeoutMs) or was cancelled: a lock held long elsewhere or an overloaded server; try again';
  if (code === '55P03') return "a PostgreSQL lock was not granted within the server's lock_timeout: another transaction holds it; try again";
  if (code === '53300') return 'the PostgreSQL server has no connection slot free (53300): lower poolSize across instances or raise max_connections';
  if (WAITED_MESSAGES.test(message)) {
    return 'no PostgreSQL connection within connectTimeoutMs: every connection of the pool is busy (poolSize) or the server does not answer; try again';
  }
  if (message.includes('Query read timeout')) return 'the PostgreSQL server did not answer within statementTimeoutMs and a margin: it is unreachable or stalled; try again';
  return `the PostgreSQL store is unavailable (${code}): the server is down, restarting or unreachable; try again`;
}

/** Maps a driver error to a CharterError; never echoes the URL, values or SQL. */
export function toCharterError(e: unknown): CharterError {
  if (e instanceof CharterError) return e;
  const code = typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : 'unknown';
  switch (classify(e)) {
    case 'connection':
    case 'refused':
      return new CharterError('STORE_UNAVAILABLE', unavailable(e, code), { cause: e });
    case 'busy':
      return new CharterError('STORE_UNAVAILABLE', 'the store is busy: try again', { cause: e });
    case 'conflict':
      return new CharterError('ALREADY_EXISTS', 'that record already exists', { cause: e });
    case 'value':
      return new CharterError('INVALID_ARGUMENT', `the store cannot hold a value given (${code}): a NUL character, a fraction or an out-of-range number`, { cause: e });
    default:
      return new CharterError('STORE_ERROR', `store operation failed (${code})`, { cause: e });
  }
}

const BEGIN = 'BEGIN ISOLATION LEVEL READ COMMITTED';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function backoff(policy: RetryPolicy, attempt: number): Promise<void> {
  const d = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** attempt);
  return sleep(d / 2 + Math.random() * (d / 2));
}

const unknownOutcome = (cause: unknown) =>
  new CharterError('STORE_UNAVAILABLE', 'the PostgreSQL connection failed while committing: the outcome is unknown, nothing was confirmed', { cause });

export function createRunner(pool: Pool, policy: RetryPolicy) {
  // Idle clients the server ended (a restart, pg_terminate_backend, idle_session_timeout) that the pool has not
  // yet heard of: their FATAL may still sit unread in the socket when the pool hands one out. Such a client
  // failing before anything ran on it is replaced at once, without using up a retry: at most one per pooled client.
  const staleAllowance = Math.max(1, Number((pool as { options?: { max?: unknown } }).options?.max) || 10);
  async function run<T>(opts: RunOptions<T>, fn: (q: PoolClient) => Promise<T>): Promise<T> {
    let stale = 0;
    for (let attempt = 0; ; attempt++) {
      const last = attempt + 1 >= policy.attempts;
      let client: PoolClient;
      try {
        client = await pool.connect();
      } catch (e) {
        if (classify(e) === 'connection' && !last) {
          await backoff(policy, attempt);
          continue;
        }
        throw toCharterError(e);
      }
      let committing = false;
      // Nothing has run on this client yet in this attempt (a transaction's BEGIN not yet answered).
      let untouched = true;
      let value: T;
      try {
        // READ COMMITTED whatever the server's default_transaction_isolation (set on a role, a database, PGOPTIONS):
        // every transaction here locks, then reads in a new statement what the lock's previous holder committed.
        // Under REPEATABLE READ that read sees the snapshot from before the wait, and parallel verifiers spend past a cap.
        if (opts.tx) await client.query(BEGIN);
        untouched = false;
        value = await fn(client);
        if (opts.tx) {
          committing = true;
          await client.query('COMMIT');
        }
        client.release();
        return value;
      } catch (e) {
        const fault = e instanceof CharterError ? 'charter' : classify(e);
        // A lost or stalled connection is destroyed, never handed out again (nor sent a ROLLBACK that would queue behind a hung query).
        if (fault === 'connection') client.release(e instanceof Error ? e : true);
        else {
          if (opts.tx) await client.query('ROLLBACK').catch(() => undefined);
          client.release();
        }
        if (fault === 'charter') throw e;
        // A transaction whose BEGIN failed ran nothing; an idempotent read may run again: a stale client is replaced.
        if (fault === 'connection' && (opts.tx ? untouched : opts.idempotent === true) && stale < staleAllowance) {
          stale++;
          attempt--;
          continue;
        }
        if (fault === 'connection' && (committing || !opts.tx) && !opts.idempotent) {
          if (opts.confirm && (await confirmed(opts.confirm, value!))) return value!;
          throw unknownOutcome(e);
        }
        const retry = fault === 'connection' || fault === 'busy' || (fault === 'conflict' && opts.retryOnConflict === true);
        if (retry && !last) {
          await backoff(policy, attempt);
          continue;
        }
        throw toCharterError(e);
      }
    }
  }

  async function confirmed<T>(confirm: (q: PoolClient, value: T) => Promise<boolean>, value: T): Promise<boolean> {
    try {
      return await run({ tx: false, idempotent: true }, (q) => confirm(q, value));
    } catch {
      return false;
    }
  }

  return run;
}

export type Runner = ReturnType<typeof createRunner>;
