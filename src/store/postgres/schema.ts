import { escapeIdentifier, type PoolClient } from 'pg';
import { CharterError } from '../../errors.js';
import { classify } from './run.js';

/**
 * Schema migrations of the PostgreSQL store, applied in order; the table
 * `charter_migrations` records each version applied. `s` is the quoted
 * schema name. Text that is sorted or compared for order is COLLATE "C" so
 * lists come back in the same (bytewise) order as from SQLite, whatever the
 * database's locale. Amounts are scaled by 10^18 (encoding/decimal.ts) and
 * kept as NUMERIC(78,0): exact, and wide enough for any 18.18 decimal.
 */
export const PG_MIGRATIONS: readonly ((s: string) => string)[] = [
  (s) => `
  CREATE TABLE ${s}.config (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE ${s}.identities (
    alias TEXT COLLATE "C" PRIMARY KEY, did TEXT NOT NULL UNIQUE, kid TEXT NOT NULL, key_type TEXT NOT NULL,
    method TEXT NOT NULL, public_jwk TEXT NOT NULL, sealed TEXT NOT NULL, document TEXT, meta TEXT,
    created_at TEXT COLLATE "C" NOT NULL
  );
  CREATE TABLE ${s}.credentials (
    id TEXT COLLATE "C" PRIMARY KEY, jwt TEXT NOT NULL, direction TEXT NOT NULL CHECK (direction IN ('issued', 'held')),
    issuer TEXT NOT NULL, subject TEXT, types TEXT[] NOT NULL, valid_from TEXT, valid_until TEXT,
    parent_id TEXT, created_at TEXT COLLATE "C" NOT NULL
  );
  CREATE INDEX credentials_issuer ON ${s}.credentials (issuer);
  CREATE INDEX credentials_subject ON ${s}.credentials (subject);
  CREATE INDEX credentials_parent ON ${s}.credentials (parent_id);
  CREATE INDEX credentials_types ON ${s}.credentials USING GIN (types);
  CREATE TABLE ${s}.status_lists (
    id TEXT COLLATE "C" PRIMARY KEY, issuer_did TEXT NOT NULL, purpose TEXT NOT NULL, size INTEGER NOT NULL,
    ttl_seconds INTEGER NOT NULL, url TEXT NOT NULL, bits BYTEA NOT NULL, version INTEGER NOT NULL,
    signed_jwt TEXT, signed_version INTEGER, allocated INTEGER NOT NULL, created_at TEXT COLLATE "C" NOT NULL
  );
  CREATE TABLE ${s}.status_allocations (
    list_id TEXT COLLATE "C" NOT NULL REFERENCES ${s}.status_lists (id), idx INTEGER NOT NULL, credential_id TEXT NOT NULL,
    PRIMARY KEY (list_id, idx)
  );
  CREATE INDEX status_allocations_credential ON ${s}.status_allocations (credential_id);
  -- One row per mandate ever charged: the row reserve() locks (FOR UPDATE) to serialise spends on that mandate.
  CREATE TABLE ${s}.mandates (id TEXT COLLATE "C" PRIMARY KEY);
  -- A reservation id is used once, even by reservations over disjoint mandates.
  CREATE TABLE ${s}.reservations (id TEXT PRIMARY KEY);
  CREATE TABLE ${s}.ledger (
    reservation_id TEXT NOT NULL REFERENCES ${s}.reservations (id), mandate_id TEXT NOT NULL,
    amount NUMERIC(78, 0) NOT NULL, currency TEXT NOT NULL, at BIGINT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('reserved', 'committed', 'released')),
    PRIMARY KEY (reservation_id, mandate_id)
  );
  CREATE INDEX ledger_mandate_at ON ${s}.ledger (mandate_id, at);
  CREATE TABLE ${s}.nonces (scope TEXT NOT NULL, value TEXT NOT NULL, expires_at BIGINT NOT NULL, PRIMARY KEY (scope, value));
  CREATE INDEX nonces_expires ON ${s}.nonces (expires_at);
  `,
  // 2: reservations can be listed, held with a timeout, and say how they were settled.
  (s) => `
  ALTER TABLE ${s}.ledger ADD COLUMN hold_until BIGINT;
  ALTER TABLE ${s}.ledger ADD COLUMN settled_at BIGINT;
  ALTER TABLE ${s}.ledger ADD COLUMN settled_by TEXT CHECK (settled_by IN ('commit', 'release', 'timeout'));
  CREATE INDEX ledger_open ON ${s}.ledger (state, at);
  `,
  // 3: the audit log (hash-chained signed receipts, checkpoints, evidence kept apart) and access reports.
  (s) => `
  CREATE TABLE ${s}.audit_entries (
    chain TEXT COLLATE "C" NOT NULL, seq BIGINT NOT NULL, hash TEXT NOT NULL, prev TEXT, receipt_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('decision', 'settlement')),
    outcome TEXT NOT NULL CHECK (outcome IN ('allow', 'deny', 'committed', 'released')),
    issuer TEXT NOT NULL, subject TEXT, at BIGINT NOT NULL, jws TEXT NOT NULL, recorded_at BIGINT NOT NULL,
    -- The evidence kept for this entry: its own presentation (hash, body) and the hashes of the
    -- shared blobs it references (JSON array); cleared when the evidence is pruned.
    presentation_hash TEXT, presentation TEXT, refs TEXT,
    PRIMARY KEY (chain, seq)
  );
  CREATE INDEX audit_entries_at ON ${s}.audit_entries (at);
  CREATE INDEX audit_entries_subject ON ${s}.audit_entries (subject, at);
  CREATE TABLE ${s}.audit_checkpoints (
    chain TEXT COLLATE "C" NOT NULL, seq BIGINT NOT NULL, head TEXT NOT NULL, issuer TEXT NOT NULL, at BIGINT NOT NULL, jws TEXT NOT NULL,
    PRIMARY KEY (chain, seq)
  );
  CREATE TABLE ${s}.audit_blobs (hash TEXT PRIMARY KEY, body TEXT NOT NULL);
  CREATE TABLE ${s}.access_receipts (
    grant_id TEXT COLLATE "C" NOT NULL, receipt_id TEXT COLLATE "C" NOT NULL, verifier TEXT NOT NULL, reporter TEXT NOT NULL, holder TEXT,
    outcome TEXT NOT NULL CHECK (outcome IN ('allow', 'deny')), at BIGINT NOT NULL, received_at BIGINT NOT NULL, jws TEXT NOT NULL,
    PRIMARY KEY (grant_id, receipt_id)
  );
  CREATE INDEX access_receipts_at ON ${s}.access_receipts (grant_id, at);
  `,
  // 4: reputation ratings verified once at import, read back for scoring (one query per agent).
  (s) => `
  CREATE TABLE ${s}.ratings (
    attester TEXT COLLATE "C" NOT NULL, id TEXT COLLATE "C" NOT NULL, agent TEXT NOT NULL, receipt TEXT NOT NULL,
    score DOUBLE PRECISION NOT NULL CHECK (score >= 0 AND score <= 1), dimension TEXT,
    issued_at BIGINT NOT NULL, valid_until BIGINT, status TEXT, imported_at BIGINT NOT NULL,
    PRIMARY KEY (attester, id)
  );
  CREATE INDEX ratings_agent ON ${s}.ratings (agent, issued_at, attester, id);
  CREATE TABLE ${s}.rating_versions (agent TEXT PRIMARY KEY, version BIGINT NOT NULL);
  `,
  // 5: a reported use is keyed by the verifier that signed it too: a receipt of the same id signed by
  // another key (a grantee forging one to shadow the real report) is another record, never a duplicate.
  (s) => `
  ALTER TABLE ${s}.access_receipts ALTER COLUMN verifier TYPE TEXT COLLATE "C";
  ALTER TABLE ${s}.access_receipts DROP CONSTRAINT access_receipts_pkey;
  ALTER TABLE ${s}.access_receipts ADD PRIMARY KEY (grant_id, verifier, receipt_id);
  `,
  // 6: the key each rating's signature verified with (did/parties.ts keyString), so scoring tells raters
  // apart by who signed rather than by what documents list; NULL for ratings imported before.
  (s) => `
  ALTER TABLE ${s}.ratings ADD COLUMN signed_with TEXT;
  `,
];

