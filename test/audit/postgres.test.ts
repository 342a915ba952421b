import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../src/guard/decide.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { openPostgresStore } from '../../src/store/postgres/index.js';
import type { Store } from '../../src/store/types.js';
import { exportEvidence, pruneAuditLog, verifyAuditLog, verifyEvidence } from '../../src/audit/index.js';
import { AuditWriter } from '../../src/audit/writer.js';
import { makeIssuer } from '../helpers.js';
import { bound } from '../http/present.js';
import { API, openWorld, type World } from '../http/world.js';
import { dropSchemas, freshSchema, pgUrlOrReport } from '../store/fixtures/pg-env.js';

const url = pgUrlOrReport('audit log on postgres');

if (url) {
  const schema = freshSchema('audit');
  const schema2 = freshSchema('audit_pruned');
  let w: World;
  beforeAll(async () => {
    w = await openWorld();
    await w.home.createIdentity({ alias: 'api' });
  });
  afterAll(async () => {
    await w.close();
    await dropSchemas(url, [schema, schema2]);
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

    it('as on SQLite: a held checkpoint older than the pruned anchor is a break unless acceptPruned; a stranger chain is a break with issuers', async () => {
      const store = await openPostgresStore(url, { schema: schema2 });
      try {
        const signer = await w.home.issuer('api');
        const v = createVerifier({ aud: API, store, resolver: w.resolver, status: w.status, http: false, receipts: { signer, checkpointEvery: 3 } });
        const g = await w.grant();
        for (let i = 0; i < 7; i++) {
          await decide(
            v,
            await bound(w.app, [g.jwt]),
            { kind: 'grant', resource: 'profile/email', action: 'read', owner: w.alice.did },
            { kind: 'claims', claims: { htm: 'GET', htu: 'http://127.0.0.1:9999/profile/email' } },
          );
        }
        await v.receipts!.flush();
        const chain = v.receipts!.chain;
        const held = (await store.listAuditCheckpoints(chain)).find((c) => c.seq === 3)!.jws;
        expect((await pruneAuditLog(store, { before: new Date(Date.now() + 60_000), resolver: w.resolver })).chains).toEqual([{ chain, anchor: 6, entries: 6 }]);
        expect((await verifyAuditLog(store, { resolver: w.resolver })).ok).toBe(true);
        expect((await verifyAuditLog(store, { resolver: w.resolver, checkpoints: [held] })).broken).toMatchObject({
          chain,
          seq: 3,
          code: 'AUDIT_CHAIN_BROKEN',
          message: expect.stringMatching(/predates the anchor 6/),
        });
        expect(await verifyAuditLog(store, { resolver: w.resolver, checkpoints: [held], acceptPruned: true })).toMatchObject({
          ok: true,
          chains: [{ chain, anchor: 6, first: 7, predating: [3] }],
        });

        const stranger = makeIssuer();
        const writer = new AuditWriter(store, { signer: stranger, checkpointSeconds: 0 });
        const t = new Date();
        await writer.append(
          {
            jti: 'urn:uuid:00000000-0000-7000-8000-0000000000fe',
            iat: Math.floor(t.getTime() / 1000),
            time: t.toISOString(),
            kind: 'decision',
            verifier: API,
            decision: 'allow',
            status: 200,
            reasons: [],
            request: { none: true },
            policy: { kind: 'presentation' },
            credentials: [],
            chain: [],
          },
          [],
        );
        expect((await verifyAuditLog(store, { resolver: w.resolver })).ok).toBe(true);
        const r = await verifyAuditLog(store, { resolver: w.resolver, issuers: [signer.did] });
        expect(r.broken).toMatchObject({ chain: writer.chain, code: 'AUDIT_CHAIN_BROKEN', message: expect.stringContaining(stranger.did) });
        expect((await verifyAuditLog(store, { resolver: w.resolver, issuers: [signer.did, stranger.did] })).ok).toBe(true);
      } finally {
        await store.close();
      }
    }, 120_000);
  });
}
