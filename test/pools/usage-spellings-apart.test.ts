import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createResolver } from '../../src/did/index.js';
import { normalizeResource } from '../../src/grants/index.js';
import { issueUsageReport, readUsage } from '../../src/pools/index.js';
import { makeIssuer } from '../helpers.js';

/*
 * The other side of usage-spellings.test.ts: readUsage merges two reporters' uses only when grants would
 * take their resources as one path. Resources a grant tells apart (composed vs decomposed, a percent
 * escape vs what it decodes to, a fullwidth look-alike, case), or that no grant would take at all (kept
 * as written), are different uses: each is counted, none hides another (the pool's members are paid for both).
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
