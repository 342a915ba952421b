import { verify as nodeVerify } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createResolver, didKeyRef } from '../src/did/index.js';
import { createSigner, generateKeyPair } from '../src/keys/index.js';
import { decodeJwt, issueCredential, schemaIdFor } from '../src/credentials/index.js';
import type { Issuer } from '../src/credentials/types.js';
import { createStatusChecker, currentStatusListJwt, createStatusList } from '../src/status/index.js';
import { openSqliteStore } from '../src/store/sqlite/store.js';
import { importAttestations, issueReceipt, reputationSource, scoreFromStore } from '../src/reputation/index.js';
import { opsPerSecond, printTable, ratio } from './measure.js';

const party = (): Issuer => {
  const kp = generateKeyPair();
  return { ...didKeyRef('key', kp.publicJwk), signer: createSigner(kp.privateJwk) };
};
/**
 * Issue "one decision core" (reputation): attestations are verified once, at
 * import, at >= 0.7 of the bare signature floor (two signatures each), and
 * scores come from what the store holds: 100,000 ratings of one agent in
 * <= 200 ms. Every attestation carries a revocation entry (one status list
 * per attester, served on loopback), so scoring re-checks revocation too.
 */
export async function benchReputation(n = Number(process.env.CHARTER_BENCH_ATTESTATIONS ?? 100_000)): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'charter-bench-rep-'));
  const issuerStore = await openSqliteStore(join(dir, 'issuers.db'));
  const attesters = Array.from({ length: 500 }, party);
  const byDid = new Map(attesters.map((a) => [a.did, a]));
  const server = createServer(async (req, res) => res.end(await currentStatusListJwt(issuerStore, (req.url ?? '').split('/').pop()!, async (d) => byDid.get(d)!)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const lists = new Map<string, string>();
  // A long ttl (and a checker that honours it): every list stays cached through the run.
  for (const a of attesters) lists.set(a.did, (await createStatusList(issuerStore, { issuerDid: a.did, purpose: 'revocation', baseUrl, ttlSeconds: 3600 })).url);

  // Building: the agent's receipt and the attester's rating, each signed (entries numbered per attester, not allocated one by one).
  const agent = party();
  const t0 = performance.now();
  const jwts: string[] = [];
  for (let i = 0; i < n; i++) {
    const by = attesters[i % attesters.length]!;
    const receipt = await issueReceipt(null, agent, { counterparty: by.did, interactionId: `i-${i}` });
    const att = await issueCredential({
      issuer: by,
      subject: agent.did,
      type: 'ReputationAttestation',
      claims: { rating: { score: (i % 10) / 10, ...(i % 3 === 0 ? { dimension: 'delivery' } : {}) }, interaction: receipt.id },
      credentialSchema: { id: schemaIdFor('ReputationAttestation')!, type: 'JsonSchema' },
      credentialStatus: {
        type: 'BitstringStatusListEntry',
        statusPurpose: 'revocation',
        statusListIndex: String(Math.floor(i / attesters.length)),
        statusListCredential: lists.get(by.did)!,
      },
      extra: { evidence: [{ id: receipt.id, type: ['Evidence', 'InteractionReceipt'], receipt: receipt.jwt }] },
    });
    jwts.push(att.jwt);
  }
  const buildMs = performance.now() - t0;

  // The floor: bare Ed25519 verifies of the same two signing inputs per attestation, one core.
  const resolver = createResolver({ cacheMaxEntries: 10_000 });
  const sample = await Promise.all(
    jwts.slice(0, 1000).map(async (j) => {
      const a = decodeJwt(j);
      const r = decodeJwt((a.payload.evidence as { receipt: string }[])[0]!.receipt);
      const ka = await resolver.resolveKey(a.payload.issuer as string, a.header.kid, 'assertionMethod');
      const kr = await resolver.resolveKey(agent.did, r.header.kid, 'assertionMethod');
      return [a, ka.keyObject, r, kr.keyObject] as const;
    }),
  );
  let k = 0;
  const floorBurst = (ms: number) =>
    opsPerSecond(() => {
      const [a, ka, r, kr] = sample[k++ % sample.length]!;
      if (!nodeVerify(null, a.signingInput, ka, a.signature) || !nodeVerify(null, r.signingInput, kr, r.signature)) throw new Error('bench: floor sample does not verify');
    }, ms);

  // Import: each attestation and its receipt verified once; DIDs and status lists cached first (this measures verification).
  // The machine is shared: the floor is measured in bursts between tenths of the import, and the two compared as averages.
  const store = await openSqliteStore(join(dir, 'verifier.db'));
  const status = createStatusChecker({ resolver, allowLoopback: true, allowHttp: true, maxStalenessSeconds: 3600 });
  for (const u of lists.values()) await status.refresh(u);
  const floors: number[] = [await floorBurst(1500)];
  let importMs = 0;
  let importedCount = 0;
  const tenth = Math.ceil(n / 10);
  for (let at = 0; at < n; at += tenth) {
    const t1 = performance.now();
    const r = await importAttestations(store, jwts.slice(at, at + tenth), { resolver, status });
    importMs += performance.now() - t1;
    importedCount += r.imported.length;
    if (r.imported.length !== Math.min(tenth, n - at)) throw new Error(`bench: import refused some (${r.skipped[0]?.code})`);
    floors.push(await floorBurst(300));
  }
  const pairsPerSec = floors.reduce((a, b) => a + b, 0) / floors.length;
  const floor = pairsPerSec * 2;
  if (importedCount !== n) throw new Error(`bench: imported ${importedCount} of ${n}`);
  const importRate = (n * 1000) / importMs;
  // A verifier does not hold the JWTs it imported: drop them, so scoring runs in a heap of its own size.
  jwts.length = 0;

  // Scoring from the store: what import verified is not verified again; revocation is re-checked against the cached lists.
  const policy = { resolver, status, trustedAttesters: attesters.slice(0, 250).map((a) => a.did), halfLifeSeconds: 90 * 86_400 };
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  const timed = async (f: () => Promise<unknown>) => {
    const t = performance.now();
    await f();
    return performance.now() - t;
  };
  // (s) the guard's source: the first decision lists the ratings and asks each one's revocation; later ones read the version.
  const source = reputationSource(store, policy);
  const first = await source(agent.did, undefined);
  // Its first decision, timed with a checker of its own (no remembered answers) whose lists are already cached.
  const status2 = createStatusChecker({ resolver, allowLoopback: true, allowHttp: true, maxStalenessSeconds: 3600 });
  for (const u of lists.values()) await status2.refresh(u);
  const firstMs = await timed(() => reputationSource(store, { ...policy, status: status2 })(agent.did, undefined));
  const steady: number[] = [];
  for (let i = 0; i < 5; i++)
    steady.push(
      await timed(async () => {
        const s = await source(agent.did, undefined);
        if (s.score === null || first.score === null || Math.abs(s.score - first.score) > 1e-6) throw new Error('bench: the score moved');
      }),
    );
  // (s') scoreFromStore: one query for every rating on each call, the aggregation and the per-rating breakdown in memory.
  const full: number[] = [];
  for (let i = 0; i < 5; i++)
    full.push(
      await timed(async () => {
        const s = await scoreFromStore(store, agent.did, policy);
        if (s.counted !== n) throw new Error(`bench: only ${s.counted} of ${n} counted`);
      }),
    );
  const queryMs: number[] = [];
  for (let i = 0; i < 5; i++) queryMs.push(await timed(() => store.listRatings(agent.did)));
  const N = n.toLocaleString('en-US');
  printTable(`Reputation: ${N} attestations (500 attesters, 2 signatures each, each with a revocation entry)`, [
    {
      name: '(f) floor: bare Ed25519 verify, one core',
      opsPerSec: floor,
      note: `${Math.round(pairsPerSec).toLocaleString('en-US')} attestations/s at 2 signatures each; mean of ${floors.length} bursts (${Math.round(Math.min(...floors) * 2).toLocaleString('en-US')}-${Math.round(Math.max(...floors) * 2).toLocaleString('en-US')})`,
    },
    {
      name: `(i) importAttestations, ${N} (signatures on the thread pool)`,
      ms: importMs,
      note: `${Math.round(importRate).toLocaleString('en-US')} attestations/s = ${ratio(importRate, pairsPerSec)} of the 2-signature floor (target >= 0.7)`,
    },
    {
      name: `(s) reputationSource, a decision over ${N} stored ratings, p50 of 5`,
      ms: median(steady),
      note: `min ${Math.min(...steady).toFixed(0)}, max ${Math.max(...steady).toFixed(0)} (target <= 200 ms)`,
    },
    { name: '(s0) its first decision (lists them, asks each revocation of cached lists)', ms: firstMs },
    {
      name: `(s') scoreFromStore, reading all ${N} each call, with breakdown, p50 of 5`,
      ms: median(full),
      note: `min ${Math.min(...full).toFixed(0)}, max ${Math.max(...full).toFixed(0)}`,
    },
    { name: '     of which the one query (listRatings), p50 of 5', ms: median(queryMs) },
    { name: '(building them: receipts + attestations signed)', ms: buildMs },
  ]);
  server.close();
  await store.close();
  await issuerStore.close();
  rmSync(dir, { recursive: true, force: true });
  return {
    n,
    floor,
    importMs,
    importRate,
    importRatio: importRate / pairsPerSec,
    decisionP50: median(steady),
    firstDecisionMs: firstMs,
    fullP50: median(full),
    queryP50: median(queryMs),
    buildMs,
  };
}
