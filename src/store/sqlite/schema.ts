/** Schema migrations, applied in order; PRAGMA user_version records how many ran. */
export const MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE config (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE identities (
    alias TEXT PRIMARY KEY, did TEXT NOT NULL UNIQUE, kid TEXT NOT NULL, key_type TEXT NOT NULL,
    method TEXT NOT NULL, public_jwk TEXT NOT NULL, sealed TEXT NOT NULL, document TEXT, meta TEXT,
    created_at TEXT NOT NULL
  );
  CREATE TABLE credentials (
    id TEXT PRIMARY KEY, jwt TEXT NOT NULL, direction TEXT NOT NULL CHECK (direction IN ('issued', 'held')),
    issuer TEXT NOT NULL, subject TEXT, types TEXT NOT NULL, valid_from TEXT, valid_until TEXT,
    parent_id TEXT, created_at TEXT NOT NULL
  );
  CREATE INDEX credentials_issuer ON credentials (issuer);
  CREATE INDEX credentials_subject ON credentials (subject);
  CREATE INDEX credentials_parent ON credentials (parent_id);
  CREATE TABLE status_lists (
    id TEXT PRIMARY KEY, issuer_did TEXT NOT NULL, purpose TEXT NOT NULL, size INTEGER NOT NULL,
    ttl_seconds INTEGER NOT NULL, url TEXT NOT NULL, bits BLOB NOT NULL, version INTEGER NOT NULL,
    signed_jwt TEXT, signed_version INTEGER, allocated INTEGER NOT NULL, created_at TEXT NOT NULL
  );
  CREATE TABLE status_allocations (
    list_id TEXT NOT NULL REFERENCES status_lists (id), idx INTEGER NOT NULL, credential_id TEXT NOT NULL,
    PRIMARY KEY (list_id, idx)
  );
  CREATE INDEX status_allocations_credential ON status_allocations (credential_id);
  CREATE TABLE ledger (
    reservation_id TEXT NOT NULL, mandate_id TEXT NOT NULL, amount TEXT NOT NULL, currency TEXT NOT NULL,
    at INTEGER NOT NULL, state TEXT NOT NULL CHECK (state IN ('reserved', 'committed', 'released')),
    PRIMARY KEY (reservation_id, mandate_id)
  );
  CREATE INDEX ledger_mandate_at ON ledger (mandate_id, at);
  CREATE TABLE nonces (scope TEXT NOT NULL, value TEXT NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY (scope, value));
  `,
  // 2: reservations can be listed, held with a timeout, and say how they were settled.
  `
  ALTER TABLE ledger ADD COLUMN hold_until INTEGER;
  ALTER TABLE ledger ADD COLUMN settled_at INTEGER;
  ALTER TABLE ledger ADD COLUMN settled_by TEXT CHECK (settled_by IN ('commit', 'release', 'timeout'));
  CREATE INDEX ledger_open ON ledger (state, at);
  `,
  // 3: the audit log (hash-chained signed receipts, checkpoints, evidence kept apart) and access reports.
  `
  CREATE TABLE audit_entries (
    chain TEXT NOT NULL, seq INTEGER NOT NULL, hash TEXT NOT NULL, prev TEXT, receipt_id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL CHECK (kind IN ('decision', 'settlement')),
    outcome TEXT NOT NULL CHECK (outcome IN ('allow', 'deny', 'committed', 'released')),
    issuer TEXT NOT NULL, subject TEXT, at INTEGER NOT NULL, jws TEXT NOT NULL, recorded_at INTEGER NOT NULL,
    -- The evidence kept for this entry: its own presentation (hash, body) and the hashes of the
    -- shared blobs it references (JSON array); cleared when the evidence is pruned.
    presentation_hash TEXT, presentation TEXT, refs TEXT,
    PRIMARY KEY (chain, seq)
  );
  CREATE INDEX audit_entries_at ON audit_entries (at);
  CREATE INDEX audit_entries_subject ON audit_entries (subject, at);
  CREATE TABLE audit_checkpoints (
    chain TEXT NOT NULL, seq INTEGER NOT NULL, head TEXT NOT NULL, issuer TEXT NOT NULL, at INTEGER NOT NULL, jws TEXT NOT NULL,
    PRIMARY KEY (chain, seq)
  );
  CREATE TABLE audit_blobs (hash TEXT PRIMARY KEY, body TEXT NOT NULL);
  CREATE TABLE access_receipts (
    grant_id TEXT NOT NULL, receipt_id TEXT NOT NULL, verifier TEXT NOT NULL, reporter TEXT NOT NULL, holder TEXT,
    outcome TEXT NOT NULL CHECK (outcome IN ('allow', 'deny')), at INTEGER NOT NULL, received_at INTEGER NOT NULL, jws TEXT NOT NULL,
    PRIMARY KEY (grant_id, receipt_id)
  );
  CREATE INDEX access_receipts_at ON access_receipts (grant_id, at);
  `,
  // 4: reputation ratings verified once at import, read back for scoring. Clustered by the one
  // query (an agent's ratings in time order), so scoring reads contiguous pages whatever order
  // they were imported in; (attester, id) is the rating's identity.
  `
  CREATE TABLE ratings (
    agent TEXT NOT NULL, issued_at INTEGER NOT NULL, attester TEXT NOT NULL, id TEXT NOT NULL,
    receipt TEXT NOT NULL, score REAL NOT NULL CHECK (score >= 0 AND score <= 1), dimension TEXT,
    valid_until INTEGER, status TEXT, imported_at INTEGER NOT NULL,
    PRIMARY KEY (agent, issued_at, attester, id)
  ) WITHOUT ROWID;
  CREATE UNIQUE INDEX ratings_key ON ratings (attester, id);
  CREATE TABLE rating_versions (agent TEXT PRIMARY KEY, version INTEGER NOT NULL) WITHOUT ROWID;
  `,
  // 5: the replay cache as one b-tree keyed by (scope, value), and an index on expiry so the sweep
  // deletes the expired range instead of scanning every live row (a full scan every 256 requests
  // cost a guarded request more than its signature once the table held a few minutes of traffic).
  `
  CREATE TABLE nonces_next (scope TEXT NOT NULL, value TEXT NOT NULL, expires_at INTEGER NOT NULL, PRIMARY KEY (scope, value)) WITHOUT ROWID;
  INSERT INTO nonces_next (scope, value, expires_at) SELECT scope, value, expires_at FROM nonces;
  DROP TABLE nonces;
  ALTER TABLE nonces_next RENAME TO nonces;
  CREATE INDEX nonces_expires ON nonces (expires_at);
  `,
  // 6: a reported use is keyed by the verifier that signed it too: a receipt of the same id signed by
  // another key (a grantee forging one to shadow the real report) is another record, never a duplicate.
  // The key also counts a verifier's uses of a grant, for the fair shares of the per-grant cap.
  `
  CREATE TABLE access_receipts_next (
    grant_id TEXT NOT NULL, receipt_id TEXT NOT NULL, verifier TEXT NOT NULL, reporter TEXT NOT NULL, holder TEXT,
    outcome TEXT NOT NULL CHECK (outcome IN ('allow', 'deny')), at INTEGER NOT NULL, received_at INTEGER NOT NULL, jws TEXT NOT NULL,
    PRIMARY KEY (grant_id, verifier, receipt_id)
  );
  INSERT INTO access_receipts_next (grant_id, receipt_id, verifier, reporter, holder, outcome, at, received_at, jws)
    SELECT grant_id, receipt_id, verifier, reporter, holder, outcome, at, received_at, jws FROM access_receipts;
  DROP TABLE access_receipts;
  ALTER TABLE access_receipts_next RENAME TO access_receipts;
  CREATE INDEX access_receipts_at ON access_receipts (grant_id, at);
  `,
  // 7: the key each rating's signature verified with (did/parties.ts keyString), so scoring tells raters
  // apart by who signed rather than by what documents list; NULL for ratings imported before.
  `
  ALTER TABLE ratings ADD COLUMN signed_with TEXT;
  `,
];
