import type { IncomingMessage } from 'node:http';
import { charterFetch } from '../../http/client.js';
import { requireGrant } from '../../http/guards.js';
import {
  acceptedStatus,
  castVote,
  createPool,
  issuePoolGrant,
  issueUsageReport,
  joinerOf,
  leavePool,
  membershipOf,
  poolPayouts,
  propose,
  signLeave,
  type Use,
} from '../../pools/index.js';
import { freshVerifier, serveDemoApi } from './api.js';
import type { DemoContext } from './types.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Three people pool their sleep data: two of three must agree before a
 * platform gets it, on terms (model training only, in a trusted execution
 * environment, deleted after 30 days, 0.05 EUR a use). The platform reads
 * two members' data; one member leaves and is refused from then on while
 * the others are still served; the pool signs what each member is owed.
 */
export async function poolsWalk({ home, step, publicUrl }: DemoContext): Promise<void> {
  const names = ['ana', 'ben', 'chloe'] as const;
  for (const n of names) await home.createIdentity({ alias: n });
  const lab = await home.createIdentity({ alias: 'sleep-lab' });
  await home.createIdentity({ alias: 'sleep-pool', meta: { role: 'pool' } });
  const pool = await home.issuer('sleep-pool');
  const [ana, ben, chloe] = await Promise.all(names.map((n) => home.issuer(n)));
  const founded = await createPool(home.store, pool, { threshold: 2, founders: [ana!, ben!, chloe!].map(joinerOf), baseUrl: publicUrl, resolver: home.resolver });
  step({
    title: 'ana, ben and chloe found a data pool for their sleep data: any 2 of the 3 decide',
    ok: founded.members.length === 3 && founded.threshold === 2,
    detail: `${pool.did}, epoch ${founded.epoch}; each member signed its own membership`,
  });

  const p = await propose(home.store, pool, {
    action: 'grant',
    grant: {
      grantee: lab.did,
      resources: ['sleep/*'],
      actions: ['read'],
      purpose: 'train a sleep-stage model',
      terms: {
        purpose: ['model-training'],
        processing: 'trusted-execution',
        retention: 'P30D',
        onwardSharing: 'none',
        compensation: { amount: '0.05', currency: 'EUR', per: 'use', split: 'equal' },
      },
      duration: 'P90D',
    },
  });
  step({
    title: 'the pool proposes: sleep-lab may read their sleep data for 90 days, to train models only, in a trusted enclave, deleted after 30 days, 0.05 EUR a use',
    ok: true,
    detail: `proposal ${p.hash}`,
  });

  await castVote(home.store, ana!, p, 'approve');
  const early = await issuePoolGrant(home.store, pool, p, { resolver: home.resolver, baseUrl: publicUrl });
  step({ title: 'ana approves; the pool tries to grant with 1 of the 2 approvals needed', expect: 'refused', ok: !early.ok, code: early.reasons[0]?.code });
  await castVote(home.store, chloe!, p, 'reject');
  await castVote(home.store, ben!, p, 'approve');
  const granted = await issuePoolGrant(home.store, pool, p, { resolver: home.resolver, baseUrl: publicUrl });
  step({
    title: 'chloe votes against, ben approves: 2 of 3, so the pool grants sleep-lab access, votes attached for anyone to count',
    ok: granted.ok,
    detail: `${granted.result}: ${granted.approvals.length} approvals (${granted.threshold} needed), ${granted.rejections.length} against`,
  });

  const members = new Map<string, string>(names.map((n, i) => [n, [ana, ben, chloe][i]!.did]));
  const guard = requireGrant<IncomingMessage>({
    resource: (req) => new URL(req.url ?? '/', 'http://x').pathname.match(/^\/members\/([^/]+)\/(sleep\/.+)$/)?.[2] ?? 'none',
    action: 'read',
    owner: (req) => members.get(new URL(req.url ?? '/', 'http://x').pathname.split('/')[2] ?? '') ?? '',
    purpose: (req) => (req.headers['x-use'] === 'marketing' ? 'marketing' : 'model-training'),
    processing: 'trusted-execution',
  });
  const api = 'did:web:sleep-data.example';
  const server = await serveDemoApi(guard, (_req, res, d) => res.end(JSON.stringify({ nights: 30, for: d.holder })));
  const base = server.base;
  const verifier = () => freshVerifier(home, api, base);
  server.use(verifier());
  step({ title: "a sleep-data API on 127.0.0.1 serves each member's nights to holders of a grant from that member or a pool it belongs to, for model training", ok: true });

  const uses: Use[] = [];
  try {
    const as = { holder: await home.issuer('sleep-lab'), credentials: [granted.jwt!], aud: api };
    const read = async (who: string, use?: string) => {
      const r = await charterFetch(`${base}/members/${who}/sleep/2026-03`, use ? { headers: { 'x-use': use } } : {}, as);
      const code = r.ok ? undefined : ((await r.json()) as { code: string }).code;
      if (r.ok) uses.push({ member: members.get(who)!, time: new Date().toISOString() });
      return { status: r.status, code };
    };
    const a = await read('ana');
    const c = await read('chloe');
    step({
      title: "sleep-lab reads ana's and chloe's nights: 200 and 200 (chloe voted against, but the pool decided)",
      ok: a.status === 200 && c.status === 200,
      detail: `${a.status} ${c.status}`,
    });
    const m = await read('ana', 'marketing');
    step({
      title: 'sleep-lab asks for the same nights for marketing, which the terms do not allow (403)',
      expect: 'refused',
      ok: m.status === 403 && m.code === 'PURPOSE_NOT_ALLOWED',
      code: m.code,
    });
    await read('ben');

    // Withdrawals take effect from a whole second (the epoch's time): start the next one.
    await sleep(1005 - (Date.now() % 1000));
    const held = await membershipOf(home.store, pool.did, chloe!.did);
    const left = await leavePool(home.store, pool, {
      notice: await signLeave(chloe!, pool.did, acceptedStatus((held!.subject.membership as { accepted: string }).accepted)),
      resolver: home.resolver,
    });
    step({
      title: 'chloe leaves the pool, at once and without asking anyone: her withdrawal bit is set',
      ok: !left.members.includes(chloe!.did),
      detail: `epoch ${left.epoch}: ${left.members.length} members`,
    });
    await sleep(5);
    server.use(verifier());
    const gone = await read('chloe');
    step({
      title: "once the API's cached status list expires, sleep-lab asks for chloe's nights again (403)",
      expect: 'refused',
      ok: gone.status === 403 && gone.code === 'MEMBER_WITHDRAWN',
      code: gone.code,
    });
    const still = [await read('ana'), await read('ben')];
    step({ title: "ana's and ben's nights are still served under the same grant (200, 200)", ok: still.every((s) => s.status === 200) });
  } finally {
    await server.close();
  }

  const report = await issueUsageReport(await home.issuer('sleep-lab'), { pool: pool.did, grant: granted.result!, uses });
  step({ title: `sleep-lab signs a usage report: ${uses.length} uses of the pool's data`, ok: uses.length === 5, detail: report.id });
  const { statement } = await poolPayouts(home.store, pool, { resolver: home.resolver, period: 'P1M', reports: [report.jwt] });
  const eur = statement.currencies.find((c) => c.currency === 'EUR');
  const owed = (did: string) => eur?.shares.find((s) => s.member === did)?.amount ?? '0';
  const words = names.map((n, i) => `${n} ${owed([ana, ben, chloe][i]!.did)}`).join(', ');
  const sum = eur?.shares.reduce((s, x) => s + Number(x.amount) * 100, 0);
  step({
    title: `the pool signs the month's payouts: ${eur?.total ?? 0} EUR in all, ${words} (chloe is paid for the uses before she left)`,
    ok: eur?.total === '0.25' && owed(ana!.did) === '0.10' && owed(ben!.did) === '0.10' && owed(chloe!.did) === '0.05' && Math.round(sum ?? 0) === 25,
    detail: statement.rounding,
  });
}
