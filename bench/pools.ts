import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openHome } from '../src/home/home.js';
import { serveHome } from '../src/server/serve.js';
import { createResolver } from '../src/did/index.js';
import { createPresentation, decodeJwt } from '../src/credentials/index.js';
import { createStatusChecker } from '../src/status/index.js';
import { issueGrant, verifyGrant } from '../src/grants/index.js';
import { castVote, createPool, issuePoolGrant, joinerOf, propose } from '../src/pools/index.js';
import { createVerifier } from '../src/guard/verifier.js';
import { requireGrant } from '../src/http/guards.js';
import { verifyRequest } from '../src/http/request.js';
import type { Store } from '../src/store/types.js';
import { opsPerSecond, printTable, ratio } from './measure.js';

/**
 * Ops/s of `a` and `b` measured in alternating slices, and the median of the
 * per-round ratios a/b: on a shared machine the load moves between two runs
 * measured one after the other; alternating keeps both under the same load.
 */
async function sideBySide(a: () => unknown, b: () => unknown, rounds = 7, ms = 350): Promise<{ a: number; b: number; ratio: number }> {
  const xs: number[] = [];
  const ys: number[] = [];
  for (let i = 0; i < rounds; i++) {
    xs.push(await opsPerSecond(a, ms));
    ys.push(await opsPerSecond(b, ms));
  }
  const median = (v: number[]) => [...v].sort((p, q) => p - q)[Math.floor(v.length / 2)]!;
  return { a: median(xs), b: median(ys), ratio: median(xs.map((x, i) => x / ys[i]!)) };
}

const K = 5;
const N_MEMBERS = 7;
const API = 'did:web:health-data.example';
const ORIGIN = 'https://api.example';

/**
 * Data pools: verifying a collective grant (k = 5 votes) with DID documents
 * and status lists cached, every signature checked (a resolver handing out a
 * fresh copy of each cached key, so the per-key memo never hits), next to the
 * bare Ed25519 verifications it contains: the grant, its 5 votes, and the
 * owner's signed acceptance of membership. Then a guarded request (the one
 * decision pipeline: presentation, binding, replay cache in memory) under the
 * pool grant next to one under a personal grant, with a fresh presentation
 * each.
 */
