import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { accessReports, sendAccessReport } from '../../src/audit/index.js';
import type { Home } from '../../src/home/home.js';
import type { RunningServer } from '../../src/server/serve.js';
import { chargedReports } from '../../src/server/access-report.js';
import type { Issuer } from '../../src/credentials/types.js';
import { makeIssuer } from '../helpers.js';
import { openReportHome, postReport, type ReportHome } from './report-home.js';

/**
 * A report posted again to the home it is for (by whoever saw it on its way: a proxy, a log, the home's
 * own operator) is the same report: its receipts are kept once, and it is charged once to its reporter's
 * allowance (120 an hour at `charter serve`'s defaults) while it is fresh. Before, each copy was charged:
 * 120 replays an hour, from four addresses at the per-address limit, made the platform's own next report a
 * 429 for the whole day the report stays fresh. A real home served by `serveHome` on 127.0.0.1.
 */
let s: ReportHome;
let server: RunningServer;
let home: Home;
let grant: { id: string; jwt: string };

beforeAll(async () => {
  s = await openReportHome();
  ({ home, server, grant } = s);
});
afterAll(() => s.close());

const receipt = (by: Issuer) => s.receipt(by);
const report = (by: Issuer) => s.report(by);
const postFrom = (body: string, localAddress: string) => postReport(server.url, body, localAddress);

let nextOctet = 2;
const addresses = (n: number) => Array.from({ length: n }, () => `127.0.${Math.floor(nextOctet / 250)}.${(nextOctet++ % 250) + 2}`);
const statuses = (rs: { status: number }[]) => [...new Set(rs.map((r) => r.status))];
const accepted = (rs: { body: string }[]) => rs.reduce((n, r) => n + ((JSON.parse(r.body) as { accepted?: number }).accepted ?? 0), 0);
const local = { allowLoopback: true, allowHttp: true };

