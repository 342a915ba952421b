import { closeSync, chmodSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { CharterError } from '../errors.js';
import { parseDecimal } from '../encoding/decimal.js';
import type {
  CredentialFilter,
  NewStatusList,
  ReservationRequest,
  ReservationResult,
  Store,
} from './types.js';
import { MIGRATIONS } from './sqlite-schema.js';
import { computeReservation, validateReservation, type LedgerRow } from './ledger.js';
import { credentialRow, identityRow, statusListRow, type Row } from './rows.js';

/** Maps driver errors to Charter codes without echoing values. */
function wrap<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof CharterError) throw e;
    const code = (e as { code?: string }).code ?? '';
    if (code.startsWith('SQLITE_CONSTRAINT')) throw new CharterError('ALREADY_EXISTS', 'that record already exists', { cause: e });
    if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') throw new CharterError('STORE_UNAVAILABLE', 'the store is busy: try again', { cause: e });
    throw new CharterError('STORE_ERROR', `store operation failed (${code || 'unknown'})`, { cause: e });
  }
}

const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));
/** The types column holds a JSON array. */
const credential = (r: Row) => credentialRow(r, JSON.parse(r.types as string) as string[]);

/** The embedded store: one SQLite file (WAL, busy timeout) that several processes may share. */
export async function openSqliteStore(path: string): Promise<Store> {
  if (path !== ':memory:') {
    closeSync(openSync(path, 'a', 0o600));
    chmodSync(path, 0o600);
  }
  const db = wrap(() => new Database(path));
  wrap(() => {
    db.pragma('journal_mode = WAL');
    db.pragma('busy_timeout = 10000');
    db.pragma('foreign_keys = ON');
    db.pragma('synchronous = FULL');
    db.transaction(() => {
      const v = db.pragma('user_version', { simple: true }) as number;
      for (let i = v; i < MIGRATIONS.length; i++) db.exec(MIGRATIONS[i]!);
      if (v < MIGRATIONS.length) db.pragma(`user_version = ${MIGRATIONS.length}`);
    }).immediate();
  });
  let nonceCalls = 0;

  const ledgerRows = db.prepare('SELECT mandate_id, amount, currency, at FROM ledger WHERE mandate_id = ? AND state != ? AND at > ?');
  const usage = (req: ReservationRequest): ReservationResult =>
    computeReservation(req, (mandateId, since) =>
      (ledgerRows.all(mandateId, 'released', since) as Row[]).map(
        (r): LedgerRow => ({ amount: BigInt(r.amount as string), currency: r.currency as string, at: r.at as number }),
      ),
    );

  const store: Store = {
    kind: 'sqlite',
    async close() {
      db.close();
    },
    async getConfig(key) {
      return wrap(() => (db.prepare('SELECT value FROM config WHERE key = ?').get(key) as Row | undefined)?.value as string | undefined);
    },
    async setConfig(key, value) {
      wrap(() => db.prepare('INSERT INTO config (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value));
    },
    async putIdentity(rec) {
      wrap(() =>
        db
          .prepare('INSERT INTO identities (alias, did, kid, key_type, method, public_jwk, sealed, document, meta, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
          .run(rec.alias, rec.did, rec.kid, rec.keyType, rec.method, JSON.stringify(rec.publicJwk), rec.sealedPrivateKey, json(rec.document), json(rec.meta), rec.createdAt),
      );
    },
    async getIdentity(aliasOrDid) {
      const r = wrap(() => db.prepare('SELECT * FROM identities WHERE alias = ? OR did = ?').get(aliasOrDid, aliasOrDid) as Row | undefined);
      return r ? identityRow(r) : undefined;
    },
    async listIdentities() {
      return wrap(() => (db.prepare('SELECT * FROM identities ORDER BY created_at, alias').all() as Row[]).map(identityRow));
    },
    async putCredential(rec) {
      wrap(() =>
        db
          .prepare('INSERT INTO credentials (id, jwt, direction, issuer, subject, types, valid_from, valid_until, parent_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
          .run(rec.id, rec.jwt, rec.direction, rec.issuer, rec.subject ?? null, JSON.stringify(rec.types), rec.validFrom ?? null, rec.validUntil ?? null, rec.parentId ?? null, rec.createdAt),
      );
    },
    async getCredential(id) {
      const r = wrap(() => db.prepare('SELECT * FROM credentials WHERE id = ?').get(id) as Row | undefined);
      return r ? credential(r) : undefined;
    },
    async listCredentials(f: CredentialFilter = {}) {
      const where: string[] = [];
      const args: unknown[] = [];
      for (const [col, v] of [['direction', f.direction], ['issuer', f.issuer], ['subject', f.subject], ['parent_id', f.parentId]] as const) {
        if (v !== undefined) {
          where.push(`${col} = ?`);
          args.push(v);
        }
      }
      if (f.type !== undefined) {
        where.push('EXISTS (SELECT 1 FROM json_each(credentials.types) WHERE value = ?)');
        args.push(f.type);
      }
      const sql = `SELECT * FROM credentials${where.length ? ' WHERE ' + where.join(' AND ') : ''} ORDER BY created_at, id`;
      return wrap(() => (db.prepare(sql).all(...args) as Row[]).map(credential));
    },
    async createStatusList(rec: NewStatusList) {
      if (!Number.isInteger(rec.size) || rec.size < 8 || rec.size % 8 !== 0) throw new CharterError('INVALID_ARGUMENT', 'a status list size must be a positive multiple of 8');
      const createdAt = new Date().toISOString();
      wrap(() =>
        db
          .prepare('INSERT INTO status_lists (id, issuer_did, purpose, size, ttl_seconds, url, bits, version, allocated, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, ?)')
          .run(rec.id, rec.issuerDid, rec.purpose, rec.size, rec.ttlSeconds, rec.url, Buffer.alloc(rec.size / 8), createdAt),
      );
      return (await store.getStatusList(rec.id))!;
    },
    async getStatusList(id) {
      const r = wrap(() => db.prepare('SELECT * FROM status_lists WHERE id = ?').get(id) as Row | undefined);
      return r ? statusListRow(r) : undefined;
    },
    async listStatusLists(f = {}) {
      const rows = wrap(() => db.prepare('SELECT * FROM status_lists ORDER BY created_at, id').all() as Row[]);
      return rows.map(statusListRow).filter((l) => (f.issuerDid === undefined || l.issuerDid === f.issuerDid) && (f.purpose === undefined || l.purpose === f.purpose));
    },
    async allocateStatusIndex(listId, credentialId, pick) {
      return wrap(() =>
        db
          .transaction(() => {
            const l = db.prepare('SELECT size, allocated FROM status_lists WHERE id = ?').get(listId) as Row | undefined;
            if (!l) throw new CharterError('NOT_FOUND', `no status list ${listId}`);
            const size = l.size as number;
            if ((l.allocated as number) >= size) throw new CharterError('STORE_ERROR', `status list ${listId} is full`);
            const ins = db.prepare('INSERT INTO status_allocations (list_id, idx, credential_id) VALUES (?, ?, ?) ON CONFLICT DO NOTHING');
            let idx = -1;
            for (let i = 0; i < 64 && idx < 0; i++) {
              const c = pick(size);
              if (Number.isInteger(c) && c >= 0 && c < size && ins.run(listId, c, credentialId).changes === 1) idx = c;
            }
            if (idx < 0) {
              // Nearly full: take the first free index (rare; privacy matters less than progress here).
              const taken = new Set((db.prepare('SELECT idx FROM status_allocations WHERE list_id = ?').all(listId) as Row[]).map((r) => r.idx as number));
              let free = -1;
              for (let i = 0; i < size && free < 0; i++) if (!taken.has(i)) free = i;
              if (free < 0) throw new CharterError('STORE_ERROR', `status list ${listId} is full`);
              idx = free;
              ins.run(listId, idx, credentialId);
            }
            db.prepare('UPDATE status_lists SET allocated = allocated + 1 WHERE id = ?').run(listId);
            return idx;
          })
          .immediate(),
      );
    },
    async findStatusAllocation(credentialId) {
      return wrap(() =>
        (db.prepare('SELECT list_id, idx FROM status_allocations WHERE credential_id = ? ORDER BY list_id').all(credentialId) as Row[]).map((r) => ({
          listId: r.list_id as string,
          index: r.idx as number,
        })),
      );
    },
    async setStatusBit(listId, index, value) {
      wrap(() =>
        db
          .transaction(() => {
            const r = db.prepare('SELECT bits, size FROM status_lists WHERE id = ?').get(listId) as Row | undefined;
            if (!r) throw new CharterError('NOT_FOUND', `no status list ${listId}`);
            if (!Number.isInteger(index) || index < 0 || index >= (r.size as number)) throw new CharterError('INVALID_ARGUMENT', 'status index out of range');
            const bits = Buffer.from(r.bits as Buffer);
            // Bitstring Status List §3.1: index 0 is the most significant bit of the first byte.
            const mask = 0x80 >> index % 8;
            bits[index >> 3] = value ? bits[index >> 3]! | mask : bits[index >> 3]! & ~mask;
            db.prepare('UPDATE status_lists SET bits = ?, version = version + 1 WHERE id = ?').run(bits, listId);
          })
          .immediate(),
      );
      return (await store.getStatusList(listId))!;
    },
    async putSignedStatusList(listId, version, jwt) {
      wrap(() =>
        db
          .prepare('UPDATE status_lists SET signed_jwt = ?, signed_version = ? WHERE id = ? AND (signed_version IS NULL OR signed_version < ?)')
          .run(jwt, version, listId, version),
      );
    },
    async reserve(req) {
      validateReservation(req);
      return wrap(() =>
        db
          .transaction(() => {
            if (db.prepare('SELECT 1 FROM ledger WHERE reservation_id = ? LIMIT 1').get(req.reservationId)) {
              throw new CharterError('ALREADY_EXISTS', 'that reservation id is already used');
            }
            const result = usage(req);
            if (result.ok) {
              const ins = db.prepare('INSERT INTO ledger (reservation_id, mandate_id, amount, currency, at, state) VALUES (?, ?, ?, ?, ?, ?)');
              for (const e of req.entries) ins.run(req.reservationId, e.mandateId, scaled(e.amount), e.currency, req.at.getTime(), 'reserved');
            }
            return result;
          })
          .immediate(),
      );
    },
    async usage(req) {
      validateReservation(req);
      return wrap(() => usage(req));
    },
    async commitReservation(id) {
      setState(id, 'committed');
    },
    async releaseReservation(id) {
      setState(id, 'released');
    },
    consumeNonce(scope, value, expiresAt) {
      // Checked before queueing: one bad call must not fail the batch it would share.
      if (typeof scope !== 'string' || typeof value !== 'string' || !(expiresAt instanceof Date) || !Number.isFinite(expiresAt.getTime())) {
        return Promise.reject(new CharterError('INVALID_ARGUMENT', 'consumeNonce needs a scope, a value and a valid expiry date'));
      }
      return new Promise<boolean>((resolve, reject) => {
        nonceQueue.push({ scope, value, expiresAt: expiresAt.getTime(), resolve, reject });
        if (nonceQueue.length === 1) setImmediate(flushNonces);
      });
    },
  };

  /*
   * Group commit of the replay cache: every consumeNonce of one event-loop
   * turn goes into one transaction, so concurrent requests share one fsync
   * (synchronous=FULL) instead of paying one each. Each call resolves only
   * after the transaction holding its row has committed; values repeated in
   * one batch are seen in order (the second one is a replay).
   */
  type PendingNonce = { scope: string; value: string; expiresAt: number; resolve: (fresh: boolean) => void; reject: (e: unknown) => void };
  let nonceQueue: PendingNonce[] = [];
  const nonceGet = db.prepare('SELECT expires_at FROM nonces WHERE scope = ? AND value = ?');
  const nonceSet = db.prepare('INSERT INTO nonces (scope, value, expires_at) VALUES (?, ?, ?) ON CONFLICT(scope, value) DO UPDATE SET expires_at = excluded.expires_at');
  const nonceSweep = db.prepare('DELETE FROM nonces WHERE expires_at <= ?');
  const consumeBatch = db.transaction((batch: PendingNonce[], now: number) =>
    batch.map((n) => {
      if (++nonceCalls % 256 === 0) nonceSweep.run(now);
      const r = nonceGet.get(n.scope, n.value) as Row | undefined;
      if (r && (r.expires_at as number) > now) return false;
      nonceSet.run(n.scope, n.value, n.expiresAt);
      return true;
    }),
  );
  function flushNonces(): void {
    const batch = nonceQueue;
    nonceQueue = [];
    try {
      const fresh = wrap(() => consumeBatch.immediate(batch, Date.now()));
      batch.forEach((n, i) => n.resolve(fresh[i]!));
    } catch (e) {
      for (const n of batch) n.reject(e);
    }
  }

  function setState(id: string, state: 'committed' | 'released'): void {
    wrap(() =>
      db
        .transaction(() => {
          const rows = db.prepare('SELECT state FROM ledger WHERE reservation_id = ?').all(id) as Row[];
          if (rows.length === 0 || rows.some((r) => r.state === 'released')) throw new CharterError('RESERVATION_NOT_FOUND', 'no live reservation with that id');
          if (state === 'released' && rows.some((r) => r.state === 'committed')) throw new CharterError('RESERVATION_NOT_FOUND', 'that reservation is already committed');
          db.prepare('UPDATE ledger SET state = ? WHERE reservation_id = ?').run(state, id);
        })
        .immediate(),
    );
  }

  return store;
}
const scaled = (amount: string): string => parseDecimal(amount).toString();
