import type { AddressInfo } from 'node:net';
import { createServer, type Server } from 'node:http';
import express from 'express';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { charter as expressCharter, keepRawBody, requireAgent as expressAgent, requireGrant as expressGrant } from '../../src/http/adapters/express.js';
import { charter as fastifyCharter, requireAgent as fastifyAgent } from '../../src/http/adapters/fastify.js';
import { charterFetch } from '../../src/http/client.js';
import { contentDigest, signRequest } from '../../src/httpsig/index.js';
import { requireSignature } from '../../src/http/guards.js';
import { verifyNodeRequest, verifyRequest } from '../../src/http/request.js';
import { writeRefusal } from '../../src/http/refusal.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { makeIssuer, tempDir } from '../helpers.js';

/**
 * Where each framework keeps the body a signed Content-Digest is checked
 * against: what works, and what is refused as a server configuration
 * mistake (a 500, never a silent pass).
 */
const agent = makeIssuer();
const sign = { sign: { signer: agent.signer, publicJwk: agent.publicJwk } };
const post = (body: string) => ({ method: 'POST', body, headers: { 'content-type': 'application/json' } });

async function listen(server: Server): Promise<string> {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

describe('the body behind a signed Content-Digest, framework by framework', () => {
  let store: Store;
  let verifier: ReturnType<typeof createVerifier>;
  const guard = requireSignature({ keys: { keys: [agent.publicJwk] } });
  const digestGuard = requireSignature({ keys: { keys: [agent.publicJwk] }, cover: ['@authority', 'content-digest'] });
  const servers: Server[] = [];
  let express1: string;
  let fastify1: string;
  let node1: string;

  beforeAll(async () => {
    store = await openSqliteStore(`${tempDir()}/api.db`);
    verifier = createVerifier({ aud: 'did:web:api.example', store, trustHostHeader: true });
    const app = express();
    // charter() before any parser reads the body itself and leaves it a Buffer, as express.raw() would.
    app.post('/first', expressCharter(verifier, guard), express.json(), (req, res) => void res.json({ buffer: Buffer.isBuffer(req.body), text: String(req.body) }));
    // express.raw() keeps the bytes in req.body.
    app.post('/raw', express.raw({ type: '*/*' }), expressCharter(verifier, guard), (req, res) => void res.json({ bytes: (req.body as Buffer).length }));
    app.post('/kept', express.json({ verify: keepRawBody }), expressCharter(verifier, guard), (req, res) => void res.json(req.body));
    // express.json() without keepRawBody: the bytes are gone.
    app.post('/parsed', express.json(), expressCharter(verifier, guard), (_req, res) => void res.json({ ran: true }));
    // The same mistake on a route that requires Content-Digest: that route can never work, a server error.
    app.post('/parsed-digest', express.json(), expressCharter(verifier, digestGuard), (_req, res) => void res.json({ ran: true }));
    const s1 = app.listen(0, '127.0.0.1');
    await new Promise<void>((r) => s1.once('listening', () => r()));
    servers.push(s1);
    express1 = `http://127.0.0.1:${(s1.address() as AddressInfo).port}`;

    const f = Fastify();
    f.post('/parsed', { preHandler: fastifyCharter(verifier, guard) }, async () => ({ ran: true }));
    f.get('/get', { preHandler: fastifyCharter(verifier, guard) }, async () => ({ ran: true }));
    fastify1 = await f.listen({ port: 0, host: '127.0.0.1' });
    servers.push(f.server);

    const n = createServer((req, res) => {
      verifyNodeRequest(req, verifier, guard).then(
        (d) => (d.ok ? res.end(JSON.stringify({ ok: true })) : writeRefusal(res, d)),
        () => res.writeHead(500).end(),
      );
    });
    node1 = await listen(n);
    servers.push(n);
  });
  afterAll(async () => {
    for (const s of servers) {
      s.closeAllConnections();
      await new Promise<void>((r) => s.close(() => r()));
    }
    await store.close();
  });

  it('Express: charter() mounted before the body parser reads the body itself and leaves it a Buffer', async () => {
    const r = await charterFetch(`${express1}/first`, post('{"a":1}'), sign);
    expect(await r.json()).toEqual({ buffer: true, text: '{"a":1}' });
  });

  it('Express: express.raw() and express.json({ verify: keepRawBody }) keep the bytes; a changed body is refused', async () => {
    expect(await (await charterFetch(`${express1}/raw`, post('{"a":1}'), sign)).json()).toEqual({ bytes: 7 });
    expect(await (await charterFetch(`${express1}/kept`, post('{"a":1}'), sign)).json()).toEqual({ a: 1 });
    const swap: typeof fetch = (u, init) => fetch(u, { ...init, body: '{"a":2}' });
    for (const path of ['/first', '/raw', '/kept']) {
      const r = await charterFetch(`${express1}${path}`, post('{"a":1}'), { ...sign, fetch: swap });
      expect([path, r.status, ((await r.json()) as { code: string }).code]).toEqual([path, 401, 'CONTENT_DIGEST_MISMATCH']);
    }
  });

  it('Express: a body parsed without its bytes kept cannot be checked: refused when the client chose to cover it, a 500 where the route requires it; the handler never runs', async () => {
    // The route asks for no Content-Digest: a client that covers one is refused (it could otherwise force a 500).
    const r = await charterFetch(`${express1}/parsed`, post('{"a":1}'), sign);
    expect([r.status, ((await r.json()) as { code: string }).code]).toEqual([401, 'CONTENT_DIGEST_MISMATCH']);
    // A route that requires it is misconfigured: every signed body fails, as a server error.
    expect((await charterFetch(`${express1}/parsed-digest`, post('{"a":1}'), sign)).status).toBe(500);
    // A signature that does not cover Content-Digest needs no body (and vouches for none).
    const signed = await signRequest(
      { method: 'POST', url: `${express1}/parsed`, headers: { 'content-type': 'application/json' } as Record<string, string> },
      { ...sign.sign, components: ['@method', '@authority', '@path', '@query'] },
    );
    const noDigest = await fetch(`${express1}/parsed`, { method: 'POST', headers: signed.headers, body: '{"a":1}' });
    expect(noDigest.status).toBe(200);
  });

  it('Fastify: without the keepRawBody hook a signed body cannot be checked (refused); a request without a body needs none', async () => {
    expect((await charterFetch(`${fastify1}/parsed`, post('{"a":1}'), sign)).status).toBe(401);
    expect((await charterFetch(`${fastify1}/get`, {}, sign)).status).toBe(200);
  });

  it('a web Request (verifyRequest: Bun, Deno, undici) is read from a clone, so the handler can still read it', async () => {
    const target = 'http://api.example/items';
    const headers = { 'content-type': 'application/json', 'content-digest': contentDigest('{"a":1}') };
    const signed = await signRequest({ method: 'POST', url: target, headers }, sign.sign);
    const request = new Request(target, { method: 'POST', headers: signed.headers as Record<string, string>, body: '{"a":1}' });
    const d = await verifyRequest(request, verifier, guard);
    expect([d.ok, await request.json()]).toEqual([true, { a: 1 }]);
    const changed = await verifyRequest(new Request(target, { method: 'POST', headers: signed.headers as Record<string, string>, body: '{"a":2}' }), verifier, guard);
    expect([changed.status, changed.reasons[0]?.code, changed.acceptSignature]).toEqual([
      401,
      'CONTENT_DIGEST_MISMATCH',
      'sig1=("@method" "@authority" "@path" "@query" "signature-agent";key="sig1");tag="web-bot-auth"',
    ]);
  });

  it('a Content-Digest covered with component parameters (;key, ;sf, ;bs) still has its body checked; a ;key this server cannot check is refused', async () => {
    const target = 'http://api.example/orders';
    const body = '{"sku":"tea","qty":1}';
    const evil = '{"sku":"tea","qty":1000}';
    const run = async (cd: string, sent: string, digest = contentDigest(body)) => {
      const headers = { 'content-type': 'application/json', 'content-digest': digest };
      const signed = await signRequest({ method: 'POST', url: target, headers }, { ...sign.sign, components: ['@method', '@authority', '@path', '@query', cd] });
      const d = await verifyRequest(new Request(target, { method: 'POST', headers: signed.headers as Record<string, string>, body: sent }), verifier, guard);
      return d.ok ? 'ok' : d.reasons[0]?.code;
    };
    for (const cd of ['"content-digest"', '"content-digest";key="sha-256"', '"content-digest";sf', '"content-digest";bs']) {
      expect([cd, await run(cd, body)]).toEqual([cd, 'ok']);
      expect([cd, await run(cd, evil)]).toEqual([cd, 'CONTENT_DIGEST_MISMATCH']);
    }
    // ;key signs one member: an unsigned member for the swapped body beside it is still compared and refused.
    const both = `${contentDigest(body)}, ${contentDigest(evil, 'sha-512')}`;
    expect(await run('"content-digest";key="sha-256"', evil, both)).toBe('CONTENT_DIGEST_MISMATCH');
    // ;key naming an algorithm the server cannot check (the unsigned sha-256 would decide alone): refused.
    const legacy = `md5=:AAAAAAAAAAAAAAAAAAAAAA==:, ${contentDigest(evil)}`;
    expect(await run('"content-digest";key="md5"', evil, legacy)).toBe('CONTENT_DIGEST_MISMATCH');
    expect(await run('"content-digest";key="sha-2567"', evil, `sha-2567=:AAAA:, ${contentDigest(evil)}`)).toBe('CONTENT_DIGEST_MISMATCH');
    // Members named like Object's own (`constructor` is a valid sf-key) are unknown algorithms: ignored beside a
    // checked one, and no supported algorithm alone; never a server error.
    expect(await run('"content-digest"', body, `constructor=:AAAA:, ${contentDigest(body)}`)).toBe('ok');
    expect(await run('"content-digest"', evil, `constructor=:AAAA:, ${contentDigest(body)}`)).toBe('CONTENT_DIGEST_MISMATCH');
    expect(await run('"content-digest"', body, 'constructor=:AAAA:')).toBe('CONTENT_DIGEST_MISMATCH');
    expect(await run('"content-digest";key="constructor"', body, `constructor=:AAAA:, ${contentDigest(body)}`)).toBe('CONTENT_DIGEST_MISMATCH');
  });

  it('node:http (verifyNodeRequest) reads the body itself, at most 1 MiB', async () => {
    expect((await charterFetch(`${node1}/x`, post('{"a":1}'), sign)).status).toBe(200);
    const big = await charterFetch(`${node1}/x`, post(JSON.stringify({ pad: 'x'.repeat(1024 * 1024) })), sign);
    expect([big.status, ((await big.json()) as { code: string }).code]).toEqual([401, 'INPUT_TOO_LARGE']);
  });
});

describe('combining guards: checked when the middleware is built', () => {
  it('one presentation guard and one signature guard at most; requireSignature needs a key source and takes no store', async () => {
    const store = await openSqliteStore(`${tempDir()}/v.db`);
    const v = createVerifier({ aud: 'did:web:api.example', store, trustHostHeader: true });
    const sig = requireSignature({ directories: 'fetch' });
    const grant = expressGrant({ resource: 'r', action: 'read', anyOwner: true });
    const agentGuard = expressAgent({ action: 'buy', trust: { anyPrincipal: true } });
    expect(() => expressCharter(v, sig, grant)).not.toThrow();
    expect(() => expressCharter(v, grant, sig)).not.toThrow();
    // An undefined guard (a misspelt name) is never skipped: it would leave its check undone.
    expect(() => expressCharter(v, grant, undefined as never)).toThrow(/guard 2 is undefined/);
    expect(() => expressCharter(v, grant, agentGuard)).toThrow(TypeError);
    expect(() => expressCharter(v, sig, requireSignature({ directories: 'fetch' }))).toThrow(TypeError);
    expect(() => expressCharter(v, { kind: 'other' } as never)).toThrow(TypeError);
    expect(() => fastifyCharter(v, sig, fastifyAgent({ action: 'buy', trust: { anyPrincipal: true } }), fastifyAgent({ action: 'sell', trust: { anyPrincipal: true } }))).toThrow(
      TypeError,
    );
    expect(() => requireSignature({})).toThrow(TypeError);
    expect(() => requireSignature({ directories: 'fetch', store } as never)).toThrow(TypeError);
    expect(() => requireSignature({ directories: 'fetch', tag: '' })).toThrow(TypeError);
    expect(requireSignature({ directories: 'fetch' }).options).toMatchObject({ requireNonce: true, requiredTag: 'web-bot-auth', store: 'caller' });
    expect(requireSignature({ directories: 'fetch', requireNonce: false, tag: null }).options.requireNonce).toBe(false);
    // A key present with the value undefined (a config loader's `requireNonce: cfg.requireNonce`) is the default, not "off".
    expect(requireSignature({ directories: 'fetch', requireNonce: undefined } as never).options.requireNonce).toBe(true);
    await store.close();
  });
});
