import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';
import express from 'express';
import { Hono } from 'hono';
import { serve } from '@hono/node-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ex from '../../src/http/adapters/express.js';
import * as ho from '../../src/http/adapters/hono.js';
import { charterFetch } from '../../src/http/client.js';
import { createTokenStatusChecker, issueSdJwtGrant, presentSdJwtVc, revokeSdJwtVc } from '../../src/sdjwt/index.js';
import { mandateToken, type MandateTrust } from '../../src/mandates/index.js';
import type { Verifier } from '../../src/guard/verifier.js';
import { ap2Payment, ap2World, viIntent, viPayment, viWorld, type Ap2World, type ViWorld } from '../guard/chains.js';
import { API, openWorld, type World } from './world.js';

/**
 * The 2026 formats over HTTP, on Express and Hono: an SD-JWT grant as the
 * Bearer token (its key binding JWT bound to the request), and payment
 * mandate chains (Verifiable Intent in the Bearer token, AP2 in the body)
 * charged against their budgets. `ran` proves a refusal stops the handler.
 */
interface Spec {
  verifier: Verifier;
  challengeVerifier: Verifier;
  owner: string;
  vi: MandateTrust;
  ap2: MandateTrust;
  ran: string[];
}
type Build = (s: Spec) => Promise<{ url: string; close: () => Promise<void> }>;

const expressApp: Build = async ({ verifier, challengeVerifier, owner, vi, ap2, ran }) => {
  const app = express();
  app.get('/profile/email', ex.charter(verifier, ex.requireGrant({ resource: 'profile/email', action: 'read', owner })), (req, res) => {
    ran.push('email');
    res.json({ holder: req.charter!.holder, format: (req.charter!.grant as { format?: string }).format ?? 'vc+jwt' });
  });
  app.get('/c/profile/email', ex.charter(challengeVerifier, ex.requireGrant({ resource: 'profile/email', action: 'read', owner })), (_req, res) => {
    ran.push('email');
    res.json({});
  });
  app.post('/pay', ex.charter(verifier, ex.requireMandate({ profile: 'verifiable-intent', trust: vi, amount: (req) => req.get('x-amount') })), (req, res) => {
    ran.push('pay');
    if (req.get('x-fail')) return void res.status(502).json({ error: 'declined' });
    res.status(201).json({ payer: req.charter!.holder, remaining: req.charter!.spend?.remaining });
  });
  app.post(
    '/ap2',
    express.json({ limit: '1mb' }),
    ex.charter(verifier, ex.requireMandate({ profile: 'ap2', trust: ap2, chain: (req) => (req.body as { mandate?: unknown }).mandate })),
    (_req, res) => {
      ran.push('ap2');
      res.status(201).json({});
    },
  );
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((r) => server.once('listening', () => r()));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
};

const honoApp: Build = async ({ verifier, challengeVerifier, owner, vi, ap2, ran }) => {
  const app = new Hono<ho.CharterEnv>();
  app.get('/profile/email', ho.charter(verifier, ho.requireGrant({ resource: 'profile/email', action: 'read', owner })), (c) => {
    ran.push('email');
    return c.json({ holder: c.get('charter').holder, format: (c.get('charter').grant as { format?: string }).format ?? 'vc+jwt' });
  });
  app.get('/c/profile/email', ho.charter(challengeVerifier, ho.requireGrant({ resource: 'profile/email', action: 'read', owner })), (c) => {
    ran.push('email');
    return c.json({});
  });
  app.post('/pay', ho.charter(verifier, ho.requireMandate({ profile: 'verifiable-intent', trust: vi, amount: (c) => c.req.header('x-amount') })), (c) => {
    ran.push('pay');
    if (c.req.header('x-fail')) return c.json({ error: 'declined' }, 502);
    return c.json({ payer: c.get('charter').holder, remaining: c.get('charter').spend?.remaining }, 201);
  });
  // Hono reads a body once and keeps it: the guard and the handler may both ask for it.
  app.post('/ap2', ho.charter(verifier, ho.requireMandate({ profile: 'ap2', trust: ap2, chain: async (c) => ((await c.req.json()) as { mandate?: unknown }).mandate })), (c) => {
    ran.push('ap2');
    return c.json({}, 201);
  });
  const server = await new Promise<ReturnType<typeof serve>>((resolve) => {
    const s = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }, () => resolve(s));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => new Promise<void>((r) => server.close(() => r())) };
};

const codeOf = async (r: Response) => ((await r.json()) as { code: string }).code;

