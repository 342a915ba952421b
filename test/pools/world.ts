import { join } from 'node:path';
import { openHome, type Home } from '../../src/home/home.js';
import { serveHome, type RunningServer } from '../../src/server/serve.js';
import { createResolver } from '../../src/did/index.js';
import type { CharterResolver } from '../../src/did/types.js';
import type { Issuer } from '../../src/credentials/types.js';
import { createStatusChecker, type StatusListChecker } from '../../src/status/index.js';
import { castVote, createPool, issuePoolGrant, joinerOf, propose, type StoredProposal } from '../../src/pools/index.js';
import type { GrantTerms } from '../../src/grants/index.js';
import { tempDir } from '../helpers.js';

/**
 * A pool's world: a Charter home (serving its status lists on 127.0.0.1)
 * holding a pool identity, its members, and a platform; a verifier-side
 * resolver and a status checker tests can empty.
 */
export interface PoolWorld {
  home: Home;
  server: RunningServer;
  resolver: CharterResolver;
  status: StatusListChecker;
  pool: Issuer;
  members: Issuer[];
  platform: Issuer;
  /** A grant proposal (2-of-3 unless the pool says otherwise) for the platform. */
  proposeGrant(o?: { terms?: GrantTerms; resources?: string[]; duration?: string }): Promise<StoredProposal>;
  /** Proposes, has `approvers` approve, and issues the grant. */
  grant(o?: { terms?: GrantTerms; approvers?: number[] }): Promise<{ id: string; jwt: string; proposal: StoredProposal }>;
  freshStatus(): void;
  close(): Promise<void>;
}

export async function openPoolWorld(o: { members?: number; threshold?: number } = {}): Promise<PoolWorld> {
  const dir = tempDir('charter-pools-');
  const home = await openHome({ home: join(dir, 'home'), passphrase: async () => 'pool tests passphrase', allowLoopback: true });
  await home.init();
  const server = await serveHome(home, { port: 0 });
  await home.setPublicUrl(server.url);
  const n = o.members ?? 3;
  for (const alias of ['pool', 'platform', ...Array.from({ length: n }, (_, i) => `m${i}`)]) await home.createIdentity({ alias });
  const pool = await home.issuer('pool');
  const platform = await home.issuer('platform');
  const members = await Promise.all(Array.from({ length: n }, (_, i) => home.issuer(`m${i}`)));
  const resolver = createResolver({ allowLoopback: true, allowHttp: true });
  await createPool(home.store, pool, { threshold: o.threshold ?? 2, founders: members.map(joinerOf), baseUrl: server.url, resolver });
  let status = createStatusChecker({ resolver, allowLoopback: true, allowHttp: true });
  const world: PoolWorld = {
    home,
    server,
    resolver,
    get status() {
      return status;
    },
    pool,
    members,
    platform,
    proposeGrant: (g = {}) =>
      propose(home.store, pool, {
        action: 'grant',
        grant: {
          grantee: platform.did,
          resources: g.resources ?? ['health/*'],
          actions: ['read'],
          purpose: 'train a sleep model',
          ...(g.terms ? { terms: g.terms } : {}),
          duration: g.duration ?? 'P30D',
        },
      }),
    grant: async (g = {}) => {
      const p = await world.proposeGrant(g);
      for (const i of g.approvers ?? [0, 1]) await castVote(home.store, members[i]!, p, 'approve');
      const r = await issuePoolGrant(home.store, pool, p, { resolver, baseUrl: server.url });
      if (!r.ok) throw new Error(`grant refused: ${JSON.stringify(r.reasons)}`);
      return { id: r.result!, jwt: r.jwt!, proposal: p };
    },
    freshStatus: () => {
      status = createStatusChecker({ resolver, allowLoopback: true, allowHttp: true });
    },
    close: async () => {
      await server.close();
      await home.close();
    },
  };
  return world;
}
