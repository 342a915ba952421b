import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { charterFetch } from '../../src/http/client.js';
import { requireSignature, type SignatureGuard } from '../../src/http/guards.js';
import type { Verifier } from '../../src/guard/verifier.js';
import type { AgentTrust } from '../../src/agents/types.js';
import { issueAgentIdentity } from '../../src/agents/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { contentDigest, createDirectoryResolver, jwkThumbprint, signRequest } from '../../src/httpsig/index.js';
import { THUMBPRINT_URN } from '../../src/guard/signature.js';
import { makeIssuer } from '../helpers.js';
import { API, openWorld, type World } from './world.js';

/**
 * requireSignature in each adapter, on 127.0.0.1, through fetch. Routes:
 * GET and POST /signed (requireSignature, keys the API holds; POST echoes
 * the parsed JSON body after its Content-Digest is checked), GET /fetched
 * (keys from the Signature-Agent's directory, served by the world's
 * `charter serve` on loopback), GET /down (a directory that cannot be
 * reached), POST /orders (requireSignature next to requireAgent: the
 * agent's presentation and its own signature). `ran` records every handler
 * that ran.
 */
export interface SignatureAppSpec {
  verifier: Verifier;
  signed: SignatureGuard;
  fetched: SignatureGuard;
  down: SignatureGuard;
  /** For /orders, next to the adapter's requireAgent({ action: 'purchase', amount: header x-amount, trust }). */
  combined: SignatureGuard;
  trust: AgentTrust;
  ran: string[];
}

export type BuildSignatureApp = (spec: SignatureAppSpec) => Promise<{ url: string; close: () => Promise<void> }>;