for (const [name, build] of [
  ['Express', expressApp],
  ['Hono', honoApp],
] as const) {
  describe(`${name}: SD-JWT grants and payment mandates over HTTP`, () => {
    let w: World;
    let vw: ViWorld;
    let aw: Ap2World;
    let url: string;
    let close: () => Promise<void>;
    const ran: string[] = [];
    let grant: { id: string; token: string };
    const runs = async (fn: () => Promise<void>) => {
      ran.length = 0;
      await fn();
      return [...ran];
    };
    const auth = (token: string) => ({ authorization: `Bearer ${token}` });
    const sdJwtGrant = (to = w.app.did, owner = w.alice) =>
      issueSdJwtGrant(w.home.store, owner, {
        grantee: to,
        resources: ['profile/email', 'photos/*'],
        actions: ['read'],
        purpose: 'tests',
        validUntil: new Date(Date.now() + 86_400_000),
        baseUrl: w.server.url,
        resolver: w.resolver,
      });

    beforeAll(async () => {
      w = await openWorld();
      vw = await viWorld(new Date());
      aw = await ap2World(new Date());
      // A Token Status List checker that never caches, so a revocation is seen at once.
      const tokenStatus = (s: unknown, ctx: Parameters<ReturnType<typeof createTokenStatusChecker>>[1]) =>
        createTokenStatusChecker({ resolver: w.resolver, allowLoopback: true, allowHttp: true })(s, ctx);
      grant = await sdJwtGrant();
      const app = await build({
        verifier: w.verifier({ tokenStatus }),
        challengeVerifier: w.verifier({ tokenStatus, nonces: 'challenge' }),
        owner: w.alice.did,
        vi: { issuers: [vw.issuer.publicJwk] },
        ap2: { issuers: [aw.root.publicJwk], merchants: [aw.merchant.publicJwk] },
        ran,
      });
      url = app.url;
      close = app.close;
    });
    afterAll(async () => {
      await close();
      await w.close();
    });

    it('an SD-JWT grant as the Bearer token: charterFetch discloses the one permission; the handler sees the holder', async () => {
      expect(
        await runs(async () => {
          const r = await charterFetch(`${url}/profile/email`, {}, { holder: w.app, sdJwt: { token: grant.token, disclose: ['grant.resources.0', 'grant.actions.0'] }, aud: API });
          expect([r.status, await r.json()]).toEqual([200, { holder: w.app.did, format: 'dc+sd-jwt' }]);
        }),
      ).toEqual(['email']);
    });

    it('its key binding JWT is the bound proof: used once (REPLAY_DETECTED), for this URL and method (REQUEST_MISMATCH), present (KEY_BINDING_INVALID)', async () => {
      const kb = (o: { htm?: string; htu?: string; nonce?: string } = {}) =>
        presentSdJwtVc(grant.token, {
          holder: w.app,
          disclose: ['grant'],
          aud: API,
          nonce: o.nonce ?? randomUUID(),
          claims: { htm: o.htm ?? 'GET', htu: o.htu ?? `${url}/profile/email` },
        });
      expect(
        await runs(async () => {
          const p = await kb();
          expect((await fetch(`${url}/profile/email`, { headers: auth(p) })).status).toBe(200);
          const again = await fetch(`${url}/profile/email`, { headers: auth(p) });
          expect([again.status, await codeOf(again)]).toEqual([401, 'REPLAY_DETECTED']);
          for (const other of [await kb({ htm: 'POST' }), await kb({ htu: `${url}/photos/1` })]) {
            const r = await fetch(`${url}/profile/email`, { headers: auth(other) });
            expect([r.status, await codeOf(r)]).toEqual([401, 'REQUEST_MISMATCH']);
          }
          const unbound = await presentSdJwtVc(grant.token, { holder: w.app, disclose: ['grant'], aud: API, nonce: randomUUID() });
          const r = await fetch(`${url}/profile/email`, { headers: auth(unbound) });
          expect([r.status, await codeOf(r)]).toEqual([401, 'REQUEST_MISMATCH']);
          const bare = await fetch(`${url}/profile/email`, { headers: auth(grant.token) });
          expect([bare.status, await codeOf(bare)]).toEqual([401, 'KEY_BINDING_INVALID']);
          const forAgents = await fetch(`${url}/pay`, { method: 'POST', headers: auth(await kb()) });
          expect(forAgents.status).toBe(401);
        }),
      ).toEqual(['email']);
    });

    it('the same refusals as a vc+jwt grant: a withheld permission (GRANT_SCOPE), another owner (GRANT_NOT_OWNER), revoked (CREDENTIAL_REVOKED)', async () => {
      expect(
        await runs(async () => {
          const photosOnly = await charterFetch(
            `${url}/profile/email`,
            {},
            { holder: w.app, sdJwt: { token: grant.token, disclose: ['grant.resources.1', 'grant.actions'] }, aud: API },
          );
          expect([photosOnly.status, await codeOf(photosOnly)]).toEqual([403, 'GRANT_SCOPE']);
          const bobs = await sdJwtGrant(w.app.did, w.principal);
          const notOwner = await charterFetch(`${url}/profile/email`, {}, { holder: w.app, sdJwt: { token: bobs.token, disclose: ['grant'] }, aud: API });
          expect([notOwner.status, await codeOf(notOwner)]).toEqual([403, 'GRANT_NOT_OWNER']);
          const revoked = await sdJwtGrant();
          expect((await charterFetch(`${url}/profile/email`, {}, { holder: w.app, sdJwt: { token: revoked.token, disclose: ['grant'] }, aud: API })).status).toBe(200);
          await revokeSdJwtVc(w.home.store, revoked.id, (did) => w.home.issuer(did));
          const r = await charterFetch(`${url}/profile/email`, {}, { holder: w.app, sdJwt: { token: revoked.token, disclose: ['grant'] }, aud: API });
          expect([r.status, await codeOf(r)]).toEqual([403, 'CREDENTIAL_REVOKED']);
        }),
      ).toEqual(['email']);
    });

    it('challenge mode: charterFetch answers the 401 with a key binding JWT carrying the issued nonce', async () => {
      expect(
        await runs(async () =>
          expect((await charterFetch(`${url}/c/profile/email`, {}, { holder: w.app, sdJwt: { token: grant.token, disclose: ['grant'] }, aud: API })).status).toBe(200),
        ),
      ).toEqual(['email']);
    });

    it('a Verifiable Intent payment in the Bearer token is charged against payment.cumulative; parallel requests cannot overspend; a failed response gives it back', async () => {
      const intent = await viIntent(vw, new Date(), { cumulative: { amount: '500', currency: 'USD', period: 'WEEKLY' } });
      const pay = async (amount: string, headers: Record<string, string> = {}) =>
        fetch(`${url}/pay`, {
          method: 'POST',
          headers: { ...auth(mandateToken('verifiable-intent', await viPayment(vw, intent, { amount, aud: API, now: new Date() }))), 'x-amount': `${amount} USD`, ...headers },
        });
      expect(
        await runs(async () => {
          const failed = await pay('200', { 'x-fail': '1' });
          expect(failed.status).toBe(502);
          const results = await Promise.all(Array.from({ length: 5 }, () => pay('200')));
          expect(results.map((r) => r.status).sort()).toEqual([201, 201, 403, 403, 403]);
          expect(await Promise.all(results.filter((r) => r.status === 403).map(codeOf))).toEqual(['BUDGET_EXCEEDED', 'BUDGET_EXCEEDED', 'BUDGET_EXCEEDED']);
          const wrong = await fetch(`${url}/pay`, {
            method: 'POST',
            headers: { ...auth(mandateToken('verifiable-intent', await viPayment(vw, intent, { amount: '10', aud: API, now: new Date() }))), 'x-amount': '11 USD' },
          });
          expect([wrong.status, await codeOf(wrong)]).toEqual([401, 'REQUEST_MISMATCH']);
          const none = await fetch(`${url}/pay`, { method: 'POST' });
          expect([none.status, await codeOf(none)]).toEqual([401, 'INVALID_PRESENTATION']);
        }),
      ).toEqual(['pay', 'pay', 'pay']);
    });

    it('an AP2 payment read from the JSON body is charged against the open mandate budget', async () => {
      const own = await ap2World(new Date(), 300);
      // The route pins only the shared world's root: a chain rooted elsewhere is refused.
      const body = async (world: Ap2World) => JSON.stringify({ mandate: await ap2Payment(world, { minor: 15000, aud: API, now: new Date() }) });
      expect(
        await runs(async () => {
          const post = async (world: Ap2World) => fetch(`${url}/ap2`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: await body(world) });
          expect((await post(aw)).status).toBe(201);
          const stranger = await post(own);
          expect([stranger.status, await codeOf(stranger)]).toEqual([401, 'INVALID_SIGNATURE']);
        }),
      ).toEqual(['ap2']);
    });
  });
}
