import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type { RunningServer } from '../../src/server/serve.js';
import { chargedReports } from '../../src/server/access-report.js';
import type { Issuer } from '../../src/credentials/types.js';
import { makeIssuer } from '../helpers.js';
import { openReportHome, postReport, type ReportHome } from './report-home.js';

/**
 * The last instant a report is fresh. acceptAccessReport takes a report while |now - iat| <= 24 h, so at
 * exactly iat + 24 h it is taken and charged; the charged set must still know it then, or every copy posted
 * in that instant is charged again (a replayer's 120 copies lock the platform out for the hour). A real home
 * served by `serveHome` on 127.0.0.1, real signatures; only the clock (Date) is set.
 */
let s: ReportHome;
let server: RunningServer;

beforeAll(async () => {
  s = await openReportHome({ grantMs: 3 * 86_400_000 });
  ({ server } = s);
});
afterAll(() => s.close());
afterEach(() => {
  vi.useRealTimers();
});

const report = (by: Issuer) => s.report(by);
const iatOf = (jws: string) => (JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString('utf8')) as { iat: number }).iat;
const postFrom = (body: string, localAddress: string) => postReport(server.url, body, localAddress);

let nextOctet = 2;
const addresses = (n: number) => Array.from({ length: n }, () => `127.1.${Math.floor(nextOctet / 250)}.${(nextOctet++ % 250) + 2}`);
const statuses = (rs: { status: number }[]) => [...new Set(rs.map((r) => r.status))];

describe('a report at the last instant it is fresh (iat + 24 h) is charged once', () => {
  it('150 copies posted at exactly iat + 24 h are all taken, and the platform can still report', async () => {
    const platform = makeIssuer();
    const r = await report(platform);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime((iatOf(r) + 86_400) * 1000);
    const replies: { status: number; body: string }[] = [];
    for (const from of addresses(5)) for (let i = 0; i < 30; i++) replies.push(await postFrom(r, from));
    expect(statuses(replies)).toEqual([202]);
    // Its reporter has 119 reports left at this home: one more of its own is taken.
    expect((await postFrom(await report(platform), addresses(1)[0]!)).status).toBe(202);
    // One millisecond later the report is stale, refused uncharged.
    vi.setSystemTime((iatOf(r) + 86_400) * 1000 + 1);
    expect(JSON.parse((await postFrom(r, addresses(1)[0]!)).body).code).toBe('PRESENTATION_STALE');
  });

  it('from the future (iat = now + 24 h, the skew the home allows) it is charged once too', async () => {
    const platform = makeIssuer();
    const r = await report(platform);
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime((iatOf(r) - 86_400) * 1000);
    const replies: { status: number; body: string }[] = [];
    for (const from of addresses(5)) for (let i = 0; i < 30; i++) replies.push(await postFrom(r, from));
    expect(statuses(replies)).toEqual([202]);
  });
});

describe('chargedReports at its edges', () => {
  it('knows a report until the very millisecond it stops being fresh, inclusive, and not after', () => {
    const c = chargedReports(10);
    c.add('d', 1_000, 1_000);
    expect(c.has('d', 1_000)).toBe(true);
    expect(c.has('d', 1_001)).toBe(false);
    c.add('e', 2_000, 1_500);
    expect([c.has('e', 1_999), c.has('e', 2_000), c.has('e', 2_001)]).toEqual([true, true, false]);
  });

  it('an expired entry behind a long-lived one is still not known (lookups compare its time)', () => {
    const c = chargedReports(10);
    c.add('long', 100_000, 0);
    c.add('short', 10, 0);
    expect(c.has('short', 11)).toBe(false);
    expect(c.has('long', 11)).toBe(true);
  });

  it('a bound that could never make room is refused when the set is made, not met as a hang later', () => {
    for (const bad of [0, -1, 0.5, Number.NaN, Number.POSITIVE_INFINITY, '10' as unknown as number]) {
      expect(() => chargedReports(bad), String(bad)).toThrow(TypeError);
    }
    const one = chargedReports(1);
    one.add('a', 100, 0);
    one.add('b', 100, 0);
    expect([one.has('a', 1), one.has('b', 1)]).toEqual([false, true]);
  });
});
