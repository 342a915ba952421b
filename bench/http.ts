import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import express from 'express';
import { openHome } from '../src/home/home.js';
import { serveHome } from '../src/server/serve.js';
import { issueGrant } from '../src/grants/index.js';
import { issueAgentIdentity, issueMandate } from '../src/agents/index.js';
import { createPresentation } from '../src/credentials/index.js';
import { signatureHeaders } from '../src/httpsig/index.js';
import { openSqliteStore } from '../src/store/sqlite/index.js';
import type { Store } from '../src/store/types.js';
import { charter, createVerifier, requireAgent, requireGrant, requireSignature } from '../src/http/adapters/express.js';
import { createSigner, generateKeyPair } from '../src/keys/index.js';
import { didKeyRef } from '../src/did/index.js';
import { opsPerSecond, printTable, ratio } from './measure.js';

/** The part of autocannon's API used here (it ships no types). */
interface AutocannonResult {
  requests: { average: number; total: number };
  /** Milliseconds. */
  latency: { p50: number; p99: number };
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
const SECONDS = Number(process.env.CHARTER_BENCH_HTTP_SECONDS ?? 5);
const CONNECTIONS = Number(process.env.CHARTER_BENCH_HTTP_CONNECTIONS ?? 10);

/** Child process: the API on its own core, so the load generator does not share its event loop. */
async function serveApi(): Promise<void> {
  const store = await openSqliteStore(process.env.CHARTER_BENCH_DB!);
  const app = express();
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((r) => server.once('listening', () => r()));
  const port = (server.address() as { port: number }).port;
  // Presentations are bound to the origin clients address (never the Host header).
  const publicOrigin = `http://127.0.0.1:${port}`;
  const verifier = createVerifier({ aud: AUD, store, publicOrigin, allowLoopback: true });
  // The same checks with the replay cache in memory (one process only): shows what the durable SQLite write costs.
  const seen = new Map<string, number>();
  const memory: Store = {
    ...store,
    consumeNonce: async (scope, value, until) => {
      const k = `${scope} ${value}`;
      if ((seen.get(k) ?? 0) > Date.now()) return false;
      seen.set(k, until.getTime());
      return true;
    },
  };
  const inMemory = createVerifier({ aud: AUD, store: memory, publicOrigin, resolver: verifier.resolver, status: verifier.status });
  // The same checks, plus a signed receipt of every decision appended to the hash-chained log in the same
  // SQLite store (group-committed), with and without the evidence kept for bundles.
  const kp = generateKeyPair('Ed25519');
  const signer = { ...didKeyRef('key', kp.publicJwk), signer: createSigner(kp.privateJwk) };
  const shared = { aud: AUD, store, publicOrigin, resolver: verifier.resolver, status: verifier.status };
  const withReceipts = createVerifier({ ...shared, receipts: { signer } });
  const receiptsOnly = createVerifier({ ...shared, receipts: { signer, evidence: false } });
  const afterReply = createVerifier({ ...shared, receipts: { signer, append: 'after-reply' } });
  const guard = requireGrant({ resource: 'profile/email', action: 'read', owner: process.env.CHARTER_BENCH_OWNER! });
  // Web Bot Auth: the agent's key from the directory its home's `charter serve` publishes (fetched once, then cached).
  const signed = requireSignature({ directories: 'fetch', allowLoopback: true });
  const agent = requireAgent({ action: 'read', trust: { principals: [process.env.CHARTER_BENCH_PRINCIPAL!] } });
  app.get('/plain', (_req, res) => void res.json({ ok: true }));
  app.get('/guarded', charter(verifier, guard), (_req, res) => void res.json({ ok: true }));
  // The same route for the 100-connection run: its own presentations (htu), so no run replays another's.
  app.get('/guarded-c100', charter(verifier, guard), (_req, res) => void res.json({ ok: true }));
  app.get('/guarded-memory', charter(inMemory, guard), (_req, res) => void res.json({ ok: true }));
  app.get('/guarded-receipts', charter(withReceipts, guard), (_req, res) => void res.json({ ok: true }));
  app.get('/guarded-receipts-only', charter(receiptsOnly, guard), (_req, res) => void res.json({ ok: true }));
  app.get('/guarded-receipts-after', charter(afterReply, guard), (_req, res) => void res.json({ ok: true }));
  app.get('/agent', charter(verifier, agent), (_req, res) => void res.json({ ok: true }));
  app.get('/signed', charter(verifier, signed), (_req, res) => void res.json({ ok: true }));
  app.get('/signed-agent', charter(verifier, signed, agent), (_req, res) => void res.json({ ok: true }));
  // The server's CPU time (all its threads: the event loop and the thread pool's signature checks), on
  // request: per request, a figure the machine's other load disturbs less than requests/s.
  // Linux also tells the event loop's own thread apart (/proc, clock ticks of 10 ms): the one core a Node server is bound by.
  const mainThread = () => {
    try {
      const f = readFileSync(`/proc/self/task/${process.pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
      return (Number(f[11]) + Number(f[12])) * 10_000;
    } catch {
      return undefined;
    }
  };
  // A clean exit on kill, so a profiler started with the server writes its profile.
  process.once('SIGTERM', () => process.exit(0));
  process.on('message', (m) => {
    if (m === 'cpu') process.send!({ cpu: process.cpuUsage(), main: mainThread() });
  });
  process.send!({ port });
}
if (process.env.CHARTER_BENCH_HTTP === 'server') await serveApi();

type Headers_ = Record<string, string>;

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
    grantee: app.did,
    resources: ['profile/email'],
    actions: ['read'],
    purpose: 'bench',
    validUntil: new Date(Date.now() + 86_400_000),
    baseUrl: lists.url,
  });
  // An agent of the home (its key in the directory `charter serve` publishes), its identity and a mandate without money limits.
  await home.createIdentity({ alias: 'operator' });
  await home.createIdentity({ alias: 'principal' });
  await home.createIdentity({ alias: 'reader', meta: { role: 'agent' } });
  const reader = await home.issuer('reader');
  const principal = await home.issuer('principal');
  const identity = await issueAgentIdentity(home.store, await home.issuer('operator'), { agent: reader.did, name: 'reader', directory: lists.url });
  const mandate = await issueMandate(home.store, principal, {
    agent: reader.did,
    authority: { actions: ['read'], maxDelegationDepth: 0 },
    validUntil: new Date(Date.now() + 86_400_000),
    baseUrl: lists.url,
  });

  const owner = (await home.identity('alice')).did;
  const child = fork(fileURLToPath(import.meta.url), {
    env: { ...process.env, CHARTER_BENCH_HTTP: 'server', CHARTER_BENCH_DB: join(dir, 'api.db'), CHARTER_BENCH_OWNER: owner, CHARTER_BENCH_PRINCIPAL: principal.did },
    stdio: 'inherit',
    // e.g. CHARTER_BENCH_SERVER_NODE_ARGS='--cpu-prof --cpu-prof-dir=/tmp/prof' to profile the server.
    execArgv: [...process.execArgv, ...(process.env.CHARTER_BENCH_SERVER_NODE_ARGS ?? '').split(' ').filter(Boolean)],
  });
  try {
    const port = await new Promise<number>((resolve, reject) => {
      child.once('message', (m) => resolve((m as { port: number }).port));
      child.once('exit', (c) => reject(new Error(`bench server exited ${c}`)));
    });
    const base = `http://127.0.0.1:${port}`;
    const ROUTES = ['/guarded', '/guarded-c100', '/guarded-memory', '/guarded-receipts', '/guarded-receipts-only', '/guarded-receipts-after'] as const;
    const PER = Number(process.env.CHARTER_BENCH_HTTP_PER_ROUTE ?? 20_000);
    const t0 = performance.now();
    const vps: Record<string, string[]> = {};
    for (const path of ROUTES) {
      vps[path] = [];
      for (let i = 0; i < PER; i++) vps[path]!.push(await createPresentation({ holder: app, credentials: [grant.jwt], aud: AUD, claims: { htm: 'GET', htu: `${base}${path}` } }));
    }
    // Per route, one request's headers each (a fresh jti and/or signature nonce): agent presentations,
    // signatures from the agent's key naming its directory, and both on one request.
    const M = Number(process.env.CHARTER_BENCH_HTTP_AGENT_REQUESTS ?? 12_000);
    const agentVp = (path: string) => createPresentation({ holder: reader, credentials: [identity.jwt, mandate.jwt], aud: AUD, claims: { htm: 'GET', htu: `${base}${path}` } });
    const signedBy = async (path: string, extra: Headers_ = {}) => {
      const h = await signatureHeaders(
        { method: 'GET', url: `${base}${path}`, headers: extra },
        { signer: reader.signer, publicJwk: reader.publicJwk, signatureAgent: lists.url, expiresInSeconds: 600 },
      );
      return { ...extra, ...h } as Headers_;
    };
    const sets: Record<'agent' | 'signed' | 'signedAgent', Headers_[]> = { agent: [], signed: [], signedAgent: [] };
    for (let i = 0; i < M; i++) {
      sets.agent.push({ authorization: `Bearer ${await agentVp('/agent')}` });
      sets.signed.push(await signedBy('/signed'));
      sets.signedAgent.push(await signedBy('/signed-agent', { authorization: `Bearer ${await agentVp('/signed-agent')}` }));
    }
    const genMs = performance.now() - t0;
    const next: Record<string, number> = Object.fromEntries(ROUTES.map((r) => [r, 0]));
    // Wrapping round would replay (401s, counted as non-2xx): PER is more than the runs can use.
    const presented = (path: string) => [
      { setupRequest: (r: { headers?: Record<string, string> }) => ({ ...r, headers: { ...r.headers, authorization: `Bearer ${vps[path]![next[path]!++ % PER]}` } }) },
    ];
    const run = (path: string, duration = SECONDS, connections = CONNECTIONS) => autocannon({ url: `${base}${path}`, connections, duration, requests: presented(path) });
    // Server CPU microseconds per request over one run (user + system, every thread of the server).
    const serverCpu = async () => {
      child.send('cpu');
      const m = await new Promise<{ cpu: NodeJS.CpuUsage; main?: number }>((r) => child.once('message', (x) => r(x as { cpu: NodeJS.CpuUsage; main?: number })));
      return { all: m.cpu.user + m.cpu.system, main: m.main };
    };
    const withCpu = async (f: () => Promise<AutocannonResult>) => {
      const before = await serverCpu();
      const r = await f();
      const after = await serverCpu();
      const n = Math.max(1, r.requests.total);
      return { r, cpuPerRequest: (after.all - before.all) / n, mainPerRequest: after.main !== undefined && before.main !== undefined ? (after.main - before.main) / n : NaN };
    };
    const from = (set: Headers_[]) => {
      let i = 1; // the first one warms the route up
      return [{ setupRequest: (r: { headers?: Record<string, string> }) => ({ ...r, headers: { ...r.headers, ...set[i++ % set.length] } }) }];
    };
    // Warm-up: DID and status list caches, the agent's directory, JIT, every route once.
    await autocannon({ url: `${base}/plain`, connections: CONNECTIONS, duration: 1 });
    for (const path of ROUTES) {
      const warm = await fetch(`${base}${path}`, { headers: { authorization: `Bearer ${vps[path]![next[path]!++]}` } });
      if (warm.status !== 200) throw new Error(`bench setup: ${path} answered ${warm.status}`);
    }
    for (const [path, set] of [
      ['/agent', sets.agent],
      ['/signed', sets.signed],
      ['/signed-agent', sets.signedAgent],
    ] as const) {
      const r = await fetch(`${base}${path}`, { headers: set[0] });
      if (r.status !== 200) throw new Error(`bench setup: ${path} answered ${r.status} ${await r.text()}`);
    }

    const plainRun = await withCpu(() => autocannon({ url: `${base}/plain`, connections: CONNECTIONS, duration: SECONDS }));
    const plain = plainRun.r;
    // Guarded with and without receipts, in short runs taken in turn, so a drift in the machine's load
    // (this machine is shared) hits each alike.
    const guardedRuns: AutocannonResult[] = [];
    const receiptRuns: AutocannonResult[] = [];
    const receiptsOnlyRuns: AutocannonResult[] = [];
    const afterRuns: AutocannonResult[] = [];
    const ROUNDS = Number(process.env.CHARTER_BENCH_HTTP_ROUNDS ?? 4);
    // Server CPU per request of each, measured in the same rounds (every thread, and the event loop's).
    const cpuOf = { g: { all: 0, main: 0 }, r: { all: 0, main: 0 }, q: { all: 0, main: 0 }, ar: { all: 0, main: 0 } };
    const measured = async (path: string, runs: AutocannonResult[], into: { all: number; main: number }) => {
      const m = await withCpu(() => run(path, 2));
      runs.push(m.r);
      into.all += m.cpuPerRequest / ROUNDS;
      into.main += m.mainPerRequest / ROUNDS;
    };
    for (let i = 0; i < ROUNDS; i++) {
      await measured('/guarded', guardedRuns, cpuOf.g);
      await measured('/guarded-receipts', receiptRuns, cpuOf.r);
      await measured('/guarded-receipts-only', receiptsOnlyRuns, cpuOf.q);
      await measured('/guarded-receipts-after', afterRuns, cpuOf.ar);
    }
    const guardedCpu = cpuOf.g.all;
    const guardedMain = cpuOf.g.main;
    const memo = await run('/guarded-memory');
    // Issue 13 asks for latency at 10 and 100 connections: u and g again with 100 (shorter runs).
    const SECONDS_100 = Number(process.env.CHARTER_BENCH_HTTP_SECONDS_100 ?? 3);
    const plain100 = await autocannon({ url: `${base}/plain`, connections: 100, duration: SECONDS_100 });
    const guarded100 = await run('/guarded-c100', SECONDS_100, 100);
    const agentRun = await autocannon({ url: `${base}/agent`, connections: CONNECTIONS, duration: SECONDS, requests: from(sets.agent) });
    const signedRun = await autocannon({ url: `${base}/signed`, connections: CONNECTIONS, duration: SECONDS, requests: from(sets.signed) });
    const bothRun = await autocannon({ url: `${base}/signed-agent`, connections: CONNECTIONS, duration: SECONDS, requests: from(sets.signedAgent) });
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
      { name: "(ar) as (r), the log's write after the reply", opsPerSec: after, note: non2xx(afterRuns) },
      { name: "(m) same as (g), replay cache in memory (not a fleet's store)", opsPerSec: memo.requests.average, note: non2xx([memo]) },
      { name: '(a) GET /agent, requireAgent (identity + mandate, Bearer)', opsPerSec: agentRun.requests.average, note: non2xx([agentRun]) },
      { name: '(s) GET /signed, requireSignature (key from directory)', opsPerSec: signedRun.requests.average, note: non2xx([signedRun]) },
      { name: '(sa) GET /signed-agent, requireSignature + requireAgent', opsPerSec: bothRun.requests.average, note: non2xx([bothRun]) },
      { name: '(v) one bare Ed25519 verify (one core)', opsPerSec: bare },
      { name: '(c) ceiling: (u) plus one bare verify per request', opsPerSec: ceiling },
    ]);
    console.log(
      `  ratios: g/u = ${ratio(g, u)} (target >= 0.5), g/c = ${ratio(g, ceiling)}, m/u = ${ratio(memo.requests.average, u)}; ${PER} presentations pre-generated per route in ${(genMs / 1000).toFixed(1)} s`,
    );
    console.log(
      `  receipts: r/g = ${ratio(withReceipts, g)}, q/g = ${ratio(receiptsOnly, g)}, ar/g = ${ratio(after, g)} (target >= 0.85: receipts and the log cost at most 15% of a guarded request's throughput)`,
    );
    // The same comparison by the server's CPU per request (g's over each's: 1 would be free), less disturbed by the
    // machine's other load than req/s. At 10 connections req/s also follows latency: a before-reply receipt waits for
    // a second fsync (the log's) after the replay cache's, and the WAL's fsyncs run back to back whatever the rate.
    const us = (c: { all: number; main: number }) => `${Math.round(c.all)} us (event loop ${Math.round(c.main)} us)`;
    console.log(
      `  receipts by server CPU per request: g ${us(cpuOf.g)}, r ${us(cpuOf.r)}, q ${us(cpuOf.q)}, ar ${us(cpuOf.ar)}; g/r = ${ratio(cpuOf.g.all, cpuOf.r.all)}, g/q = ${ratio(cpuOf.g.all, cpuOf.q.all)}, g/ar = ${ratio(cpuOf.g.all, cpuOf.ar.all)}`,
    );
    // Latency (autocannon's percentiles, ms): at 10 connections the guarded runs' p99 is the worst of its short rounds.
    const worst = (rs: AutocannonResult[], k: 'p50' | 'p99') => Math.max(...rs.map((r) => r.latency[k]));
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    const lat = (p50: number, p99: number) => `p50 ${p50} ms, p99 ${p99} ms`;
    console.log(
      `  latency at ${CONNECTIONS} connections: u ${lat(plain.latency.p50, plain.latency.p99)}; g ${lat(median(guardedRuns.map((r) => r.latency.p50)), worst(guardedRuns, 'p99'))}`,
    );
    const g100 = guarded100.requests.average;
    const u100 = plain100.requests.average;
    console.log(
      `  at 100 connections (${SECONDS_100} s each): u ${Math.round(u100)} req/s, ${lat(plain100.latency.p50, plain100.latency.p99)}; g ${Math.round(g100)} req/s, ${lat(guarded100.latency.p50, guarded100.latency.p99)} (${non2xx([guarded100])}); g/u = ${ratio(g100, u100)}`,
    );
    console.log(
      `  server CPU per request (less disturbed by the machine's other load than req/s): every thread u ${Math.round(plainRun.cpuPerRequest)} us, g ${Math.round(guardedCpu)} us; the event loop's thread u ${Math.round(plainRun.mainPerRequest)} us, g ${Math.round(guardedMain)} us; one bare verify ${Math.round(1e6 / bare)} us`,
    );
    console.log(`  even a guard doing nothing but one verify would reach only c/u = ${ratio(ceiling, u)}: a 0.5 target leaves no time for decoding, status and the replay write`);
    const sg = signedRun.requests.average;
    const sa = bothRun.requests.average;
    const a = agentRun.requests.average;
    console.log(
      `  Web Bot Auth: s/u = ${ratio(sg, u)}, s/g = ${ratio(sg, g)} (a signature instead of a Bearer grant), sa/a = ${ratio(sa, a)} (what adding the signature costs an agent route); ${M} pre-generated per route`,
    );
    return {
      unguarded: u,
      guarded: g,
      unguarded100: u100,
      guarded100: g100,
      guardedP50: median(guardedRuns.map((r) => r.latency.p50)),
      guardedP99: worst(guardedRuns, 'p99'),
      guardedCpuMicros: guardedCpu,
      guardedMainThreadMicros: guardedMain,
      receipts: withReceipts,
      receiptsNoEvidence: receiptsOnly,
      receiptsAfterReply: after,
      receiptsCpuMicros: cpuOf.r.all,
      receiptsNoEvidenceCpuMicros: cpuOf.q.all,
      receiptsAfterReplyCpuMicros: cpuOf.ar.all,
      memory: memo.requests.average,
      bare,
      agent: a,
      signed: sg,
      signedAgent: sa,
    };
  } finally {
    child.kill();
    await lists.close();
    await home.close();
  }
}
