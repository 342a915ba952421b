import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import express from 'express';
import { openHome } from '../src/home/home.js';
import { serveHome } from '../src/server/serve.js';
import { issueGrant } from '../src/grants/index.js';
import { createPresentation } from '../src/credentials/index.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import type { Store } from '../src/store/types.js';
import { charter, createVerifier, requireGrant } from '../src/http/adapters/express.js';
import { createSigner, generateKeyPair } from '../src/keys/index.js';
import { didKeyRef } from '../src/did/index.js';
import { opsPerSecond, printTable, ratio } from './measure.js';

/** The part of autocannon's API used here (it ships no types). */
interface AutocannonResult {
  requests: { average: number; total: number };
  non2xx: number;
  errors: number;
}
type Autocannon = (o: {
  url: string;
  connections: number;
  duration: number;
  requests?: { method?: string; setupRequest?: (r: { headers?: Record<string, string> }) => unknown }[];
}) => Promise<AutocannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;

const AUD = 'did:web:api.example';
const SECONDS = 5;
const CONNECTIONS = Number(process.env.CHARTER_BENCH_HTTP_CONNECTIONS ?? 10);

/** Child process: the API on its own core, so the load generator does not share its event loop. */
async function serveApi(): Promise<void> {
  const store = await openSqliteStore(process.env.CHARTER_BENCH_DB!);
  const verifier = createVerifier({ aud: AUD, store, allowLoopback: true, trustHostHeader: true });
  // The same checks with the replay cache in memory (one process only): shows what the durable SQLite write costs.
  const seen = new Map<string, number>();
  const memory: Store = { ...store, consumeNonce: async (scope, value, until) => {
    const k = `${scope} ${value}`;
    if ((seen.get(k) ?? 0) > Date.now()) return false;
    seen.set(k, until.getTime());
    return true;
  } };
  const inMemory = createVerifier({ aud: AUD, store: memory, resolver: verifier.resolver, status: verifier.status, trustHostHeader: true });
  // The same checks, plus a signed receipt of every decision appended to the hash-chained log in the same
  // SQLite store (group-committed), with and without the evidence kept for bundles.
  const kp = generateKeyPair('Ed25519');
  const signer = { ...didKeyRef('key', kp.publicJwk), signer: createSigner(kp.privateJwk) };
  const withReceipts = createVerifier({ aud: AUD, store, trustHostHeader: true, resolver: verifier.resolver, status: verifier.status, receipts: { signer } });
  const receiptsOnly = createVerifier({ aud: AUD, store, trustHostHeader: true, resolver: verifier.resolver, status: verifier.status, receipts: { signer, evidence: false } });
  const afterReply = createVerifier({ aud: AUD, store, trustHostHeader: true, resolver: verifier.resolver, status: verifier.status, receipts: { signer, append: 'after-reply' } });
  const guard = requireGrant({ resource: 'profile/email', action: 'read', anyOwner: true });
  const app = express();
  app.get('/plain', (_req, res) => void res.json({ ok: true }));
  app.get('/guarded', charter(verifier, guard), (_req, res) => void res.json({ ok: true }));
  app.get('/guarded-memory', charter(inMemory, guard), (_req, res) => void res.json({ ok: true }));
  app.get('/guarded-receipts', charter(withReceipts, guard), (_req, res) => void res.json({ ok: true }));
  app.get('/guarded-receipts-only', charter(receiptsOnly, guard), (_req, res) => void res.json({ ok: true }));
  app.get('/guarded-receipts-after', charter(afterReply, guard), (_req, res) => void res.json({ ok: true }));
  const server = app.listen(0, '127.0.0.1', () => process.send!({ port: (server.address() as { port: number }).port }));
}
if (process.env.CHARTER_BENCH_HTTP === 'server') await serveApi();

/**
 * Issue "Platform middleware": requests/s of a guarded Express route
 * (requireGrant: a vp+jwt bound to method, URL and a fresh jti, the holder's
 * signature, the grant's memoised signature, a cached status list, one
 * replay-cache write in SQLite, group-committed) against the same trivial
 * route unguarded, at the same concurrency, and against the bare Ed25519
 * verification each request needs.
 * Every guarded request carries its own pre-generated presentation, as a real
 * client's would; the server runs in a child process (one core), autocannon
 * in this one.
 */
