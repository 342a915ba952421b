import { afterAll, describe, expect, it } from 'vitest';
import { openPostgresStore } from '../../src/store/postgres/store.js';
import { dropSchemas, freshSchema, pgUrlOrReport, runWorkers, sql } from './fixtures/pg-env.js';
import { PG_MIGRATIONS } from '../../src/store/postgres/schema.js';

// A fleet of verifiers: separate node processes sharing one PostgreSQL database.
const url = pgUrlOrReport('postgres store, several processes');

if (url) {
  const schemas = new Set<string>();
  const fresh = () => {
    const s = freshSchema('p');
    schemas.add(s);
    return s;
  };
  afterAll(() => dropSchemas(url, schemas));

  describe('postgres store shared by several processes', () => {
    it('processes starting at once migrate a new schema exactly once', async () => {
      const schema = fresh();
      const outs = await runWorkers(
        'pg-worker.ts',
        [1, 2, 3, 4, 5, 6].map((w) => [url, schema, 'migrate', String(w), '0']),
      );
      expect(outs).toEqual(Array(6).fill({ opened: true }));
      expect(await sql(url, `SELECT version FROM "${schema}".charter_migrations ORDER BY version`)).toEqual(PG_MIGRATIONS.map((_, i) => ({ version: i + 1 })));
    }, 60_000);

    it('never overspend any link, accept each nonce once, and never hand out a status index twice', async () => {
      const schema = fresh();
      const init = await openPostgresStore(url, { schema });
      await init.createStatusList({ id: 'l', issuerDid: 'did:key:zi', purpose: 'revocation', size: 131072, ttlSeconds: 60, url: 'https://x/status/l' });
      // 4 processes x 15 reservations of 7 USD on a chain whose tighter link allows 60: exactly 8 fit.
      // Every process tries the same 15 nonces: each is accepted by exactly one process.
      const outs = (await runWorkers(
        'pg-worker.ts',
        [0, 1, 2, 3].map((w) => [url, schema, 'mixed', String(w), '15']),
      )) as { ok: number; nonces: number; indices: number[] }[];
      expect(outs.reduce((a, r) => a + r.ok, 0)).toBe(8);
      expect(outs.reduce((a, r) => a + r.nonces, 0)).toBe(15);
      const all = outs.flatMap((r) => r.indices);
      expect(all.length).toBe(60);
      expect(new Set(all).size).toBe(60);
      const usage = await init.previewReservation({
        reservationId: 'q',
        at: new Date(),
        entries: [
          { mandateId: 'parent', amount: '0', currency: 'USD', budget: { amount: '100', currency: 'USD', periodSeconds: 3600 } },
          { mandateId: 'child', amount: '0', currency: 'USD', budget: { amount: '60', currency: 'USD', periodSeconds: 3600 } },
        ],
      });
      expect(usage.usage.map((u) => u.spent)).toEqual(['56', '56']);
      expect((await init.getStatusList('l'))!.allocated).toBe(60);
      await init.close();
    }, 90_000);

    it('bits set by several processes at once are all kept, and one process sees what another set', async () => {
      const schema = fresh();
      const init = await openPostgresStore(url, { schema });
      await init.createStatusList({ id: 'l', issuerDid: 'did:key:zi', purpose: 'revocation', size: 131072, ttlSeconds: 60, url: 'https://x/status/l' });
      await runWorkers(
        'pg-worker.ts',
        [0, 1, 2, 3].map((w) => [url, schema, 'set-bits', String(w), '25']),
      );
      const list = (await init.getStatusList('l'))!;
      expect(list.version).toBe(100);
      for (let i = 0; i < 100; i++) expect((list.bits[i >> 3]! >> (7 - (i % 8))) & 1).toBe(1);
      expect(list.bits[100 >> 3]! & (0x80 >> (100 % 8))).toBe(0);
      // A bit set through this process, read by a fresh one (and the other way round above).
      await init.setStatusBit('l', 4242, true);
      const [seen, unset] = (await runWorkers('pg-worker.ts', [
        [url, schema, 'get-bit', '0', '4242'],
        [url, schema, 'get-bit', '0', '4243'],
      ])) as { bit: boolean; version: number }[];
      expect(seen).toEqual({ bit: true, version: 101 });
      expect(unset!.bit).toBe(false);
      await init.close();
    }, 60_000);
  });
}
