import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { join } from 'node:path';
import { acceptAccessReport, accessReports, accessReportUrl, createAccessReport, homeReportUrl, sendAccessReport } from '../../src/audit/index.js';
import { ACCESS_REPORT_TYP, signCanonical } from '../../src/audit/jws.js';
import { openHome } from '../../src/home/home.js';
import { serveHome } from '../../src/server/serve.js';
import type { Issuer } from '../../src/credentials/types.js';
import { makeIssuer, tempDir } from '../helpers.js';
import { openReportHome, postReport, type ReportHome } from './report-home.js';
import { didJwkFromJwk } from '../../src/did/index.js';
import { randomUUID } from 'node:crypto';
import { dropSchemas, freshSchema, PG_URL } from '../store/fixtures/pg-env.js';

/**
 * An access report names the home it is sent to (`aud`, RFC 7519 §4.1.3): the grantor's report URL,
 * beside the grant's status list. Without it, a fresh report (24 h) posted again to ANOTHER home (another
 * person's `charter serve`) was verified there and charged to the platform's per-reporter allowance: 120
 * replays an hour locked the platform out of reporting to that home for the whole day the report is fresh.
 * Each side here is a real home served by `serveHome` on 127.0.0.1; the platform is a verifier of its own.
 */
type Side = ReportHome;
const openSide = (env?: NodeJS.ProcessEnv) => openReportHome(env ? { env } : {});
const postFrom = postReport;

const local = { allowLoopback: true, allowHttp: true };
const code = (r: { body: string }) => (JSON.parse(r.body) as { code?: string }).code;

describe('access reports name their home: a report replayed to another home is refused before it costs anything', () => {
  let a: Side;
  let b: Side;
  beforeAll(async () => {
    [a, b] = await Promise.all([openSide(), openSide()]);
  });
  afterAll(async () => {
    await a.close();
    await b.close();
  });

  it("someone who saw a platform's fresh report to home A posts it to home B 120 times: B refuses each (AUDIENCE_MISMATCH) and the platform's own report to B still goes through", async () => {
    const platform = makeIssuer();
    // The platform's real report to A, as whoever sees it (A's owner, a proxy, a log) holds it.
    const report = await createAccessReport(platform, { grant: a.grant.id, receipts: [await a.receipt(platform)], aud: accessReportUrl(a.grant.jwt) });
    // Replayed to B at `charter serve`'s default limits (30 a minute per address, 120 an hour per reporter),
    // from four addresses, as many as the per-reporter allowance holds.
    const replays: { status: number; body: string }[] = [];
    for (const from of ['127.0.0.2', '127.0.0.3', '127.0.0.4', '127.0.0.5']) for (let i = 0; i < 30; i++) replays.push(await postFrom(b.server.url, report, from));
    expect(new Set(replays.map((r) => `${r.status} ${code(r)}`))).toEqual(new Set(['401 AUDIENCE_MISMATCH']));
    // Nothing of it was kept at B.
    expect(await accessReports(b.home.store, a.grant.id)).toEqual([]);
    // The platform, which also decided on B's grant, reports that to B: nothing was charged to it, so it is taken.
    expect(await sendAccessReport(platform, { grant: b.grant.jwt, receipts: [await b.receipt(platform)] }, local)).toEqual({ status: 202, accepted: 1 });
    expect((await accessReports(b.home.store, b.grant.id)).map((u) => u.reporter)).toEqual([platform.did]);
    // And the report, delivered where it was meant to go, is taken there (the replays used nothing of it up).
    const there = await postFrom(a.server.url, report);
    expect([there.status, JSON.parse(there.body)]).toEqual([202, { grant: a.grant.id, accepted: 1, refused: [] }]);
  });
});

/** A report `by` signs with these claims (aud left out when `ABSENT`), as no Charter sender writes it. */
const ABSENT = Symbol('absent');
async function signedReport(by: Issuer, side: Side, aud: unknown, receipts: string[]): Promise<string> {
  const claims = { iss: by.did, jti: `urn:uuid:${randomUUID()}`, iat: Math.floor(Date.now() / 1000), grant: side.grant.id, receipts, ...(aud === ABSENT ? {} : { aud }) };
  return (await signCanonical(ACCESS_REPORT_TYP, claims, by)).jws;
}

