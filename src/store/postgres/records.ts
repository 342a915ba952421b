import type { PoolClient } from 'pg';
import type { ConfigStore, CredentialFilter, CredentialStore, IdentityStore } from '../types.js';
import { credentialRow, identityRow, type Row } from '../rows.js';
import type { Access } from './access.js';

const json = (v: unknown) => (v === undefined ? null : JSON.stringify(v));
/** The types column is a TEXT[]. */
const credential = (r: Row) => credentialRow(r, r.types as string[]);

/** Configuration, identities and credentials; a write whose COMMIT outcome is unknown is confirmed by reading it back. */
export function postgresRecords({ run, read, rows, t }: Access): ConfigStore & IdentityStore & CredentialStore {
  return {
    async getConfig(key) {
      return (await rows(`SELECT value FROM ${t.config} WHERE key = $1`, [key]))[0]?.value as string | undefined;
    },
    async setConfig(key, value) {
      await read((q) => q.query(`INSERT INTO ${t.config} (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value`, [key, value]));
    },
    async putIdentity(rec) {
      const confirm = async (q: PoolClient) =>
        (
          await q.query(`SELECT 1 FROM ${t.identities} WHERE alias = $1 AND did = $2 AND sealed = $3 AND created_at = $4`, [
            rec.alias,
            rec.did,
            rec.sealedPrivateKey,
            rec.createdAt,
          ])
        ).rowCount === 1;
      await run({ tx: true, confirm }, (q) =>
        q.query(
          `INSERT INTO ${t.identities} (alias, did, kid, key_type, method, public_jwk, sealed, document, meta, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
          [rec.alias, rec.did, rec.kid, rec.keyType, rec.method, JSON.stringify(rec.publicJwk), rec.sealedPrivateKey, json(rec.document), json(rec.meta), rec.createdAt],
        ),
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
      const confirm = async (q: PoolClient) =>
        (await q.query(`SELECT 1 FROM ${t.credentials} WHERE id = $1 AND jwt = $2 AND created_at = $3`, [rec.id, rec.jwt, rec.createdAt])).rowCount === 1;
      await run({ tx: true, confirm }, (q) =>
        q.query(
          `INSERT INTO ${t.credentials} (id, jwt, direction, issuer, subject, types, valid_from, valid_until, parent_id, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
          [rec.id, rec.jwt, rec.direction, rec.issuer, rec.subject ?? null, rec.types, rec.validFrom ?? null, rec.validUntil ?? null, rec.parentId ?? null, rec.createdAt],
        ),
      );
    },
    async getCredential(id) {
      const r = await rows(`SELECT * FROM ${t.credentials} WHERE id = $1`, [id]);
      return r[0] ? credential(r[0]) : undefined;
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
  };
}
