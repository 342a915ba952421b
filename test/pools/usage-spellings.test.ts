import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolver } from '../../src/did/index.js';
import { issueUsageReport, poolPayouts, readUsage } from '../../src/pools/index.js';
import { makeIssuer } from '../helpers.js';
import { openPoolWorld, type PoolWorld } from './world.js';

/*
 * A use is (grant, member, instant, resource): the grantee and the data API reporting one use count it
 * once (usage-dedup.test.ts). Each spells it as it likes: the instant in another offset, the resource
 * with a leading or trailing slash, a doubled one, a "." segment. Those name the same path to every grant
 * check (normalizeResource), so they are the same use, paid once; a path that really differs is not.
 */
const resolver = createResolver();
const [api, pool, ana, lab] = [makeIssuer(), makeIssuer(), makeIssuer(), makeIssuer()];
const GRANT = `urn:uuid:${randomUUID()}`;
const grants = new Map([[GRANT, { grantee: lab.did }]]);
const T = new Date(Math.floor((Date.now() - 3_600_000) / 1000) * 1000);
const report = async (who: typeof lab, uses: { member: string; time: string | Date; count?: number; resource?: string }[]) =>
  (await issueUsageReport(who, { pool: pool.did, grant: GRANT, uses })).jwt;
const read = (jwts: string[]) => readUsage(jwts, { resolver, pool: pool.did, grants, trustedReporters: [api.did] });
const total = (uses: { count: number }[]) => uses.reduce((n, u) => n + u.count, 0);

describe('one use spelt two ways by two reporters is counted once', () => {
  it.each(['/sleep/ana', 'sleep/ana/', 'sleep//ana', './sleep/ana', '//sleep/./ana//'])('"sleep/ana" and "%s"', async (other) => {
    const byLab = await report(lab, [{ member: ana.did, time: T, count: 3, resource: 'sleep/ana' }]);
    const byApi = await report(api, [{ member: ana.did, time: T, count: 3, resource: other }]);
    for (const order of [
      [byLab, byApi],
      [byApi, byLab],
    ]) {
      const r = await read(order);
      expect([other, total(r.uses), r.ignored.map((i) => i.code)]).toEqual([other, 3, ['RECEIPT_REUSED']]);
    }
  });

  it('entries of one report naming one resource two ways add up as one use', async () => {
    const byLab = await report(lab, [
      { member: ana.did, time: T, count: 1, resource: 'sleep/ana' },
      { member: ana.did, time: T, count: 2, resource: '/sleep/ana/' },
    ]);
    const byApi = await report(api, [{ member: ana.did, time: T, count: 3, resource: 'sleep//ana' }]);
    const r = await read([byLab, byApi]);
    expect(total(r.uses)).toBe(3);
  });

  it('the instant in another offset is the same instant, and paths that differ are different uses', async () => {
    const plus1 = new Date(T.getTime() + 3_600_000).toISOString().replace('.000Z', '+01:00');
    const byLab = await report(lab, [{ member: ana.did, time: T, count: 2, resource: 'sleep/ana' }]);
    const byApi = await report(api, [
      { member: ana.did, time: plus1, count: 2, resource: '/sleep/ana' },
      { member: ana.did, time: T, count: 1, resource: 'sleep/Ana' },
      { member: ana.did, time: T, count: 1, resource: 'sleep/ana/1' },
    ]);
    const r = await read([byLab, byApi]);
    expect(total(r.uses)).toBe(2 + 1 + 1);
  });
});

describe('payouts: the same use spelt apart by the grantee and the data API is paid once', () => {
  let w: PoolWorld;
  beforeAll(async () => {
    w = await openPoolWorld({ members: 2, threshold: 1 });
  });
  afterAll(async () => {
    await w.close();
  });

  it('1 EUR per use, 3 uses under "photos/1" and "/photos/1/": 3 EUR', async () => {
    const g = await w.grant({ terms: { compensation: { amount: '1', currency: 'EUR', per: 'use' } }, approvers: [0] });
    await w.home.createIdentity({ alias: 'data-api' });
    const dataApi = await w.home.issuer('data-api');
    const at = new Date(Date.now() + 1000);
    const member = w.members[0]!.did;
    const byLab = (await issueUsageReport(w.platform, { pool: w.pool.did, grant: g.id, uses: [{ member, time: at, count: 3, resource: 'photos/1' }] })).jwt;
    const byApi = (await issueUsageReport(dataApi, { pool: w.pool.did, grant: g.id, uses: [{ member, time: at, count: 3, resource: '/photos/1/' }] })).jwt;
    const { statement } = await poolPayouts(w.home.store, w.pool, {
      resolver: w.resolver,
      period: 'P1D',
      until: new Date(Date.now() + 60_000),
      reports: [byLab, byApi],
      trustedReporters: [dataApi.did],
    });
    expect(statement.grants.find((x) => x.id === g.id)!.uses).toBe(3);
    expect(statement.currencies[0]!.total).toBe('3.00');
  });
});
