import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPresentation } from '../../src/credentials/index.js';
import { bound, URL_ } from './present.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { guardSet, requireAgent, requireGrant, requireSignature } from '../../src/http/guards.js';
import { signed } from '../guard/seams-fixtures.js';
import { authorize, verifyNodeRequest, verifyRequest } from '../../src/http/request.js';
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { HTTP_STATUS } from '../../src/errors.js';
import { challengeNonce } from '../../src/http/client.js';
import { tamper } from '../helpers.js';
import { API, openWorld, type World } from './world.js';

const req = (vp: string | undefined, o: { method?: string; url?: string } = {}) =>
  new Request(o.url ?? URL_, { method: o.method ?? 'GET', headers: vp === undefined ? {} : { authorization: `Bearer ${vp}` } });
const codes = (d: { reasons: { code: string }[] }) => d.reasons.map((r) => r.code);

describe('createVerifier and guards check their options when built', () => {
  let w: World;
  beforeAll(async () => {
    w = await openWorld();
  });
  afterAll(() => w.close());

  it('refuses bad options with a TypeError, before any request', () => {
    const store = w.apiStore;
    const o = { publicOrigin: 'https://api.example' };
    // Which URL presentations are bound to must be said: a public origin, the Host header (explicitly), or no HTTP.
    expect(() => createVerifier({ aud: API, store })).toThrow(TypeError);
    expect(() => createVerifier({ aud: API, store, publicOrigin: 'https://a.example', trustHostHeader: true })).toThrow(TypeError);
    expect(() => createVerifier({ aud: API, store, trustHostHeader: false })).toThrow(TypeError);
    expect(createVerifier({ aud: API, store, trustHostHeader: true }).http).toBe('host-header');
    expect(createVerifier({ aud: API, store, http: false }).http).toBe(false);
    expect(() => createVerifier({ aud: '', store, ...o })).toThrow(TypeError);
    expect(() => createVerifier({ aud: API, store: {} as never, ...o })).toThrow(TypeError);
    expect(() => createVerifier({ aud: API, store, nonces: 'sometimes' as never, ...o })).toThrow(TypeError);
    expect(() => createVerifier({ aud: API, store, maxAgeSeconds: -1, ...o })).toThrow(TypeError);
    expect(() => createVerifier({ aud: API, store, skewSeconds: 301, ...o })).toThrow(TypeError);
    expect(() => createVerifier({ aud: API, store, realm: 'a"b', ...o })).toThrow(TypeError);
    expect(() => createVerifier({ aud: API, store, publicOrigin: 'ftp://x' })).toThrow(TypeError);
    expect(() => createVerifier({ aud: API, store, resolver: {} as never, ...o })).toThrow(TypeError);
    expect(createVerifier({ aud: API, store, publicOrigin: 'https://API.example.com:443' }).http).toEqual({ origin: 'https://api.example.com' });
    expect(createVerifier({ aud: API, store, publicOrigin: 'https://api.example.com/' }).http).toEqual({ origin: 'https://api.example.com' });
    // An origin only: anything else would be dropped, binding proofs to URLs that clients behind a
    // prefix-stripping proxy never call (and taking those made for the site root).
    for (const publicOrigin of [
      'https://api.example.com/base',
      'https://api.example.com/base/',
      'https://api.example.com//',
      'https://api.example.com/?',
      'https://api.example.com?x=1',
      'https://api.example.com#top',
      'https://api.example.com/#',
      'https://user@api.example.com',
      'https://user:pw@api.example.com',
      'https://api.example.com/%2e',
    ]) {
      expect(() => createVerifier({ aud: API, store, publicOrigin }), publicOrigin).toThrow(/origin only/);
    }
  });

  it('guards refuse missing scope, amount or trust when built', () => {
    expect(() => requireGrant({ resource: '', action: 'read', anyOwner: true })).toThrow(TypeError);
    expect(() => requireGrant({ resource: 'x', anyOwner: true } as never)).toThrow(TypeError);
    // Whose data the route serves must be said: an owner, or explicitly any.
    expect(() => requireGrant({ resource: 'x', action: 'read' })).toThrow(TypeError);
    expect(() => requireGrant({ resource: 'x', action: 'read', owner: 'alice' })).toThrow(TypeError);
    expect(() => requireGrant({ resource: 'x', action: 'read', owner: 'did:key:z6Mk', anyOwner: true })).toThrow(TypeError);
    expect(requireGrant({ resource: 'x', action: 'read', owner: () => 'did:key:z6Mk' }).kind).toBe('grant');
    expect(() => requireAgent({ action: 'purchase', trust: {} })).toThrow(TypeError);
    expect(() => requireAgent({ action: 'purchase', trust: { anyPrincipal: true }, amount: '5 USD' as never })).toThrow(TypeError);
    expect(() => requireAgent({ action: 'purchase', trust: { anyPrincipal: true }, counterparty: 'shop' })).toThrow(TypeError);
    expect(() => requireAgent({ action: 'purchase', trust: { anyPrincipal: true, minReputation: 0.5 } })).toThrow(TypeError);
    expect(requireAgent({ action: 'purchase', trust: { principals: ['did:key:z6Mk'] } }).kind).toBe('agent');
  });
});

