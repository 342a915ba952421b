import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createResolver } from '../../src/did/index.js';
import { normalizeResource } from '../../src/grants/index.js';
import { issueUsageReport, readUsage } from '../../src/pools/index.js';
import { makeIssuer } from '../helpers.js';

/*
 * A use is (grant, member, instant, resource): the grantee and the data API reporting one use count it
 * once (usage-dedup.test.ts). Each spells it as it likes: the instant in another offset, the resource
 * with a leading or trailing slash, a doubled one, a "." segment. Those name the same path to every grant
 * check (normalizeResource), so they are the same use, paid once; a path that really differs is not.
 * The other side: resources a grant tells apart (composed vs decomposed, a percent escape vs what it
 * decodes to, a fullwidth look-alike, case), or that no grant would take at all (kept as written), are
 * different uses: each is counted, none hides another (the pool's members are paid for both).
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

const sameToGrants = (a: string, b: string) => {
  try {
    return normalizeResource(a) === normalizeResource(b);
  } catch {
    return a === b;
  }
};

describe('two resources grants tell apart are two uses, however close their spelling', () => {
  it.each([
    ['caf\u00e9/1', 'cafe\u0301/1'],
    ['photos/a%2Fb', 'photos/a/b'],
    ['photos/a%2Fb', 'photos/a%2fb'],
    ['photos/\uff0e\uff0e/x', 'photos/x'],
    ['photos/1', 'Photos/1'],
    ['photos/1', 'photos/1/*'],
    ['a\\b', 'a/b'],
    ['/', ''],
  ])('"%s" and "%s"', async (a, b) => {
    expect(sameToGrants(a, b)).toBe(false);
    const byLab = await report(lab, [{ member: ana.did, time: T, count: 2, resource: a }]);
    const byApi = await report(api, [{ member: ana.did, time: T, count: 3, resource: b }]);
    for (const order of [
      [byLab, byApi],
      [byApi, byLab],
    ]) {
      const r = await read(order);
      expect([a, b, total(r.uses), r.ignored.map((i) => i.code)]).toEqual([a, b, 5, []]);
    }
  });

  it('a resource no grant would take is kept as written: the same spelling twice is one use, counted once', async () => {
    const byLab = await report(lab, [{ member: ana.did, time: T, count: 2, resource: 'photos/a%2Fb' }]);
    const byApi = await report(api, [{ member: ana.did, time: T, count: 3, resource: 'photos/a%2Fb' }]);
    const r = await read([byLab, byApi]);
    expect([total(r.uses), r.ignored.map((i) => i.code)]).toEqual([3, ['RECEIPT_REUSED']]);
  });
});
