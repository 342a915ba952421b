import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { charter, requireGrant } from '../../src/http/adapters/express.js';
import { charterFetch } from '../../src/http/client.js';
import { callGuardedTool, presentForTool } from '../../src/integrations/mcp/client.js';
import { decodeJwt } from '../../src/credentials/index.js';
import { createTokenStatusChecker, issueSdJwtGrant } from '../../src/sdjwt/index.js';
import { API, openWorld, type World } from './world.js';

/**
 * A 401 carrying a nonce makes the client sign a second proof. Something between the client and the
 * server (a TLS-terminating proxy, a compromised relay) can forge that 401, keep the first proof and
 * forward both: two uses of one request. The client signs both with one jti, and an 'iat'-mode verifier
 * takes one proof per jti, so whichever arrives second is a replay, in either order and at once.
 */
describe('a forged challenge gets the relay one use, not two', () => {
  let w: World;
  let url: string;
  let close: () => void;
  const ran: string[] = [];
  let sdToken: string;
  let grantJwt: string;

  beforeAll(async () => {
    w = await openWorld();
    const tokenStatus = (s: unknown, ctx: Parameters<ReturnType<typeof createTokenStatusChecker>>[1]) =>
      createTokenStatusChecker({ resolver: w.resolver, allowLoopback: true, allowHttp: true })(s, ctx);
    const verifier = w.verifier({ tokenStatus });
    const app = express();
    app.get('/profile/email', charter(verifier, requireGrant({ resource: 'profile/email', action: 'read', owner: w.alice.did })), (_req, res) => {
      ran.push('email');
      res.json({ ok: true });
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((r) => server.once('listening', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => server.close();
    grantJwt = (await w.grant()).jwt;
    sdToken = (
      await issueSdJwtGrant(w.home.store, w.alice, {
        grantee: w.app.did,
        resources: ['profile/email'],
        actions: ['read'],
        purpose: 'relay',
        validUntil: new Date(Date.now() + 86_400_000),
        baseUrl: w.server.url,
        resolver: w.resolver,
      })
    ).token;
  });
  afterAll(async () => {
    close();
    await w.close();
  });

  /** A relay: answers the first request with a forged 401 and a nonce of its choosing, keeps its proof, forwards the rest. */
  const relay = () => {
    const kept: string[] = [];
    const forward = (auth: string) => fetch(`${url}/profile/email`, { headers: { authorization: auth } });
    const fetchVia = async (input: string | URL | Request, init?: RequestInit) => {
      const auth = new Headers(init?.headers).get('authorization')!;
      kept.push(auth);
      if (kept.length === 1) return new Response(null, { status: 401, headers: { 'www-authenticate': 'Bearer charter-nonce="chosen-by-the-relay-0123456789"' } });
      return fetch(input, init);
    };
    return { kept, forward, fetchVia };
  };
  const formats = {
    'vp+jwt': () => ({ holder: w.app, credentials: [grantJwt], aud: API }),
    'SD-JWT': () => ({ holder: w.app, sdJwt: { token: sdToken, disclose: ['grant.resources.0', 'grant.actions.0'] }, aud: API }),
  };

  for (const [name, as] of Object.entries(formats)) {
    it(`${name}: the client's retry goes through; the first proof the relay kept is then a replay, and the handler ran once`, async () => {
      ran.length = 0;
      const r = relay();
      const res = await charterFetch(`${url}/profile/email`, {}, { ...as(), fetch: r.fetchVia });
      expect(res.status).toBe(200);
      expect(r.kept).toHaveLength(2);
      const replay = await r.forward(r.kept[0]!);
      expect([replay.status, ((await replay.json()) as { code: string }).code]).toEqual([401, 'REPLAY_DETECTED']);
      expect(ran).toEqual(['email']);
    });

    it(`${name}: the relay forwards the kept proof first, or both at once: exactly one is taken`, async () => {
      for (const order of ['kept first', 'together'] as const) {
        ran.length = 0;
        const r = relay();
        // The relay answers the retry with a 401 too, and keeps both proofs for itself.
        let calls = 0;
        const both = async (_input: string | URL | Request, init?: RequestInit) => {
          r.kept.push(new Headers(init?.headers).get('authorization')!);
          return new Response(null, { status: 401, headers: calls++ === 0 ? { 'www-authenticate': 'Bearer charter-nonce="chosen-by-the-relay-0123456789"' } : {} });
        };
        expect((await charterFetch(`${url}/profile/email`, {}, { ...as(), fetch: both })).status).toBe(401);
        expect(r.kept).toHaveLength(2);
        const statuses =
          order === 'kept first'
            ? [(await r.forward(r.kept[0]!)).status, (await r.forward(r.kept[1]!)).status]
            : (await Promise.all(r.kept.map((k) => r.forward(k)))).map((x) => x.status);
        expect([order, [...statuses].sort()]).toEqual([order, [200, 401]]);
        expect(ran).toEqual(['email']);
      }
    });
  }

  it('the two proofs differ only in their nonce: the same jti, audience and binding', async () => {
    for (const as of Object.values(formats)) {
      const r = relay();
      await charterFetch(`${url}/profile/email`, {}, { ...as(), fetch: r.fetchVia });
      const claims = r.kept.map((a) => {
        const jwt = a.slice('Bearer '.length).split('~').pop()!;
        return decodeJwt(jwt).payload;
      });
      expect(claims[0]!.jti).toEqual(expect.stringMatching(/^urn:uuid:/));
      expect(claims[1]!.jti).toBe(claims[0]!.jti);
      expect(claims[1]!.nonce).toBe('chosen-by-the-relay-0123456789');
      expect(claims[0]!.nonce).not.toBe(claims[1]!.nonce);
      expect([claims[1]!.htu, claims[1]!.htm, claims[1]!.aud]).toEqual([claims[0]!.htu, claims[0]!.htm, claims[0]!.aud]);
      // Each request has its own jti.
      const again = relay();
      await charterFetch(`${url}/profile/email`, {}, { ...as(), fetch: again.fetchVia });
      expect(decodeJwt(again.kept[0]!.slice('Bearer '.length).split('~').pop()!).payload.jti).not.toBe(claims[0]!.jti);
    }
  });

  it('MCP: callGuardedTool signs its retry with the jti of its first proof; each call has its own', async () => {
    const sent: string[] = [];
    const call = { name: 'lookup', arguments: { q: 'x' } };
    const presenter = { agent: w.app, chain: [grantJwt], aud: API };
    const client = {
      callTool: async (c: { _meta?: Record<string, unknown> }) => {
        sent.push(c._meta!['charter.dev/presentation'] as string);
        return sent.length % 2 === 1
          ? { isError: true, content: [], _meta: { 'charter.dev/refusal': { status: 401, code: 'NONCE_MISMATCH', reasons: [], nonce: 'relay-nonce' } } }
          : { content: [] };
      },
    };
    await callGuardedTool(client as never, call, presenter);
    await callGuardedTool(client as never, call, presenter);
    const p = sent.map((jwt) => decodeJwt(jwt).payload);
    expect(p).toHaveLength(4);
    expect(p[1]!.jti).toBe(p[0]!.jti);
    expect(p[3]!.jti).toBe(p[2]!.jti);
    expect(p[2]!.jti).not.toBe(p[0]!.jti);
    expect([p[0]!.nonce, p[1]!.nonce]).toEqual([undefined, 'relay-nonce']);
    // presentForTool alone: a fresh jti each time unless one is given.
    const a = decodeJwt(await presentForTool(call, presenter)).payload.jti;
    const b = decodeJwt(await presentForTool(call, presenter)).payload.jti;
    expect(a).not.toBe(b);
    expect(decodeJwt(await presentForTool(call, presenter, 'n', 'urn:uuid:given')).payload.jti).toBe('urn:uuid:given');
  });
});
