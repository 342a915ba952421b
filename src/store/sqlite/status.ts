import type { Database } from 'better-sqlite3';
import { CharterError } from '../../errors.js';
import type { NewStatusList, StatusListRecord, StatusStore } from '../types.js';
import { revokedForGood, statusListRow, type Row } from '../rows.js';
import { wrap } from './wrap.js';

/** Status lists, issuer side: allocation never hands out an index twice; bits are committed before re-signing. */
export function sqliteStatus(db: Database): StatusStore {
  const get = (id: string): StatusListRecord | undefined => {
    const r = wrap(() => db.prepare('SELECT * FROM status_lists WHERE id = ?').get(id) as Row | undefined);
    return r ? statusListRow(r) : undefined;
  };
  // The allocation of a credential in any list of the same issuer and purpose as the list given.
  const heldBy = db.prepare(
    `SELECT a.list_id, a.idx FROM status_allocations a JOIN status_lists s ON s.id = a.list_id JOIN status_lists t ON t.id = ?
     WHERE a.credential_id = ? AND s.issuer_did = t.issuer_did AND s.purpose = t.purpose ORDER BY a.list_id, a.idx LIMIT 1`,
  );
  return {
    async createStatusList(rec: NewStatusList, reuse) {
      if (!Number.isInteger(rec.size) || rec.size < 8 || rec.size % 8 !== 0) throw new CharterError('INVALID_ARGUMENT', 'a status list size must be a positive multiple of 8');
      const createdAt = new Date().toISOString();
      // BEGIN IMMEDIATE: no other connection creates a list between the look and the insert.
      return wrap(() =>
        db
          .transaction(() => {
            if (reuse) {
              const rows = db
                .prepare('SELECT * FROM status_lists WHERE issuer_did = ? AND purpose = ? AND allocated < size * ? ORDER BY created_at, id')
                .all(rec.issuerDid, rec.purpose, reuse.below) as Row[];
              const room = rows.map(statusListRow).find((l) => l.url.startsWith(reuse.urlPrefix));
              if (room) return room;
            }
            db.prepare(
              'INSERT INTO status_lists (id, issuer_did, purpose, size, ttl_seconds, url, bits, version, allocated, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, ?)',
            ).run(rec.id, rec.issuerDid, rec.purpose, rec.size, rec.ttlSeconds, rec.url, Buffer.alloc(rec.size / 8), createdAt);
            return get(rec.id)!;
          })
          .immediate(),
      );
    },
    async getStatusList(id) {
      return get(id);
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
            // BEGIN IMMEDIATE holds the write lock: no other connection allocates between this read and the insert.
            const held = heldBy.get(listId, credentialId) as Row | undefined;
            if (held) return { listId: held.list_id as string, index: held.idx as number };
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
            return { listId, index: idx };
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
            const r = db.prepare('SELECT bits, size, purpose FROM status_lists WHERE id = ?').get(listId) as Row | undefined;
            if (!r) throw new CharterError('NOT_FOUND', `no status list ${listId}`);
            if (!Number.isInteger(index) || index < 0 || index >= (r.size as number)) throw new CharterError('INVALID_ARGUMENT', 'status index out of range');
            const bits = Buffer.from(r.bits as Buffer);
            // Bitstring Status List §3.1: index 0 is the most significant bit of the first byte.
            const mask = 0x80 >> (index % 8);
            if (!value && r.purpose === 'revocation' && (bits[index >> 3]! & mask) !== 0) throw revokedForGood();
            bits[index >> 3] = value ? bits[index >> 3]! | mask : bits[index >> 3]! & ~mask;
            db.prepare('UPDATE status_lists SET bits = ?, version = version + 1 WHERE id = ?').run(bits, listId);
          })
          .immediate(),
      );
      return get(listId)!;
    },
    async putSignedStatusList(listId, version, jwt, datedAfter) {
      // One statement: the compare (the copy the new one was dated after is still stored) and the set are atomic.
      const cas = datedAfter === undefined ? '' : ' AND (signed_jwt IS ? OR signed_jwt = ?)';
      const args = datedAfter === undefined ? [] : [datedAfter, jwt];
      const r = wrap(() =>
        db
          .prepare(`UPDATE status_lists SET signed_jwt = ?, signed_version = ? WHERE id = ? AND (signed_version IS NULL OR signed_version <= ?)${cas}`)
          .run(jwt, version, listId, version, ...args),
      );
      return r.changes === 1;
    },
  };
}
