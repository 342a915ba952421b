import type { Database } from 'better-sqlite3';
import type { ConfigStore, CredentialFilter, CredentialStore, IdentityStore } from '../types.js';
import { credentialRow, identityRow, type Row } from '../rows.js';
import { wrap } from './wrap.js';

const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));
/** The types column holds a JSON array. */
const credential = (r: Row) => credentialRow(r, JSON.parse(r.types as string) as string[]);

/** Configuration, identities and credentials: plain rows. */
export function sqliteRecords(db: Database): ConfigStore & IdentityStore & CredentialStore {
  return {
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
      const r = wrap(
        () => db.prepare('SELECT * FROM identities WHERE alias = ? OR did = ? ORDER BY (alias = ?) DESC LIMIT 1').get(aliasOrDid, aliasOrDid, aliasOrDid) as Row | undefined,
      );
      return r ? identityRow(r) : undefined;
    },
    async listIdentities() {
      return wrap(() => (db.prepare('SELECT * FROM identities ORDER BY created_at, alias').all() as Row[]).map(identityRow));
    },
    async putCredential(rec) {
      wrap(() =>
        db
          .prepare('INSERT INTO credentials (id, jwt, direction, issuer, subject, types, valid_from, valid_until, parent_id, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
          .run(
            rec.id,
            rec.jwt,
            rec.direction,
            rec.issuer,
            rec.subject ?? null,
            JSON.stringify(rec.types),
            rec.validFrom ?? null,
            rec.validUntil ?? null,
            rec.parentId ?? null,
            rec.createdAt,
          ),
      );
    },
    async getCredential(id) {
      const r = wrap(() => db.prepare('SELECT * FROM credentials WHERE id = ?').get(id) as Row | undefined);
      return r ? credential(r) : undefined;
    },
    async listCredentials(f: CredentialFilter = {}) {
      const where: string[] = [];
      const args: unknown[] = [];
      for (const [col, v] of [
        ['direction', f.direction],
        ['issuer', f.issuer],
        ['subject', f.subject],
        ['parent_id', f.parentId],
      ] as const) {
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
  };
}