describe('verifyRequest (web Request)', () => {
  let w: World;
  let grant: string;
  beforeAll(async () => {
    w = await openWorld();
    grant = (await w.grant()).jwt;
  });
  afterAll(() => w.close());
  let guard: ReturnType<typeof requireGrant<Request>>;
  beforeAll(() => {
    guard = requireGrant<Request>({ resource: (r) => new URL(r.url).pathname, action: 'read', owner: w.alice.did });
  });

  it('allows a presentation bound to this verifier and request; the holder and grant are in the decision', async () => {
    const d = await verifyRequest(req(await bound(w.app, [grant]), { url: URL_ + '?utm=1#top' }), w.verifier(), guard);
    expect(d).toMatchObject({ ok: true, status: 200, holder: w.app.did, grant: { ok: true, grantor: w.alice.did } });
    expect(d.claims?.htm).toBe('GET');
  });

  it('no Authorization header: 401 with a bare Bearer challenge (RFC 6750 §3.1: no error code)', async () => {
    const d = await verifyRequest(req(undefined), w.verifier(), guard);
    expect(d).toMatchObject({ ok: false, status: 401 });
    expect(d.wwwAuthenticate).toBe(`Bearer realm="${API}"`);
    const other = await verifyRequest(new Request(URL_, { headers: { authorization: 'Basic YTpi' } }), w.verifier(), guard);
    expect(other.status).toBe(401);
  });

  it('a re-targeted presentation is refused before any signature check: method, URL, audience', async () => {
    const v = w.verifier();
    const post = await verifyRequest(req(await bound(w.app, [grant], { method: 'POST' })), v, guard);
    expect([post.status, codes(post)]).toEqual([401, ['REQUEST_MISMATCH']]);
    const other = await verifyRequest(req(await bound(w.app, [grant], { url: 'http://127.0.0.1:9999/profile/phone' })), v, guard);
    expect(codes(other)).toEqual(['REQUEST_MISMATCH']);
    const host = await verifyRequest(req(await bound(w.app, [grant], { url: 'http://evil.example/profile/email' })), v, guard);
    expect(codes(host)).toEqual(['REQUEST_MISMATCH']);
    const aud = await verifyRequest(req(await bound(w.app, [grant], { aud: 'did:web:other.example' })), v, guard);
    expect([aud.status, codes(aud)]).toEqual([401, ['AUDIENCE_MISMATCH']]);
    expect(aud.wwwAuthenticate).toBe(`Bearer realm="${API}", error="invalid_token", error_description="AUDIENCE_MISMATCH"`);
  });

  it('a presentation made for an MCP tool call is refused over HTTP (REQUEST_MISMATCH)', async () => {
    const v = w.verifier();
    const mcp = await verifyRequest(req(await bound(w.app, [grant], { claims: { mcp: { tool: 'purchase', args: 'sha256-x' } } })), v, guard);
    expect([mcp.status, codes(mcp)]).toEqual([401, ['REQUEST_MISMATCH']]);
  });

  it('with a public origin, the Host header is never trusted: a presentation bound to the client-sent host is refused', async () => {
    const v = w.verifier({ publicOrigin: 'https://api.example' });
    const vp = await bound(w.app, [grant], { url: 'https://api.example/profile/email' });
    for (const host of ['evil.example', 'a b', undefined]) {
      const d = await authorize(
        { method: 'GET', path: '/profile/email', host, authorization: `Bearer ${await bound(w.app, [grant], { url: 'https://api.example/profile/email' })}` },
        v,
        guard,
        new Request('http://x/profile/email'),
      );
      expect(d.status).toBe(200);
    }
    const spoofed = await authorize(
      { method: 'GET', path: '/profile/email', host: 'evil.example', authorization: `Bearer ${await bound(w.app, [grant], { url: 'http://evil.example/profile/email' })}` },
      v,
      guard,
      new Request('http://x/profile/email'),
    );
    expect([spoofed.status, codes(spoofed)]).toEqual([401, ['REQUEST_MISMATCH']]);
    expect((await verifyRequest(req(vp), v, guard)).status).toBe(200);
  });

  it('trusting the Host header is an explicit opt-in; without a Host it binds nothing', async () => {
    const v = w.verifier({ trustHostHeader: true });
    const d = await authorize(
      { method: 'GET', path: '/profile/email', host: undefined, authorization: `Bearer ${await bound(w.app, [grant])}` },
      v,
      guard,
      new Request('http://x/profile/email'),
    );
    expect([d.status, codes(d)]).toEqual([401, ['REQUEST_MISMATCH']]);
  });

  it('a trusted Host header sent twice names no host (RFC 9112 §3.2), whichever comes first: 401 REQUEST_MISMATCH', async () => {
    const v = w.verifier({ trustHostHeader: true });
    const nodeGuard = requireGrant<IncomingMessage>({ resource: 'profile/email', action: 'read', owner: w.alice.did });
    const server = createServer((r, res) => {
      void verifyNodeRequest(r, v, nodeGuard).then((d) => {
        const body = codes(d).join(',');
        res.writeHead(d.status, { 'content-length': Buffer.byteLength(body) }).end(body);
      });
    });
    await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
    const port = (server.address() as AddressInfo).port;
    const send = (hosts: string[], vp: string) =>
      new Promise<string>((resolve, reject) => {
        const s = connect(port, '127.0.0.1', () =>
          s.write(`GET /profile/email HTTP/1.1\r\n${hosts.map((h) => `Host: ${h}\r\n`).join('')}Authorization: Bearer ${vp}\r\nConnection: close\r\n\r\n`),
        );
        let out = '';
        s.on('data', (d: Buffer) => (out += d.toString()));
        s.on('end', () => resolve(`${out.split(' ')[1]} ${out.split('\r\n\r\n')[1]}`));
        s.on('error', reject);
      });
    try {
      const forApi = () => bound(w.app, [grant], { url: 'http://api.example/profile/email' });
      for (const hosts of [
        ['api.example', 'evil.example'],
        ['evil.example', 'api.example'],
        ['api.example', 'api.example'],
      ]) {
        expect([hosts, await send(hosts, await forApi())]).toEqual([hosts, '401 REQUEST_MISMATCH']);
      }
      expect(await send(['api.example'], await forApi())).toBe('200 ');
    } finally {
      await new Promise((ok) => server.close(ok));
    }
  });

  it('a trusted Host header is an authority and nothing else: a path, query, fragment, userinfo or junk in it binds no URL', async () => {
    const v = w.verifier({ trustHostHeader: true });
    const sig = requireSignature({ keys: { keys: [w.app.publicJwk] }, cover: 'request' });
    const asked = (host: string | undefined, path: string, headers: Record<string, string>) =>
      authorize({ method: 'GET', path, host, authorization: headers.authorization, header: (n) => headers[n] }, v, guardSet([sig]), new Request('http://x/'));
    const H = 'api.example:8443';
    const hostile = [
      `${H}/harmless#`,
      `${H}/photos/1?`,
      `${H}/harmless`,
      `user@${H}`,
      'a b',
      '[::1',
      'h:99999',
      'h:8443:1',
      `${H}\\harmless`,
      ' api.example',
      'api.example ',
      'api..example',
      '-api.example',
      'api.example:',
      '',
      'api%2eexample',
      'xn--bcher-kva.example/\u0000',
    ];
    for (const host of hostile) {
      // A signature over another path, sent with a Host that would make the bound URL that path: refused, never a throw.
      const s = await asked(host, '/delete-account', await signed(w.app, `http://${H}/harmless`));
      expect([host, s.status, codes(s)]).toEqual([host, 401, ['REQUEST_MISMATCH']]);
      const g = await authorize(
        { method: 'GET', path: '/profile/email', host, authorization: `Bearer ${await bound(w.app, [grant], { url: `http://${H}/harmless` })}` },
        v,
        guard,
        new Request('http://x/profile/email'),
      );
      expect([host, g.status, codes(g)]).toEqual([host, 401, ['REQUEST_MISMATCH']]);
    }
    // Well-formed hosts still bind: a name, its case and default port, an IPv4 and an IPv6 literal with a port.
    for (const [host, url] of [
      [H, `http://${H}/delete-account`],
      ['API.Example:80', 'http://api.example/delete-account'],
      ['127.0.0.1:8080', 'http://127.0.0.1:8080/delete-account'],
      ['[::1]:8080', 'http://[::1]:8080/delete-account'],
    ] as const) {
      const ok = await asked(host, '/delete-account', await signed(w.app, url));
      expect([host, ok.status, codes(ok)]).toEqual([host, 200, []]);
    }
  });

  it('a route function failing on the request (no body, an async read that rejects) is a 400, never a 500 or an unhandled rejection', async () => {
    const v = w.verifier();
    const unhandled: unknown[] = [];
    const onUnhandled = (e: unknown) => unhandled.push(e);
    process.on('unhandledRejection', onUnhandled);
    try {
      const trust = { principals: [w.principal.did] };
      const input = { method: 'POST', path: '/orders', host: 'api.example', authorization: 'Bearer x' };
      for (const amount of [
        (req: { body?: { amount: string } }) => req.body!.amount,
        () => Promise.reject(new Error('not JSON')) as unknown as string,
        () => {
          throw new RangeError('no amount');
        },
      ]) {
        const d = await authorize(input, v, requireAgent({ action: 'purchase', amount: amount as never, trust }), {} as never);
        expect([d.status, codes(d)]).toEqual([400, ['INVALID_ARGUMENT']]);
      }
      await new Promise((r) => setTimeout(r, 50));
      expect(unhandled).toEqual([]);
    } finally {
      process.off('unhandledRejection', onUnhandled);
    }
  });

  it('a web request body is read under the same 1 MiB cap as a Node one', async () => {
    const { readWebBody, MAX_BODY_BYTES } = await import('../../src/http/body.js');
    const big = new Uint8Array(MAX_BODY_BYTES + 1);
    await expect(readWebBody(new Request('http://x/', { method: 'POST', body: big }))).rejects.toMatchObject({ code: 'INPUT_TOO_LARGE' });
    const streamed = new ReadableStream({
      pull(c) {
        c.enqueue(new Uint8Array(256 * 1024));
      },
    });
    await expect(readWebBody(new Request('http://x/', { method: 'POST', body: streamed, duplex: 'half' } as RequestInit))).rejects.toMatchObject({ code: 'INPUT_TOO_LARGE' });
    expect((await readWebBody(new Request('http://x/', { method: 'POST', body: 'hello' }))).byteLength).toBe(5);
    expect((await readWebBody(new Request('http://x/'))).byteLength).toBe(0);
  });

  it('a stale presentation is refused (iat outside the window), as is one without htm/htu', async () => {
    const v = w.verifier();
    const old = await bound(w.app, [grant], { claims: { iat: Math.floor(Date.now() / 1000) - 120, exp: Math.floor(Date.now() / 1000) + 60 } });
    expect(codes(await verifyRequest(req(old), v, guard))).toEqual(['PRESENTATION_STALE']);
    const future = await bound(w.app, [grant], { claims: { iat: Math.floor(Date.now() / 1000) + 120 } });
    expect(codes(await verifyRequest(req(future), v, guard))).toContain('ISSUED_IN_FUTURE');
    const unbound = await createPresentation({ holder: w.app, credentials: [grant], aud: API });
    expect(codes(await verifyRequest(req(unbound), v, guard))).toEqual(['REQUEST_MISMATCH', 'REQUEST_MISMATCH']);
  });

  it('a replayed presentation is refused (jti kept in the store)', async () => {
    const v = w.verifier();
    const vp = await bound(w.app, [grant]);
    expect((await verifyRequest(req(vp), v, guard)).status).toBe(200);
    const again = await verifyRequest(req(vp), v, guard);
    expect([again.status, codes(again)]).toEqual([401, ['REPLAY_DETECTED']]);
    // A second verifier instance sharing the store (a fleet) refuses it too.
    expect(codes(await verifyRequest(req(vp), w.verifier(), guard))).toEqual(['REPLAY_DETECTED']);
  });

  it('a forged signature is a 401 and does not burn the jti', async () => {
    const v = w.verifier();
    const vp = await bound(w.app, [grant]);
    const forged = tamper(vp, 1, (p) => (p.exp = (p.exp as number) + 1));
    const d = await verifyRequest(req(forged), v, guard);
    expect(d.status).toBe(401);
    expect(d.holder).toBeUndefined();
    expect(codes(d)).toContain('INVALID_SIGNATURE');
    expect((await verifyRequest(req(vp), v, guard)).status).toBe(200);
  });

  it('an authentic presentation that does not allow the request is a 403 with insufficient_scope', async () => {
    const v = w.verifier();
    const url = 'http://127.0.0.1:9999/settings';
    const d = await verifyRequest(req(await bound(w.app, [grant], { url }), { url }), v, guard);
    expect([d.status, codes(d)]).toEqual([403, ['GRANT_SCOPE']]);
    expect(d.holder).toBe(w.app.did);
    expect(d.wwwAuthenticate).toContain('error="insufficient_scope"');
    const stolen = await verifyRequest(req(await bound(w.alice, [grant])), v, guard);
    expect([stolen.status, codes(stolen)]).toContain(403);
    expect(codes(stolen)).toContain('HOLDER_MISMATCH');
  });

  it('without a guard, only authenticates: the holder and the presentation', async () => {
    const d = await verifyRequest(req(await bound(w.app, [])), w.verifier());
    expect(d).toMatchObject({ ok: true, status: 200, holder: w.app.did });
    expect(d.presentation?.credentials).toEqual([]);
  });

  it('publicOrigin: htu is compared with the public origin and the request path (behind a proxy)', async () => {
    const v = w.verifier({ publicOrigin: 'https://api.example.com' });
    const vp = await bound(w.app, [grant], { url: 'https://api.example.com/profile/email' });
    expect((await verifyRequest(req(vp), v, guard)).status).toBe(200);
    expect(codes(await verifyRequest(req(await bound(w.app, [grant])), v, guard))).toEqual(['REQUEST_MISMATCH']);
  });

  it('an amount the request makes malformed is a 400, not a fault', async () => {
    const v = w.verifier();
    const agentGuard = requireAgent<Request>({ action: 'purchase', amount: () => 'lots', trust: { principals: [w.principal.did] } });
    const vp = await bound(w.agent, [w.agentIdentity, await w.mandate()]);
    const d = await verifyRequest(req(vp), v, agentGuard);
    expect([d.status, codes(d)]).toEqual([400, ['INVALID_ARGUMENT']]);
  });
});

describe('challenge mode: nonces issued by the verifier, each usable once', () => {
  let w: World;
  let grant: string;
  beforeAll(async () => {
    w = await openWorld();
    grant = (await w.grant()).jwt;
  });
  afterAll(() => w.close());
  const guard = requireGrant({ resource: 'profile/email', action: 'read', anyOwner: true });

  it('a 401 carries a fresh nonce; a presentation answering it passes once', async () => {
    const v = w.verifier({ nonces: 'challenge' });
    const first = await verifyRequest(req(await bound(w.app, [grant])), v, guard);
    expect([first.status, codes(first)]).toEqual([401, ['NONCE_MISMATCH']]);
    const nonce = challengeNonce(first.wwwAuthenticate!);
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{32}$/);
    const vp = await bound(w.app, [grant], { nonce });
    expect((await verifyRequest(req(vp), v, guard)).status).toBe(200);
    const again = await verifyRequest(req(vp), v, guard);
    expect(codes(again)).toEqual(['REPLAY_DETECTED']);
    const fresh = await bound(w.app, [grant], { nonce });
    expect(codes(await verifyRequest(req(fresh), v, guard))).toEqual(['REPLAY_DETECTED']);
  });

  it('a nonce the verifier never issued never passes, even when tried twice', async () => {
    const v = w.verifier({ nonces: 'challenge' });
    const madeUp = 'AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA';
    const a = await verifyRequest(req(await bound(w.app, [grant], { nonce: madeUp })), v, guard);
    expect(codes(a)).toEqual(['NONCE_MISMATCH']);
    const b = await verifyRequest(req(await bound(w.app, [grant], { nonce: madeUp })), v, guard);
    expect(b.ok).toBe(false);
  });

  it('issueNonce gives nonces that expire', async () => {
    const v = w.verifier({ nonces: 'challenge', nonceTtlSeconds: 1 });
    const { nonce, expiresAt } = await v.issueNonce();
    expect(expiresAt.getTime()).toBeGreaterThan(Date.now());
    await new Promise((r) => setTimeout(r, 1100));
    expect(codes(await verifyRequest(req(await bound(w.app, [grant], { nonce })), v, guard))).toEqual(['NONCE_MISMATCH']);
  });
});

