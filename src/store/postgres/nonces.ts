import { nonceKeys } from '../keys.js';
import type { NonceStore } from '../types.js';
import type { Access } from './access.js';

const noop = () => undefined;
/** The database server's time in ms since the epoch (expires_at's unit). */
const SERVER_NOW_MS = `(extract(epoch from clock_timestamp()) * 1000)::bigint`;
/** Most expired entries one sweep deletes (as the SQLite store). */
const SWEEP_ROWS = 2048;

/** The replay cache: one upsert decides whether a value is new (or its old entry expired). */
export function postgresNonces({ run, read, t }: Access): NonceStore {
  let nonceCalls = 0;
  return {
    async consumeNonce(scope, value, expiresAt) {
      const k = nonceKeys(scope, value, expiresAt);
      // "Expired" is judged by the database server's clock, one for every verifier instance sharing it: by each
      // instance's own clock, one running ahead would take a value again (or sweep it) while it is still live for
      // the others, and a presentation could be replayed there.
      // The entry lives until the later of the instance's expiry and the server's time plus the same lifetime
      // (expiresAt less the instance's now): an instance whose clock runs behind the server's would otherwise
      // store entries already expired by the server's clock, and every replay of a value it still finds fresh
      // would be taken again. Keeping an entry longer only refuses more.
      // One upsert decides: a row is returned when the nonce is new or its old entry had expired.
      // In a transaction, so a connection lost before COMMIT is retried; lost during COMMIT it fails closed.
      const lifetime = k.until - Date.now();
      const r = await run({ tx: true }, (q) =>
        q.query(
          `INSERT INTO ${t.nonces} (scope, value, expires_at) VALUES ($1, $2, GREATEST($3::bigint, ${SERVER_NOW_MS} + $4::bigint))
           ON CONFLICT (scope, value) DO UPDATE SET expires_at = excluded.expires_at WHERE ${t.nonces}.expires_at <= ${SERVER_NOW_MS} RETURNING 1`,
          [k.scope, k.value, k.until, lifetime],
        ),
      );
      // A bounded slice of the expired range (its index) each time: after an outage the backlog goes in
      // small deletes, never one that holds a request or the table for long.
      if (++nonceCalls % 256 === 0) {
        await read((q) =>
          // expires_at is tested on the deleted row itself, not only in the subquery's snapshot: a value another
          // instance took again meanwhile (a new expiry, the old row locked) is re-checked and kept.
          q.query(
            `DELETE FROM ${t.nonces} WHERE expires_at <= ${SERVER_NOW_MS} AND (scope, value) IN (SELECT scope, value FROM ${t.nonces} WHERE expires_at <= ${SERVER_NOW_MS} LIMIT ${SWEEP_ROWS})`,
          ),
        ).catch(noop);
      }
      return r.rowCount === 1;
    },
  };
}
