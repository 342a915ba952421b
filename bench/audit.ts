import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openHome } from '../src/home/home.js';
import { serveHome } from '../src/server/serve.js';
import { issueGrant } from '../src/grants/index.js';
import { createPresentation } from '../src/credentials/index.js';
import { createVerifier } from '../src/guard/verifier.js';
import { decide } from '../src/guard/decide.js';
import type { AuditAppend, AuditEntryRecord, Store } from '../src/store/types.js';
import { printTable, ratio } from './measure.js';

/**
 * The CPU cost of receipts, apart from any disk: decide() for a grant
 * request (10 in flight, as 10 connections would be), with the replay cache
 * and the audit log in memory, without receipts, with signed receipts and
 * the log, and with the evidence kept too. What remains is the signature,
 * the hashing and the batching; bench/http.ts measures the same through
 * Express on SQLite, where the log's writes share the replay cache's fsync.
 */
export async function benchAudit(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'charter-bench-audit-'));
  const home = await openHome({ home: join(dir, 'home'), passphrase: async () => 'bench passphrase', allowLoopback: true });
  await home.init();
  const lists = await serveHome(home, { port: 0 });
  await home.setPublicUrl(lists.url);
  for (const a of ['alice', 'app', 'api']) await home.createIdentity({ alias: a });
  const app = await home.issuer('app');
  const alice = await home.issuer('alice');
  const grant = await issueGrant(home.store, alice, {
    grantee: app.did,
    resources: ['profile/email'],
    actions: ['read'],
    purpose: 'bench',
    validUntil: new Date(Date.now() + 86_400_000),
    baseUrl: lists.url,
  });

  const seen = new Set<string>();
  const entries: AuditEntryRecord[] = [];
  const blobs = new Map<string, string>();
  const memory = {
    ...home.store,
    consumeNonce: async (scope: string, value: string) => {
      const k = `${scope} ${value}`;
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    },
    appendAudit: async (b: AuditAppend) => {
      entries.push(...b.entries);
      for (const x of b.blobs ?? []) blobs.set(x.hash, x.body);
    },
  } as Store;
  const common = { aud: 'did:web:api.example', store: memory, resolver: home.resolver, status: home.status, http: false as const };
  const signer = await home.issuer('api');
  const verifiers = {
    none: createVerifier(common),
    receipts: createVerifier({ ...common, receipts: { signer, evidence: false } }),
    evidence: createVerifier({ ...common, receipts: { signer } }),
  };
  const url = 'https://api.example/profile/email';
  const policy = { kind: 'grant' as const, resource: 'profile/email', action: 'read', owner: alice.did };
  const binding = { kind: 'http' as const, method: 'GET', url };
  const N = Number(process.env.CHARTER_BENCH_AUDIT_N ?? 3000);
  const vps = await Promise.all(
    Array.from({ length: N * 3 + 30 }, () => createPresentation({ holder: app, credentials: [grant.jwt], aud: common.aud, claims: { htm: 'GET', htu: url } })),
  );
  let next = 0;
  const rate = async (v: (typeof verifiers)[keyof typeof verifiers], n: number) => {
    const start = performance.now();
    let done = 0;
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        while (done < n) {
          done++;
          const d = await decide(v, vps[next++]!, policy, binding);
          if (!d.ok) throw new Error(`bench: refused ${d.reasons[0]?.code}`);
        }
      }),
    );
    return (n * 1000) / (performance.now() - start);
  };
  try {
    for (const v of Object.values(verifiers)) await rate(v, 10); // warm-up: caches, JIT
    const r = { none: 0, receipts: 0, evidence: 0 };
    // Interleaved thirds, so a change in the machine's load hits each alike.
    for (let i = 0; i < 3; i++) for (const k of ['none', 'receipts', 'evidence'] as const) r[k] += (await rate(verifiers[k], Math.floor(N / 3))) / 3;
    printTable('Decision receipts, CPU only (decide() with the replay cache and the log in memory, 10 in flight)', [
      { name: '(d) grant request, no receipts', opsPerSec: r.none },
      { name: '(s) + signed receipt, hash-chained log entry', opsPerSec: r.receipts },
      { name: '(e) + evidence kept (presentation, documents, lists)', opsPerSec: r.evidence },
    ]);
    console.log(`  ratios: s/d = ${ratio(r.receipts, r.none)}, e/d = ${ratio(r.evidence, r.none)}; ${entries.length} entries logged, ${blobs.size} evidence items`);
    return r;
  } finally {
    await lists.close();
    await home.close();
  }
}
