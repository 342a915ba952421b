import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { charterFetch, receiptOf } from '../../src/http/client.js';
import { verifyAuditLog, verifyReceipt, type DecisionReceipt } from '../../src/audit/index.js';
import type { Verifier } from '../../src/guard/verifier.js';
import type { AgentTrust } from '../../src/agents/types.js';
import type { Issuer } from '../../src/credentials/types.js';
import { bound } from './present.js';
import { API, openWorld, type World } from './world.js';
import { issueGrant } from '../../src/grants/index.js';

/** A grant signed by another identity of the home than alice (the data's owner). */
async function issueGrantAs(w: World, alias: string, grantee: string) {
  return issueGrant(w.home.store, await w.home.issuer(alias), {
    grantee,
    resources: ['profile/email', 'photos/*'],
    actions: ['read'],
    purpose: 'tests',
    validUntil: new Date(Date.now() + 86_400_000),
    baseUrl: w.server.url,
  });
}

/**
 * One behaviour, three frameworks: each adapter test builds the same app
 * and runs this suite against it on 127.0.0.1, through fetch. `ran` records
 * every handler that ran, so a refusal is shown to stop the request before
 * the handler, not only to set a status.
 *
 * Routes: GET /profile/email and GET /photos/:id (requireGrant, read),
 * POST /orders (requireAgent purchase, amount from `x-amount`, record; the
 * handler answers 500 on `x-fail`, releases on `x-release`, waits `x-delay` ms
 * first; POST /orders/commit-first commits before answering), GET /raw (the
 * email grant; the handler writes its own response), GET /whoami (no
 * guard), and under /c the same email route and POST /c/challenge with a
 * verifier in challenge mode.
 */
export interface AppSpec {
  verifier: Verifier;
  challengeVerifier: Verifier;
  trust: AgentTrust;
  /** The owner of every resource the routes serve (alice): only her grants count. */
  owner: string;
  ran: string[];
}

/** The handlers' `x-delay` header: wait that many milliseconds (a slow transaction). */
export function pause(ms: unknown): Promise<void> {
  return typeof ms === 'string' ? new Promise((r) => setTimeout(r, Number(ms))) : Promise.resolve();
}

export type BuildApp = (spec: AppSpec) => Promise<{ url: string; close: () => Promise<void> }>;

const codeOf = async (r: Response) => {
  // Exactly this type on every adapter (Fastify would add a charset to a string body).
  expect(r.headers.get('content-type')).toBe('application/problem+json');
  const body = (await r.json()) as { code: string; status: number; reasons: { code: string }[] };
  expect(body.status).toBe(r.status);
  return body.code;
};