export async function benchHttp(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'charter-bench-http-'));
  const home = await openHome({ home: join(dir, 'home'), passphrase: async () => 'bench passphrase', allowLoopback: true });
  await home.init();
  const lists = await serveHome(home, { port: 0 });
  await home.setPublicUrl(lists.url);
  await home.createIdentity({ alias: 'alice' });
  await home.createIdentity({ alias: 'app' });
  const app = await home.issuer('app');
  const grant = await issueGrant(home.store, await home.issuer('alice'), {
    grantee: app.did, resources: ['profile/email'], actions: ['read'], purpose: 'bench', validUntil: new Date(Date.now() + 86_400_000), baseUrl: lists.url,
  });

  const child = fork(fileURLToPath(import.meta.url), { env: { ...process.env, CHARTER_BENCH_HTTP: 'server', CHARTER_BENCH_DB: join(dir, 'api.db') }, stdio: 'inherit' });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m) => resolve((m as { port: number }).port));
      child.once('exit', (c) => reject(new Error(`bench server exited ${c}`)));
    });
    const base = `http://127.0.0.1:${port}`;
    const ROUTES = ['/guarded', '/guarded-memory', '/guarded-receipts', '/guarded-receipts-only', '/guarded-receipts-after'] as const;
    const PER = Number(process.env.CHARTER_BENCH_HTTP_PER_ROUTE ?? 20_000);
    const t0 = performance.now();
    const vps: Record<string, string[]> = {};
    for (const path of ROUTES) {
      vps[path] = [];
      for (let i = 0; i < PER; i++) vps[path]!.push(await createPresentation({ holder: app, credentials: [grant.jwt], aud: AUD, claims: { htm: 'GET', htu: `${base}${path}` } }));
    }
    const genMs = performance.now() - t0;
    const next: Record<string, number> = Object.fromEntries(ROUTES.map((r) => [r, 0]));
    // Wrapping round would replay (401s, counted as non-2xx): PER is more than the runs can use.
    const presented = (path: string) => [{ setupRequest: (r: { headers?: Record<string, string> }) => ({ ...r, headers: { ...r.headers, authorization: `Bearer ${vps[path]![next[path]!++ % PER]}` } }) }];
    const run = (path: string, duration = SECONDS) => autocannon({ url: `${base}${path}`, connections: CONNECTIONS, duration, requests: presented(path) });
    // Warm-up: DID and status list caches, JIT, every route once.
    await autocannon({ url: `${base}/plain`, connections: CONNECTIONS, duration: 1 });
    for (const path of ROUTES) {
      const warm = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${vps[path]![next[path]!++]}` } });
      if (warm.status !== 200) throw new Error(`bench setup: ${path} answered ${warm.status}`);
    }

    const plain = await autocannon({ url: `${base}/plain`, connections: CONNECTIONS, duration: SECONDS });
    // Guarded with and without receipts, in short runs taken in turn, so a drift in the machine's load
    // (this machine is shared) hits each alike.
    const guardedRuns: AutocannonResult[] = [];
    const receiptRuns: AutocannonResult[] = [];
    const receiptsOnlyRuns: AutocannonResult[] = [];
    const afterRuns: AutocannonResult[] = [];
    const ROUNDS = Number(process.env.CHARTER_BENCH_HTTP_ROUNDS ?? 4);
    for (let i = 0; i < ROUNDS; i++) {
      guardedRuns.push(await run('/guarded', 2));
      receiptRuns.push(await run('/guarded-receipts', 2));
      receiptsOnlyRuns.push(await run('/guarded-receipts-only', 2));
      afterRuns.push(await run('/guarded-receipts-after', 2));
    }
    const memo = await run('/guarded-memory');
    const mean = (rs: AutocannonResult[]) => rs.reduce((a, r) => a + r.requests.average, 0) / rs.length;
    const non2xx = (rs: AutocannonResult[]) => `${rs.reduce((a, r) => a + r.non2xx, 0)} non-2xx of ${rs.reduce((a, r) => a + r.requests.total, 0)}`;
    const guarded = { requests: { average: mean(guardedRuns) } };
    const withReceipts = mean(receiptRuns);
    const receiptsOnly = mean(receiptsOnlyRuns);
    const after = mean(afterRuns);

    // The floor: the one Ed25519 verification a guarded request cannot skip (its presentation's; the
    // grant inside is the same on every request, its signature memoised per resolved key).
    const [h, p, s] = grant.jwt.split('.') as [string, string, string];
    const key = createPublicKey({ key: { ...(await home.identity('alice')).publicJwk }, format: 'jwk' });
    const input = Buffer.from(`${h}.${p}`);
    const sig = Buffer.from(s, 'base64url');
    const bare = await opsPerSecond(() => nodeVerify(null, input, key, sig));

    const g = guarded.requests.average;
    const u = plain.requests.average;
    // What any guard checking one signature per request could reach on this core: the unguarded
    // route's cost plus one bare verify, nothing else.
    const ceiling = 1 / (1 / u + 1 / bare);
    printTable(`HTTP middleware (Express 5, ${CONNECTIONS} connections, ${SECONDS} s each, server on its own core)`, [
      { name: '(u) GET /plain, unguarded, trivial handler', opsPerSec: u },
      { name: '(g) GET /guarded, requireGrant, fresh jti per request', opsPerSec: g, note: non2xx(guardedRuns) },
      { name: '(r) same, signed receipt + audit log + evidence kept', opsPerSec: withReceipts, note: non2xx(receiptRuns) },
      { name: '(q) same, signed receipt + audit log, no evidence', opsPerSec: receiptsOnly, note: non2xx(receiptsOnlyRuns) },
      { name: "(a) as (r), the log's write after the reply", opsPerSec: after, note: non2xx(afterRuns) },
      { name: "(m) same as (g), replay cache in memory (not a fleet's store)", opsPerSec: memo.requests.average, note: non2xx([memo]) },
      { name: '(v) one bare Ed25519 verify (one core)', opsPerSec: bare },
      { name: '(c) ceiling: (u) plus one bare verify per request', opsPerSec: ceiling },
    ]);
    console.log(`  ratios: g/u = ${ratio(g, u)} (target >= 0.5), g/c = ${ratio(g, ceiling)}, m/u = ${ratio(memo.requests.average, u)}; ${PER} presentations pre-generated per route in ${(genMs / 1000).toFixed(1)} s`);
    console.log(`  receipts: r/g = ${ratio(withReceipts, g)}, q/g = ${ratio(receiptsOnly, g)}, a/g = ${ratio(after, g)} (target >= 0.85: receipts and the log cost at most 15% of a guarded request's throughput)`);
    console.log(`  even a guard doing nothing but one verify would reach only c/u = ${ratio(ceiling, u)}: a 0.5 target leaves no time for decoding, status and the replay write`);
    return { unguarded: u, guarded: g, receipts: withReceipts, receiptsNoEvidence: receiptsOnly, receiptsAfterReply: after, memory: memo.requests.average, bare };
  } finally {
    child.kill();
    await lists.close();
    await home.close();
  }
}
