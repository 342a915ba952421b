import type { PoolClient } from 'pg';
import { CharterError } from '../../errors.js';
import type { NewStatusList, StatusStore } from '../types.js';
import { revokedForGood, statusListRow, type Row } from '../rows.js';
import type { Access } from './access.js';

/** Status lists, issuer side: the list row lock serialises allocations; the primary key (list_id, idx) is the backstop. */
export function postgresStatus({ run, read, rows, t }: Access): StatusStore {
  const store: StatusStore = {
    async createStatusList(rec: NewStatusList, reuse) {
      if (!Number.isInteger(rec.size) || rec.size < 8 || rec.size % 8 !== 0) throw new CharterError('INVALID_ARGUMENT', 'a status list size must be a positive multiple of 8');
      const createdAt = new Date().toISOString();
      // A list found (nothing written) needs no confirming; a list created is confirmed by its row.
      const confirm = async (q: PoolClient, got: Row | undefined) =>
        got?.id !== rec.id || (await q.query(`SELECT 1 FROM ${t.lists} WHERE id = $1 AND created_at = $2`, [rec.id, createdAt])).rowCount === 1;
      const got = await run({ tx: true, confirm }, async (q) => {
        if (reuse) {
          // One creator at a time per issuer, purpose and URL prefix, across instances: the look and the insert are one step.
          await q.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 7))', [`charter status-list ${rec.issuerDid} ${rec.purpose} ${reuse.urlPrefix}`]);
          const found = (
            await q.query<Row>(
              `SELECT * FROM ${t.lists} WHERE issuer_did = $1 AND purpose = $2 AND allocated < size * $3::float8 AND starts_with(url, $4) ORDER BY created_at, id LIMIT 1`,
              [rec.issuerDid, rec.purpose, reuse.below, reuse.urlPrefix],
            )
          ).rows[0];
          if (found) return found;
        }
        const r = await q.query<Row>(
          `INSERT INTO ${t.lists} (id, issuer_did, purpose, size, ttl_seconds, url, bits, version, allocated, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, 0, 0, $8) RETURNING *`,
          [rec.id, rec.issuerDid, rec.purpose, rec.size, rec.ttlSeconds, rec.url, Buffer.alloc(rec.size / 8), createdAt],
        );
        return r.rows[0];
      });
      return got ? statusListRow(got) : (await store.getStatusList(rec.id))!;
    },
    async getStatusList(id) {
      const r = await rows(`SELECT * FROM ${t.lists} WHERE id = $1`, [id]);
      return r[0] ? statusListRow(r[0]) : undefined;
    },
    async listStatusLists(f = {}) {
      const r = await rows(`SELECT * FROM ${t.lists} WHERE ($1::text IS NULL OR issuer_did = $1) AND ($2::text IS NULL OR purpose = $2) ORDER BY created_at, id`, [
        f.issuerDid ?? null,
        f.purpose ?? null,
      ]);
      return r.map(statusListRow);
    },
    async allocateStatusIndex(listId, credentialId, pick) {
      const confirm = async (q: PoolClient, got: { listId: string; index: number }) =>
        (await q.query(`SELECT 1 FROM ${t.allocations} WHERE list_id = $1 AND idx = $2 AND credential_id = $3`, [got.listId, got.index, credentialId])).rowCount === 1;
      // The list row lock serialises allocations in a list; the primary key (list_id, idx) is the backstop.
      return run({ tx: true, confirm, retryOnConflict: true }, async (q) => {
        // One entry per credential and purpose across lists and instances: a lock on the credential id (taken
        // before any row lock, so never in the other order) makes the check below and the insert one step.
        await q.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 7))', [`charter status ${credentialId}`]);
        const held = (
          await q.query<Row>(
            `SELECT a.list_id, a.idx FROM ${t.allocations} a JOIN ${t.lists} s ON s.id = a.list_id JOIN ${t.lists} l ON l.id = $1
             WHERE a.credential_id = $2 AND s.issuer_did = l.issuer_did AND s.purpose = l.purpose ORDER BY a.list_id, a.idx LIMIT 1`,
            [listId, credentialId],
          )
        ).rows[0];
        if (held) return { listId: held.list_id as string, index: held.idx as number };
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
        return { listId, index: idx };
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
        // Revocation is not reversible (Bitstring Status List §2.1): a set bit of a revocation list is never
        // cleared, decided under the same row lock as the change.
        const r = await rows(
          `UPDATE ${t.lists} SET bits = set_bit(bits, $2, $3), version = version + 1 WHERE id = $1 AND size > $4 AND NOT ($3 = 0 AND purpose = 'revocation' AND get_bit(bits, $2) = 1) RETURNING *`,
          [listId, bit, value ? 1 : 0, index],
        );
        if (r[0]) return statusListRow(r[0]);
      }
      const list = await store.getStatusList(listId);
      if (!list) throw new CharterError('NOT_FOUND', `no status list ${listId}`);
      if (Number.isInteger(index) && index >= 0 && index < list.size) throw revokedForGood();
      throw new CharterError('INVALID_ARGUMENT', 'status index out of range');
    },
    async putSignedStatusList(listId, version, jwt, datedAfter) {
      // One UPDATE: the compare (the copy the new one was dated after is still stored) and the set are atomic under
      // the row lock. `signed_jwt = $1` makes a put retried after an unknown outcome report what it did.
      const cas = datedAfter === undefined ? '' : ' AND (signed_jwt IS NOT DISTINCT FROM $4 OR signed_jwt = $1)';
      const args = datedAfter === undefined ? [jwt, version, listId] : [jwt, version, listId, datedAfter];
      const r = await read((q) =>
        q.query(`UPDATE ${t.lists} SET signed_jwt = $1, signed_version = $2 WHERE id = $3 AND (signed_version IS NULL OR signed_version <= $2)${cas}`, args),
      );
      return r.rowCount === 1;
    },
  };
  return store;
}
