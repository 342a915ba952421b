import type { AddressInfo } from 'node:net';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { charter, requireGrant } from '../../src/http/adapters/express.js';
import { charterFetch, type CharterFetchOptions } from '../../src/http/client.js';
import { makeIssuer } from '../helpers.js';
import { API, openWorld, type World } from './world.js';

/**
 * A proof names one URL. A redirect must never carry it elsewhere: a
 * cross-origin target could replay the presentation or signature at the
 * origin that made the redirect (before the guard there used it), and even a
 * same-origin target is a request the proof was not made for. charterFetch
 * therefore follows no redirect, whatever the status, method, proof kind or
 * `init.redirect`, and on the nonce retry too.
 */
describe('charterFetch and redirects', () => {
  let w: World;
  const servers: Server[] = [];
  const stolen: IncomingHttpHeaders[] = [];
  const ran: string[] = [];
  let api: string;
  let evil: string;
  let challenger: string;
  let grant: string;
  const signer = makeIssuer();

  const listen = async (s: Server) => {
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', () => r()));
    servers.push(s);
    return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
  };

  beforeAll(async () => {
    w = await openWorld();
    grant = (await w.grant()).jwt;
    evil = await listen(
      createServer((req, res) => {
        stolen.push(req.headers);
        res.end('thanks');
      }),
    );
    const app = express();
    const s = app.listen(0, '127.0.0.1');
    await new Promise<void>((r) => s.once('listening', () => r()));
    servers.push(s);
    api = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
    const verifier = w.verifier({ publicOrigin: api });
    for (const status of [301, 302, 303, 307, 308]) {
      app.all(`/away/${status}`, (_req, res) => void res.redirect(status, `${evil}/steal`));
      app.all(`/here/${status}`, (_req, res) => void res.redirect(status, '/profile/email'));
    }
    app.all('/profile/email', charter(verifier, requireGrant({ resource: 'profile/email', action: 'read', owner: w.alice.did })), (_req, res) => {
      ran.push('email');
      res.json({ ok: true });
    });
    // A verifier that challenges first (401 with charter-nonce), then redirects the retry away.
    let calls = 0;
    challenger = await listen(
      createServer((_req, res) => {
        if (calls++ % 2 === 0) {
          res.writeHead(401, { 'www-authenticate': 'Bearer realm="x", error="invalid_token", charter-nonce="n-123"' });
          res.end();
        } else {
          res.writeHead(307, { location: `${evil}/steal` });
          res.end();
        }
      }),
    );
  });
  afterAll(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise((r) => s.close(r));
    }
    await w.close();
  });

  const proofs = (): Array<[string, CharterFetchOptions]> => [
    ['a presentation', { holder: w.app, credentials: [grant], aud: API }],
    ['a signature', { sign: { signer: signer.signer, publicJwk: signer.publicJwk } }],
    ['both', { holder: w.app, credentials: [grant], aud: API, sign: { signer: signer.signer, publicJwk: signer.publicJwk } }],
  ];

  it('a cross-origin redirect is returned, never followed: the other origin receives nothing, for every status, method and proof', async () => {
    for (const [, options] of proofs()) {
      for (const status of [301, 302, 303, 307, 308]) {
        for (const init of [{}, { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } }] as RequestInit[]) {
          const r = await charterFetch(`${api}/away/${status}`, init, options);
          expect(r.status).toBe(status);
          expect(r.headers.get('location')).toBe(`${evil}/steal`);
        }
      }
    }
    expect(stolen).toEqual([]);
  });

  it("init.redirect 'follow' changes nothing; 'error' still rejects, and nothing is sent on", async () => {
    const r = await charterFetch(`${api}/away/302`, { redirect: 'follow' }, { holder: w.app, credentials: [grant], aud: API });
    expect(r.status).toBe(302);
    await expect(charterFetch(`${api}/away/302`, { redirect: 'error' }, { holder: w.app, credentials: [grant], aud: API })).rejects.toThrow();
    expect(stolen).toEqual([]);
  });

  it('a same-origin redirect is not followed either: the guarded target never runs on a proof made for another URL', async () => {
    for (const status of [301, 302, 303, 307, 308]) {
      const r = await charterFetch(`${api}/here/${status}`, {}, { holder: w.app, credentials: [grant], aud: API });
      expect(r.status).toBe(status);
    }
    expect(ran).toEqual([]);
    // Asked afresh, the Location is served (the proof is made for it).
    const again = await charterFetch(`${api}/profile/email`, {}, { holder: w.app, credentials: [grant], aud: API });
    expect(again.status).toBe(200);
    expect(ran).toEqual(['email']);
  });

  it('the retry after a nonce challenge is not followed to another origin either', async () => {
    for (const [, options] of proofs().filter(([n]) => n !== 'a signature')) {
      const r = await charterFetch(`${challenger}/x`, {}, options);
      expect(r.status).toBe(307);
    }
    expect(stolen).toEqual([]);
  });

  it("a caller's own fetch is asked not to follow", async () => {
    const seen: Array<RequestRedirect | undefined> = [];
    const spy: typeof fetch = (input, init) => {
      seen.push(init?.redirect);
      return fetch(input, init);
    };
    await charterFetch(`${api}/away/307`, {}, { holder: w.app, credentials: [grant], aud: API, fetch: spy });
    await charterFetch(`${api}/away/307`, { redirect: 'follow' }, { sign: { signer: signer.signer, publicJwk: signer.publicJwk }, fetch: spy });
    await charterFetch(`${api}/away/307`, { redirect: 'error' }, { sign: { signer: signer.signer, publicJwk: signer.publicJwk }, fetch: spy }).catch(() => undefined);
    expect(seen).toEqual(['manual', 'manual', 'error']);
    expect(stolen).toEqual([]);
  });
});
