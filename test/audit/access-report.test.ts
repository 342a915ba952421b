import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../src/guard/decide.js';
import { randomUUID } from 'node:crypto';
import { acceptAccessReport, accessReports, createAccessReport, decodeReceipt, sendAccessReport, accessReportUrl, homeReportUrl } from '../../src/audit/index.js';
import { MAX_KEPT_PER_GRANT, NOT_ACCEPTED } from '../../src/audit/access-report.js';
import { RECEIPT_TYP, signCanonical } from '../../src/audit/jws.js';
import { createAccessReportHandler } from '../../src/server/access-report.js';
import type { Issuer } from '../../src/credentials/types.js';
import type { Verifier } from '../../src/guard/verifier.js';
import { bound } from '../http/present.js';
import { openWorld, type World } from '../http/world.js';
import { makeIssuer, serve, tamper } from '../helpers.js';
import { sha256Digest } from '../../src/encoding/json.js';
import { handReceipt } from './hand-receipt.js';

/** The person's side: a platform sends its receipts of uses of a grant back to the grantor's `charter serve`. */
let w: World;
let api: Issuer;
let v: Verifier;
let grant: { id: string; jwt: string };
let used: string;
let refused: string;
let other: string;

const url = 'http://127.0.0.1:9999/profile/email';
const use = async (g: { jwt: string }, resource: string) =>
  decide(v, await bound(w.app, [g.jwt], { url }), { kind: 'grant', resource, action: 'read', owner: w.alice.did }, { kind: 'claims', claims: { htm: 'GET', htu: url } });

/** The grants made here, by id: a receipt lists the grant it decided on by its hash. */
const grantJwts = new Map<string, string>();
/** The receipt's entry for grant `id`, as a verifier writes it (describeCredential). */
const cite = (id: string) => (grantJwts.has(id) ? [{ h: sha256Digest(grantJwts.get(id)!), id, iss: w.alice.did, type: ['DataAccessGrant'] }] : []);

beforeAll(async () => {
  w = await openWorld();
  const made = w.grant.bind(w);
  w.grant = async (o) => {
    const g = await made(o);
    grantJwts.set(g.id, g.jwt);
    return g;
  };
  await w.home.createIdentity({ alias: 'api' });
  api = await w.home.issuer('api');
  v = w.verifier({ receipts: { signer: api } });
  grant = await w.grant({ resources: ['profile/email'] });
  used = (await use(grant, 'profile/email')).receipt!;
  refused = (await use(grant, 'profile/phone')).receipt!;
  other = (await use(await w.grant(), 'profile/email')).receipt!;
});
afterAll(async () => w.close());

const post = (body: string, type = 'application/jwt') => fetch(`${w.server.url}/access-reports`, { method: 'POST', headers: { 'content-type': type }, body });

