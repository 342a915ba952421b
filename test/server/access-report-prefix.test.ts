import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { accessReports, accessReportUrl, createAccessReport, homeReportUrl, sendAccessReport } from '../../src/audit/index.js';
import { issueGrant } from '../../src/grants/index.js';
import { issueSdJwtGrant } from '../../src/sdjwt/index.js';
import { makeIssuer } from '../helpers.js';
import { openReportHome, postJwt, type ReportHome } from './report-home.js';

/**
 * Two homes on one host under path prefixes (`http://host/a`, `http://host/b`: a reverse proxy takes the
 * prefix off and passes the rest to each home's `charter serve`, as their status lists at
 * `<public URL>/status/<id>` need). A report's `aud` must tell them apart, and a report must go to the home
 * whose grant it is about: the report URL is `<public URL>/access-reports`, the prefix kept. With the
 * host's root instead, both homes took the same `aud` (a report for A, posted to B through the proxy, was
 * charged to its reporter at B) and no report reached either home (the root is the proxy's own, or a
 * third home's). Real homes on 127.0.0.1 behind a real proxy.
 */
type Side = ReportHome;
let proxy: Server;
let origin: string;
const sides: Record<'a' | 'b', Side> = {} as never;

const openSide = (prefix: 'a' | 'b'): Promise<Side> => openReportHome({ publicUrl: () => `${origin}/${prefix}` });

beforeAll(async () => {
  // The proxy: /a/… to home A's serve, /b/… to home B's, the prefix taken off; anything else 404.
  proxy = createServer((req, res) => {
    const m = /^\/([ab])(\/.*)$/.exec(req.url ?? '');
    const side = m ? sides[m[1] as 'a' | 'b'] : undefined;
    if (!m || !side) {
      res.writeHead(404).end();
      return;
    }
    const u = new URL(side.server.url);
    const up = request({ host: u.hostname, port: u.port, path: m[2], method: req.method, headers: req.headers }, (r) => {
      res.writeHead(r.statusCode ?? 502, r.headers);
      r.pipe(res);
    });
    up.on('error', () => res.writeHead(502).end());
    req.pipe(up);
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  sides.a = await openSide('a');
  sides.b = await openSide('b');
});
afterAll(async () => {
  for (const s of Object.values(sides)) await s.close();
  await new Promise((resolve) => proxy.close(resolve));
});

const local = { allowLoopback: true, allowHttp: true };

describe('homes under path prefixes of one host are two homes to access reports', () => {
  it("each grant's report URL keeps its home's prefix, and is the URL that home takes as its aud", async () => {
    for (const [p, s] of Object.entries(sides)) {
      expect(accessReportUrl(s.grant.jwt)).toBe(`${origin}/${p}/access-reports`);
      expect(homeReportUrl((await s.home.publicUrl())!)).toBe(`${origin}/${p}/access-reports`);
    }
    // An SD-JWT grant's Token Status List (`<base>/statuslists/<id>`) leads to the same place.
    const s = sides.b;
    const sd = await issueSdJwtGrant(s.home.store, s.alice, {
      grantee: s.app.did,
      resources: ['profile/email'],
      actions: ['read'],
      purpose: 'tests',
      validUntil: new Date(Date.now() + 86_400_000),
      baseUrl: (await s.home.publicUrl())!,
      holderKey: s.app.publicJwk,
    });
    expect(accessReportUrl(sd.token)).toBe(`${origin}/b/access-reports`);
  });

  it("sendAccessReport delivers a platform's report to the home under its prefix (202, kept there)", async () => {
    const platform = makeIssuer();
    for (const s of Object.values(sides)) {
      expect(await sendAccessReport(platform, { grant: s.grant.jwt, receipts: [await s.receipt(platform)] }, local)).toEqual({ status: 202, accepted: 1 });
      expect((await accessReports(s.home.store, s.grant.id)).map((u) => u.reporter)).toContain(platform.did);
    }
  });

  it("a platform's report for A, posted to B through the proxy, is AUDIENCE_MISMATCH at B, charged to nobody", async () => {
    const platform = makeIssuer();
    const forA = await createAccessReport(platform, { grant: sides.a.grant.id, receipts: [await sides.a.receipt(platform)], aud: accessReportUrl(sides.a.grant.jwt) });
    const atB = await postJwt(`${origin}/b/access-reports`, forA);
    expect([atB.status, JSON.parse(atB.body).code]).toEqual([401, 'AUDIENCE_MISMATCH']);
    const atA = await postJwt(`${origin}/a/access-reports`, forA);
    expect([atA.status, JSON.parse(atA.body).accepted]).toEqual([202, 1]);
  });
});

describe("the sender's report URL and the home's agree for every public URL a home takes", () => {
  it('ports, IPv6, IDN, case, trailing dots, slashes, percent-encoded and Unicode paths: accessReportUrl(grant) is homeReportUrl(publicUrl)', async () => {
    const s = sides.a;
    const seen: string[] = [];
    for (const url of [
      'HTTPS://Example.COM:443/',
      'https://example.com:8443',
      'https://bücher.example/Home',
      'https://xn--bcher-kva.example./a/b//',
      'http://[0:0:0:0:0:0:0:1]:8080/x',
      'http://LOCALHOST:80/',
      'https://example.com/%7Ealice/caf%C3%A9',
      'https://example.com/ä b/c',
      'https://example.com/a/./b/../c',
      'https://example.com/status',
      'https://example.com/a/status/x',
    ]) {
      await s.home.setPublicUrl(url);
      const base = (await s.home.publicUrl())!;
      const g = await issueGrant(s.home.store, s.alice, {
        grantee: s.app.did,
        resources: ['profile/email'],
        actions: ['read'],
        purpose: 'tests',
        validUntil: new Date(Date.now() + 86_400_000),
        baseUrl: base,
      });
      const home = homeReportUrl(base);
      expect([url, accessReportUrl(g.jwt)]).toEqual([url, home]);
      // The home's report URL from the URL as given (not stored) is the same, and the sender may sign it.
      expect(homeReportUrl(url)).toBe(home);
      await expect(createAccessReport(makeIssuer(), { grant: g.id, receipts: ['x'], aud: home })).resolves.toMatch(/\./);
      seen.push(home);
    }
    expect(seen).toContain('https://example.com/access-reports');
    expect(seen).toContain('https://xn--bcher-kva.example/Home/access-reports');
    expect(seen).toContain('http://[::1]:8080/x/access-reports');
    expect(seen).toContain('https://example.com/a/status/x/access-reports');
    await s.home.setPublicUrl(`${origin}/a`);
  });

  it('homeReportUrl leaves out a query or fragment of the URL it is given', () => {
    expect(homeReportUrl('https://H.example:443/a/?x=1#y')).toBe('https://h.example/a/access-reports');
    expect(homeReportUrl('https://h.example#top')).toBe('https://h.example/access-reports');
  });
});
