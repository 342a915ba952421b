import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { Client, type PoolClient } from 'pg';
import { openPostgresStore } from '../../src/store/postgres/store.js';
import { migrate, PG_MIGRATIONS } from '../../src/store/postgres/schema.js';
import { openStore } from '../../src/home/open-store.js';
import type { LedgerEntry, Store } from '../../src/store/types.js';
import { tempDir } from '../helpers.js';
import { expectOneFirstList, runStoreContract } from './contract.js';
import { dropSchemas, freshSchema, pgUrlOrReport, sql } from './fixtures/pg-env.js';

const url = pgUrlOrReport('postgres store');

if (url) {
  const schemas = new Set<string>();
  const open = (schema = freshSchema(), options = {}) => {
    schemas.add(schema);
    return openPostgresStore(url, { schema, ...options });
  };
  afterAll(() => dropSchemas(url, schemas));

  runStoreContract('postgres', () => open());

  describe('postgres store', () => {
    const budget = (mandateId: string, amount: string, limit: string): LedgerEntry => ({
      mandateId,
      amount,
      currency: 'USD',
      budget: { amount: limit, currency: 'USD', periodSeconds: 3600 },
    });

    it("four instances on one schema issuing an issuer's first entries at once create one list", async () => {
      const schema = freshSchema();
      const stores = await Promise.all(Array.from({ length: 4 }, () => open(schema, { poolSize: 3 })));
      try {
        await expectOneFirstList(stores);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    });

    it('many instances starting at once migrate a new schema exactly once', async () => {
      const schema = freshSchema();
      const stores = await Promise.all(Array.from({ length: 8 }, () => open(schema, { poolSize: 1 })));
      await Promise.all(stores.map((s) => s.close()));
      expect(await sql(url, `SELECT version FROM "${schema}".charter_migrations ORDER BY version`)).toEqual(PG_MIGRATIONS.map((_, i) => ({ version: i + 1 })));
    });

    it('schema 5: reported uses of a schema-4 database survive, keyed by verifier from then on (two stores sharing it at once)', async () => {
      const schema = freshSchema();
      schemas.add(schema);
      const c = new Client({ connectionString: url });
      await c.connect();
      try {
        await c.query('BEGIN');
        await migrate(c as unknown as PoolClient, schema, PG_MIGRATIONS.slice(0, 4));
        await c.query('COMMIT');
        await c.query(
          `INSERT INTO "${schema}".access_receipts (grant_id, receipt_id, verifier, reporter, holder, outcome, at, received_at, jws) VALUES ('g', 'r1', 'did:key:zapi', 'did:key:zapi', NULL, 'allow', 1000, 2000, 'h.r1.s')`,
        );
      } finally {
        await c.end();
      }
      const [a, b] = await Promise.all([open(schema), open(schema)]);
      expect(await sql(url, `SELECT version FROM "${schema}".charter_migrations ORDER BY version`)).toEqual(PG_MIGRATIONS.map((_, i) => ({ version: i + 1 })));
      expect((await a!.listAccessReceipts({ grantId: 'g' })).map((r) => [r.receiptId, r.verifier, r.at])).toEqual([['r1', 'did:key:zapi', new Date(1000).toISOString()]]);
      const rec = (verifier: string) => ({
        grantId: 'g',
        receiptId: 'r1',
        verifier,
        reporter: verifier,
        outcome: 'deny' as const,
        at: new Date(3000).toISOString(),
        receivedAt: new Date(4000).toISOString(),
        jws: 'h.x.s',
      });
      expect(await b!.putAccessReceipts([rec('did:key:zforger'), rec('did:key:zapi')])).toEqual(['added', 'duplicate']);
      await Promise.all([a!.close(), b!.close()]);
    });

    it('schema 6: ratings of a schema-5 database survive without a signing key (scored as before); new ones keep theirs', async () => {
      const schema = freshSchema();
      schemas.add(schema);
      const c = new Client({ connectionString: url });
      await c.connect();
      try {
        await c.query('BEGIN');
        await migrate(c as unknown as PoolClient, schema, PG_MIGRATIONS.slice(0, 5));
        await c.query('COMMIT');
        await c.query(
          `INSERT INTO "${schema}".ratings (attester, id, agent, receipt, score, dimension, issued_at, valid_until, status, imported_at) VALUES ('did:web:critic.example', 'urn:uuid:old', 'did:key:zagent', 'urn:uuid:r0', 0.25, NULL, 1000, NULL, NULL, 2000)`,
        );
      } finally {
        await c.end();
      }
      const s = await open(schema);
      const before = {
        id: 'urn:uuid:old',
        attester: 'did:web:critic.example',
        agent: 'did:key:zagent',
        receipt: 'urn:uuid:r0',
        score: 0.25,
        issuedAt: 1000,
        importedAt: 2000,
        revocable: false,
      };
      expect(await s.listRatings('did:key:zagent')).toEqual([before]);
      const fresh = {
        id: 'urn:uuid:new',
        attester: 'did:web:critic.example',
        agent: 'did:key:zagent',
        receipt: 'urn:uuid:r1',
        score: 1,
        issuedAt: 3000,
        importedAt: 4000,
        signedWith: 'OKP Ed25519 abc ',
      };
      expect(await s.putRatings([fresh])).toEqual([{ attester: 'did:web:critic.example', id: 'urn:uuid:new' }]);
      expect(await s.listRatings('did:key:zagent')).toEqual([before, { ...fresh, revocable: false }]);
      await s.close();
      expect(await sql(url, `SELECT version FROM "${schema}".charter_migrations ORDER BY version`)).toEqual(PG_MIGRATIONS.map((_, i) => ({ version: i + 1 })));
    });

    it('refuses a schema newer than it knows (fails closed rather than misread the ledger)', async () => {
      const schema = freshSchema();
      await (await open(schema)).close();
      await sql(url, `INSERT INTO "${schema}".charter_migrations (version) VALUES (99)`);
      await expect(open(schema)).rejects.toMatchObject({ code: 'STORE_ERROR' });
    });

    it('an unreachable server is STORE_UNAVAILABLE after bounded retries, and the URL stays out of the error', async () => {
      const probe = createServer();
      await new Promise<void>((r) => probe.listen(0, '127.0.0.1', () => r()));
      const port = (probe.address() as AddressInfo).port;
      await new Promise<void>((r) => probe.close(() => r()));
      const started = Date.now();
      const err = await openPostgresStore(`postgres://charter:s3cret-pw@127.0.0.1:${port}/x`, { retry: { attempts: 3, baseDelayMs: 10 } }).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: 'STORE_UNAVAILABLE' });
      expect(String((err as Error).message)).not.toContain('s3cret');
      expect(Date.now() - started).toBeLessThan(5000);
    });

    it('rejects a URL that is not postgres:// and a schema name that needs quoting', async () => {
      await expect(openPostgresStore('mysql://x/y')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(openPostgresStore(url, { schema: 'Robert"; DROP' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    });

    it('openStore selects PostgreSQL when CHARTER_STORE is a postgres URL', async () => {
      const schema = freshSchema();
      schemas.add(schema);
      // The scheme in any case (RFC 3986 §3.1), as openStore reads CHARTER_STORE: it opens, never INVALID_ARGUMENT.
      for (const u of [url, url.replace(/^postgres:/, 'postgresql:'), url.replace(/^postgres:/, 'POSTGRES:'), url.replace(/^postgres:/, 'PostgreSQL:')]) {
        const s = await openStore({ home: tempDir(), env: { CHARTER_STORE: u, CHARTER_STORE_SCHEMA: schema } });
        expect(s.kind).toBe('postgres');
        await s.close();
      }
      const s = await openStore({ home: tempDir(), env: {} });
      expect(s.kind).toBe('sqlite');
      await s.close();
    });

    it('amounts are exact to 18 decimals and sums go past 2^63', async () => {
      const s = await open();
      const big = '500000000000000000.000000000000000001';
      const limit = '999999999999999999.999999999999999999';
      expect((await s.reserve({ reservationId: 'a', at: new Date(), entries: [budget('m', big, limit)] })).usage[0]!.remaining).toBe('499999999999999999.999999999999999998');
      const r = await s.reserve({ reservationId: 'b', at: new Date(), entries: [budget('m', big, limit)] });
      expect(r.failures.map((f) => f.code)).toEqual(['BUDGET_EXCEEDED']);
      for (const id of ['c', 'd', 'e']) await s.reserve({ reservationId: id, at: new Date(), entries: [budget('tiny', '0.000000000000000001', '1')] });
      expect((await s.previewReservation({ reservationId: 'q', at: new Date(), entries: [budget('tiny', '0', '1')] })).usage[0]!.spent).toBe('0.000000000000000003');
      await s.close();
    });

    it('parallel reservations through several pools never overspend (exactly the ones that fit succeed)', async () => {
      const schema = freshSchema();
      const stores = await Promise.all([1, 2, 3, 4].map(() => open(schema, { poolSize: 5 })));
      // 80 reservations of 7 against links of 100 and 60 shared in opposite entry orders: exactly 8 fit.
      const results = await Promise.all(
        Array.from({ length: 80 }, (_, i) =>
          stores[i % 4]!.reserve({
            reservationId: `r${i}`,
            at: new Date(),
            entries: i % 2 ? [budget('parent', '7', '100'), budget('child', '7', '60')] : [budget('child', '7', '60'), budget('parent', '7', '100')],
          }),
        ),
      );
      expect(results.filter((r) => r.ok).length).toBe(8);
      const spent = await stores[0]!.previewReservation({ reservationId: 'q', at: new Date(), entries: [budget('parent', '0', '100'), budget('child', '0', '60')] });
      expect(spent.usage.map((u) => u.spent)).toEqual(['56', '56']);
      await Promise.all(stores.map((s) => s.close()));
    });

    it('a mandate locked too long fails the reservation with STORE_UNAVAILABLE and records nothing', async () => {
      const schema = freshSchema();
      const s = await open(schema, { statementTimeoutMs: 300 });
      expect((await s.reserve({ reservationId: 'first', at: new Date(), entries: [budget('m', '1', '10')] })).ok).toBe(true);
      const holder = new Client({ connectionString: url });
      await holder.connect();
      await holder.query('BEGIN');
      await holder.query(`SELECT id FROM "${schema}".mandates WHERE id = 'm' FOR UPDATE`);
      await expect(s.reserve({ reservationId: 'blocked', at: new Date(), entries: [budget('m', '1', '10')] })).rejects.toMatchObject({ code: 'STORE_UNAVAILABLE' });
      await holder.query('ROLLBACK');
      await holder.end();
      expect(await sql(url, `SELECT reservation_id FROM "${schema}".ledger`)).toEqual([{ reservation_id: 'first' }]);
      expect((await s.reserve({ reservationId: 'after', at: new Date(), entries: [budget('m', '1', '10')] })).ok).toBe(true);
      await s.close();
    });

    it('a reservation id is used once, even by racing reservations over different mandates', async () => {
      const schema = freshSchema();
      const [a, b] = await Promise.all([open(schema), open(schema)]);
      const outcomes = await Promise.allSettled([
        a!.reserve({ reservationId: 'same', at: new Date(), entries: [budget('m-a', '1', '10')] }),
        b!.reserve({ reservationId: 'same', at: new Date(), entries: [budget('m-b', '1', '10')] }),
      ]);
      expect(outcomes.filter((o) => o.status === 'fulfilled').length).toBe(1);
      expect(outcomes.find((o) => o.status === 'rejected')).toMatchObject({ reason: { code: 'ALREADY_EXISTS' } });
      await Promise.all([a!.close(), b!.close()]);
    });

    it('a nonce raced by many instances is accepted exactly once', async () => {
      const schema = freshSchema();
      const stores: Store[] = await Promise.all([1, 2, 3, 4].map(() => open(schema)));
      const soon = new Date(Date.now() + 60_000);
      const firsts = await Promise.all(Array.from({ length: 40 }, (_, i) => stores[i % 4]!.consumeNonce('aud', 'once', soon)));
      expect(firsts.filter(Boolean).length).toBe(1);
      await Promise.all(stores.map((s) => s.close()));
    });

    it('the sweep deletes a bounded slice of what expired, never a live entry; a live value stays refused', async () => {
      const schema = freshSchema();
      const s = await open(schema);
      // A backlog of 5,000 expired entries (as after an outage) and 10 live ones, written directly.
      await sql(url, `INSERT INTO ${schema}.nonces (scope, value, expires_at) SELECT 'jti', 'old ' || i, 1 FROM generate_series(1, 5000) i`);
      const later = new Date(Date.now() + 60_000);
      for (let i = 0; i < 10; i++) expect(await s.consumeNonce('jti', `live ${i}`, later)).toBe(true);
      const count = async (like: string) => Number((await sql(url, `SELECT count(*) AS n FROM ${schema}.nonces WHERE value LIKE '${like}'`))[0]!.n);
      // The 256th call sweeps once: at most 2,048 of the backlog go, nothing live.
      for (let i = 10; i < 256; i++) expect(await s.consumeNonce('jti', `other ${i}`, later)).toBe(true);
      expect(await count('old %')).toBe(5000 - 2048);
      expect(await count('live %')).toBe(10);
      for (let i = 256; i < 512; i++) await s.consumeNonce('jti', `other ${i}`, later);
      expect(await count('old %')).toBe(5000 - 2 * 2048);
      expect(await s.consumeNonce('jti', 'live 3', later)).toBe(false);
      // An expired value, swept or not yet, is taken again as a new one.
      expect(await s.consumeNonce('jti', 'old 4999', later)).toBe(true);
      await s.close();
    });

    it('a sweep racing another instance that takes expired values again never deletes the new entries', async () => {
      const schema = freshSchema();
      const [a, b, c, d] = await Promise.all([1, 2, 3, 4].map(() => open(schema, { poolSize: 10 })));
      try {
        for (let round = 0; round < 3; round++) {
          const vals = Array.from({ length: 2000 }, (_, i) => `r${round}-v${i}`);
          await Promise.all(vals.map((v) => a!.consumeNonce('jti', v, new Date(Date.now() + 100))));
          for (let i = 0; i < 255; i++) await b!.consumeNonce('pad', `r${round}-p${i}`, new Date(Date.now() + 600_000));
          await new Promise((r) => setTimeout(r, 200));
          const until = new Date(Date.now() + 600_000);
          // b's 256th call sweeps while c takes every expired value again (live for 10 minutes).
          const sweeping = b!.consumeNonce('pad', `r${round}-trigger`, until);
          const retaken = await Promise.all(vals.map((v) => c!.consumeNonce('jti', v, until)));
          await sweeping;
          expect(retaken.every(Boolean)).toBe(true);
          const again = await Promise.all(vals.map((v) => d!.consumeNonce('jti', v, until)));
          expect(vals.filter((_, i) => again[i])).toEqual([]);
        }
      } finally {
        await Promise.all([a, b, c, d].map((x) => x!.close()));
      }
    }, 60_000);

    it('concurrent bit changes on one list are never lost, and each bumps the version', async () => {
      const schema = freshSchema();
      const [a, b] = await Promise.all([open(schema), open(schema)]);
      await a!.createStatusList({ id: 'l', issuerDid: 'did:key:zi', purpose: 'revocation', size: 131072, ttlSeconds: 60, url: 'https://x/l' });
      await Promise.all(Array.from({ length: 64 }, (_, i) => (i % 2 ? a! : b!).setStatusBit('l', i * 1000 + (i % 8), true)));
      const list = (await b!.getStatusList('l'))!;
      expect(list.version).toBe(64);
      for (let i = 0; i < 64; i++) {
        const idx = i * 1000 + (i % 8);
        expect((list.bits[idx >> 3]! >> (7 - (idx % 8))) & 1).toBe(1);
      }
      await expect(a!.setStatusBit('nope', 1, true)).rejects.toMatchObject({ code: 'NOT_FOUND' });
      for (const bad of [-1, 131072, 2 ** 40, 1.5]) await expect(a!.setStatusBit('l', bad, true)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await Promise.all([a!.close(), b!.close()]);
    });
  });
}