describe('error code → HTTP status', () => {
  it('authentication failures are 401, refusals of an authentic proof 403, malformed requests 400', () => {
    for (const c of ['REPLAY_DETECTED', 'REQUEST_MISMATCH', 'AUDIENCE_MISMATCH', 'INVALID_SIGNATURE', 'NONCE_MISMATCH', 'MALFORMED_JWT', 'PRESENTATION_STALE'] as const)
      expect(HTTP_STATUS[c]).toBe(401);
    for (const c of [
      'GRANT_SCOPE',
      'GRANT_MISSING',
      'GRANT_NOT_OWNER',
      'CREDENTIAL_REVOKED',
      'CREDENTIAL_EXPIRED',
      'BUDGET_EXCEEDED',
      'UNTRUSTED_PRINCIPAL',
      'HOLDER_MISMATCH',
    ] as const)
      expect(HTTP_STATUS[c]).toBe(403);
    for (const c of ['INVALID_ARGUMENT', 'AMOUNT_REQUIRED', 'RESOURCE_INVALID'] as const) expect(HTTP_STATUS[c]).toBe(400);
    for (const c of ['STORE_UNAVAILABLE', 'STORE_ERROR'] as const) expect(HTTP_STATUS[c]).toBe(503);
  });
});

describe('a status list that cannot be reached: 503, retry later (never 403: the grant was not judged)', () => {
  let w: World;
  beforeAll(async () => {
    w = await openWorld();
  });
  afterAll(() => w.close());

  it('a grant whose list is on a dead port: 503 STATUS_UNAVAILABLE with Retry-After, no insufficient_scope challenge', async () => {
    const { issueGrant } = await import('../../src/grants/index.js');
    const g = await issueGrant(w.home.store, w.alice, {
      grantee: w.app.did,
      resources: ['profile/email'],
      actions: ['read'],
      purpose: 'tests',
      validUntil: new Date(Date.now() + 86_400_000),
      baseUrl: 'http://127.0.0.1:1',
    });
    const guard = requireGrant<Request>({ resource: (r) => new URL(r.url).pathname, action: 'read', owner: w.alice.did });
    const d = await verifyRequest(req(await bound(w.app, [g.jwt])), w.verifier(), guard);
    expect(d).toMatchObject({ ok: false, status: 503 });
    expect(codes(d)).toContain('STATUS_UNAVAILABLE');
    expect(d.wwwAuthenticate ?? '').not.toMatch(/insufficient_scope/);
    expect(HTTP_STATUS.STATUS_UNAVAILABLE).toBe(503);
  });
});