export async function benchPools(): Promise<Record<string, number>> {
  const dir = mkdtempSync(join(tmpdir(), 'charter-bench-pools-'));
  const home = await openHome({ home: join(dir, 'home'), passphrase: async () => 'bench passphrase', allowLoopback: true });
  await home.init();
  const lists = await serveHome(home, { port: 0 });
  await home.setPublicUrl(lists.url);
  const aliases = ['pool', 'lab', ...Array.from({ length: N_MEMBERS }, (_, i) => `m${i}`)];
  for (const a of aliases) await home.createIdentity({ alias: a });
  const [pool, lab, ...members] = await Promise.all(aliases.map((a) => home.issuer(a)));
  const resolver = createResolver({ allowLoopback: true, allowHttp: true });
  try {
    await createPool(home.store, pool!, { threshold: K, founders: members.map(joinerOf), baseUrl: lists.url, resolver });
    const terms = { purpose: ['model-training'] };
    const p = await propose(home.store, pool!, {
      action: 'grant',
      grant: { grantee: lab!.did, resources: ['health/*'], actions: ['read'], purpose: 'bench', terms, duration: 'P1D' },
    });
    for (const m of members.slice(0, K)) await castVote(home.store, m, p, 'approve');
    const collective = await issuePoolGrant(home.store, pool!, p, { resolver, baseUrl: lists.url });
    if (!collective.ok) throw new Error(`bench setup: ${JSON.stringify(collective.reasons)}`);
    const owner = members[N_MEMBERS - 1]!;
    const personal = await issueGrant(home.store, owner, {
      grantee: lab!.did,
      resources: ['health/*'],
      actions: ['read'],
      purpose: 'bench',
      terms,
      validUntil: new Date(Date.now() + 86_400_000),
      baseUrl: lists.url,
    });

    const status = createStatusChecker({ resolver, allowLoopback: true, allowHttp: true });
    const opts = { status, resource: 'health/m6/sleep', action: 'read', owner: owner.did, grantee: lab!.did, purpose: 'model-training' };
    const cold = { ...resolver, resolveKey: async (...a: Parameters<typeof resolver.resolveKey>) => ({ ...(await resolver.resolveKey(...a)) }) };
    const check = await verifyGrant(collective.jwt!, { ...opts, resolver: cold });
    if (!check.ok) throw new Error(`bench setup: pool grant refused: ${JSON.stringify(check.reasons)}`);

    // The floor: the signatures the decision contains, verified bare, back to back.
    const evidence = decodeJwt(collective.jwt!).payload.credentialSubject as { pool: { votes: string[]; proposal: { epoch: { members: { id: string; accepted: string }[] } } } };
    const acceptance = evidence.pool.proposal.epoch.members.find((m) => m.id === owner.did)!.accepted;
    const signed: [string, string][] = [
      [collective.jwt!, pool!.did],
      ...evidence.pool.votes.map((v) => [v, String(decodeJwt(v).payload.issuer)] as [string, string]),
      [acceptance, owner.did],
    ];
    const inputs = await Promise.all(
      signed.map(async ([jwt, did]) => {
        const [h, pl, s] = jwt.split('.') as [string, string, string];
        return { data: Buffer.from(`${h}.${pl}`), sig: Buffer.from(s, 'base64url'), key: createPublicKey({ key: { ...(await home.identity(did)).publicJwk }, format: 'jwk' }) };
      }),
    );
    if (!inputs.every((x) => nodeVerify(null, x.data, x.key, x.sig))) throw new Error('bench setup: floor signatures do not verify');
    const measured = await sideBySide(
      () => verifyGrant(collective.jwt!, { ...opts, resolver: cold }),
      () => {
        for (const x of inputs) nodeVerify(null, x.data, x.key, x.sig);
      },
    );
    const { a: every, b: floor } = measured;
    const memo = await opsPerSecond(() => verifyGrant(collective.jwt!, { ...opts, resolver }));
    const personalVerify = await opsPerSecond(() => verifyGrant(personal.jwt, { ...opts, resolver }));

    // Guarded requests through the pipeline, a fresh presentation each (pre-generated), replay cache in memory.
    const seen = new Map<string, number>();
    const memory = {
      ...home.store,
      consumeNonce: async (scope: string, value: string, until: Date) => {
        const k = `${scope} ${value}`;
        if ((seen.get(k) ?? 0) > Date.now()) return false;
        seen.set(k, until.getTime());
        return true;
      },
    } as Store;
    const verifier = createVerifier({ aud: API, store: memory, resolver, status, publicOrigin: ORIGIN });
    const guard = requireGrant<Request>({ resource: 'health/m6/sleep', action: 'read', owner: owner.did, purpose: 'model-training' });
    const url = `${ORIGIN}/members/m6/sleep`;
    const N = 9000;
    const presentations = async (jwt: string) => {
      const out: string[] = [];
      for (let i = 0; i < N; i++) out.push(await createPresentation({ holder: lab!, credentials: [jwt], aud: API, claims: { htm: 'GET', htu: url } }));
      return out;
    };
    const guarded = (vps: string[]) => {
      let next = 0;
      return async () => {
        if (next >= vps.length) throw new Error('bench: ran out of presentations');
        const d = await verifyRequest(new Request(url, { headers: { authorization: `Bearer ${vps[next++]}` } }), verifier, guard);
        if (!d.ok) throw new Error(`bench: a guarded request was refused: ${JSON.stringify(d.reasons)}`);
      };
    };
    const [poolVps, personalVps] = [await presentations(collective.jwt!), await presentations(personal.jwt)];
    const requests = await sideBySide(guarded(poolVps), guarded(personalVps), 5, 300);
    const [reqPool, reqPersonal] = [requests.a, requests.b];

    printTable(`Data pools (k = ${K} of ${N_MEMBERS}; cached DIDs and status lists; target: every signature checked ≥ 0.7 of the floor)`, [
      {
        name: `verifyGrant, pool grant, every signature checked (${inputs.length} signatures)`,
        opsPerSec: every,
        note: `${measured.ratio.toFixed(2)} of the floor (median of alternating rounds)`,
      },
      { name: `  floor: ${inputs.length} bare Ed25519 verifies (grant, ${K} votes, acceptance)`, opsPerSec: floor },
      { name: '  same grant seen before (signatures memoised per key)', opsPerSec: memo, note: `x${ratio(memo, every)}` },
      { name: '  a personal grant, seen before', opsPerSec: personalVerify },
      { name: 'guarded request, pool grant (fresh presentation each)', opsPerSec: reqPool },
      { name: 'guarded request, personal grant (fresh presentation each)', opsPerSec: reqPersonal, note: `pool/personal = ${requests.ratio.toFixed(2)}` },
    ]);
    return { every, floor, memo, personalVerify, reqPool, reqPersonal };
  } finally {
    await lists.close();
    await home.close();
  }
}
