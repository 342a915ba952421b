import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, type PoolClient } from 'pg';
import { openPostgresStore } from '../../src/store/postgres/store.js';
import { migrate, PG_MIGRATIONS } from '../../src/store/postgres/schema.js';
import { openWorld, type World } from '../http/world.js';
import { dropSchemas, freshSchema, pgUrlOrReport, sql } from './fixtures/pg-env.js';
import { expectSameMeaning, populate } from './fixtures/upgrade-rows.js';

/**
 * Upgrades of a PostgreSQL schema: one at every version this code has ever
 * written (PG_MIGRATIONS[0..k] applied by hand, so a migration appended later
 * is covered without touching this file), holding the rows a real store held,
 * opened by two instances at once; a schema that cannot be upgraded; one newer
 * than this code knows.
 */
const url = pgUrlOrReport('postgres upgrades');

if (url) {
  const schemas = new Set<string>();
  const fresh = () => {
    const s = freshSchema('up');
    schemas.add(s);
    return s;
  };
  let w: World;
  const ref = fresh();

  beforeAll(async () => {
    w = await openWorld();
    await w.home.createIdentity({ alias: 'api' });
    const store = await openPostgresStore(url, { schema: ref });
    await populate(w, store);
    await store.close();
  }, 60_000);
  afterAll(async () => {
    await dropSchemas(url, schemas);
    await w.close();
  });

  const tablesOf = async (c: Client, schema: string) =>
    (
      await c.query<{ t: string }>(`SELECT table_name AS t FROM information_schema.tables WHERE table_schema = $1 AND table_name <> 'charter_migrations' ORDER BY 1`, [schema])
    ).rows.map((r) => r.t);
  const columnsOf = async (c: Client, schema: string, table: string) =>
    (await c.query<{ c: string }>('SELECT column_name AS c FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2', [schema, table])).rows.map((r) => r.c);

  /** A schema at version k holding the reference rows of every table it has, every column it had then; returns its tables. */
  async function atVersion(schema: string, k: number): Promise<string[]> {
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      await c.query('BEGIN');
      await migrate(c as unknown as PoolClient, schema, PG_MIGRATIONS.slice(0, k));
      await c.query('COMMIT');
      const tables = await tablesOf(c, schema);
      // Tables in an order their foreign keys accept: each pass copies those whose parents are in.
      let left = [...tables];
      while (left.length > 0) {
        const next: string[] = [];
        for (const t of left) {
          const refCols = await columnsOf(c, ref, t);
          const list = (await columnsOf(c, schema, t))
            .filter((col) => refCols.includes(col))
            .map((col) => `"${col}"`)
            .join(', ');
          try {
            await c.query(`INSERT INTO "${schema}"."${t}" (${list}) SELECT ${list} FROM "${ref}"."${t}"`);
          } catch {
            next.push(t);
          }
        }
        if (next.length === left.length) throw new Error(`cannot copy ${next.join(', ')}`);
        left = next;
      }
      return tables;
    } finally {
      await c.end();
    }
  }

  /** Each table's rows (the columns the old version had), sorted, for comparing before and after. */
  async function snapshot(schema: string, tables: string[], columns?: Map<string, string[]>) {
    const c = new Client({ connectionString: url });
    await c.connect();
    try {
      const out = new Map<string, { cols: string[]; rows: string[] }>();
      for (const t of tables) {
        const cols = columns?.get(t) ?? (await columnsOf(c, schema, t)).sort();
        const list = cols.map((col) => `"${col}"::text`).join(', ');
        const rows = (await c.query<{ r: string }>(`SELECT row(${list})::text AS r FROM "${schema}"."${t}"`)).rows.map((r) => r.r).sort();
        out.set(t, { cols, rows });
      }
      return out;
    } finally {
      await c.end();
    }
  }

  describe('a PostgreSQL schema at every earlier version, opened by this code', () => {
    const versions = PG_MIGRATIONS.slice(1).map((_, i) => i + 1);

    it.each(versions)(
      'version %i, two instances at once: one upgrade, every row kept column for column, the same meaning',
      async (k) => {
        const schema = fresh();
        const tables = await atVersion(schema, k);
        const before = await snapshot(schema, tables);
        const [a, b] = await Promise.all([openPostgresStore(url, { schema, poolSize: 2 }), openPostgresStore(url, { schema, poolSize: 2 })]);
        try {
          await expectSameMeaning(w, b!, (t) => tables.includes(t));
        } finally {
          await Promise.all([a!.close(), b!.close()]);
        }
        expect(await sql(url, `SELECT version FROM "${schema}".charter_migrations ORDER BY version`)).toEqual(PG_MIGRATIONS.map((_, i) => ({ version: i + 1 })));
        const after = await snapshot(schema, tables, new Map([...before].map(([t, v]) => [t, v.cols])));
        for (const [t, v] of before) expect(after.get(t)!.rows, t).toEqual(v.rows);
      },
      60_000,
    );
  });

  describe('a PostgreSQL schema this code cannot upgrade', () => {
    it("a schema holding another application's table of a name Charter needs: STORE_ERROR saying so, nothing created, their table untouched", async () => {
      const schema = fresh();
      await sql(url, `CREATE SCHEMA "${schema}"; CREATE TABLE "${schema}".config (setting TEXT); INSERT INTO "${schema}".config VALUES ('theirs')`);
      const e = await openPostgresStore(url, { schema }).catch((x: unknown) => x);
      expect(e).toMatchObject({ name: 'CharterError', code: 'STORE_ERROR' });
      expect((e as Error).message).toMatch(
        new RegExp(`upgrading the PostgreSQL schema ${schema} from version 0 to ${PG_MIGRATIONS.length} failed \\(42P07\\).*still at version 0.*schema of its own`),
      );
      expect(await sql(url, `SELECT table_name FROM information_schema.tables WHERE table_schema = $1`, [schema])).toEqual([{ table_name: 'config' }]);
      expect(await sql(url, `SELECT setting FROM "${schema}".config`)).toEqual([{ setting: 'theirs' }]);
    });

    it('a migration failing part-way (a later table taken): the earlier versions it ran roll back with it', async () => {
      const schema = fresh();
      await atVersion(schema, 1);
      // A table the next migrations create, made by someone else after version 1.
      const c = new Client({ connectionString: url });
      await c.connect();
      const mine = await tablesOf(c, schema);
      await c.end();
      const taken = ['audit_entries', 'ratings', 'mandates'].find((t) => !mine.includes(t))!;
      await sql(url, `CREATE TABLE "${schema}"."${taken}" (x INT)`);
      const before = await snapshot(schema, mine);
      await expect(openPostgresStore(url, { schema })).rejects.toMatchObject({ code: 'STORE_ERROR', message: expect.stringMatching(/from version 1 to .* still at version 1/) });
      expect(await sql(url, `SELECT version FROM "${schema}".charter_migrations ORDER BY version`)).toEqual([{ version: 1 }]);
      const after = await snapshot(schema, mine);
      expect([...after]).toEqual([...before]);
    });

    it('a schema newer than this code knows: STORE_ERROR saying upgrade Charter, and nothing written to it', async () => {
      const schema = fresh();
      await atVersion(schema, PG_MIGRATIONS.length);
      await sql(url, `INSERT INTO "${schema}".charter_migrations (version) VALUES ($1)`, [PG_MIGRATIONS.length + 1]);
      const c = new Client({ connectionString: url });
      await c.connect();
      const tables = await tablesOf(c, schema);
      await c.end();
      const before = await snapshot(schema, [...tables, 'charter_migrations']);
      await expect(openPostgresStore(url, { schema })).rejects.toMatchObject({
        code: 'STORE_ERROR',
        message: expect.stringMatching(/newer than this Charter knows.*upgrade Charter/),
      });
      expect([...(await snapshot(schema, [...tables, 'charter_migrations']))]).toEqual([...before]);
    });
  });

  describe('a role that may only read and write rows', () => {
    it('opens and uses a schema already up to date; on an older one it is told to upgrade as the owner, and nothing changes', async (ctx) => {
      const role = freshSchema('dml');
      try {
        await sql(url, `CREATE ROLE ${role} LOGIN`);
      } catch {
        ctx.skip(); // the test server's user may not create roles
      }
      const current = fresh();
      const older = fresh();
      try {
        await (await openPostgresStore(url, { schema: current })).close();
        await atVersion(older, 1);
        for (const schema of [current, older]) {
          await sql(url, `GRANT USAGE ON SCHEMA "${schema}" TO ${role}; GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA "${schema}" TO ${role}`);
        }
        const as = new URL(url);
        as.username = role;
        as.password = '';
        const s = await openPostgresStore(as.toString(), { schema: current });
        try {
          expect(await s.consumeNonce('jti', 'did:key:zA once', new Date(Date.now() + 60_000))).toBe(true);
          expect(await s.consumeNonce('jti', 'did:key:zA once', new Date(Date.now() + 60_000))).toBe(false);
        } finally {
          await s.close();
        }
        await expect(openPostgresStore(as.toString(), { schema: older })).rejects.toMatchObject({
          code: 'STORE_ERROR',
          message: expect.stringMatching(/from version 1 to .*\(42501\).*still at version 1: this role may not change the schema/),
        });
        expect(await sql(url, `SELECT version FROM "${older}".charter_migrations ORDER BY version`)).toEqual([{ version: 1 }]);
      } finally {
        await sql(url, `DROP OWNED BY ${role}; DROP ROLE ${role}`);
      }
    });
  });
}