describe('access reports', () => {
  it("the platform finds the grantor's server from the grant and sends its receipts; the person sees which platform used the grant, when, for what", async () => {
    expect(accessReportUrl(grant.jwt)).toBe(`${w.server.url}/access-reports`);
    // The test server is on loopback over http: allowed explicitly (sendAccessReport's default is https to public addresses).
    const local = { allowLoopback: true, allowHttp: true };
    expect(await sendAccessReport(api, { grant: grant.jwt, receipts: [used, refused] }, local)).toEqual({ status: 202, accepted: 2 });
    // Sent again: nothing new.
    expect(await sendAccessReport(api, { grant: grant.jwt, receipts: [used] }, local)).toEqual({ status: 202, accepted: 0 });
    const uses = await accessReports(w.home.store, grant.id);
    expect(uses.map((u) => [u.verifier, u.outcome, u.action, u.resource])).toEqual(
      expect.arrayContaining([
        [api.did, 'allow', 'read', 'profile/email'],
        [api.did, 'deny', 'read', 'profile/phone'],
      ]),
    );
    expect(uses[0]).toMatchObject({ reporter: api.did, holder: w.app.did });
    const page = await (await fetch(`${w.server.url}/consent`)).text();
    expect(page).toContain('Reported uses');
    expect(page).toContain(`data-receipt="${uses[0]!.receiptId}"`);
  });

  it('the grantee may report its own uses; anyone else, a receipt of another grant, or a forged receipt is refused receipt by receipt', async () => {
    const stranger = makeIssuer();
    const r = await post(await createAccessReport(stranger, { aud: homeReportUrl(w.server.url), grant: grant.id, receipts: [used] }));
    expect(r.status).toBe(202);
    expect(await r.json()).toMatchObject({ accepted: 0, refused: [{ index: 0, code: 'RECEIPT_INVALID' }] });
    const mixed = await post(
      await createAccessReport(w.app, { aud: homeReportUrl(w.server.url), grant: grant.id, receipts: [used, other, tamper(used, 1, (p) => (p.decision = 'deny'))] }),
    );
    expect(((await mixed.json()) as { refused: { index: number }[] }).refused.map((x) => x.index)).toEqual([1, 2]);
  });

  it('refused reports: a bad signature (401), not a JWT or wrong type (400, 415), GET (405); an unknown grant is a 202 refusing every receipt', async () => {
    const unknown = await post(await createAccessReport(api, { aud: homeReportUrl(w.server.url), grant: 'urn:uuid:nope', receipts: [used] }));
    // The receipt is about another grant than the one the report names: told from the receipt alone.
    expect([unknown.status, await unknown.json()]).toEqual([
      202,
      { grant: 'urn:uuid:nope', accepted: 0, refused: [{ index: 0, code: 'RECEIPT_INVALID', message: 'the receipt is not about this grant' }] },
    ]);
    const bad = await createAccessReport(api, { aud: homeReportUrl(w.server.url), grant: grant.id, receipts: [used] });
    expect((await post(tamper(bad, 1, (p) => (p.grant = grant.id + 'x')))).status).toBe(401);
    expect((await post('hello')).status).toBe(400);
    expect((await post(bad, 'application/json')).status).toBe(415);
    expect((await fetch(`${w.server.url}/access-reports`)).status).toBe(405);
    await expect(createAccessReport(api, { aud: homeReportUrl(w.server.url), grant: grant.id, receipts: [] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('rate-limited per address: beyond the limit, 429 with Retry-After', async () => {
    const s = await serve((req, res) => void createAccessReportHandlerOnce(req, res));
    try {
      const report = await createAccessReport(api, { aud: homeReportUrl(w.server.url), grant: grant.id, receipts: [used] });
      const statuses: number[] = [];
      let retry: string | null = null;
      for (let i = 0; i < 4; i++) {
        const r = await fetch(`${s.url}/access-reports`, { method: 'POST', headers: { 'content-type': 'application/jwt' }, body: report });
        statuses.push(r.status);
        if (r.status === 429) retry = r.headers.get('retry-after');
        await r.body?.cancel();
      }
      expect(statuses).toEqual([202, 202, 429, 429]);
      expect(Number(retry)).toBeGreaterThan(0);
    } finally {
      await s.close();
    }
  });
});

describe('access reports cannot be used to write fiction', () => {
  /** A receipt as a verifier signs one: about this grant and its grantee, with what it says was asked and when. */
  const receipt = (by: Issuer, o: { resource?: string; action?: string; decision?: 'allow' | 'deny'; time?: Date; jti?: string } = {}, now: Date = o.time ?? new Date()) =>
    handReceipt(by, {
      sub: w.app.did,
      grant: { id: grant.id, iss: w.alice.did },
      credentials: cite(grant.id),
      policy: { kind: 'grant', resource: o.resource ?? 'profile/email', action: o.action ?? 'read', owner: w.alice.did },
      time: now,
      verifier: 'did:web:api.example',
      log: { chain: 'urn:uuid:c', seq: 1, prev: null },
      ...(o.decision ? { decision: o.decision } : {}),
      ...(o.jti ? { jti: o.jti } : {}),
    });
  const accept = async (reporter: Issuer, receipts: string[]) =>
    acceptAccessReport(w.home.store, await createAccessReport(reporter, { aud: homeReportUrl(w.server.url), grant: grant.id, receipts }), {
      resolver: w.home.resolver,
      aud: homeReportUrl(w.server.url),
    });

  it('an allowed use outside the grant, or dated before it was issued or in the future, is refused; an attempt outside it (a denial) is kept', async () => {
    const forger = makeIssuer();
    const r = await accept(forger, [
      await receipt(forger, { resource: 'medical/records', action: 'delete' }),
      await receipt(forger, { action: 'write' }),
      await receipt(forger, { resource: 'profile/email/../phone' }),
      await receipt(forger, { time: new Date(Date.now() + 3_600_000 * 24 * 365 * 5) }),
      await receipt(forger, { time: new Date('2001-01-01T00:00:00Z') }),
      await receipt(forger, { resource: 'medical/records', action: 'delete', decision: 'deny' }),
    ]);
    expect(r.refused.map((x) => [x.index, x.code])).toEqual([
      [0, 'RECEIPT_INVALID'],
      [1, 'RECEIPT_INVALID'],
      [2, 'RECEIPT_INVALID'],
      [3, 'RECEIPT_INVALID'],
      [4, 'RECEIPT_INVALID'],
    ]);
    expect(r.accepted).toBe(1);
    const uses = await accessReports(w.home.store, grant.id);
    expect(uses.filter((u) => u.verifier === forger.did).map((u) => [u.outcome, u.action, u.resource])).toEqual([['deny', 'delete', 'medical/records']]);
  });

  it('a report of more than 36 receipts (over 64 KiB) is read: up to 100', async () => {
    const platform = makeIssuer();
    const receipts = await Promise.all(Array.from({ length: 60 }, () => receipt(platform)));
    const report = await createAccessReport(platform, { aud: homeReportUrl(w.server.url), grant: grant.id, receipts });
    expect(report.length).toBeGreaterThan(64 * 1024);
    const r = await post(report);
    expect([r.status, ((await r.json()) as { accepted: number }).accepted]).toEqual([202, 60]);
  });

  it("junk naming a platform as its reporter does not use up that platform's allowance: only signed reports count", async () => {
    const s = await serve(createAccessReportHandler(w.home, { perAddressPerMinute: 1000, perReporterPerHour: 3 }));
    try {
      const send = (body: string) => fetch(`${s.url}/access-reports`, { method: 'POST', headers: { 'content-type': 'application/jwt' }, body });
      const junk = `${Buffer.from('{"alg":"EdDSA","typ":"charter-access-report+jwt"}').toString('base64url')}.${Buffer.from(JSON.stringify({ iss: api.did })).toString('base64url')}.AAAA`;
      for (let i = 0; i < 10; i++) expect((await send(junk)).status).not.toBe(429);
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await send(await createAccessReport(api, { aud: homeReportUrl(w.server.url), grant: grant.id, receipts: [used] }))).status);
      expect(statuses).toEqual([202, 202, 202, 429]);
    } finally {
      await s.close();
    }
  });

  it("a platform's own signed report that is refused (stale, from the future, no receipts, no grant) uses up none of its allowance", async () => {
    const s = await serve(createAccessReportHandler(w.home, { perAddressPerMinute: 1000, perReporterPerHour: 3 }));
    try {
      const send = (body: string) => fetch(`${s.url}/access-reports`, { method: 'POST', headers: { 'content-type': 'application/jwt' }, body });
      const now = Math.floor(Date.now() / 1000);
      const signed = async (claims: Record<string, unknown>) =>
        (
          await signCanonical(
            'charter-access-report+jwt',
            { iss: api.did, aud: homeReportUrl(w.server.url), jti: `urn:uuid:${randomUUID()}`, iat: now, grant: grant.id, receipts: [used], ...claims },
            api,
          )
        ).jws;
      const refusedReports = [
        await signed({ iat: now - 25 * 3600 }),
        await signed({ iat: now + 25 * 3600 }),
        await signed({ iat: String(now) }),
        await signed({ receipts: [] }),
        await signed({ receipts: used }),
        await signed({ grant: undefined }),
        await signed({ grant: 7 }),
      ];
      for (let i = 0; i < 3; i++) {
        for (const body of refusedReports) {
          const r = await send(body);
          expect([r.status, ((await r.json()) as { code: string }).code]).toEqual([expect.any(Number), expect.stringMatching(/PRESENTATION_STALE|INVALID_ARGUMENT/)]);
          expect(r.status).not.toBe(429);
        }
      }
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) statuses.push((await send(await createAccessReport(api, { aud: homeReportUrl(w.server.url), grant: grant.id, receipts: [used] }))).status);
      expect(statuses).toEqual([202, 202, 202, 429]);
    } finally {
      await s.close();
    }
  });

  it('acceptAccessReport asks admit only for a fresh, well-formed report: never for one it refuses for what it is', async () => {
    const asked: string[] = [];
    const admit = (reporter: string) => void asked.push(reporter);
    const now = Math.floor(Date.now() / 1000);
    const stale = (
      await signCanonical(
        'charter-access-report+jwt',
        { iss: api.did, aud: homeReportUrl(w.server.url), jti: 'urn:uuid:s', iat: now - 25 * 3600, grant: grant.id, receipts: [used] },
        api,
      )
    ).jws;
    const empty = (
      await signCanonical('charter-access-report+jwt', { iss: api.did, aud: homeReportUrl(w.server.url), jti: 'urn:uuid:e', iat: now, grant: grant.id, receipts: [] }, api)
    ).jws;
    expect((await acceptAccessReport(w.home.store, stale, { resolver: w.home.resolver, aud: homeReportUrl(w.server.url), admit })).reasons.map((r) => r.code)).toEqual([
      'PRESENTATION_STALE',
    ]);
    expect((await acceptAccessReport(w.home.store, empty, { resolver: w.home.resolver, aud: homeReportUrl(w.server.url), admit })).reasons.map((r) => r.code)).toEqual([
      'INVALID_ARGUMENT',
    ]);
    expect(asked).toEqual([]);
    const fresh = await createAccessReport(api, { aud: homeReportUrl(w.server.url), grant: grant.id, receipts: [used] });
    expect((await acceptAccessReport(w.home.store, fresh, { resolver: w.home.resolver, aud: homeReportUrl(w.server.url), admit })).reasons).toEqual([]);
    expect(asked).toEqual([api.did]);
  });

  it(`a home keeps at most ${MAX_KEPT_PER_GRANT} reported uses of one grant`, async () => {
    const g = await w.grant({ resources: ['profile/email'] });
    const platform = makeIssuer();
    const one = (jti?: string, now = new Date()) =>
      handReceipt(platform, {
        sub: w.app.did,
        grant: { id: g.id, iss: w.alice.did },
        credentials: cite(g.id),
        policy: { kind: 'grant', resource: 'profile/email', action: 'read', owner: w.alice.did },
        time: now,
        verifier: 'did:web:api.example',
        log: { chain: 'urn:uuid:c', seq: 1, prev: null },
        ...(jti ? { jti } : {}),
      });
    let accepted = 0;
    for (let k = 0; k < MAX_KEPT_PER_GRANT / 100; k++) {
      const receipts = await Promise.all(Array.from({ length: 100 }, () => one()));
      accepted += (
        await acceptAccessReport(w.home.store, await createAccessReport(platform, { aud: homeReportUrl(w.server.url), grant: g.id, receipts }), {
          resolver: w.home.resolver,
          aud: homeReportUrl(w.server.url),
        })
      ).accepted;
    }
    expect(accepted).toBe(MAX_KEPT_PER_GRANT);
    const over = await acceptAccessReport(w.home.store, await createAccessReport(platform, { aud: homeReportUrl(w.server.url), grant: g.id, receipts: [await one()] }), {
      resolver: w.home.resolver,
      aud: homeReportUrl(w.server.url),
    });
    expect([over.accepted, over.refused[0]?.message]).toEqual([0, expect.stringMatching(/at most 1000/)]);
  }, 60_000);
});

describe('charter serve: methods and sizes', () => {
  it('the read-only resources answer other methods 405 with Allow; an oversized report is 413', async () => {
    const list = (await w.home.store.listStatusLists())[0]!;
    for (const method of ['PUT', 'DELETE', 'PATCH', 'POST']) {
      for (const path of [`/status/${list.id}`, `/statuslists/${list.id}`]) {
        const r = await fetch(`${w.server.url}${path}`, { method });
        await r.body?.cancel();
        expect([method, path, r.status, r.headers.get('allow')]).toEqual([method, path, 405, 'GET, HEAD']);
      }
    }
    const big = await post('x'.repeat(600 * 1024));
    expect(big.status).toBe(413);
  });
});

describe('charter serve: did:web documents by host and path', () => {
  it('two did:web identities at one path on different hosts: each Host gets its own document; an unknown Host gets none', async () => {
    const a = await w.home.createIdentity({ alias: 'web-a', method: 'web', domain: 'example.org' });
    const b = await w.home.createIdentity({ alias: 'web-b', method: 'web', domain: 'other.org' });
    const { request } = await import('node:http');
    const u = new URL(w.server.url);
    const get = (host: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = request({ host: u.hostname, port: u.port, path: '/.well-known/did.json', headers: { host } }, (res) => {
          let body = '';
          res.on('data', (d: Buffer) => (body += d.toString()));
          res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on('error', reject);
        req.end();
      });
    expect(JSON.parse((await get('example.org')).body).id).toBe(a.did);
    expect(JSON.parse((await get('OTHER.org')).body).id).toBe(b.did);
    const unknown = await get('elsewhere.example');
    expect([unknown.status, unknown.body]).toEqual([404, expect.stringMatching(/several did:web documents/)]);
  });
});

describe('charter serve: request targets no URL parser takes', () => {
  it('"//" and "//a:b@/" are 404, not a 500', async () => {
    const { request } = await import('node:http');
    const u = new URL(w.server.url);
    for (const path of ['//', '//a:b@/', '//%zz']) {
      const status = await new Promise<number>((resolve, reject) => {
        const req = request({ host: u.hostname, port: u.port, path, method: 'GET' }, (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        });
        req.on('error', reject);
        req.end();
      });
      expect([path, status]).toEqual([path, 404]);
    }
  });
});

let handler: ReturnType<typeof createAccessReportHandler> | undefined;
function createAccessReportHandlerOnce(...a: Parameters<ReturnType<typeof createAccessReportHandler>>) {
  handler ??= createAccessReportHandler(w.home, { perAddressPerMinute: 2 });
  return handler(...a);
}

/** A receipt as anyone may sign one: about grant `g`, presented by `sub`, with what it says was asked. */
const signedReceipt = (
  by: Issuer,
  g: string,
  o: { sub?: string; jti?: string; decision?: 'allow' | 'deny'; resource?: string; action?: string; time?: Date; iss?: string } = {},
  now: Date = o.time ?? new Date(),
) =>
  signCanonical(
    RECEIPT_TYP,
    {
      iss: o.iss ?? by.did,
      jti: o.jti ?? `urn:uuid:${randomUUID()}`,
      iat: Math.floor(now.getTime() / 1000),
      time: now.toISOString(),
      kind: 'decision',
      verifier: by.did,
      decision: o.decision ?? 'allow',
      status: o.decision === 'deny' ? 403 : 200,
      reasons: o.decision === 'deny' ? ['GRANT_SCOPE'] : [],
      sub: o.sub ?? w.app.did,
      request: { none: true },
      policy: { kind: 'grant', resource: o.resource ?? 'profile/email', action: o.action ?? 'read', owner: w.alice.did },
      credentials: cite(g),
      chain: [{ id: g, iss: w.alice.did }],
      log: { chain: 'urn:uuid:c', seq: 1, prev: null },
    },
    by,
  ).then((x) => x.jws);
const acceptAs = async (reporter: Issuer, g: string, receipts: string[], o: { deadlineMs?: number } = {}) =>
  acceptAccessReport(w.home.store, await createAccessReport(reporter, { aud: homeReportUrl(w.server.url), grant: g, receipts }), {
    resolver: w.home.resolver,
    aud: homeReportUrl(w.server.url),
    ...o,
  });

describe('access reports: a forged receipt of the same id never shadows the real one', () => {
  it('the grantee reports a forgery with the real jti first (or after, or in the same report): the real receipt is still kept and shown', async () => {
    for (const order of ['forgery first', 'real first', 'one report'] as const) {
      const g = await w.grant({ resources: ['profile/email'] });
      const real = (await use(g, 'profile/email')).receipt!;
      const jti = (decodeReceipt(real) as { jti: string }).jti;
      const throwaway = makeIssuer();
      const forged = await signedReceipt(throwaway, g.id, { jti, decision: 'deny', time: new Date(Date.now() - 60_000) });
      // A forgery claiming to be the real verifier's, signed by another key: refused outright.
      const posing = await signedReceipt(throwaway, g.id, { jti, iss: api.did });
      if (order === 'forgery first') {
        expect((await acceptAs(w.app, g.id, [forged, posing])).accepted).toBe(1);
        expect((await acceptAs(api, g.id, [real])).accepted).toBe(1);
      } else if (order === 'real first') {
        expect((await acceptAs(api, g.id, [real])).accepted).toBe(1);
        expect((await acceptAs(w.app, g.id, [forged, posing])).accepted).toBe(1);
      } else {
        const r = await acceptAs(w.app, g.id, [forged, real, posing]);
        expect([r.accepted, r.refused.map((x) => x.index)]).toEqual([2, [2]]);
      }
      const uses = await accessReports(w.home.store, g.id);
      expect([order, uses.find((u) => u.verifier === api.did)?.outcome]).toEqual([order, 'allow']);
      expect(
        uses
          .filter((u) => u.receiptId === jti)
          .map((u) => u.verifier)
          .sort(),
      ).toEqual([api.did, throwaway.did].sort());
      // Sent again: nothing new, nothing replaced.
      expect((await acceptAs(api, g.id, [real])).accepted).toBe(0);
    }
  });
});

describe('access reports: a use is reported only by someone who holds the grant itself', () => {
  /** A receipt by `by` about grant `g`, listing `credentials` (what a verifier writes is the grant's hash, id, issuer, types). */
  const citing = (by: Issuer, g: { id: string }, credentials: unknown[], chain: unknown[] = [{ id: g.id, iss: w.alice.did }], over: Record<string, unknown> = {}) => {
    const now = new Date();
    return signCanonical(
      RECEIPT_TYP,
      {
        iss: by.did,
        jti: `urn:uuid:${randomUUID()}`,
        iat: Math.floor(now.getTime() / 1000),
        time: now.toISOString(),
        kind: 'decision',
        verifier: by.did,
        decision: 'allow',
        status: 200,
        reasons: [],
        sub: w.app.did,
        request: { none: true },
        policy: { kind: 'grant', resource: 'profile/email', action: 'read', owner: w.alice.did },
        credentials,
        chain,
        log: { chain: 'urn:uuid:c', seq: 1, prev: null },
        ...over,
      },
      by,
    ).then((x) => x.jws);
  };
  it("a stranger who knows the grant's id and grantee, not the grant, cannot report a use: whatever it lists, refused before any lookup", async () => {
    const g = await w.grant({ resources: ['profile/email'] });
    const otherGrant = await w.grant({ resources: ['profile/email'] });
    const stranger = makeIssuer();
    const h = sha256Digest(g.jwt);
    const lists: unknown[][] = [
      [],
      [{ id: g.id }],
      [{ id: g.id, iss: w.alice.did, type: ['DataAccessGrant'] }],
      [{ h: sha256Digest(otherGrant.jwt), id: g.id, iss: w.alice.did }],
      [{ h: sha256Digest(g.jwt + ' '), id: g.id }],
      [{ h: h.toUpperCase(), id: g.id }],
      [{ h: h.replace('sha256-', ''), id: g.id }],
      [{ h: sha256Digest(g.id), id: g.id }],
    ];
    for (const credentials of lists) {
      const r = await acceptAs(stranger, g.id, [await citing(stranger, g, credentials)]);
      expect([credentials, r.accepted, r.refused.map((x) => x.message)]).toEqual([
        credentials,
        0,
        [expect.stringMatching(/this grant|by its hash|does not verify|no Charter receipt does/)],
      ]);
    }
    // Holding the grant: listed by its hash (also under the id named in the chain only), the use is taken.
    expect((await acceptAs(stranger, g.id, [await citing(stranger, g, [{ h }])])).accepted).toBe(1);
    expect((await acceptAs(stranger, g.id, [await citing(stranger, g, [{ h, id: g.id, iss: w.alice.did }])])).accepted).toBe(1);
    expect(await w.home.store.listAccessReceipts({ grantId: g.id, limit: 10 })).toHaveLength(2);
  });

  it('a receipt carrying anything no verifier writes (personal data under a member, a query string, a credential note) is refused, not stored', async () => {
    const g = await w.grant({ resources: ['profile/email'] });
    const platform = makeIssuer();
    const cited = cite(g.id);
    const policy = { kind: 'grant', resource: 'profile/email', action: 'read', owner: w.alice.did };
    const smuggled: [string, Promise<string>][] = [
      ['a member of its own', citing(platform, g, cited, undefined, { patient: { name: 'Ann', diagnosis: 'x' } })],
      ['a query in htu', citing(platform, g, cited, undefined, { request: { htm: 'GET', htu: 'https://api.example/profile/email?email=ann@example.com' } })],
      ['a fragment in htu', citing(platform, g, cited, undefined, { request: { htm: 'GET', htu: 'https://api.example/profile/email#ssn=1' } })],
      ['a user in htu', citing(platform, g, cited, undefined, { request: { htm: 'GET', htu: 'https://ann:pw@api.example/profile/email' } })],
      ['a member beside htm/htu', citing(platform, g, cited, undefined, { request: { htm: 'GET', htu: 'https://api.example/profile/email', body: 'ann' } })],
      ['an mcp call with a note', citing(platform, g, cited, undefined, { request: { mcp: { tool: 't', args: 'sha256-x', note: 'ann' } } })],
      ['a policy member', citing(platform, g, cited, undefined, { policy: { ...policy, subjectName: 'Ann' } })],
      ['a credential note', citing(platform, g, [{ ...cited[0]!, email: 'ann@example.com' }])],
      ['a chain link note', citing(platform, g, cited, [{ id: g.id, iss: w.alice.did, note: 'Ann' }])],
    ];
    for (const [what, jws] of smuggled) {
      const r = await acceptAs(platform, g.id, [await jws]);
      expect([what, r.accepted, r.refused.map((x) => x.message)]).toEqual([what, 0, [expect.stringMatching(/no Charter receipt does/)]]);
    }
    // The same receipts in the forms verifiers write are taken.
    const plain = [
      citing(platform, g, cited),
      citing(platform, g, cited, undefined, { request: { htm: 'GET', htu: 'https://api.example/profile/email' } }),
      citing(platform, g, cited, undefined, { request: { mcp: { tool: 't', args: sha256Digest({ q: 1 }) } } }),
    ];
    expect((await acceptAs(platform, g.id, await Promise.all(plain))).accepted).toBe(3);
    expect(await w.home.store.listAccessReceipts({ grantId: g.id, limit: 10 })).toHaveLength(3);
  });

  it("two hundred throwaway keys that know only the grant's id report nothing, and the platform's real uses stay", async () => {
    const g = await w.grant({ resources: ['profile/email'] });
    const platform = makeIssuer();
    const real = await Promise.all(Array.from({ length: 50 }, () => citing(platform, g, cite(g.id))));
    expect((await acceptAs(platform, g.id, real)).accepted).toBe(50);
    let fabricated = 0;
    for (let k = 0; k < 200; k++) {
      const throwaway = makeIssuer();
      fabricated += (await acceptAs(throwaway, g.id, [await citing(throwaway, g, [])])).accepted;
    }
    expect(fabricated).toBe(0);
    const kept = await w.home.store.listAccessReceipts({ grantId: g.id, limit: 5000 });
    expect(kept.filter((r) => r.verifier === platform.did)).toHaveLength(50);
  }, 60_000);
});

describe("access reports: strangers cannot use up a grant's room", () => {
  it(`fresh did:keys fill the ${MAX_KEPT_PER_GRANT}-use cap; a did:web platform's uses are still taken, and all the keys together weigh as one`, async () => {
    const g = await w.grant({ resources: ['profile/email'] });
    for (let k = 0; k < 10; k++) {
      const stranger = makeIssuer();
      const receipts = await Promise.all(Array.from({ length: 100 }, () => signedReceipt(stranger, g.id)));
      expect((await acceptAs(stranger, g.id, receipts)).accepted).toBe(100);
    }
    // The platform's did:web costs it a domain: its share is its own, beside the one every did:key shares.
    const port = new URL(w.server.url).port;
    await w.home.createIdentity({ alias: 'web-platform', method: 'web', domain: `127.0.0.1%3A${port}:users:platform` } as never);
    const platform = await w.home.issuer('web-platform');
    const first = await acceptAs(platform, g.id, await Promise.all(Array.from({ length: 100 }, () => signedReceipt(platform, g.id))));
    expect([first.accepted, first.refused]).toEqual([100, []]);
    // Many more fresh keys later (one use each, as many reporters) take nothing from the platform.
    for (let k = 0; k < 40; k++) {
      const stranger = makeIssuer();
      const r = await acceptAs(stranger, g.id, [await signedReceipt(stranger, g.id)]);
      expect(r.refused.map((x) => x.message)).toEqual([expect.stringMatching(/at most 1000/)]);
    }
    const kept = await w.home.store.listAccessReceipts({ grantId: g.id, limit: 5000 });
    expect(kept.length).toBe(MAX_KEPT_PER_GRANT);
    expect(kept.filter((r) => r.verifier === platform.did).length).toBe(100);
  }, 120_000);

  it('the page counts every use kept and names every verifier: newer reports from many fresh keys do not hide the platform', async () => {
    const g = await w.grant({ resources: ['profile/email'] });
    const platform = makeIssuer();
    expect((await acceptAs(platform, g.id, await Promise.all(Array.from({ length: 30 }, () => signedReceipt(platform, g.id))))).accepted).toBe(30);
    await new Promise((r) => setTimeout(r, 1100)); // the strangers' uses are newer
    for (let k = 0; k < 3; k++) {
      const stranger = makeIssuer();
      expect((await acceptAs(stranger, g.id, await Promise.all(Array.from({ length: 10 }, () => signedReceipt(stranger, g.id))))).accepted).toBe(10);
    }
    const page = await (await fetch(`${w.server.url}/consent`)).text();
    const card = page.slice(page.indexOf(`data-grant="${g.id}"`));
    const slot = card.slice(card.indexOf('data-slot="access-reports"'), card.indexOf('</details>'));
    expect(slot).toContain('Reported uses (60)');
    expect(slot.match(/<li /g)).toHaveLength(20);
    // The newest 20 are the strangers'; the platform's 30, and the strangers' other 10, are counted by verifier.
    expect(slot).toMatch(new RegExp(`40 earlier: <span title="${platform.did}">[^<]+</span> \\(30\\), `));
    // grant list counts them all too.
    const listed = await accessReports(w.home.store, g.id, { limit: MAX_KEPT_PER_GRANT });
    expect(listed).toHaveLength(60);
  });

  it('reports arriving at once never keep more than the cap', async () => {
    const g = await w.grant({ resources: ['profile/email'] });
    const batches = await Promise.all(
      Array.from({ length: 15 }, async () => {
        const s = makeIssuer();
        return [s, await Promise.all(Array.from({ length: 100 }, () => signedReceipt(s, g.id)))] as const;
      }),
    );
    const results = await Promise.all(batches.map(([s, receipts]) => acceptAs(s, g.id, receipts)));
    const kept = await w.home.store.listAccessReceipts({ grantId: g.id, limit: 5000 });
    expect(kept.length).toBe(MAX_KEPT_PER_GRANT);
    // All fresh did:keys, so one share: the reports first in fill the cap, none is evicted for another.
    expect(results.reduce((n, r) => n + r.accepted, 0)).toBe(MAX_KEPT_PER_GRANT);
  }, 120_000);
});

describe('access reports: checks that need no network come first', () => {
  let hits: string[] = [];
  let mode: 'hang' | 'missing' = 'hang';
  let slow: Awaited<ReturnType<typeof serve>>;
  const held: { destroy(): void }[] = [];
  beforeAll(async () => {
    slow = await serve((req, res) => {
      hits.push(req.url ?? '');
      if (mode === 'missing') {
        res.writeHead(404);
        res.end();
      } else held.push(res);
    });
  });
  afterAll(async () => {
    for (const r of held) r.destroy();
    await slow.close();
  });
  /** A well-shaped receipt naming a did:web verifier on the test server, with a signature nobody made. */
  const junk = (issuer: string, g: string, o: { sub?: string } = {}) => {
    const now = new Date();
    const b64 = (x: unknown) => Buffer.from(JSON.stringify(x)).toString('base64url');
    const claims = {
      iss: issuer,
      jti: `urn:uuid:${randomUUID()}`,
      iat: Math.floor(now.getTime() / 1000),
      time: now.toISOString(),
      kind: 'decision',
      verifier: issuer,
      decision: 'allow',
      status: 200,
      reasons: [],
      sub: o.sub ?? w.app.did,
      request: { none: true },
      policy: { kind: 'grant', resource: 'profile/email', action: 'read', owner: w.alice.did },
      credentials: cite(g),
      chain: [{ id: g, iss: w.alice.did }],
      log: { chain: 'urn:uuid:c', seq: 1, prev: null },
    };
    return `${b64({ alg: 'EdDSA', typ: RECEIPT_TYP, kid: `${issuer}#k` })}.${b64(claims)}.${Buffer.alloc(64).toString('base64url')}`;
  };
  const webDid = (i: number) => `did:web:127.0.0.1%3A${new URL(slow.url).port}:u${i}`;

  it('receipts a stranger may not report, about another grant or another presenter, cost no DID resolution', async () => {
    hits = [];
    const g = await w.grant({ resources: ['profile/email'] });
    const started = Date.now();
    const stranger = makeIssuer();
    const r1 = await acceptAs(
      stranger,
      g.id,
      Array.from({ length: 100 }, (_, i) => junk(webDid(i), g.id)),
    );
    expect(r1.refused.length).toBe(100);
    expect(r1.refused[0]!.message).toBe(NOT_ACCEPTED);
    const r2 = await acceptAs(w.app, g.id, [
      ...Array.from({ length: 50 }, (_, i) => junk(webDid(i), 'urn:uuid:another-grant')),
      ...Array.from({ length: 50 }, (_, i) => junk(webDid(i), g.id, { sub: stranger.did })),
    ]);
    expect(r2.refused.length).toBe(100);
    expect(hits).toEqual([]);
    expect(Date.now() - started).toBeLessThan(3000);
  });

  it(`the grantee's report names at most 8 verifiers, each resolved once, within one deadline`, async () => {
    hits = [];
    mode = 'hang';
    const g = await w.grant({ resources: ['profile/email'] });
    const receipts = Array.from({ length: 100 }, (_, i) => junk(webDid(i % 20), g.id));
    const started = Date.now();
    const r = await acceptAs(w.app, g.id, receipts, { deadlineMs: 1500 });
    const took = Date.now() - started;
    expect(took).toBeLessThan(4000);
    expect(new Set(hits).size).toBeLessThanOrEqual(8);
    expect(hits.length).toBeLessThanOrEqual(8);
    expect(r.accepted).toBe(0);
    expect(r.refused.length).toBe(100);
    expect(r.refused.filter((x) => /at most 8 verifiers/.test(x.message)).length).toBe(60);
    expect(r.refused.filter((x) => /in time/.test(x.message)).length).toBe(40);
  }, 20_000);

  it('a verifier whose DID does not resolve is fetched once, not once per receipt', async () => {
    hits = [];
    mode = 'missing';
    const g = await w.grant({ resources: ['profile/email'] });
    const r = await acceptAs(
      w.app,
      g.id,
      Array.from({ length: 30 }, () => junk(webDid(999), g.id)),
    );
    expect(r.refused.length).toBe(30);
    expect(hits.length).toBe(1);
  });
});

describe('access reports: only from servers, and shown only as paths', () => {
  it('a browser request (an Origin, a cross-site or same-site fetch) or text/plain is refused before anything is read', async () => {
    const g = await w.grant({ resources: ['profile/email'] });
    const f = makeIssuer();
    const report = await createAccessReport(f, { aud: homeReportUrl(w.server.url), grant: g.id, receipts: [await signedReceipt(f, g.id, { decision: 'deny' })] });
    const send = (headers: Record<string, string>) => fetch(`${w.server.url}/access-reports`, { method: 'POST', headers, body: report });
    for (const headers of [
      { 'content-type': 'text/plain;charset=UTF-8' },
      { 'content-type': 'text/plain' },
      { 'content-type': 'application/x-www-form-urlencoded' },
      { 'content-type': 'multipart/form-data; boundary=x' },
    ]) {
      const r = await send(headers);
      expect([headers, r.status, r.headers.get('content-type')]).toEqual([headers, 415, expect.stringMatching(/^application\/problem\+json/)]);
    }
    for (const headers of [
      { origin: 'https://evil.example' } as Record<string, string>,
      { origin: 'null' },
      { origin: w.server.url },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { 'sec-fetch-site': 'cross-site', 'content-type': 'text/plain' },
    ]) {
      const r = await send({ 'content-type': 'application/jwt', ...headers });
      expect([headers, r.status]).toEqual([headers, 403]);
    }
    expect(await accessReports(w.home.store, g.id)).toEqual([]);
  });

  it('a refusal whose resource is not a plain path, or whose action is no action name, is refused, not stored; each use shown names its reporter, marked when the grantee', async () => {
    const g = await w.grant({ resources: ['profile/email'] });
    const f = makeIssuer();
    const lures = ['Your grant is compromised - call +1 555 0100', 'profile/../../secrets', 'a\u202Eevil', 'x'.repeat(300), 'profile%2Femail'];
    const r = await acceptAs(f, g.id, [
      ...(await Promise.all(lures.map((resource) => signedReceipt(f, g.id, { decision: 'deny', resource })))),
      await signedReceipt(f, g.id, { decision: 'deny', resource: 'medical/records', action: 'Call now <b>' }),
    ]);
    expect(r.accepted).toBe(0);
    expect(r.refused.map((x) => x.message)).toEqual(Array(6).fill(expect.stringMatching(/no plain resource path, or an action that is no action name/)));
    const real = (await use(g, 'profile/email')).receipt!;
    expect((await acceptAs(w.app, g.id, [real])).accepted).toBe(1);
    const ok = await signedReceipt(f, g.id, { decision: 'deny', resource: 'photos/2024' });
    expect((await acceptAs(f, g.id, [ok])).accepted).toBe(1);
    const page = await (await fetch(`${w.server.url}/consent`)).text();
    const card = page.slice(page.indexOf(`data-grant="${g.id}"`));
    const uses = card.slice(card.indexOf('<ul class="uses">'), card.indexOf('</ul>'));
    expect(uses).not.toMatch(/555 0100|secrets|evil|xxxxxxxx|%2F|Call now|medical/);
    expect(uses).toContain('was refused: read photos/2024');
    expect(uses).toContain('used it: read profile/email');
    // The reporter: the grantee reported the platform's receipt; the stranger reported its own.
    expect(uses).toMatch(/reported by <span title="[^"]+">app<\/span> \(the grantee itself\)/);
    expect(uses.match(/reported by the verifier itself/g)!.length).toBe(1);
  });
});