/** Every `aud` but this home's report URL as written, one string or an array of that one. */
function otherAudiences(side: Side, other: Side): [string, unknown][] {
  const here = accessReportUrl(side.grant.jwt);
  const u = new URL(here);
  const port = u.port;
  return [
    ['missing', ABSENT],
    ['null', null],
    ['a number', 42],
    ['true', true],
    ['an object', {}],
    ['an object holding the URL', { href: here }],
    ['an empty string', ''],
    ['an empty array', []],
    ['an array naming another home too', [here, accessReportUrl(other.grant.jwt)]],
    ['an array naming this home twice', [here, here]],
    ['an array of an array', [[here]]],
    ['an array of a number', [42]],
    ['upper-case scheme and path', here.replace('http://', 'HTTP://').replace('/access-reports', '/Access-Reports')],
    ['a trailing slash', `${here}/`],
    ['a percent-encoded path', here.replace('/access-reports', '/access%2Dreports')],
    ['a percent-encoded first letter', here.replace('/access-reports', '/%61ccess-reports')],
    ['an empty query', `${here}?`],
    ['an empty fragment', `${here}#`],
    ['localhost for 127.0.0.1', `http://localhost:${port}/access-reports`],
    ['the address as one number', `http://2130706433:${port}/access-reports`],
    ['the address mapped into IPv6', `http://[::ffff:127.0.0.1]:${port}/access-reports`],
    ['the public URL (origin) alone', side.server.url],
    ['the origin with a slash', `${side.server.url}/`],
    ['the status list URL', `${side.server.url}/status/1`],
    ["another home's report URL", accessReportUrl(other.grant.jwt)],
    ["the grantor's DID", side.alice.did],
    ["the grantor's key as a did:jwk", didJwkFromJwk(side.alice.publicJwk)],
    ["the grantor's alias", 'alice'],
  ];
}

function refusalsBeforeAnything(kind: 'SQLite' | 'PostgreSQL', env?: () => NodeJS.ProcessEnv) {
  describe(`${kind}: a report whose aud is not this home's report URL is refused (AUDIENCE_MISMATCH) before it is charged or read against the grant`, () => {
    let a: Side;
    let b: Side;
    beforeAll(async () => {
      [a, b] = await Promise.all([openSide(env?.()), openSide()]);
    });
    afterAll(async () => {
      await a.close();
      await b.close();
    });

    it('missing, of the wrong type, another spelling of the URL, several homes, the grantor named by DID: each refused, nobody charged, nothing stored', async () => {
      const platform = makeIssuer();
      const asked: string[] = [];
      const admit = (reporter: string) => void asked.push(reporter);
      const options = { resolver: a.home.resolver, aud: homeReportUrl(server(a)), admit };
      const receipt = await a.receipt(platform);
      const results: [string, string[]][] = [];
      for (const [what, aud] of otherAudiences(a, b)) {
        const r = await acceptAccessReport(a.home.store, await signedReport(platform, a, aud, [receipt]), options);
        results.push([what, [...r.reasons.map((x) => x.code), `accepted ${r.accepted}`]]);
      }
      expect(results).toEqual(otherAudiences(a, b).map(([what]) => [what, ['AUDIENCE_MISMATCH', 'accepted 0']]));
      expect(asked).toEqual([]);
      expect(await accessReports(a.home.store, a.grant.id)).toEqual([]);
      // The same receipt, in a report naming this home (as a string, or an array of that one): taken, and charged once each.
      const ok = await acceptAccessReport(a.home.store, await signedReport(platform, a, accessReportUrl(a.grant.jwt), [receipt]), options);
      expect([ok.reasons, ok.accepted]).toEqual([[], 1]);
      const inArray = await acceptAccessReport(a.home.store, await signedReport(platform, a, [accessReportUrl(a.grant.jwt)], [await a.receipt(platform)]), options);
      expect([inArray.reasons, inArray.accepted]).toEqual([[], 1]);
      expect(asked).toEqual([platform.did, platform.did]);
      expect(await accessReports(a.home.store, a.grant.id)).toHaveLength(2);
    });

    it('over HTTP: a report without aud, or replayed from this home to another, is 401 AUDIENCE_MISMATCH there; the one addressed here is 202', async () => {
      const platform = makeIssuer();
      const noAud = await postFrom(a.server.url, await signedReport(platform, a, ABSENT, [await a.receipt(platform)]));
      expect([noAud.status, code(noAud)]).toEqual([401, 'AUDIENCE_MISMATCH']);
      // What `sendAccessReport` sends names the home it posts to: B's platform report, replayed to A, is refused there.
      const toB = await createAccessReport(platform, { grant: b.grant.id, receipts: [await b.receipt(platform)], aud: accessReportUrl(b.grant.jwt) });
      const replay = await postFrom(a.server.url, toB);
      expect([replay.status, code(replay)]).toEqual([401, 'AUDIENCE_MISMATCH']);
      expect(await accessReports(a.home.store, b.grant.id)).toEqual([]);
      const there = await postFrom(b.server.url, toB);
      expect([there.status, JSON.parse(there.body).accepted]).toEqual([202, 1]);
    });
  });
}
const server = (s: Side) => s.server.url;