const codeOf = async (r: Response) => {
  expect(r.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  const body = (await r.json()) as { code: string; status: number };
  expect(body.status).toBe(r.status);
  return body.code;
};

const ACCEPT = 'sig1=("@method" "@authority" "@path" "@query" "signature-agent";key="sig1");tag="web-bot-auth"';

export function signatureSuite(name: string, build: BuildSignatureApp): void {
  describe(`${name} adapter: requireSignature (RFC 9421, Web Bot Auth), real server on 127.0.0.1`, () => {
    let w: World;
    let url: string;
    let close: () => Promise<void>;
    const ran: string[] = [];
    let bot: Issuer;
    const stranger = makeIssuer();
    const sign = (i: Issuer, extra: Record<string, unknown> = {}) => ({ sign: { signer: i.signer, publicJwk: i.publicJwk, ...extra } });

    beforeAll(async () => {
      w = await openWorld();
      // An agent of the world's home: `charter serve` publishes its key in the home's directory.
      await w.home.createIdentity({ alias: 'bot', meta: { role: 'agent' } });
      bot = await w.home.issuer('bot');
      const held = { keys: [bot.publicJwk, w.agent.publicJwk, stranger.publicJwk] };
      const app = await build({
        verifier: w.verifier(),
        signed: requireSignature({ keys: held }),
        fetched: requireSignature({ directories: 'fetch', allowLoopback: true }),
        down: requireSignature({ directories: createDirectoryResolver({ allowLoopback: true, timeoutMs: 500 }), allowLoopback: true }),
        combined: requireSignature({ keys: { keys: [w.agent.publicJwk, stranger.publicJwk] }, directories: 'fetch', allowLoopback: true }),
        trust: { principals: [w.principal.did] },
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

    it('a signed request is allowed without any presentation; the handler sees the signer', async () => {
      expect(
        await runs(async () => {
          const r = await charterFetch(`${url}/signed?page=2`, {}, sign(bot));
          expect(r.status).toBe(200);
          expect(await r.json()).toEqual({ holder: THUMBPRINT_URN + jwkThumbprint(bot.publicJwk), keyId: jwkThumbprint(bot.publicJwk), tag: 'web-bot-auth' });
        }),
      ).toEqual(['signed']);
    });

    it('an unsigned request is refused (SIGNATURE_MISSING) with Accept-Signature and no Bearer challenge; the handler never runs', async () => {
      expect(
        await runs(async () => {
          const r = await fetch(`${url}/signed`);
          expect([r.status, r.headers.get('accept-signature'), r.headers.get('www-authenticate')]).toEqual([401, ACCEPT, null]);
          expect(await codeOf(r)).toBe('SIGNATURE_MISSING');
          // A presentation does not stand in for the signature the route asks for.
          const bearer = await charterFetch(`${url}/signed`, {}, { holder: w.app, credentials: [], aud: API });
          expect([bearer.status, await codeOf(bearer)]).toEqual([401, 'SIGNATURE_MISSING']);
        }),
      ).toEqual([]);
    });

    it('a replayed signed request is refused (SIGNATURE_REPLAYED); the handler ran once', async () => {
      let sent: Headers | undefined;
      const record: typeof fetch = (u, init) => {
        sent = new Headers(init?.headers);
        return fetch(u, init);
      };
      expect(
        await runs(async () => {
          expect((await charterFetch(`${url}/signed`, {}, { ...sign(bot), fetch: record })).status).toBe(200);
          const again = await fetch(`${url}/signed`, { headers: sent! });
          expect([again.status, await codeOf(again)]).toEqual([401, 'SIGNATURE_REPLAYED']);
          expect(again.headers.get('accept-signature')).toBe(ACCEPT);
        }),
      ).toEqual(['signed']);
    });

    it('a fragment in the request target binds nothing (RFC 9112 §3.2.1): a signed request replayed with "#…" never runs, whatever the router reads from it', async () => {
      const u = new URL(url);
      /** The signed headers, sent on a raw socket with the target as written: fetch would drop the fragment. */
      const send = (target: string, headers: Headers) =>
        new Promise<number>((resolve, reject) => {
          let lines = '';
          headers.forEach((v, k) => (lines += `${k}: ${v}\r\n`));
          const s = connect(Number(u.port), u.hostname, () => s.write(`GET ${target} HTTP/1.1\r\nHost: ${u.host}\r\n${lines}Connection: close\r\n\r\n`));
          let out = '';
          s.on('data', (d: Buffer) => (out += d.toString()));
          s.on('end', () => resolve(Number(out.split(' ')[1])));
          s.on('error', reject);
        });
      for (const [signedFor, sent] of [
        ['/signed', '/signed#page=9'],
        ['/signed?page=2', '/signed?page=2#&page=9'],
        ['/signed?page=2', '/signed?page=2#'],
        ['/signed', '/signed#'],
      ] as const) {
        const before = ran.length;
        const signed = await signRequest({ method: 'GET', url: `${url}${signedFor}`, headers: {} as Record<string, string> }, { signer: bot.signer, publicJwk: bot.publicJwk });
        expect([sent, await send(sent, new Headers(signed.headers))]).toEqual([sent, 401]);
        expect(ran.slice(before)).toEqual([]);
      }
    });

    it('a signature with another tag, for another URL, or without a nonce is refused', async () => {
      expect(
        await runs(async () => {
          const tagged = await charterFetch(`${url}/signed`, {}, sign(bot, { tag: 'agent-browser-auth' }));
          expect([tagged.status, await codeOf(tagged)]).toEqual([401, 'SIGNATURE_TAG_MISMATCH']);
          // Signed for /fetched, sent to /signed: the path is covered.
          const other = await signRequest({ method: 'GET', url: `${url}/fetched`, headers: {} as Record<string, string> }, { signer: bot.signer, publicJwk: bot.publicJwk });
          const moved = await fetch(`${url}/signed`, { headers: other.headers });
          expect([moved.status, await codeOf(moved)]).toEqual([401, 'SIGNATURE_INVALID']);
          const once = await signRequest(
            { method: 'GET', url: `${url}/signed`, headers: {} as Record<string, string> },
            { signer: bot.signer, publicJwk: bot.publicJwk, nonce: false },
          );
          const noNonce = await fetch(`${url}/signed`, { headers: once.headers });
          expect([noNonce.status, await codeOf(noNonce)]).toEqual([401, 'SIGNATURE_INVALID']);
          const unknown = await charterFetch(`${url}/signed`, {}, sign(makeIssuer()));
          expect([unknown.status, await codeOf(unknown)]).toEqual([401, 'SIGNATURE_KEY_UNKNOWN']);
        }),
      ).toEqual([]);
    });

    it('a covered Content-Digest is checked against the body: the handler reads the body; a changed body is refused (CONTENT_DIGEST_MISMATCH)', async () => {
      const json = { headers: { 'content-type': 'application/json' } };
      expect(
        await runs(async () => {
          const ok = await charterFetch(`${url}/signed`, { method: 'POST', body: '{"sku":"tea"}', ...json }, sign(bot));
          expect([ok.status, await ok.json()]).toEqual([200, { body: { sku: 'tea' } }]);
          const swap: typeof fetch = (u, init) => fetch(u, { ...init, body: '{"sku":"gold"}' });
          const changed = await charterFetch(`${url}/signed`, { method: 'POST', body: '{"sku":"tea"}', ...json }, { ...sign(bot), fetch: swap });
          expect([changed.status, await codeOf(changed)]).toEqual([401, 'CONTENT_DIGEST_MISMATCH']);
          // The digest is the signer's claim: a request signed over a wrong digest is refused as well.
          const lie = await charterFetch(
            `${url}/signed`,
            { method: 'POST', body: '{"sku":"tea"}', headers: { ...json.headers, 'content-digest': contentDigest('{"sku":"coal"}') } },
            sign(bot),
          );
          expect([lie.status, await codeOf(lie)]).toEqual([401, 'CONTENT_DIGEST_MISMATCH']);
        }),
      ).toEqual(['signed-post']);
    });

    it("keys from the Signature-Agent's directory, fetched from charter serve on loopback (allowLoopback): allowed, attributed to that origin", async () => {
      expect(
        await runs(async () => {
          const r = await charterFetch(`${url}/fetched`, {}, sign(bot, { signatureAgent: w.server.url }));
          expect(r.status).toBe(200);
          expect(await r.json()).toMatchObject({ holder: new URL(w.server.url).origin });
          // A key the directory does not list.
          const s = await charterFetch(`${url}/fetched`, {}, sign(stranger, { signatureAgent: w.server.url }));
          expect([s.status, await codeOf(s)]).toEqual([401, 'SIGNATURE_KEY_UNKNOWN']);
        }),
      ).toEqual(['fetched']);
    });

    it('a directory that cannot be reached: 503 DIRECTORY_UNAVAILABLE with Retry-After; the handler never runs', async () => {
      expect(
        await runs(async () => {
          const r = await charterFetch(`${url}/down`, {}, sign(bot, { signatureAgent: 'http://127.0.0.1:9' }));
          expect([r.status, r.headers.get('retry-after'), await codeOf(r)]).toEqual([503, '1', 'DIRECTORY_UNAVAILABLE']);
        }),
      ).toEqual([]);
    });

    describe('next to requireAgent: the presenting agent must sign', () => {
      it("signed with the key of the agent's DID: allowed, the handler sees the agent and its signature", async () => {
        const creds = [w.agentIdentity, await w.mandate()];
        expect(
          await runs(async () => {
            const r = await charterFetch(
              `${url}/orders`,
              { method: 'POST', headers: { 'x-amount': '5 USD' } },
              { holder: w.agent, credentials: creds, aud: API, ...sign(w.agent) },
            );
            expect(r.status).toBe(201);
            expect(await r.json()).toEqual({ agent: w.agent.did, keyId: jwkThumbprint(w.agent.publicJwk) });
          }),
        ).toEqual(['order']);
      });

      it('presented but not signed, or signed but not presented: 401, with both challenges where both are wanted', async () => {
        const creds = [w.agentIdentity, await w.mandate()];
        expect(
          await runs(async () => {
            const unsigned = await charterFetch(`${url}/orders`, { method: 'POST', headers: { 'x-amount': '5 USD' } }, { holder: w.agent, credentials: creds, aud: API });
            expect([unsigned.status, unsigned.headers.get('accept-signature'), unsigned.headers.get('www-authenticate')]).toEqual([
              401,
              ACCEPT,
              `Bearer realm="${API}", error="invalid_token", error_description="SIGNATURE_MISSING"`,
            ]);
            expect(await codeOf(unsigned)).toBe('SIGNATURE_MISSING');
            const unpresented = await charterFetch(`${url}/orders`, { method: 'POST', headers: { 'x-amount': '5 USD' } }, sign(w.agent));
            expect([unpresented.status, await codeOf(unpresented)]).toEqual([401, 'INVALID_PRESENTATION']);
            expect(unpresented.headers.get('www-authenticate')).toBe(`Bearer realm="${API}"`);
          }),
        ).toEqual([]);
      });

      it("signed by a key that is not the agent's: refused (SIGNER_NOT_HOLDER), nothing used up or reserved", async () => {
        const creds = [w.agentIdentity, await w.mandate({ limits: { budget: { amount: '10', currency: 'USD', period: 'P30D' } } })];
        expect(
          await runs(async () => {
            const r = await charterFetch(
              `${url}/orders`,
              { method: 'POST', headers: { 'x-amount': '10 USD' } },
              { holder: w.agent, credentials: creds, aud: API, ...sign(stranger) },
            );
            expect([r.status, await codeOf(r)]).toEqual([401, 'SIGNER_NOT_HOLDER']);
            expect(r.headers.get('accept-signature')).toBe(ACCEPT);
            // The whole budget is still there.
            const ok = await charterFetch(
              `${url}/orders`,
              { method: 'POST', headers: { 'x-amount': '10 USD' } },
              { holder: w.agent, credentials: creds, aud: API, ...sign(w.agent) },
            );
            expect(ok.status).toBe(201);
          }),
        ).toEqual(['order']);
      });

      it("a key from the directory the agent's identity credential names counts as the agent's; the same key without that claim does not", async () => {
        const named = await issueAgentIdentity(w.home.store, w.operator, { agent: w.agent.did, name: 'shopper', directory: w.server.url });
        const mandate = await w.mandate();
        const order = (identity: string) =>
          charterFetch(
            `${url}/orders`,
            { method: 'POST', headers: { 'x-amount': '5 USD' } },
            { holder: w.agent, credentials: [identity, mandate], aud: API, ...sign(bot, { signatureAgent: w.server.url }) },
          );
        expect(
          await runs(async () => {
            expect((await order(named.jwt)).status).toBe(201);
            const plain = await order(w.agentIdentity);
            expect([plain.status, await codeOf(plain)]).toEqual([401, 'SIGNER_NOT_HOLDER']);
            // An identity naming another origin's directory (here the same server under another host name):
            // a key fetched from the Signature-Agent's directory is not the agent's.
            const elsewhere = new URL(w.server.url);
            elsewhere.hostname = elsewhere.hostname === 'localhost' ? '127.0.0.1' : 'localhost';
            const other = await issueAgentIdentity(w.home.store, w.operator, { agent: w.agent.did, name: 'shopper', directory: elsewhere.origin });
            const foreign = await order(other.jwt);
            expect([foreign.status, await codeOf(foreign)]).toEqual([401, 'SIGNER_NOT_HOLDER']);
          }),
        ).toEqual(['order']);
      });
    });
  });
}
