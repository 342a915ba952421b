import { Pool, type PoolClient } from 'pg';
import { CharterError } from '../errors.js';
import type { CredentialFilter, NewStatusList, StatusListRecord, Store } from './types.js';
import { migrate, quoteSchema } from './postgres-schema.js';
import { createRunner, DEFAULT_RETRY, type RetryPolicy } from './postgres-run.js';
import { createLedger } from './postgres-ledger.js';
import { credentialRow, identityRow, statusListRow, type Row } from './rows.js';

/** The types column is a TEXT[]. */
const credential = (r: Row) => credentialRow(r, r.types as string[]);

export interface PostgresStoreOptions {
  /** Schema holding Charter's tables, created if missing (default `public`); several homes may share a database. */
  schema?: string;
  /** Connections in the pool (default 10). */
  poolSize?: number;
  /** How long to wait for a connection, in ms (default 5000). */
  connectTimeoutMs?: number;
  /** Retries of transient faults (connection lost, server restarting, deadlock). */
  retry?: Partial<RetryPolicy>;
  /**
   * Longest a statement may run, in ms (default 30000), including a wait for a mandate's lock;
   * beyond it the operation fails with STORE_UNAVAILABLE instead of hanging.
   */
  statementTimeoutMs?: number;
}

const URL_SCHEME = /^postgres(?:ql)?:\/\//;
const noop = () => undefined;

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
  const pool = new Pool({
    connectionString: url,
    max: options.poolSize ?? 10,
    connectionTimeoutMillis: options.connectTimeoutMs ?? 5000,
    idleTimeoutMillis: 30_000,
    keepAlive: true,
    application_name: 'charter',
    statement_timeout: options.statementTimeoutMs ?? 30_000,
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

  const t = {
    config: `${s}.config`,
    identities: `${s}.identities`,
    credentials: `${s}.credentials`,
    lists: `${s}.status_lists`,
    allocations: `${s}.status_allocations`,
    ledger: `${s}.ledger`,
    mandates: `${s}.mandates`,
    reservations: `${s}.reservations`,
    nonces: `${s}.nonces`,
  };
  const read = <T>(fn: (q: PoolClient) => Promise<T>) => run({ tx: false, idempotent: true }, fn);
  const rows = async (sql: string, args: unknown[]): Promise<Row[]> => (await read((q) => q.query<Row>(sql, args))).rows;
  const ledger = createLedger(run, t);
  let nonceCalls = 0;
  let closed = false;

  const store: Store = {
    kind: 'postgres',
    async close() {
      if (closed) return;
      closed = true;
      await pool.end();
    },
    async getConfig(key) {
      return (await rows(`SELECT value FROM ${t.config} WHERE key = $1`, [key]))[0]?.value as string | undefined;
    },
    async setConfig(key, value) {
      await read((q) => q.query(`INSERT INTO ${t.config} (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [key, value]));
    },
    async putIdentity(rec) {
      const confirm = async (q: PoolClient) =>
        (await q.query(`SELECT 1 FROM ${t.identities} WHERE alias = $1 AND did = $2 AND sealed = $3 AND created_at = $4`, [rec.alias, rec.did, rec.sealedPrivateKey, rec.createdAt])).rowCount === 1;
      await run({ tx: true, confirm }, (q) =>
        q.query(`INSERT INTO ${t.identities} (alias, did, kid, key_type, method, public_jwk, sealed, document, meta, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, [
          rec.alias,
          rec.did,
          rec.kid,
          rec.keyType,
          rec.method,
          JSON.stringify(rec.publicJwk),
          rec.sealedPrivateKey,
          json(rec.document),
          json(rec.meta),
          rec.createdAt,
        ]),
      );
    },
    async getIdentity(aliasOrDid) {
      const r = await rows(`SELECT * FROM ${t.identities} WHERE alias = $1 OR did = $1 ORDER BY (alias = $1) DESC LIMIT 1`, [aliasOrDid]);
      return r[0] ? identityRow(r[0]) : undefined;
    },
    async listIdentities() {
      return (await rows(`SELECT * FROM ${t.identities} ORDER BY created_at, alias`, [])).map(identityRow);
    },
    async putCredential(rec) {
      const confirm = async (q: PoolClient) => (await q.query(`SELECT 1 FROM ${t.credentials} WHERE id = $1 AND jwt = $2 AND created_at = $3`, [rec.id, rec.jwt, rec.createdAt])).rowCount === 1;
      await run({ tx: true, confirm }, (q) =>
        q.query(`INSERT INTO ${t.credentials} (id, jwt, direction, issuer, subject, types, valid_from, valid_until, parent_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`, [
          rec.id,
          rec.jwt,
          rec.direction,
          rec.issuer,
          rec.subject ?? null,
          rec.types,
          rec.validFrom ?? null,
          rec.validUntil ?? null,
          rec.parentId ?? null,
          rec.createdAt,
        ]),
      );
    },
    async getCredential(id) {
      const r = await rows(`SELECT * FROM ${t.credentials} WHERE id = $1`, [id]);
      return r[0] ? credential(r[0]) : undefined;
    },
    async listCredentials(f: CredentialFilter = {}) {
      const where: string[] = [];
      const args: unknown[] = [];
      for (const [col, v] of [['direction', f.direction], ['issuer', f.issuer], ['subject', f.subject], ['parent_id', f.parentId]] as const) {
        if (v !== undefined) {
          args.push(v);
          where.push(`${col} = $${args.length}`);
        }
      }
      if (f.type !== undefined) {
        args.push([f.type]);
        where.push(`types @> $${args.length}::text[]`);
      }
      const sql = `SELECT * FROM ${t.credentials}${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY created_at, id`;
      return (await rows(sql, args)).map(credential);
    },
    async createStatusList(rec: NewStatusList) {
      if (!Number.isInteger(rec.size) || rec.size < 8 || rec.size % 8 !== 0) throw new CharterError('INVALID_ARGUMENT', 'a status list size must be a positive multiple of 8');
      const createdAt = new Date().toISOString();
      const confirm = async (q: PoolClient) => (await q.query(`SELECT 1 FROM ${t.lists} WHERE id = $1 AND created_at = $2`, [rec.id, createdAt])).rowCount === 1;
      const r = await run({ tx: true, confirm }, (q) =>
        q.query<Row>(
          `INSERT INTO ${t.lists} (id, issuer_did, purpose, size, ttl_seconds, url, bits, version, allocated, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, 0, $8) RETURNING *`,
          [rec.id, rec.issuerDid, rec.purpose, rec.size, rec.ttlSeconds, rec.url, Buffer.alloc(rec.size / 8), createdAt],
        ),
      );
      return r.rows[0] ? statusListRow(r.rows[0]) : (await store.getStatusList(rec.id))!;
    },
    async getStatusList(id) {
      const r = await rows(`SELECT * FROM ${t.lists} WHERE id = $1`, [id]);
      return r[0] ? statusListRow(r[0]) : undefined;
    },
    async listStatusLists(f = {}) {
      const r = await rows(`SELECT * FROM ${t.lists} WHERE ($1::text IS NULL OR issuer_did = $1) AND ($2::text IS NULL OR purpose = $2) ORDER BY created_at, id`, [f.issuerDid ?? null, f.purpose ?? null]);
      return r.map(statusListRow);
    },
    async allocateStatusIndex(listId, credentialId, pick) {
      const confirm = async (q: PoolClient, idx: number) =>
        (await q.query(`SELECT 1 FROM ${t.allocations} WHERE list_id = $1 AND idx = $2 AND credential_id = $3`, [listId, idx, credentialId])).rowCount === 1;
      // The list row lock serialises allocations in a list; the primary key (list_id, idx) is the backstop.
      return run({ tx: true, confirm, retryOnConflict: true }, async (q) => {
        const l = (await q.query<Row>(`SELECT size, allocated FROM ${t.lists} WHERE id = $1 FOR UPDATE`, [listId])).rows[0];
        if (!l) throw new CharterError('NOT_FOUND', `no status list ${listId}`);
        const size = l.size as number;
        if ((l.allocated as number) >= size) throw new CharterError('STORE_ERROR', `status list ${listId} is full`);
        const candidates = (n: number) => Array.from({ length: n }, () => pick(size)).filter((c) => Number.isInteger(c) && c >= 0 && c < size);
        const insertFirstFree = async (from: string, args: unknown[]) =>
          (
            await q.query<{ idx: number }>(
              `INSERT INTO ${t.allocations} (list_id, idx, credential_id)
               SELECT $1, c, $2 FROM ${from} WHERE NOT EXISTS (SELECT 1 FROM ${t.allocations} a WHERE a.list_id = $1 AND a.idx = c) ORDER BY o LIMIT 1
               RETURNING idx`,
              [listId, credentialId, ...args],
            )
          ).rows[0]?.idx;
        // Same order of tries as the SQLite store: one pick, then up to 63 more, then the first free index
        // (rare, nearly full: privacy matters less than progress there).
        let idx = await insertFirstFree('unnest($3::int[]) WITH ORDINALITY AS t(c, o)', [candidates(1)]);
        idx ??= await insertFirstFree('unnest($3::int[]) WITH ORDINALITY AS t(c, o)', [candidates(63)]);
        idx ??= await insertFirstFree('generate_series(0, $3::int - 1) WITH ORDINALITY AS t(c, o)', [size]);
        if (idx === undefined) throw new CharterError('STORE_ERROR', `status list ${listId} is full`);
        await q.query(`UPDATE ${t.lists} SET allocated = allocated + 1 WHERE id = $1`, [listId]);
        return idx;
      });
    },
    async findStatusAllocation(credentialId) {
      const r = await rows(`SELECT list_id, idx FROM ${t.allocations} WHERE credential_id = $1 ORDER BY list_id, idx`, [credentialId]);
      return r.map((x) => ({ listId: x.list_id as string, index: x.idx as number }));
    },
    async setStatusBit(listId, index, value) {
      // A list's size is an INTEGER column: an index from 2^31 up is out of range of any list.
      if (Number.isInteger(index) && index >= 0 && index < 2 ** 31) {
        // Bitstring Status List §3.1: index 0 is the most significant bit of the first byte;
        // PostgreSQL's set_bit numbers bits from the least significant one of each byte.
        const bit = Math.floor(index / 8) * 8 + (7 - (index % 8));
        // One UPDATE: the row lock makes concurrent bit changes on a list apply one after another.
        // Retrying after an unknown outcome at most bumps the version once more (a harmless republish).
        const r = await rows(`UPDATE ${t.lists} SET bits = set_bit(bits, $2, $3), version = version + 1 WHERE id = $1 AND size > $4 RETURNING *`, [listId, bit, value ? 1 : 0, index]);
        if (r[0]) return statusListRow(r[0]);
      }
      if (!(await store.getStatusList(listId))) throw new CharterError('NOT_FOUND', `no status list ${listId}`);
      throw new CharterError('INVALID_ARGUMENT', 'status index out of range');
    },
    async putSignedStatusList(listId, version, jwt) {
      await read((q) => q.query(`UPDATE ${t.lists} SET signed_jwt = $1, signed_version = $2 WHERE id = $3 AND (signed_version IS NULL OR signed_version < $2)`, [jwt, version, listId]));
    },
    reserve: ledger.reserve,
    usage: ledger.usage,
    commitReservation: ledger.commitReservation,
    releaseReservation: ledger.releaseReservation,
    async consumeNonce(scope, value, expiresAt) {
      if (!(expiresAt instanceof Date) || Number.isNaN(expiresAt.getTime())) throw new CharterError('INVALID_ARGUMENT', 'a nonce needs a valid expiry time');
      const now = Date.now();
      // One upsert decides: a row is returned when the nonce is new or its old entry had expired.
      // In a transaction, so a connection lost before COMMIT is retried; lost during COMMIT it fails closed.
      const r = await run({ tx: true }, (q) =>
        q.query(
          `INSERT INTO ${t.nonces} (scope, value, expires_at) VALUES ($1, $2, $3)
           ON CONFLICT (scope, value) DO UPDATE SET expires_at = excluded.expires_at WHERE ${t.nonces}.expires_at <= $4 RETURNING 1`,
          [scope, value, expiresAt.getTime(), now],
        ),
      );
      if (++nonceCalls % 256 === 0) await read((q) => q.query(`DELETE FROM ${t.nonces} WHERE expires_at <= $1`, [now])).catch(noop);
      return r.rowCount === 1;
    },
  };
  return store;
}

const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));
