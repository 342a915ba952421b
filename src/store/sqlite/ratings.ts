import type { Database } from 'better-sqlite3';
import type { NewRating, RatingKey, RatingRecord, RatingStatus, ReputationStore } from '../types.js';
import { checkRating, ratingFromArray, RATING_COLUMNS } from '../rows.js';
import { wrap } from './wrap.js';

/** Verified reputation ratings: written in one transaction per batch, read with one indexed query per agent. */
export function sqliteRatings(db: Database): ReputationStore {
  const insert = db.prepare(
    'INSERT INTO ratings (attester, id, agent, receipt, score, dimension, issued_at, valid_until, status, imported_at, signed_with) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING',
  );
  const held = db.prepare('SELECT 1 FROM ratings WHERE attester = ? AND id = ?').pluck();
  const list = db.prepare(`SELECT ${RATING_COLUMNS} FROM ratings WHERE agent = ? ORDER BY issued_at, attester, id`).raw(true);
  const bump = db.prepare('INSERT INTO rating_versions (agent, version) VALUES (?, ?) ON CONFLICT (agent) DO UPDATE SET version = version + excluded.version');
  const version = db.prepare('SELECT version FROM rating_versions WHERE agent = ?').pluck();
  const putAll = db.transaction((rows: NewRating[]) => {
    const added: RatingKey[] = [];
    const perAgent = new Map<string, number>();
    for (const r of rows) {
      const done = insert.run(
        r.attester,
        r.id,
        r.agent,
        r.receipt,
        r.score,
        r.dimension ?? null,
        r.issuedAt,
        r.validUntil ?? null,
        r.status ?? null,
        r.importedAt,
        r.signedWith ?? null,
      );
      if (done.changes === 1) {
        added.push({ attester: r.attester, id: r.id });
        perAgent.set(r.agent, (perAgent.get(r.agent) ?? 0) + 1);
      }
    }
    for (const [agent, n] of perAgent) bump.run(agent, n);
    return added;
  });
  const statusAll = db.prepare('SELECT attester, id, status FROM ratings WHERE agent = ? AND status IS NOT NULL');
  const statusOne = db.prepare('SELECT status FROM ratings WHERE attester = ? AND id = ? AND agent = ? AND status IS NOT NULL').pluck();
  const statusOf = db.transaction((agent: string, keys: readonly RatingKey[]) =>
    keys.flatMap((k): RatingStatus[] => {
      const status = statusOne.get(k.attester, k.id, agent) as string | undefined;
      return status === undefined ? [] : [{ attester: k.attester, id: k.id, status }];
    }),
  );
  const findAll = db.transaction((keys: readonly RatingKey[]) => keys.filter((k) => held.get(k.attester, k.id) !== undefined).map((k) => ({ attester: k.attester, id: k.id })));
  return {
    async putRatings(ratings) {
      const rows = ratings.map(checkRating);
      return wrap(() => putAll.immediate(rows));
    },
    async findRatings(keys) {
      return wrap(() => findAll(keys));
    },
    async ratingsVersion(agent) {
      return wrap(() => (version.get(agent) as number | undefined) ?? 0);
    },
    async listRatingStatus(agent, keys) {
      return wrap(() => (keys === undefined ? (statusAll.all(agent) as RatingStatus[]) : statusOf(agent, keys)));
    },
    async listRatings(agent) {
      return wrap(() => {
        // One string per attester and per signing key: the row copies die young instead of surviving the whole score.
        const same = new Map<string, string>();
        const out: RatingRecord[] = [];
        for (const c of list.iterate(agent) as IterableIterator<unknown[]>) {
          const a = c[1] as string;
          let k = same.get(a);
          if (k === undefined) same.set(a, (k = a));
          c[1] = k;
          const signer = c[9] as string | null;
          if (signer !== null) {
            let s = same.get(signer);
            if (s === undefined) same.set(signer, (s = signer));
            c[9] = s;
          }
          out.push(ratingFromArray(c, agent));
        }
        return out;
      });
    },
  };
}
