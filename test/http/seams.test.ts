import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as ex from '../../src/http/adapters/express.js';
import { charterFetch, receiptOf } from '../../src/http/client.js';
import { decodeReceipt, verifyReceipt, type DecisionReceipt } from '../../src/audit/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { mandateToken } from '../../src/mandates/index.js';
import { makeIssuer } from '../helpers.js';
import { viIntent, viPayment, viWorld, type ViWorld } from '../guard/chains.js';
import { oddSdGrant, sdGrant, sdPresent, signed, tokenStatusOf, vcGrant } from '../guard/seams-fixtures.js';
import { API, openWorld, type World } from './world.js';

/**
 * The seams over a real Express server on 127.0.0.1, on a receipts
 * verifier: grant terms declared by routes (fixed and computed from the
 * request) against SD-JWT and vc+jwt grants, requireSignature alone and next
 * to a proof guard, a mandate chain signed by its agent, and concurrent
 * replays. `ran` proves a refusal never reaches the handler; every decision,
 * allow or refusal, carries its receipt.
 */
let w: World;
let vw: ViWorld;
let shop: Issuer;
let url: string;
let close: () => Promise<void>;
const ran: string[] = [];
const stranger = makeIssuer();

const codeOf = async (r: Response) => {
  expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  return ((await r.json()) as { code: string }).code;
};
/** The response's receipt, verified (signature, shape) against the verifier's DID. */
const receipt = async (r: Response): Promise<DecisionReceipt> => {
  const jws = receiptOf(r);
  expect(jws, `${r.status}: a Charter-Receipt`).toEqual(expect.any(String));
  const v = await verifyReceipt(jws!, { resolver: w.resolver, issuers: [shop.did] });
  expect(v.reasons).toEqual([]);
  return decodeReceipt(jws!) as DecisionReceipt;
};
const runs = async (fn: () => Promise<void>) => {
  ran.length = 0;
  await fn();
  return [...ran];
};

beforeAll(async () => {
  w = await openWorld();
  vw = await viWorld(new Date());
  await w.home.createIdentity({ alias: 'shop' });
  shop = await w.home.issuer('shop');
  const verifier = w.verifier({ tokenStatus: tokenStatusOf(w), receipts: { signer: shop } });
  const owner = w.alice.did;
  const app = express();
  const grantRoute = (path: string, o: { purpose?: ex.GrantGuardOptions<express.Request>['purpose']; processing?: 'on-device' } = {}) =>
    app.get(path, ex.charter(verifier, ex.requireGrant({ resource: 'profile/email', action: 'read', owner, ...o })), (req, res) => {
      ran.push(path);
      res.json({ holder: req.charter!.holder });
    });
  grantRoute('/research/profile/email', { purpose: 'research', processing: 'on-device' });
  grantRoute('/marketing/profile/email', { purpose: 'marketing', processing: 'on-device' });
  grantRoute('/none/profile/email');
  grantRoute('/dyn/profile/email', { purpose: (req) => req.get('x-purpose') as string, processing: 'on-device' });
  const keys = { keys: [w.app.publicJwk, w.agent.publicJwk, stranger.publicJwk, vw.agent.publicJwk, vw.user.publicJwk] };
  app.get('/signed', ex.charter(verifier, ex.requireSignature({ keys })), (req, res) => {
    ran.push('signed');
    res.json({ holder: req.charter!.holder });
  });
  app.get('/both/profile/email', ex.charter(verifier, ex.requireSignature({ keys }), ex.requireGrant({ resource: 'profile/email', action: 'read', owner })), (req, res) => {
    ran.push('both');
    res.json({ holder: req.charter!.holder });
  });
  app.post(
    '/pay',
    ex.charter(verifier, ex.requireMandate({ profile: 'verifiable-intent', trust: { issuers: [vw.issuer.publicJwk] } }), ex.requireSignature({ keys })),
    (req, res) => {
      ran.push('pay');
      res.status(201).json({ payer: req.charter!.holder });
    },
  );
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((r) => server.once('listening', () => r()));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  close = () =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
}, 60_000);
afterAll(async () => {
  await close?.();
  await w?.close();
});

