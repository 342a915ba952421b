import { createResolver, didKeyRef } from '../src/did/index.js';
import { createSigner, generateKeyPair } from '../src/keys/index.js';
import { issueAttestation, issueReceipt, scoreAgent } from '../src/reputation/index.js';
import { printTable } from './measure.js';

const party = () => {
  const kp = generateKeyPair();
  return { ...didKeyRef('key', kp.publicJwk), signer: createSigner(kp.privateJwk) };
};

/** Issue 5 scale test: score N attestations (each with its receipt: 2 signatures to verify). */
export async function benchReputation(n = Number(process.env.CHARTER_BENCH_ATTESTATIONS ?? 100_000)): Promise<Record<string, number>> {
  const agent = party();
  const attesters = Array.from({ length: 500 }, party);
  const t0 = performance.now();
  const jwts: string[] = [];
  for (let i = 0; i < n; i++) {
    const by = attesters[i % attesters.length]!;
    const receipt = await issueReceipt(null, agent, { counterparty: by.did, interactionId: `i-${i}` });
    jwts.push((await issueAttestation(null, by, { receiptJwt: receipt.jwt, score: (i % 10) / 10 })).jwt);
  }
  const buildMs = performance.now() - t0;
  const resolver = createResolver({ cacheMaxEntries: 10_000 });
  const t1 = performance.now();
  const s = await scoreAgent(agent.did, jwts, { resolver, status: async () => [], trustedAttesters: attesters.slice(0, 250).map((a) => a.did) });
  const scoreMs = performance.now() - t1;
  if (s.counted !== n) throw new Error(`bench: only ${s.counted} of ${n} counted`);
  printTable(`Reputation: scoring ${n.toLocaleString('en-US')} attestations (500 attesters, 2 signatures each)`, [
    { name: `scoreAgent over ${n.toLocaleString('en-US')} attestations`, ms: scoreMs, note: `${Math.round((n * 1000) / scoreMs).toLocaleString('en-US')} attestations/s` },
    { name: '(building them: receipts + attestations signed)', ms: buildMs },
  ]);
  return { n, scoreMs, buildMs };
}