describe('statusOfReasons: what cannot be reached decides nothing only when nothing else refused', () => {
  it('a list or directory out of reach is 503 alone; beside a refusal, the refusal decides; a store fault always 503', async () => {
    const { statusOfReasons } = await import('../../src/errors.js');
    const r = (...codes: string[]) => statusOfReasons(codes.map((code) => ({ code, message: code })) as never);
    expect(r('STATUS_UNAVAILABLE')).toBe(503);
    expect(r('DIRECTORY_UNAVAILABLE', 'STATUS_UNAVAILABLE')).toBe(503);
    expect(r('STATUS_UNAVAILABLE', 'GRANT_SCOPE')).toBe(403);
    expect(r('INVALID_CREDENTIAL', 'STATUS_UNAVAILABLE', 'IDENTITY_MISSING')).toBe(HTTP_STATUS.INVALID_CREDENTIAL);
    expect(r('STATUS_UNAVAILABLE', 'INVALID_SIGNATURE')).toBe(401);
    expect(r('DIRECTORY_UNAVAILABLE', 'SIGNATURE_INVALID')).toBe(401);
    expect(r('STORE_UNAVAILABLE', 'GRANT_SCOPE')).toBe(503);
    expect(r('GRANT_SCOPE', 'STORE_ERROR')).toBe(503);
  });
});