describe('grant terms over HTTP: the route declares its use', () => {
  const terms = { purpose: ['research'], processing: 'on-device' as const };
  const sdFetch = (path: string, token: string, headers: Record<string, string> = {}) =>
    charterFetch(`${url}${path}`, { headers }, { holder: w.app, sdJwt: { token, disclose: ['grant.resources.0', 'grant.actions.0'] }, aud: API });

  it('an SD-JWT grant with terms: research on-device 200; marketing 403 PURPOSE_NOT_ALLOWED; a route declaring none 403 PURPOSE_NOT_ALLOWED; each with a receipt', async () => {
    const g = await sdGrant(w, { terms });
    expect(
      await runs(async () => {
        const ok = await sdFetch('/research/profile/email', g.token);
        expect([ok.status, await ok.json()]).toEqual([200, { holder: w.app.did }]);
        expect(await receipt(ok)).toMatchObject({ decision: 'allow', policy: { kind: 'grant', purpose: 'research', processing: 'on-device' } });
        for (const path of ['/marketing/profile/email', '/none/profile/email']) {
          const r = await sdFetch(path, g.token);
          expect([r.status, await codeOf(r)], path).toEqual([403, 'PURPOSE_NOT_ALLOWED']);
          expect(await receipt(r)).toMatchObject({ decision: 'deny', reasons: expect.arrayContaining(['PURPOSE_NOT_ALLOWED']) });
        }
      }),
    ).toEqual(['/research/profile/email']);
  });

  it('the same with a vc+jwt grant', async () => {
    const g = await vcGrant(w, terms);
    const get = (path: string) => charterFetch(`${url}${path}`, {}, { holder: w.app, credentials: [g.jwt], aud: API });
    expect(
      await runs(async () => {
        expect((await get('/research/profile/email')).status).toBe(200);
        for (const path of ['/marketing/profile/email', '/none/profile/email']) {
          const r = await get(path);
          expect([r.status, await codeOf(r)], path).toEqual([403, 'PURPOSE_NOT_ALLOWED']);
        }
      }),
    ).toEqual(['/research/profile/email']);
  });

  it('terms an owner signed as disclosable and the holder withheld: refused on every route (DISCLOSURE_INVALID)', async () => {
    const odd = await oddSdGrant(w, { resources: ['profile/email'], actions: ['read'], purpose: 'p', terms }, ['grant.terms']);
    expect(
      await runs(async () => {
        for (const path of ['/research/profile/email', '/marketing/profile/email', '/none/profile/email']) {
          const r = await charterFetch(`${url}${path}`, {}, { holder: w.app, sdJwt: { token: odd.token, disclose: [] }, aud: API });
          expect([r.status, await codeOf(r)], path).toEqual([401, 'DISCLOSURE_INVALID']);
          await receipt(r);
        }
      }),
    ).toEqual([]);
  });

  it('a purpose the route computes from the request: the matching one 200; a malformed one 400 in both formats (never a 500); none 403', async () => {
    const sd = await sdGrant(w, { terms });
    const vc = await vcGrant(w, terms);
    const both = (headers: Record<string, string>) => [
      sdFetch('/dyn/profile/email', sd.token, headers),
      charterFetch(`${url}/dyn/profile/email`, { headers }, { holder: w.app, credentials: [vc.jwt], aud: API }),
    ];
    expect(
      await runs(async () => {
        for (const r of await Promise.all(both({ 'x-purpose': 'research' }))) expect(r.status).toBe(200);
        for (const bad of ['Research', 'research marketing', 'x_y', '-', 'a'.repeat(300), 'r\u00e9search', 'research\tmarketing']) {
          for (const r of await Promise.all(both({ 'x-purpose': bad }))) expect([r.status, await codeOf(r)], bad).toEqual([400, 'INVALID_ARGUMENT']);
        }
        for (const r of await Promise.all(both({ 'x-purpose': 'marketing' }))) expect([r.status, await codeOf(r)]).toEqual([403, 'PURPOSE_NOT_ALLOWED']);
        for (const r of await Promise.all(both({}))) expect([r.status, await codeOf(r)]).toEqual([403, 'PURPOSE_NOT_ALLOWED']);
      }),
    ).toEqual(['/dyn/profile/email', '/dyn/profile/email']);
  });
});