describe('a report posted again is charged to its reporter once while it is fresh', () => {
  it("replayed 150 times (the allowance is 120), every copy is taken, its receipt kept once, and the platform's next report still goes through", async () => {
    const platform = makeIssuer();
    const r = await report(platform);
    const replies: { status: number; body: string }[] = [];
    for (const from of addresses(5)) for (let i = 0; i < 30; i++) replies.push(await postFrom(r, from));
    expect(statuses(replies)).toEqual([202]);
    expect(accepted(replies)).toBe(1);
    expect(await sendAccessReport(platform, { grant: grant.jwt, receipts: [await receipt(platform)] }, local)).toEqual({ status: 202, accepted: 1 });
    expect((await accessReports(home.store, grant.id)).filter((u) => u.reporter === platform.did)).toHaveLength(2);
  });

  it('150 copies at once (Promise.all) are charged once: none is a 429, and the platform has 119 reports left', async () => {
    const platform = makeIssuer();
    const r = await report(platform);
    const replies = await Promise.all(addresses(5).flatMap((from) => Array.from({ length: 30 }, () => postFrom(r, from))));
    expect(statuses(replies)).toEqual([202]);
    expect(accepted(replies)).toBe(1);
    // Its allowance is whole but for that one report: 119 distinct reports are taken, the 120th after the first is not.
    const distinct: { status: number; body: string }[] = [];
    for (const [n, from] of addresses(4).entries()) for (let i = 0; i < (n === 3 ? 29 : 30); i++) distinct.push(await postFrom(await report(platform), from));
    expect(statuses(distinct)).toEqual([202]);
    const over = await postFrom(await report(platform), addresses(1)[0]!);
    expect(over.status).toBe(429);
  });

  it('distinct fresh reports still meet the limit at 120, however many replays come between them', async () => {
    const platform = makeIssuer();
    const first = await report(platform);
    const replies: { status: number; body: string }[] = [];
    let sent = 0;
    // 119 more distinct reports after the first, each followed by a copy of the first: 239 posts, 120 charged.
    for (const from of addresses(8)) {
      for (let i = 0; i < 30 && sent < 239; i++, sent++) replies.push(await postFrom(sent % 2 === 0 ? first : await report(platform), from));
    }
    expect(statuses(replies)).toEqual([202]);
    expect(accepted(replies)).toBe(120);
    const over = await postFrom(await report(platform), addresses(1)[0]!);
    expect(over.status).toBe(429);
    expect(Number(JSON.parse(over.body).code === 'TOO_MANY_REQUESTS')).toBe(1);
    // A copy of a report already charged is still taken (uncharged) while the reporter is at its limit.
    expect((await postFrom(first, addresses(1)[0]!)).status).toBe(202);
  });

  it('the same report spelled otherwise: a body with whitespace around it is the same report (charged once); another base64url spelling is refused, uncharged', async () => {
    const platform = makeIssuer();
    const r = await report(platform);
    const [h, p, s] = r.split('.') as [string, string, string];
    // The last character of a base64url part carries spare bits: another character there decodes to the same bytes.
    const respell = (part: string) => {
      const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
      const last = part.at(-1)!;
      for (const c of alphabet) if (c !== last && Buffer.from(part.slice(0, -1) + c, 'base64url').equals(Buffer.from(part, 'base64url'))) return part.slice(0, -1) + c;
      return undefined;
    };
    const respelled = [respell(p) && `${h}.${respell(p)}.${s}`, respell(s) && `${h}.${p}.${respell(s)}`, respell(h) && `${respell(h)}.${p}.${s}`].filter(
      (x): x is string => typeof x === 'string',
    );
    expect(respelled.length).toBeGreaterThan(0);
    for (const x of respelled) {
      const no = await postFrom(x, addresses(1)[0]!);
      // Refused as a malformed JWS (400) or a part not in canonical base64url (401): never read, never charged.
      expect([
        [400, 'MALFORMED_JWT'],
        [401, 'INVALID_ARGUMENT'],
      ]).toContainEqual([no.status, JSON.parse(no.body).code]);
    }
    const spellings = [r, `${r}\n`, `  ${r}\r\n`, `\t${r}`];
    const replies: { status: number; body: string }[] = [];
    for (const from of addresses(5)) for (let i = 0; i < 30; i++) replies.push(await postFrom(spellings[i % spellings.length]!, from));
    expect(statuses(replies)).toEqual([202]);
    expect(accepted(replies)).toBe(1);
    // A report with the same claims in another JSON spelling (key order) is another payload, so another report:
    // only its reporter can sign one, and it is charged as one, as it should be (it costs the reporter itself).
    expect(await sendAccessReport(platform, { grant: grant.jwt, receipts: [await receipt(platform)] }, local)).toEqual({ status: 202, accepted: 1 });
  });
});

describe('the reports remembered as charged stay bounded', () => {
  it('at most maxEntries, the oldest dropped first; an entry lives until its report stops being fresh', () => {
    const t0 = 1_800_000_000_000;
    const c = chargedReports(3);
    for (const d of ['a', 'b', 'c', 'd', 'e']) c.add(d, t0 + 86_400_000, t0);
    expect(c.size).toBe(3);
    expect(['a', 'b', 'c', 'd', 'e'].map((d) => c.has(d, t0))).toEqual([false, false, true, true, true]);
    // Fresh up to and including its last millisecond (a report is taken then); looked up after, it is gone;
    // a new entry sweeps the expired oldest ones away.
    expect(c.has('c', t0 + 86_400_000)).toBe(true);
    expect(c.has('c', t0 + 86_400_001)).toBe(false);
    expect(c.size).toBe(2);
    c.add('f', t0 + 2 * 86_400_000 + 1, t0 + 86_400_001);
    expect(c.size).toBe(1);
    expect(c.has('f', t0 + 86_400_000)).toBe(true);
    // A report no longer fresh is not remembered at all.
    c.add('g', t0, t0 + 1);
    expect(c.has('g', t0)).toBe(false);
    expect(c.size).toBe(1);
  });
});