export function adapterSuite(name: string, build: BuildApp): void {
  describe(`${name} adapter, real server on 127.0.0.1`, () => {
    let w: World;
    let url: string;
    let close: () => Promise<void>;
    const ran: string[] = [];
    let grant: string;
    const as = (holder: Issuer, credentials: string[]) => ({ holder, credentials, aud: API });
    const auth = (vp: string) => ({ authorization: `Bearer ${vp}` });

    beforeAll(async () => {
      w = await openWorld();
      grant = (await w.grant()).jwt;
      // Every route signs decision receipts: the whole suite runs with the receipts hook on.
      await w.home.createIdentity({ alias: 'api' });
      const app = await build({
        verifier: w.verifier({ receipts: { signer: await w.home.issuer('api') } }),
        challengeVerifier: w.verifier({ nonces: 'challenge' }),
        trust: { principals: [w.principal.did] },
        owner: w.alice.did,
        ran,
      });
      url = app.url;
      close = app.close;
    });
    afterAll(async () => {
      await close();
      await w.close();
    });
    const runs = async (fn: () => Promise<void>) => {
      ran.length = 0;
      await fn();
      return [...ran];
    };

    it('allows a request carrying a bound grant; the handler sees the holder and the grant', async () => {
      expect(
        await runs(async () => {
          const r = await charterFetch(`${url}/profile/email?x=1`, {}, as(w.app, [grant]));
          expect(r.status).toBe(200);
          expect(await r.json()).toEqual({ holder: w.app.did, grantor: w.alice.did });
          const p = await charterFetch(`${url}/photos/2024`, {}, as(w.app, [grant]));
          expect(p.status).toBe(200);
          const who = await charterFetch(`${url}/whoami`, {}, as(w.app, []));
          expect(await who.json()).toEqual({ holder: w.app.did });
        }),
      ).toEqual(['email', 'photos', 'whoami']);
    });

    it('no presentation: 401 problem details and a Bearer challenge; the handler never runs', async () => {
      expect(
        await runs(async () => {
          const r = await fetch(`${url}/profile/email`);
          expect(r.status).toBe(401);
          expect(r.headers.get('www-authenticate')).toBe(`Bearer realm="${API}"`);
          expect(await codeOf(r)).toBe('INVALID_PRESENTATION');
          const junk = await fetch(`${url}/profile/email`, { headers: auth('not.a.jwt') });
          expect([junk.status, await codeOf(junk)]).toEqual([401, 'MALFORMED_JWT']);
        }),
      ).toEqual([]);
    });

    it('the store unreachable: 503 problem details with Retry-After, nothing allowed; served again once it is back', async () => {
      expect(
        await runs(async () => {
          w.storeDown(true);
          try {
            const r = await charterFetch(`${url}/profile/email`, {}, as(w.app, [grant]));
            expect([r.status, r.headers.get('retry-after'), await codeOf(r)]).toEqual([503, '1', 'STORE_UNAVAILABLE']);
            const order = await charterFetch(`${url}/orders`, { method: 'POST', headers: { 'x-amount': '5 USD' } }, as(w.agent, [w.agentIdentity, await w.mandate()]));
            expect(order.status).toBe(503);
          } finally {
            w.storeDown(false);
          }
          expect((await charterFetch(`${url}/profile/email`, {}, as(w.app, [grant]))).status).toBe(200);
        }),
      ).toEqual(['email']);
    });

    it('a replayed presentation is refused (REPLAY_DETECTED); the handler ran once', async () => {
      expect(
        await runs(async () => {
          const vp = await bound(w.app, [grant], { url: `${url}/profile/email` });
          expect((await fetch(`${url}/profile/email`, { headers: auth(vp) })).status).toBe(200);
          const again = await fetch(`${url}/profile/email`, { headers: auth(vp) });
          expect([again.status, await codeOf(again)]).toEqual([401, 'REPLAY_DETECTED']);
          expect(again.headers.get('www-authenticate')).toContain('error="invalid_token"');
        }),
      ).toEqual(['email']);
    });

    /** A request exactly as written (fetch would normalise the path and merge repeated headers). */
    const raw = (path: string, headers: [string, string][]) =>
      new Promise<number>((resolve, reject) => {
        const u = new URL(url);
        const s = connect(Number(u.port), u.hostname, () =>
          s.write(`GET ${path} HTTP/1.1\r\nHost: ${u.host}\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}Connection: close\r\n\r\n`),
        );
        let out = '';
        s.on('data', (d: Buffer) => (out += d.toString()));
        s.on('end', () => resolve(Number(out.split(' ')[1])));
        s.on('error', reject);
      });

    it('a path the URL parser would rewrite (backslashes, dot segments) never runs another route under a presentation for /whoami', async () => {
      for (const path of ['/photos/x\\..\\..\\whoami', '/photos/%2e%2e/whoami', '/photos/x/%2E./../whoami']) {
        const before = ran.length;
        const vp = await bound(w.app, [grant], { url: `${url}/whoami` });
        const status = await raw(path, [['Authorization', `Bearer ${vp}`]]);
        // Express and Fastify route on the path as sent: refused. Hono routes the normalised path: /whoami itself.
        expect([path, ran.slice(before).includes('photos')]).toEqual([path, false]);
        if (status === 200) expect(ran.slice(before)).toEqual(['whoami']);
      }
    });

    it('a fragment in the request target binds nothing (RFC 9112 §3.2.1): 401, nothing runs, on every adapter', async () => {
      for (const path of ['/profile/email#x', '/profile/email#', '/profile/email?x=1#y', '/profile/email?#']) {
        const before = ran.length;
        const vp = await bound(w.app, [grant], { url: `${url}/profile/email` });
        expect([path, await raw(path, [['Authorization', `Bearer ${vp}`]])]).toEqual([path, 401]);
        expect(ran.slice(before)).toEqual([]);
      }
      // Without the fragment, the same request is fine.
      const vp = await bound(w.app, [grant], { url: `${url}/profile/email` });
      expect(await raw('/profile/email', [['Authorization', `Bearer ${vp}`]])).toBe(200);
    });

    it('the query is bound by htq when the presentation carries it (charterFetch does): another query, or a malformed htq, is 401 REQUEST_MISMATCH and nothing runs', async () => {
      const grant = (await w.grant()).jwt;
      const send = async (path: string, claims: Record<string, unknown>) => {
        const vp = await bound(w.app, [grant], { url: `${url}/profile/email`, claims });
        return fetch(`${url}${path}`, { headers: { authorization: `Bearer ${vp}` } });
      };
      const before = ran.length;
      for (const [path, claims] of [
        ['/profile/email?user=bob', { htq: 'user=alice' }],
        ['/profile/email?user=alice&x=1', { htq: 'user=alice' }],
        ['/profile/email?b=2&a=1', { htq: 'a=1&b=2' }],
        ['/profile/email?user=%61lice', { htq: 'user=alice' }],
        ['/profile/email?user=alice', { htq: '' }],
        ['/profile/email', { htq: 'user=alice' }],
        ['/profile/email?user=alice', { htq: null }],
        ['/profile/email?user=alice', { htq: ['user=alice'] }],
        ['/profile/email?user=alice', { htq: 7 }],
      ] as const) {
        const r = await send(path, claims);
        expect([path, claims, r.status, await codeOf(r)]).toEqual([path, claims, 401, 'REQUEST_MISMATCH']);
      }
      expect(ran.slice(before)).toEqual([]);
      // The query as sent, with or without one ("?" alone is an empty query); a proof without htq binds none (DPoP's htu alone).
      for (const [path, claims] of [
        ['/profile/email?user=alice', { htq: 'user=alice' }],
        ['/profile/email', { htq: '' }],
        ['/profile/email?', { htq: '' }],
        ['/profile/email?any=thing', {}],
      ] as const) {
        expect([path, claims, (await send(path, claims)).status]).toEqual([path, claims, 200]);
      }
      // charterFetch binds the query it sends: its proof, taken in flight before it arrives, is refused
      // under another query, and taken under its own.
      expect((await charterFetch(`${url}/profile/email?user=alice&n=caf%C3%A9`, {}, as(w.app, [grant]))).status).toBe(200);
      let taken = '';
      const intercept = (async (_input: URL | RequestInfo, init?: RequestInit) => {
        taken = new Headers(init?.headers).get('authorization') ?? '';
        return new Response(null, { status: 204 });
      }) as typeof fetch;
      await charterFetch(`${url}/profile/email?user=alice`, {}, { ...as(w.app, [grant]), fetch: intercept });
      expect(taken).toMatch(/^Bearer /);
      const before2 = ran.length;
      const other = await fetch(`${url}/profile/email?user=bob`, { headers: { authorization: taken } });
      expect([other.status, await codeOf(other)]).toEqual([401, 'REQUEST_MISMATCH']);
      expect(ran.slice(before2)).toEqual([]);
      expect((await fetch(`${url}/profile/email?user=alice`, { headers: { authorization: taken } })).status).toBe(200);
    });

    it('a route parameter is not decoded twice: any "%" or non-NFC text in it is refused, never read as a separator or another name (RESOURCE_INVALID)', async () => {
      // The framework hands the handler id "public%2Fx" for /photos/public%252Fx; decoded again it would be
      // "photos/public/x", inside a grant for photos/public/* that does not name the object the handler serves.
      const narrow = (await w.grant({ resources: ['photos/public/*'] })).jwt;
      const paths = ['/photos/public%252Fx', '/photos/public%252fx', '/photos/public%255Cx', '/photos/a%2525b', '/photos/a%25'];
      // Any "%" the handler would see: "%61" is object "%61", not "a"; a double-encoded "é" is not "é"; a
      // decomposed "é" (NFD) is not the composed one the grant names.
      paths.push('/photos/public%252F%2561', '/photos/%2570ublic', '/photos/public%2F%2561', '/photos/public%2Fcaf%25C3%25A9', '/photos/public%2Fcafe%CC%81');
      for (const path of paths) {
        const before = ran.length;
        const r = await charterFetch(`${url}${path}`, {}, as(w.app, [narrow]));
        expect([path, r.status, await codeOf(r)]).toEqual([path, 400, 'RESOURCE_INVALID']);
        expect(ran.slice(before)).toEqual([]);
      }
      // A plain slash in the parameter ("/photos/public%2Fx" gives id "public/x") names the path the grant covers.
      const r = await charterFetch(`${url}/photos/public%2Fx`, {}, as(w.app, [narrow]));
      expect(r.status).toBe(200);
      // A composed "é", encoded once in the URL, reaches the route decoded: covered as written.
      expect((await charterFetch(`${url}/photos/public%2Fcaf%C3%A9`, {}, as(w.app, [narrow]))).status).toBe(200);
      const exact = (await w.grant({ resources: ['photos/a'] })).jwt;
      expect((await charterFetch(`${url}/photos/a`, {}, as(w.app, [exact]))).status).toBe(200);
      const r2 = await charterFetch(`${url}/photos/%2561`, {}, as(w.app, [exact]));
      expect([r2.status, await codeOf(r2)]).toEqual([400, 'RESOURCE_INVALID']);
    });

    it('an absolute-form request target, or a request without Host, binds nothing on any adapter: 401 REQUEST_MISMATCH, nothing runs', async () => {
      const u = new URL(url);
      /** One request exactly as written, head lines and all; its status code. */
      const send = (head: string) =>
        new Promise<string>((resolve, reject) => {
          const s = connect(Number(u.port), u.hostname, () => s.write(`${head}\r\nConnection: close\r\n\r\n`));
          let out = '';
          s.on('data', (d: Buffer) => (out += d.toString()));
          s.on('end', () => resolve(out));
          s.on('error', reject);
        });
      const statusOf = (out: string) => Number(out.split(' ')[1]);
      const codeIn = (out: string) => (/"code":"([A-Z_]+)"/.exec(out) ?? [])[1];
      // Presentations for every URL the request could be read as: the routed path, the target as a path, the absolute URL.
      const cases: [string, string[]][] = [
        [`GET ${url}/profile/email HTTP/1.1\r\nHost: ${u.host}`, [`${url}/profile/email`, `${url}/${url}/profile/email`]],
        [`GET http://elsewhere.example/profile/email HTTP/1.1\r\nHost: ${u.host}`, [`${url}/profile/email`, `http://elsewhere.example/profile/email`]],
        [`GET HTTP://${u.host}/profile/email HTTP/1.1\r\nHost: ${u.host}`, [`${url}/profile/email`]],
        [`GET /profile/email HTTP/1.0`, [`${url}/profile/email`, `http://localhost/profile/email`, `http://0.0.0.0/profile/email`]],
      ];
      for (const [head, urls] of cases) {
        for (const bindTo of urls) {
          const before = ran.length;
          const vp = await bound(w.app, [grant], { url: bindTo });
          const out = await send(`${head}\r\nAuthorization: Bearer ${vp}`);
          // Express answers an HTTP/1.0 request without Host itself (400) before any route: also a refusal.
          expect([head, bindTo, statusOf(out) === 401 ? codeIn(out) : statusOf(out)]).toEqual([head, bindTo, statusOf(out) === 401 ? 'REQUEST_MISMATCH' : 400]);
          expect(ran.slice(before)).toEqual([]);
        }
      }
      // The same presentation sent in origin-form is fine.
      const vp = await bound(w.app, [grant], { url: `${url}/profile/email` });
      expect(statusOf(await send(`GET /profile/email HTTP/1.1\r\nHost: ${u.host}\r\nAuthorization: Bearer ${vp}`))).toBe(200);
    });

    it('two Authorization lines are one malformed credential, whichever comes first (RFC 9110 §5.3): 401, nothing runs', async () => {
      for (const order of ['valid first', 'junk first']) {
        const before = ran.length;
        const vp = `Bearer ${await bound(w.app, [grant], { url: `${url}/profile/email` })}`;
        const headers: [string, string][] =
          order === 'valid first'
            ? [
                ['Authorization', vp],
                ['Authorization', 'Bearer junk'],
              ]
            : [
                ['Authorization', 'Bearer junk'],
                ['Authorization', vp],
              ];
        expect([order, await raw('/profile/email', headers)]).toEqual([order, 401]);
        expect(ran.slice(before)).toEqual([]);
      }
    });

    it('a presentation for another method or URL is refused (REQUEST_MISMATCH)', async () => {
      expect(
        await runs(async () => {
          const post = await bound(w.app, [grant], { url: `${url}/profile/email`, method: 'POST' });
          const r1 = await fetch(`${url}/profile/email`, { headers: auth(post) });
          expect([r1.status, await codeOf(r1)]).toEqual([401, 'REQUEST_MISMATCH']);
          const photos = await bound(w.app, [grant], { url: `${url}/photos/1` });
          const r2 = await fetch(`${url}/profile/email`, { headers: auth(photos) });
          expect([r2.status, await codeOf(r2)]).toEqual([401, 'REQUEST_MISMATCH']);
          const stale = await bound(w.app, [grant], { url: `${url}/profile/email`, claims: { iat: Math.floor(Date.now() / 1000) - 600 } });
          const r3 = await fetch(`${url}/profile/email`, { headers: auth(stale) });
          expect([r3.status, await codeOf(r3)]).toEqual([401, 'PRESENTATION_STALE']);
        }),
      ).toEqual([]);
    });

    it('a grant that does not cover the resource is a 403 (GRANT_SCOPE)', async () => {
      const narrow = (await w.grant({ resources: ['profile/email'] })).jwt;
      expect(
        await runs(async () => {
          const r = await charterFetch(`${url}/photos/1`, {}, as(w.app, [narrow]));
          expect([r.status, await codeOf(r)]).toEqual([403, 'GRANT_SCOPE']);
          expect(r.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
        }),
      ).toEqual([]);
    });

    it('an expired grant is a 403 (CREDENTIAL_EXPIRED)', async () => {
      const short = (await w.grant({ validMs: 1000 })).jwt;
      await new Promise((r) => setTimeout(r, 1100));
      expect(
        await runs(async () => {
          const r = await charterFetch(`${url}/profile/email`, {}, as(w.app, [short]));
          expect([r.status, await codeOf(r)]).toEqual([403, 'CREDENTIAL_EXPIRED']);
        }),
      ).toEqual([]);
    });

    it('a revoked grant is a 403 (CREDENTIAL_REVOKED), status served by serveHome', async () => {
      const g = await w.grant();
      expect(
        await runs(async () => {
          expect((await charterFetch(`${url}/profile/email`, {}, as(w.app, [g.jwt]))).status).toBe(200);
          await w.revoke(g.id);
          w.freshStatus(); // a verifier whose cached list has expired
          const r = await charterFetch(`${url}/profile/email`, {}, as(w.app, [g.jwt]));
          expect([r.status, await codeOf(r)]).toEqual([403, 'CREDENTIAL_REVOKED']);
        }),
      ).toEqual(['email']);
    });

    it('an agent within its mandate buys until the budget is spent across requests (BUDGET_EXCEEDED)', async () => {
      const creds = [w.agentIdentity, await w.mandate()];
      const order = (amount: string, headers: Record<string, string> = {}) =>
        charterFetch(`${url}/orders`, { method: 'POST', headers: { 'x-amount': amount, ...headers } }, as(w.agent, creds));
      expect(
        await runs(async () => {
          const a = await order('40 USD');
          expect(a.status).toBe(201);
          expect(await a.json()).toMatchObject({ agent: w.agent.did, remaining: { budget: { amount: '60', currency: 'USD' } } });
          expect((await order('40 USD')).status).toBe(201);
          const c = await order('40 USD');
          expect([c.status, await codeOf(c)]).toEqual([403, 'BUDGET_EXCEEDED']);
          const big = await order('60 USD');
          expect([big.status, await codeOf(big)]).toEqual([403, 'AUTHORITY_EXCEEDED']);
        }),
      ).toEqual(['order', 'order']);
    });

    it('a failed or released order gives its reservation back; a committed one stays spent', async () => {
      const creds = [w.agentIdentity, await w.mandate()];
      const order = (headers: Record<string, string> = {}) => charterFetch(`${url}/orders`, { method: 'POST', headers: { 'x-amount': '50 USD', ...headers } }, as(w.agent, creds));
      expect(
        await runs(async () => {
          expect((await order({ 'x-fail': '1' })).status).toBe(500);
          expect((await order({ 'x-release': '1' })).status).toBe(200);
          expect((await order()).status).toBe(201);
          expect((await order()).status).toBe(201);
          // Settled after the response is sent: give the ledger a moment.
          await new Promise((r) => setTimeout(r, 50));
          const r = await order();
          expect([r.status, await codeOf(r)]).toEqual([403, 'BUDGET_EXCEEDED']);
        }),
      ).toEqual(['order', 'order', 'order', 'order']);
    });

    it("a grant from anyone but the data's owner is refused (GRANT_NOT_OWNER), whatever it covers", async () => {
      // app grants itself access to alice's email: a valid, unrevoked grant, but not alice's.
      const self = await w.home.createIdentity({ alias: `mallory-${Date.now()}` });
      const forged = (await issueGrantAs(w, self.alias, w.app.did)).jwt;
      expect(
        await runs(async () => {
          const r = await charterFetch(`${url}/profile/email`, {}, as(w.app, [forged]));
          expect([r.status, await codeOf(r)]).toEqual([403, 'GRANT_NOT_OWNER']);
        }),
      ).toEqual([]);
    });

    it('an order without an amount, to a money-limited mandate, is refused (AMOUNT_REQUIRED); nothing is reserved', async () => {
      const creds = [w.agentIdentity, await w.mandate({ limits: { budget: { amount: '10', currency: 'USD', period: 'P30D' } } })];
      expect(
        await runs(async () => {
          for (let i = 0; i < 3; i++) {
            const r = await charterFetch(`${url}/orders`, { method: 'POST' }, as(w.agent, creds));
            expect([r.status, await codeOf(r)]).toEqual([400, 'AMOUNT_REQUIRED']);
          }
          expect((await charterFetch(`${url}/orders`, { method: 'POST', headers: { 'x-amount': '10 USD' } }, as(w.agent, creds))).status).toBe(201);
        }),
      ).toEqual(['order']);
    });

    it('a client that hangs up while the handler runs settles nothing: the handler still ships, so its success is spent', async () => {
      // Budget 100 USD. Each order is 50 USD; the client gives up once the handler has started (not after a
      // fixed time: on a loaded machine the decision alone can take longer), the handler finishes 300 ms later.
      const creds = [w.agentIdentity, await w.mandate()];
      const hangUp = async (path: string) => {
        const abort = new AbortController();
        const started = ran.length;
        const t = setInterval(() => ran.length > started && abort.abort(), 5);
        const init = { method: 'POST', headers: { 'x-amount': '50 USD', 'x-delay': '300' }, signal: abort.signal };
        try {
          await expect(charterFetch(`${url}${path}`, init, as(w.agent, creds))).rejects.toThrow();
        } finally {
          clearInterval(t);
        }
      };
      const before = ran.length;
      await hangUp('/orders');
      await hangUp('/orders/commit-first');
      expect(ran.slice(before)).toEqual(['order', 'order']);
      // Both handlers finish and succeed: both orders count, none is given back.
      await expect.poll(async () => (await w.apiStore.listReservations({ state: 'reserved' })).length, { timeout: 5000, interval: 50 }).toBe(0);
      const r = await charterFetch(`${url}/orders`, { method: 'POST', headers: { 'x-amount': '50 USD' } }, as(w.agent, creds));
      expect([r.status, await codeOf(r)]).toEqual([403, 'BUDGET_EXCEEDED']);
    });

    it('a commit that fails after the guard allowed the request answers 503 with Retry-After, and the spend is released once the store is back', async () => {
      const creds = [w.agentIdentity, await w.mandate()];
      const order = () => charterFetch(`${url}/orders/commit-first`, { method: 'POST', headers: { 'x-amount': '50 USD' } }, as(w.agent, creds));
      w.faults.commit = true;
      try {
        const r = await order();
        expect([r.status, r.headers.get('retry-after'), await codeOf(r)]).toEqual([503, '1', 'STORE_UNAVAILABLE']);
      } finally {
        w.faults.commit = false;
      }
      // The held 50 USD is released in the background: the whole 100 USD budget is usable again.
      await expect.poll(async () => (await w.apiStore.listReservations({ state: 'reserved' })).length, { timeout: 5000, interval: 100 }).toBe(0);
      expect((await order()).status).toBe(201);
      expect((await order()).status).toBe(201);
    });

    it('an agent of an untrusted principal, or without an amount the mandate needs, is refused', async () => {
      const creds = [w.agentIdentity, await w.mandate()];
      expect(
        await runs(async () => {
          const r = await charterFetch(`${url}/orders`, { method: 'POST', headers: { 'x-amount': 'lots' } }, as(w.agent, creds));
          expect([r.status, await codeOf(r)]).toEqual([400, 'INVALID_ARGUMENT']);
          const grantHolder = await charterFetch(`${url}/orders`, { method: 'POST', headers: { 'x-amount': '5 USD' } }, as(w.app, [grant]));
          expect(grantHolder.status).toBe(403);
        }),
      ).toEqual([]);
    });

    it('the Charter-Receipt reaches the client also when the handler sends its own response (a raw Response, a hijacked reply)', async () => {
      const r = await charterFetch(`${url}/raw`, {}, as(w.app, [grant]));
      expect([r.status, await r.text()]).toEqual([200, 'raw']);
      const v = await verifyReceipt(receiptOf(r)!, { resolver: w.resolver, issuers: [(await w.home.identity('api')).did] });
      expect(v.reasons).toEqual([]);
      expect(v.claims).toMatchObject({ decision: 'allow', request: { htm: 'GET', htu: `${url}/raw` } });
    });

    it('every decision answers with a Charter-Receipt, allowed or refused, signed by the verifier and in its log', async () => {
      const receipt = async (r: Response) => {
        await r.body?.cancel();
        const v = await verifyReceipt(receiptOf(r)!, { resolver: w.resolver, issuers: [(await w.home.identity('api')).did] });
        expect(v.reasons).toEqual([]);
        return v.claims as DecisionReceipt;
      };
      const ok = await receipt(await charterFetch(`${url}/profile/email`, {}, as(w.app, [grant])));
      expect(ok).toMatchObject({ decision: 'allow', status: 200, sub: w.app.did, request: { htm: 'GET', htu: `${url}/profile/email` } });
      const none = await receipt(await fetch(`${url}/profile/email`));
      expect(none).toMatchObject({
        decision: 'deny',
        status: 401,
        reasons: ['INVALID_PRESENTATION'],
        request: { htm: 'GET', htu: `${url}/profile/email` },
        policy: { kind: 'grant', resource: 'profile/email' },
      });
      const scope = await receipt(await charterFetch(`${url}/photos/1`, {}, as(w.app, [(await w.grant({ resources: ['calendar'] })).jwt])));
      expect(scope).toMatchObject({ decision: 'deny', status: 403, reasons: ['GRANT_SCOPE'] });
      const order = await charterFetch(`${url}/orders`, { method: 'POST', headers: { 'x-amount': '1 USD' } }, as(w.agent, [w.agentIdentity, await w.mandate()]));
      expect(order.status).toBe(201);
      const o = await receipt(order);
      expect(o).toMatchObject({ decision: 'allow', spend: { state: 'reserved', amount: { amount: '1', currency: 'USD' } } });
      // The commit before the response was logged as the order's settlement.
      const settled = await w.apiStore.listAudit({ chain: o.log.chain, fromSeq: o.log.seq + 1, kind: 'settlement' });
      expect(settled.map((e) => e.outcome)).toContain('committed');
      expect(await verifyAuditLog(w.apiStore, { resolver: w.resolver, chain: o.log.chain })).toMatchObject({ ok: true });
    });

    it('challenge mode: charterFetch answers the 401 nonce challenge once; the challenge route issues nonces', async () => {
      expect(
        await runs(async () => {
          const first = await fetch(`${url}/c/profile/email`);
          expect(first.status).toBe(401);
          expect(first.headers.get('www-authenticate')).toMatch(/^Bearer realm="[^"]+", charter-nonce="[A-Za-z0-9_-]+"$/);
          await first.body?.cancel();
          const r = await charterFetch(`${url}/c/profile/email`, {}, as(w.app, [grant]));
          expect(r.status).toBe(200);
          const c = await fetch(`${url}/c/challenge`, { method: 'POST' });
          const { nonce, expiresAt } = (await c.json()) as { nonce: string; expiresAt: string };
          expect(Date.parse(expiresAt)).toBeGreaterThan(Date.now());
          const vp = await bound(w.app, [grant], { url: `${url}/c/profile/email`, nonce });
          expect((await fetch(`${url}/c/profile/email`, { headers: auth(vp) })).status).toBe(200);
          const again = await fetch(`${url}/c/profile/email`, { headers: auth(vp) });
          expect([again.status, await codeOf(again)]).toEqual([401, 'REPLAY_DETECTED']);
          expect(again.headers.get('www-authenticate')).toContain('charter-nonce="');
        }),
      ).toEqual(['email', 'email']);
    });
  });
}
