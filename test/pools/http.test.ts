import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { join } from 'node:path';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { charter, createVerifier, requireGrant } from '../../src/http/adapters/express.js';
import { charterFetch } from '../../src/http/client.js';
import { createStatusChecker } from '../../src/status/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { acceptedStatus, leavePool, membershipOf, signLeave } from '../../src/pools/index.js';
import { tempDir } from '../helpers.js';
import { openPoolWorld, type PoolWorld } from './world.js';

const API = 'did:web:health-data.example';
/** The API's status freshness bound: it trusts a fetched list at most this long. */
const MAX_STALENESS_S = 2;

/**
 * A data API guarding each member's records with requireGrant: the owner is
 * the member the path names, the declared use is model training. A pool's
 * grant reaches every member's data until one withdraws; from then on (within
 * the API's status freshness bound) that member's data is refused and the
 * others' still served.
 */
describe('a pool grant through the HTTP guard (Express)', () => {
  let w: PoolWorld;
  let api: Store;
  let server: Server;
  let base: string;
  const ran: string[] = [];
  beforeAll(async () => {
    w = await openPoolWorld();
    api = await openSqliteStore(join(tempDir('charter-pool-api-'), 'api.db'));
    const status = createStatusChecker({ resolver: w.resolver, allowLoopback: true, allowHttp: true, maxStalenessSeconds: MAX_STALENESS_S });
    const verifier = createVerifier({ aud: API, store: api, resolver: w.resolver, status, trustHostHeader: true });
    const members = new Map(w.members.map((m, i) => [`m${i}`, m.did]));
    const app = express();
    app.get(
      '/members/:m/sleep',
      charter(
        verifier,
        requireGrant({ resource: (req) => `health/${req.params.m}/sleep`, action: 'read', owner: (req) => members.get(String(req.params.m)) ?? '', purpose: 'model-training' }),
      ),
      (req, res) => {
        ran.push(String(req.params.m));
        res.json({ member: req.params.m, pool: req.charter!.grant!.pool?.pool });
      },
    );
    server = app.listen(0, '127.0.0.1');
    await new Promise<void>((r) => server.once('listening', () => r()));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((r) => server.close(() => r()));
    await api.close();
    await w.close();
  });

  const get = async (jwt: string, m: string) => {
    const r = await charterFetch(`${base}/members/${m}/sleep`, {}, { holder: w.platform, credentials: [jwt], aud: API });
    return { status: r.status, body: (await r.json()) as { code?: string; pool?: string } };
  };

  it('the platform reads two members; after one leaves it is refused there, within the freshness bound, and still served for the other', async () => {
    const g = await w.grant({ terms: { purpose: ['model-training'] } });
    expect(await get(g.jwt, 'm0')).toMatchObject({ status: 200, body: { pool: w.pool.did } });
    expect(await get(g.jwt, 'm1')).toMatchObject({ status: 200 });
    // A member the pool does not have (no owner known) is refused.
    expect(await get(g.jwt, 'stranger')).toMatchObject({ status: 403, body: { code: 'GRANT_NOT_OWNER' } });

    const leaver = w.members[0]!;
    const held = await membershipOf(w.home.store, w.pool.did, leaver.did);
    const left = Date.now();
    await leavePool(w.home.store, w.pool, {
      notice: await signLeave(leaver, w.pool.did, acceptedStatus((held!.subject.membership as { accepted: string }).accepted)),
      resolver: w.resolver,
    });

    // The API may answer from its cached list until the bound; by then it must refuse, and keep refusing.
    const deadline = left + (MAX_STALENESS_S + 3) * 1000;
    let refused: Awaited<ReturnType<typeof get>> | undefined;
    while (Date.now() < deadline) {
      const r = await get(g.jwt, 'm0');
      if (r.status !== 200) {
        refused = r;
        break;
      }
      await new Promise((res) => setTimeout(res, 200));
    }
    expect(refused).toMatchObject({ status: 403, body: { code: 'MEMBER_WITHDRAWN' } });
    expect(Date.now() - left).toBeLessThan((MAX_STALENESS_S + 3) * 1000);
    ran.length = 0;
    expect(await get(g.jwt, 'm0')).toMatchObject({ status: 403, body: { code: 'MEMBER_WITHDRAWN' } });
    expect(ran).toEqual([]);
    expect(await get(g.jwt, 'm1')).toMatchObject({ status: 200 });
    expect(await get(g.jwt, 'm2')).toMatchObject({ status: 200 });
    expect(ran).toEqual(['m1', 'm2']);
  });

  it('a grant for inference only is refused by a route that trains models', async () => {
    const g = await w.grant({ terms: { purpose: ['inference'] }, approvers: [1, 2] });
    expect(await get(g.jwt, 'm1')).toMatchObject({ status: 403, body: { code: 'PURPOSE_NOT_ALLOWED' } });
  });
});