describe('requireSignature over HTTP on a receipts verifier', () => {
  it('alone: allowed, unsigned and replayed requests each carry a receipt of policy kind signature', async () => {
    let sent: Headers | undefined;
    const record: typeof fetch = (u, init) => {
      sent = new Headers(init?.headers);
      return fetch(u, init);
    };
    expect(
      await runs(async () => {
        const ok = await charterFetch(`${url}/signed`, {}, { sign: { signer: w.agent.signer, publicJwk: w.agent.publicJwk }, fetch: record });
        expect(ok.status).toBe(200);
        expect(await receipt(ok)).toMatchObject({ decision: 'allow', policy: { kind: 'signature' } });
        const unsigned = await fetch(`${url}/signed`);
        expect([unsigned.status, await codeOf(unsigned)]).toEqual([401, 'SIGNATURE_MISSING']);
        expect(await receipt(unsigned)).toMatchObject({ decision: 'deny', reasons: ['SIGNATURE_MISSING'], policy: { kind: 'signature' } });
        const again = await fetch(`${url}/signed`, { headers: sent! });
        expect([again.status, await codeOf(again)]).toEqual([401, 'SIGNATURE_REPLAYED']);
        expect(await receipt(again)).toMatchObject({ decision: 'deny', reasons: ['SIGNATURE_REPLAYED'], policy: { kind: 'signature' } });
      }),
    ).toEqual(['signed']);
  });

  it('next to requireGrant, signed by a stranger: 401 SIGNER_NOT_HOLDER with a receipt; signed by the holder: 200', async () => {
    const g = await w.grant();
    expect(
      await runs(async () => {
        const bad = await charterFetch(
          `${url}/both/profile/email`,
          {},
          { holder: w.app, credentials: [g.jwt], aud: API, sign: { signer: stranger.signer, publicJwk: stranger.publicJwk } },
        );
        expect([bad.status, await codeOf(bad)]).toEqual([401, 'SIGNER_NOT_HOLDER']);
        const r = await receipt(bad);
        expect(r).toMatchObject({ decision: 'deny', reasons: ['SIGNER_NOT_HOLDER'], policy: { kind: 'grant' } });
        expect(r.sub).toBeUndefined();
        const ok = await charterFetch(
          `${url}/both/profile/email`,
          {},
          { holder: w.app, credentials: [g.jwt], aud: API, sign: { signer: w.app.signer, publicJwk: w.app.publicJwk } },
        );
        expect([ok.status, await ok.json()]).toEqual([200, { holder: w.app.did }]);
      }),
    ).toEqual(['both']);
  });

  it("next to requireMandate: signed by the chain's agent key 201; by another key 401 SIGNER_NOT_HOLDER; receipts of policy kind mandate", async () => {
    const intent = await viIntent(vw, new Date());
    const pay = async (by: { signer: Issuer['signer']; publicJwk: Issuer['publicJwk'] }) =>
      charterFetch(
        `${url}/pay`,
        { method: 'POST', headers: { authorization: `Bearer ${mandateToken('verifiable-intent', await viPayment(vw, intent, { amount: '10', aud: API, now: new Date() }))}` } },
        { sign: { signer: by.signer, publicJwk: by.publicJwk } },
      );
    expect(
      await runs(async () => {
        const ok = await pay(vw.agent);
        expect(ok.status).toBe(201);
        expect(await receipt(ok)).toMatchObject({ decision: 'allow', policy: { kind: 'mandate', profile: 'verifiable-intent' } });
        for (const by of [stranger, vw.user]) {
          const r = await pay(by);
          expect([r.status, await codeOf(r)]).toEqual([401, 'SIGNER_NOT_HOLDER']);
          expect(await receipt(r)).toMatchObject({ decision: 'deny', reasons: ['SIGNER_NOT_HOLDER'], policy: { kind: 'mandate' } });
        }
      }),
    ).toEqual(['pay']);
  });
});

describe('races over HTTP: N concurrent identical requests', () => {
  const N = 8;

  it('one signature nonce: exactly one 200, the handler ran once, every response receipted', async () => {
    const headers = await signed(w.agent, `${url}/signed`);
    expect(
      await runs(async () => {
        const rs = await Promise.all(Array.from({ length: N }, () => fetch(`${url}/signed`, { headers })));
        expect(rs.map((r) => r.status).sort()).toEqual([200, ...Array(N - 1).fill(401)]);
        for (const r of rs.filter((x) => x.status === 401)) expect(await codeOf(r)).toBe('SIGNATURE_REPLAYED');
        for (const r of rs) await receipt(r);
      }),
    ).toEqual(['signed']);
  });

  it('one SD-JWT presentation and one signature: exactly one 200', async () => {
    const g = await sdGrant(w);
    const target = `${url}/both/profile/email`;
    const headers = { ...(await signed(w.app, target)), authorization: `Bearer ${await sdPresent(g.token, { url: target, holder: w.app })}` };
    expect(
      await runs(async () => {
        const rs = await Promise.all(Array.from({ length: N }, () => fetch(target, { headers })));
        expect(rs.map((r) => r.status).sort()).toEqual([200, ...Array(N - 1).fill(401)]);
        for (const r of rs.filter((x) => x.status === 401)) expect(await codeOf(r)).toBe('REPLAY_DETECTED');
      }),
    ).toEqual(['both']);
  });
});
