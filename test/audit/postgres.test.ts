import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../src/guard/decide.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { openPostgresStore } from '../../src/store/postgres/index.js';
import type { Store } from '../../src/store/types.js';
import { exportEvidence, verifyAuditLog, verifyEvidence } from '../../src/audit/index.js';
import { bound } from '../http/present.js';
import { API, openWorld, type World } from '../http/world.js';
import { dropSchemas, freshSchema, pgUrlOrReport } from '../store/fixtures/pg-env.js';

const url = pgUrlOrReport('audit log on postgres');

if (url) {
  const schema = freshSchema('audit');
  let w: World;
  beforeAll(async () => {
    w = await openWorld();
    await w.home.createIdentity({ alias: 'api' });
  });
  afterAll(async () => {
    await w.close();
    await dropSchemas(url, [schema]);
  });

  describe('the audit log on PostgreSQL', () => {
    it('verifier instances on one database, each with its own pool, deciding at once: one valid chain per instance, none lost', async () => {
      const INSTANCES = 4;
      const EACH = 25;
      const stores: Store[] = await Promise.all(Array.from({ length: INSTANCES }, () => openPostgresStore(url, { schema, poolSize: 3 })));
      try {
        const signer = await w.home.issuer('api');
        const verifiers = stores.map((store) =>
          createVerifier({ aud: API, store, resolver: w.resolver, status: w.status, http: false, receipts: { signer, checkpointEvery: 10 } }),
        );
        const g = await w.grant();
        const policy = { kind: 'grant' as const, resource: 'profile/email', action: 'read', owner: w.alice.did };
        const binding = { kind: 'claims' as const, claims: { htm: 'GET', htu: 'http://127.0.0.1:9999/profile/email' } };
        const results = await Promise.all(verifiers.flatMap((v) => Array.from({ length: EACH }, async () => decide(v, await bound(w.app, [g.jwt]), policy, binding))));
        expect(results.filter((d) => d.ok && d.receipt).length).toBe(INSTANCES * EACH);
        await Promise.all(verifiers.map((v) => v.receipts!.checkpoint()));
        const log = await verifyAuditLog(stores[0]!, { resolver: w.resolver });
        expect(log.ok).toBe(true);
        expect(log.chains.map((c) => c.entries)).toEqual(Array(INSTANCES).fill(EACH));
        expect(new Set(log.chains.map((c) => c.chain))).toEqual(new Set(verifiers.map((v) => v.receipts!.chain)));
        // A bundle exported through another instance's connection verifies offline too.
        const bundle = await exportEvidence(stores[3]!, results[0]!.receiptId!);
        expect((await verifyEvidence(bundle)).ok).toBe(true);
      } finally {
        await Promise.all(stores.map((s) => s.close()));
      }
    }, 120_000);
  });
}