const SCHEMA_NAME = /^[a-z_][a-z0-9_]{0,62}$/;

/** The quoted schema name; only plain lower-case identifiers, so no quoting surprises. */
export function quoteSchema(schema: string): string {
  if (!SCHEMA_NAME.test(schema)) throw new CharterError('INVALID_ARGUMENT', 'a PostgreSQL schema name is 1-63 of a-z, 0-9 and _, not starting with a digit');
  return escapeIdentifier(schema);
}

/**
 * Brings the schema up to date, inside the caller's transaction. Safe when
 * many instances start at once: a transaction-scoped advisory lock per schema
 * lets one migrate while the others wait, then find nothing left to do; DDL
 * is transactional, so a crash leaves either the old or the new version.
 */
export async function migrate(q: PoolClient, schema: string, migrations: readonly ((s: string) => string)[] = PG_MIGRATIONS): Promise<void> {
  const s = quoteSchema(schema);
  await q.query('SELECT pg_advisory_xact_lock(hashtext($1))', [`charter.migrate:${schema}`]);
  // Create the schema only when missing: CREATE SCHEMA IF NOT EXISTS still needs CREATE on the database.
  const ns = await q.query('SELECT 1 FROM pg_namespace WHERE nspname = $1', [schema]);
  if (ns.rowCount === 0) await q.query(`CREATE SCHEMA ${s}`);
  // The same for the version table: CREATE TABLE IF NOT EXISTS needs CREATE on the schema even when the
  // table is there, and an instance running as a role that may only read and write rows must still open it.
  const known = await q.query<{ t: string | null }>('SELECT to_regclass($1)::text AS t', [`${s}.charter_migrations`]);
  if (known.rows[0]!.t === null) await q.query(`CREATE TABLE ${s}.charter_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`);
  const r = await q.query<{ v: number }>(`SELECT coalesce(max(version), 0)::int AS v FROM ${s}.charter_migrations`);
  const current = r.rows[0]!.v;
  if (current > migrations.length) {
    // Fail closed: a newer Charter changed the tables; reading them with older rules could overspend.
    throw new CharterError('STORE_ERROR', `the PostgreSQL schema is at version ${current}, newer than this Charter knows (${migrations.length}): upgrade Charter`);
  }
  for (let v = current; v < migrations.length; v++) {
    try {
      await q.query(migrations[v]!(s));
    } catch (e) {
      throw migrationFailed(e, schema, current, migrations.length);
    }
    await q.query(`INSERT INTO ${s}.charter_migrations (version) VALUES ($1)`, [v + 1]);
  }
}

