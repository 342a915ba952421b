import type { PoolClient } from 'pg';
import type { NewRating, RatingKey, RatingStatus, ReputationStore } from '../types.js';
import { checkRating, ratingFromArray, RATING_COLUMNS } from '../rows.js';
import type { Access } from './access.js';

/** Rows per INSERT: parameters are arrays (unnest), so a batch of any size is a few statements. */
const CHUNK = 5000;
const keyOf = (k: RatingKey) => `${k.attester}\n${k.id}`;

/** Verified reputation ratings; a batch is one transaction, confirmed by reading back when its COMMIT outcome is unknown. */
export function postgresRatings({ run, read, rows, t }: Access): ReputationStore {
  async function held(q: PoolClient, keys: readonly RatingKey[]): Promise<Set<string>> {
    const found = new Set<string>();
    for (let i = 0; i < keys.length; i += CHUNK) {
      const part = keys.slice(i, i + CHUNK);
      const r = await q.query<RatingKey>(
        `SELECT r.attester, r.id FROM ${t.ratings} r JOIN unnest($1::text[], $2::text[]) AS k(attester, id) ON r.attester = k.attester AND r.id = k.id`,
        [part.map((k) => k.attester), part.map((k) => k.id)],
      );
      for (const k of r.rows) found.add(keyOf(k));
    }
    return found;
  }
  return {
    async putRatings(ratings) {
      const all = ratings.map(checkRating);
      if (all.length === 0) return [];
      const confirm = async (q: PoolClient) => (await held(q, all)).size === new Set(all.map(keyOf)).size;
      // Inserted in one order of keys whatever the input's: two imports of overlapping ratings (verifier instances
      // importing the same feed) each wait on the other's uncommitted keys, and in opposite orders they deadlock,
      // a retry after deadlock_timeout at best and STORE_UNAVAILABLE once retries run out.
      const ordered = [...all].sort((x, y) => (keyOf(x) < keyOf(y) ? -1 : keyOf(x) > keyOf(y) ? 1 : 0));
      return run({ tx: true, confirm }, async (q) => {
        const added: RatingKey[] = [];
        for (let i = 0; i < ordered.length; i += CHUNK) {
          const part = ordered.slice(i, i + CHUNK);
          const col = <T>(f: (r: NewRating) => T) => part.map(f);
          const r = await q.query<RatingKey>(
            `INSERT INTO ${t.ratings} (attester, id, agent, receipt, score, dimension, issued_at, valid_until, status, imported_at, signed_with)
             SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::text[], $7::int8[], $8::int8[], $9::text[], $10::int8[], $11::text[])
             ON CONFLICT (attester, id) DO NOTHING RETURNING attester, id`,
            [
              col((x) => x.attester),
              col((x) => x.id),
              col((x) => x.agent),
              col((x) => x.receipt),
              col((x) => x.score),
              col((x) => x.dimension ?? null),
              col((x) => x.issuedAt),
              col((x) => x.validUntil ?? null),
              col((x) => x.status ?? null),
              col((x) => x.importedAt),
              col((x) => x.signedWith ?? null),
            ],
          );
          added.push(...r.rows.map((k) => ({ attester: k.attester, id: k.id })));
        }
        // In input order (the first of a key given twice), as the SQLite store reports them.
        const got = new Set(added.map(keyOf));
        const out: RatingKey[] = [];
        const perAgent = new Map<string, number>();
        for (const x of all) {
          if (!got.delete(keyOf(x))) continue;
          out.push({ attester: x.attester, id: x.id });
          perAgent.set(x.agent, (perAgent.get(x.agent) ?? 0) + 1);
        }
        // Agents in one order, so two batches bumping the same versions never deadlock.
        const agents = [...perAgent.keys()].sort();
        if (agents.length > 0) {
          await q.query(
            `INSERT INTO ${t.versions} (agent, version) SELECT * FROM unnest($1::text[], $2::int8[]) ON CONFLICT (agent) DO UPDATE SET version = ${t.versions}.version + excluded.version`,
            [agents, agents.map((a) => perAgent.get(a)!)],
          );
        }
        return out;
      });
    },
    async findRatings(keys) {
      if (keys.length === 0) return [];
      const found = await run({ tx: false, idempotent: true }, (q) => held(q, keys));
      return keys.filter((k) => found.has(keyOf(k))).map((k) => ({ attester: k.attester, id: k.id }));
    },
    async ratingsVersion(agent) {
      const r = await rows(`SELECT version FROM ${t.versions} WHERE agent = $1`, [agent]);
      return r[0] ? Number(r[0].version) : 0;
    },
    async listRatingStatus(agent, keys) {
      if (keys === undefined) return (await rows(`SELECT attester, id, status FROM ${t.ratings} WHERE agent = $1 AND status IS NOT NULL`, [agent])) as unknown as RatingStatus[];
      if (keys.length === 0) return [];
      const out: RatingStatus[] = [];
      for (let i = 0; i < keys.length; i += CHUNK) {
        const part = keys.slice(i, i + CHUNK);
        const r = await rows(
          `SELECT r.attester, r.id, r.status FROM ${t.ratings} r JOIN unnest($2::text[], $3::text[]) AS k(attester, id) ON r.attester = k.attester AND r.id = k.id WHERE r.agent = $1 AND r.status IS NOT NULL`,
          [agent, part.map((k) => k.attester), part.map((k) => k.id)],
        );
        out.push(...(r as unknown as RatingStatus[]));
      }
      return out;
    },
    async listRatings(agent) {
      const r = await read((q) =>
        q.query<unknown[]>({ text: `SELECT ${RATING_COLUMNS} FROM ${t.ratings} WHERE agent = $1 ORDER BY issued_at, attester, id`, values: [agent], rowMode: 'array' }),
      );
      return r.rows.map((c) => ratingFromArray(c, agent));
    },
  };
}