refusalsBeforeAnything('SQLite');
if (PG_URL) {
  const schema = freshSchema('aud');
  afterAll(() => dropSchemas(PG_URL!, [schema]));
  refusalsBeforeAnything('PostgreSQL', () => ({ ...process.env, CHARTER_STORE: PG_URL, CHARTER_STORE_SCHEMA: schema }));
}

describe('the sender and a home without a public URL', () => {
  it('createAccessReport names a home by its report URL as accessReportUrl writes it: anything else is INVALID_ARGUMENT, before signing', async () => {
    const platform = makeIssuer();
    const input = { grant: 'urn:uuid:00000000-0000-4000-8000-000000000000', receipts: ['x'] };
    for (const aud of [
      undefined,
      '',
      'did:key:z6Mkf',
      'HTTP://127.0.0.1:1/access-reports',
      'http://127.0.0.1:1/access-reports?x=1',
      'http://u:p@127.0.0.1:1/access-reports',
      'ftp://127.0.0.1/access-reports',
      42,
      ['http://127.0.0.1:1/access-reports'],
    ]) {
      await expect(createAccessReport(platform, { ...input, aud } as never)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    const jws = await createAccessReport(platform, { ...input, aud: 'http://127.0.0.1:1/access-reports' });
    expect(JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()).aud).toBe('http://127.0.0.1:1/access-reports');
  });

  it('a home whose public URL changed refuses reports naming the old one; a home with none refuses every report', async () => {
    const c = await openSide();
    try {
      const platform = makeIssuer();
      const report = await createAccessReport(platform, { grant: c.grant.id, receipts: [await c.receipt(platform)], aud: accessReportUrl(c.grant.jwt) });
      await c.home.setPublicUrl('http://127.0.0.1:9');
      const moved = await postFrom(c.server.url, report);
      expect([moved.status, code(moved)]).toEqual([401, 'AUDIENCE_MISMATCH']);
      await c.home.setPublicUrl(c.server.url);
      const back = await postFrom(c.server.url, report);
      expect([back.status, JSON.parse(back.body).accepted]).toEqual([202, 1]);
    } finally {
      await c.close();
    }
    const bare = await openHome({ home: join(tempDir('charter-aud-'), 'home'), passphrase: async () => 'aud tests passphrase', allowLoopback: true });
    await bare.init();
    const running = await serveHome(bare, { port: 0 });
    try {
      const platform = makeIssuer();
      const report = await createAccessReport(platform, { grant: 'urn:uuid:00000000-0000-4000-8000-000000000000', receipts: ['x'], aud: homeReportUrl(running.url) });
      const r = await postFrom(running.url, report);
      expect([r.status, code(r)]).toEqual([401, 'AUDIENCE_MISMATCH']);
    } finally {
      await running.close();
      await bare.close();
    }
  });
});

describe("the home's own aud", () => {
  it('acceptAccessReport with an aud no report can name (another spelling, a query, not a URL) is a TypeError, not a refusal of every report as meant for another home', async () => {
    const c = await openSide();
    try {
      const platform = makeIssuer();
      const url = homeReportUrl(c.server.url);
      const report = await createAccessReport(platform, { grant: c.grant.id, receipts: [await c.receipt(platform)], aud: url });
      const u = new URL(url);
      for (const aud of [
        undefined,
        '',
        url.toUpperCase().replace('/ACCESS-REPORTS', '/access-reports'),
        `${u.protocol}//0x7f.0.0.1:${u.port}${u.pathname}`,
        `${u.origin}/./access-reports`,
        `${url}?x=1`,
        `${url}#top`,
        ` ${url}`,
        c.alice.did,
        'access-reports',
        42,
      ]) {
        await expect(acceptAccessReport(c.home.store, report, { resolver: c.home.resolver, aud } as never), String(aud)).rejects.toThrow(TypeError);
      }
      // Nothing was stored by those calls: the home's own report URL still takes the report, once.
      const r = await acceptAccessReport(c.home.store, report, { resolver: c.home.resolver, aud: url });
      expect([r.ok, r.accepted]).toEqual([true, 1]);
    } finally {
      await c.close();
    }
  });
});
