import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolver } from '../../src/did/index.js';
import { issueUsageReport, poolPayouts, readUsage } from '../../src/pools/index.js';
import { makeIssuer } from '../helpers.js';
import { openPoolWorld, type PoolWorld } from './world.js';

/*
 * One use is paid once: the grantee and a trusted reporter (the data API)
 * both reporting it count it once, at the highest count a report gives it.
 * A use is (grant, member, instant, resource when given).
 */

const resolver = createResolver();
const [api, pool, ana, ben, lab] = [makeIssuer(), makeIssuer(), makeIssuer(), makeIssuer(), makeIssuer()];
const GRANT = `urn:uuid:${randomUUID()}`;
const grants = new Map([[GRANT, { grantee: lab.did }]]);
const T = new Date(Date.now() - 3_600_000);
const T2 = new Date(T.getTime() + 1000);
const report = async (who: typeof lab, uses: { member: string; time: string | Date; count?: number; resource?: string }[]) =>
  (await issueUsageReport(who, { pool: pool.did, grant: GRANT, uses })).jwt;
const read = (jwts: string[]) => readUsage(jwts, { resolver, pool: pool.did, grants, trustedReporters: [api.did] });
const total = (uses: { count: number }[]) => uses.reduce((n, u) => n + u.count, 0);

describe('usage reports: a use reported twice is counted once', () => {
  it('the grantee and a trusted reporter reporting the same use: counted once, at the highest count', async () => {
    const byLab = await report(lab, [{ member: ana.did, time: T, count: 3 }]);
    const byApi = await report(api, [{ member: ana.did, time: T.toISOString().replace('.000Z', 'Z'), count: 3 }]);
    const r = await read([byLab, byApi]);
    expect(total(r.uses)).toBe(3);
    expect(r.ignored.map((i) => [i.index, i.code])).toEqual([[1, 'RECEIPT_REUSED']]);
    // The higher count wins, whichever report gives it.
    const higher = await report(api, [{ member: ana.did, time: T, count: 5 }]);
    const r2 = await read([byLab, higher]);
    expect(r2.uses.map((u) => [u.reporter, u.count])).toEqual([[api.did, 5]]);
    expect(r2.ignored.map((i) => i.index)).toEqual([0]);
  });

  it('different uses still add up: another member, another time, another resource; entries of one report add up', async () => {
    const byLab = await report(lab, [
      { member: ana.did, time: T, count: 2, resource: 'sleep/ana' },
      { member: ana.did, time: T, count: 1, resource: 'sleep/ana' },
      { member: ben.did, time: T, count: 4 },
    ]);
    const byApi = await report(api, [
      { member: ana.did, time: T, count: 3, resource: 'sleep/ana' },
      { member: ana.did, time: T, count: 1, resource: 'steps/ana' },
      { member: ana.did, time: T2, count: 2, resource: 'sleep/ana' },
      { member: ben.did, time: T, count: 4 },
    ]);
    const r = await read([byLab, byApi]);
    // ana sleep at T: 3 (lab 2+1, api 3); ana steps at T: 1; ana sleep at T2: 2; ben at T: 4.
    expect(total(r.uses)).toBe(3 + 1 + 2 + 4);
    expect(total(r.uses.filter((u) => u.member === ben.did))).toBe(4);
  });
});

describe('payouts pay a use reported by the grantee and the data API once', () => {
  let w: PoolWorld;
  beforeAll(async () => {
    w = await openPoolWorld({ members: 2, threshold: 1 });
  });
  afterAll(async () => {
    await w.close();
  });

  it.each([
    ['no resource', 'data-api', undefined, undefined],
    ['"photos/1" and "/photos/1/"', 'data-api-2', 'photos/1', '/photos/1/'],
  ])('1 EUR per use, 3 uses reported by both (%s): 3 EUR', async (_name, alias, byLabResource, byApiResource) => {
    const g = await w.grant({ terms: { compensation: { amount: '1', currency: 'EUR', per: 'use' } }, approvers: [0] });
    await w.home.createIdentity({ alias });
    const dataApi = await w.home.issuer(alias);
    const at = new Date(Date.now() + 1000);
    const uses = (resource: string | undefined) => [{ member: w.members[0]!.did, time: at, count: 3, ...(resource !== undefined ? { resource } : {}) }];
    const byLab = (await issueUsageReport(w.platform, { pool: w.pool.did, grant: g.id, uses: uses(byLabResource) })).jwt;
    const byApi = (await issueUsageReport(dataApi, { pool: w.pool.did, grant: g.id, uses: uses(byApiResource) })).jwt;
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
