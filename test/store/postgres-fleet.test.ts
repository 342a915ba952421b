import { join } from 'node:path';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { openHome } from '../../src/home/home.js';
import { serveHome } from '../../src/server/serve.js';
import { issueGrant, revokeGrant, verifyGrant } from '../../src/grants/index.js';
import { createResolver } from '../../src/did/index.js';
import { createStatusChecker } from '../../src/status/index.js';
import { openPostgresStore } from '../../src/store/postgres/index.js';
import { tempDir } from '../helpers.js';
import { dropSchemas, freshSchema, pgUrlOrReport } from './fixtures/pg-env.js';

const url = pgUrlOrReport('postgres fleet');

if (url) {
  const schema = freshSchema('fleet');
  afterAll(() => dropSchemas(url, new Set([schema])));

  describe('a fleet of Charter instances on one PostgreSQL schema', () => {
    it('a revocation made through one instance is seen by a verifier reading the lists another instance serves, within the list ttl', async () => {
      const env = { ...process.env, CHARTER_STORE: url, CHARTER_STORE_SCHEMA: schema };
      const passphrase = async () => 'fleet passphrase';
      // Instance A issues and revokes; instance B publishes the status lists (charter serve).
      const a = await openHome({ home: join(tempDir(), 'a'), env, passphrase, allowLoopback: true });
      const b = await openHome({ home: join(tempDir(), 'b'), env, passphrase, allowLoopback: true });
      await a.init();
      expect((await b.init()).created).toBe(false); // the same home, reached through the shared store
      const server = await serveHome(b, { port: 0 });
      try {
        await a.setPublicUrl(server.url);
        await a.createIdentity({ alias: 'alice' });
        await a.createIdentity({ alias: 'app' });
        const app = await b.issuer('app'); // keys created on A unlock on B
        const grant = await issueGrant(a.store, await a.issuer('alice'), {
          grantee: app.did,
          resources: ['profile/email'],
          actions: ['read'],
          purpose: 'fleet',
          validUntil: new Date(Date.now() + 86_400_000),
          baseUrl: server.url,
        });
        // A verifier elsewhere, with its own list cache and clock.
        let clock = Date.now();
        const resolver = createResolver({ allowLoopback: true, allowHttp: true });
        const status = createStatusChecker({ resolver, allowLoopback: true, allowHttp: true, now: () => clock });
        const check = async () =>
          (await verifyGrant(grant.jwt, { resolver, status, resource: 'profile/email', action: 'read', grantee: app.did, anyOwner: true, now: new Date(clock) })).reasons.map(
            (r) => r.code,
          );
        expect(await check()).toEqual([]);

        await revokeGrant(a.store, grant.id, (did) => a.issuer(did));
        // Within the ttl the verifier may still answer from its cache; once it has passed, it must see it.
        expect(await check()).toEqual([]);
        const ttlMs = (await b.store.getStatusList((await b.store.findStatusAllocation(grant.id))[0]!.listId))!.ttlSeconds * 1000;
        clock += ttlMs + 1;
        expect(await check()).toEqual(['CREDENTIAL_REVOKED']);
      } finally {
        await server.close();
        await Promise.all([a.close(), b.close()]);
      }
    }, 60_000);

    it("a used value stays used whatever an instance's clock says: one running 90 s ahead neither takes it again nor sweeps it early", async () => {
      const honest = await openPostgresStore(url, { schema });
      const ahead = await openPostgresStore(url, { schema });
      try {
        const until = new Date(Date.now() + 60_000);
        expect(await honest.consumeNonce('fleet-aud', 'jti-1', until)).toBe(true);
        const real = Date.now;
        const skewed = vi.spyOn(Date, 'now').mockImplementation(() => real() + 90_000);
        try {
          // Its own clock says the entry expired 30 s ago: still a replay, and its sweeps (one every 256 calls) keep it.
          expect(await ahead.consumeNonce('fleet-aud', 'jti-1', new Date(real() + 60_000))).toBe(false);
          for (let i = 0; i < 600; i++) await ahead.consumeNonce('fleet-aud', `other-${i}`, new Date(real() + 60_000));
        } finally {
          skewed.mockRestore();
        }
        expect(await honest.consumeNonce('fleet-aud', 'jti-1', until)).toBe(false);
        // A value whose entry has expired by the server's clock is taken again.
        expect(await honest.consumeNonce('fleet-aud', 'jti-2', new Date(Date.now() - 1000))).toBe(true);
        expect(await ahead.consumeNonce('fleet-aud', 'jti-2', until)).toBe(true);
      } finally {
        await Promise.all([honest.close(), ahead.close()]);
      }
    }, 60_000);

    it("an instance whose clock runs behind the server's keeps a value used for its whole lifetime: its replays are refused, at once and later", async () => {
      const honest = await openPostgresStore(url, { schema });
      const behind = await openPostgresStore(url, { schema });
      const real = Date.now;
      try {
        const skewed = vi.spyOn(Date, 'now').mockImplementation(() => real() - 600_000);
        try {
          // The guard keeps an iat-mode jti 421 s by its own clock: 179 s in the past by the server's.
          const until = () => new Date(Date.now() + 421_000);
          const uses = await Promise.all(Array.from({ length: 6 }, () => behind.consumeNonce('fleet-aud', 'late-jti', until())));
          expect(uses.filter(Boolean)).toHaveLength(1);
          expect(await behind.consumeNonce('fleet-aud', 'late-jti', until())).toBe(false);
          // A lifetime of a few seconds too, and an expiry it states as already past stays past.
          expect(await behind.consumeNonce('fleet-aud', 'late-short', new Date(Date.now() + 5_000))).toBe(true);
          expect(await behind.consumeNonce('fleet-aud', 'late-short', new Date(Date.now() + 5_000))).toBe(false);
          expect(await behind.consumeNonce('fleet-aud', 'late-past', new Date(Date.now() - 1_000))).toBe(true);
          expect(await behind.consumeNonce('fleet-aud', 'late-past', new Date(Date.now() + 5_000))).toBe(true);
        } finally {
          skewed.mockRestore();
        }
        // Another instance with a true clock sees the values as used too, and its sweeps keep them.
        for (let i = 0; i < 300; i++) await honest.consumeNonce('fleet-aud', `sweep-${i}`, new Date(Date.now() + 60_000));
        expect(await honest.consumeNonce('fleet-aud', 'late-jti', new Date(Date.now() + 421_000))).toBe(false);
        expect(await honest.consumeNonce('fleet-aud', 'late-short', new Date(Date.now() + 5_000))).toBe(false);
      } finally {
        await Promise.all([honest.close(), behind.close()]);
      }
    }, 60_000);
  });
}