// SQLSTATE 42P07 duplicate_table, 42701 duplicate_column, 42710 duplicate_object, 42P06 duplicate_schema (42501: insufficient_privilege).
const TAKEN = new Set(['42P07', '42701', '42710', '42P06']);

/**
 * A migration the server refused, said as such: the caller's transaction rolls
 * it back, so the schema is still at its version. A lost connection or a
 * deadlock stays the driver's error, for the runner to retry; anything else
 * would read "store operation failed" or, for a duplicate key, "that record
 * already exists".
 */
function migrationFailed(e: unknown, schema: string, from: number, to: number): unknown {
  const fault = classify(e);
  if (fault === 'connection' || fault === 'busy') return e;
  const code = typeof (e as { code?: unknown }).code === 'string' ? (e as { code: string }).code : 'unknown';
  const what = TAKEN.has(code)
    ? `it holds a table Charter did not create: give Charter a schema of its own (the schema option)`
    : code === '42501'
      ? 'this role may not change the schema: open the store once as a role that may (its owner), then run as this one'
      : 'keep a copy of it and report this to Charter';
  return new CharterError(
    'STORE_ERROR',
    `upgrading the PostgreSQL schema ${schema} from version ${from} to ${to} failed (${code}); nothing was changed, it is still at version ${from}: ${what}`,
    { cause: e },
  );
}
