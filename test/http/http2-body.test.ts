import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import { contentDigest, signatureHeaders } from '../../src/httpsig/index.js';
import { requireSignature } from '../../src/http/guards.js';
import { verifyNodeRequest } from '../../src/http/request.js';
import { readNodeBody } from '../../src/http/body.js';
import { charter, keepRawBody } from '../../src/http/adapters/fastify.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { tempDir } from '../helpers.js';

/**
 * HTTP/2 carries a body in DATA frames with no Content-Length (RFC 9113 §8.1): a signed Content-Digest
 * must be checked against the bytes that came, never against an empty body assumed from the headers.
 */
const kp = generateKeyPair('Ed25519');
const signer = createSigner(kp.privateJwk);
const guard = requireSignature({ keys: { keys: [kp.publicJwk] }, cover: ['@method', '@path', '@query', 'content-digest'] });
const EVIL = '{"amount":"9999","to":"attacker"}';

let store: Store;
let node: http2.Http2Server;
let plain: { close(): PromiseLike<unknown> };
let kept: { close(): PromiseLike<unknown> };
const ports: Record<'node' | 'plain' | 'kept', number> = { node: 0, plain: 0, kept: 0 };
const seen: string[] = [];

beforeAll(async () => {
  store = await openSqliteStore(`${tempDir()}/v.db`);
  const verifier = createVerifier({ aud: 'did:web:api.example', store, trustHostHeader: true });
  node = http2.createServer((req, res) => {
    verifyNodeRequest(req as never, verifier, guard).then(
      async (d) => {
        if (!d.ok) return void res.writeHead(401).end(d.reasons[0]!.code);
        // The guard read the body to check its digest; the same bytes again (readNodeBody keeps them per request).
        const body = (await readNodeBody(req as never)).toString();
        seen.push(body);
        res.end(`ran ${body}`);
      },
      (e: Error) => void res.writeHead(500).end(e.name),
    );
  });
  await new Promise<void>((r) => node.listen(0, '127.0.0.1', () => r()));
  ports.node = (node.address() as AddressInfo).port;
  const p = Fastify({ http2: true });
  p.post('/orders', { preHandler: charter(verifier, guard) as never }, async (req) => `ran ${JSON.stringify(req.body)}`);
  p.get('/orders', { preHandler: charter(verifier, guard) as never }, async () => 'ran get');
  await p.listen({ port: 0, host: '127.0.0.1' });
  ports.plain = (p.server.address() as AddressInfo).port;
  plain = p;
  const k = Fastify({ http2: true });
  k.addHook('preParsing', keepRawBody as never);
  k.post('/orders', { preHandler: charter(verifier, guard) as never }, async (req) => `ran ${JSON.stringify(req.body)}`);
  await k.listen({ port: 0, host: '127.0.0.1' });
  ports.kept = (k.server.address() as AddressInfo).port;
  kept = k;
});
afterAll(async () => {
  node.close();
  await plain.close();
  await kept.close();
  await store.close();
});

/** An HTTP/2 request with no Content-Length, its signature over `signedBody`'s digest; `body` undefined ends the stream with the headers. */
async function send(port: number, method: string, body: string | undefined, signedBody: string, o: { emptyData?: boolean } = {}): Promise<[number, string]> {
  const url = `http://127.0.0.1:${port}/orders`;
  const base: Record<string, string> = { 'content-type': 'application/json', 'content-digest': contentDigest(signedBody) };
  const sig = await signatureHeaders({ method, url, headers: base }, { signer, publicJwk: kp.publicJwk });
  const session = http2.connect(`http://127.0.0.1:${port}`);
  try {
    return await new Promise((resolve, reject) => {
      session.on('error', reject);
      const endStream = body === undefined && !o.emptyData;
      const r = session.request({ ':method': method, ':path': '/orders', ...base, ...sig }, { endStream });
      let status = 0;
      let out = '';
      r.on('response', (h) => (status = Number(h[':status'])));
      r.setEncoding('utf8');
      r.on('data', (d: string) => (out += d));
      r.on('end', () => resolve([status, out]));
      r.on('error', reject);
      if (!endStream) r.end(body ?? '');
    });
  } finally {
    session.close();
  }
}

describe('HTTP/2: a signed Content-Digest is checked against the body that came', () => {
  it('verifyNodeRequest: a signature over an empty body with a body sent (no Content-Length) is CONTENT_DIGEST_MISMATCH; the real digest passes', async () => {
    seen.length = 0;
    expect(await send(ports.node, 'POST', EVIL, '')).toEqual([401, 'CONTENT_DIGEST_MISMATCH']);
    expect(await send(ports.node, 'POST', EVIL, '{"amount":"1"}')).toEqual([401, 'CONTENT_DIGEST_MISMATCH']);
    expect(seen).toEqual([]);
    expect(await send(ports.node, 'POST', EVIL, EVIL)).toEqual([200, `ran ${EVIL}`]);
    // No body at all: the stream ended with its headers, or with one empty DATA frame.
    expect(await send(ports.node, 'POST', undefined, '')).toEqual([200, 'ran ']);
    expect(await send(ports.node, 'POST', undefined, '', { emptyData: true })).toEqual([200, 'ran ']);
    expect(await send(ports.node, 'POST', undefined, 'x')).toEqual([401, 'CONTENT_DIGEST_MISMATCH']);
  });

  it('Fastify over HTTP/2 without keepRawBody: a parsed body it cannot check is a server error, never a pass', async () => {
    const [status, text] = await send(ports.plain, 'POST', EVIL, '');
    expect(status).toBe(500);
    expect(text).not.toContain('ran');
    // A GET: nothing to parse, the empty body read (in the HEADERS frame, or in an empty DATA frame).
    expect(await send(ports.plain, 'GET', undefined, '')).toEqual([200, 'ran get']);
    expect(await send(ports.plain, 'GET', undefined, '', { emptyData: true })).toEqual([200, 'ran get']);
  });

  it('Fastify over HTTP/2 with keepRawBody: the kept bytes are checked', async () => {
    expect((await send(ports.kept, 'POST', EVIL, ''))[0]).toBe(401);
    expect(await send(ports.kept, 'POST', EVIL, EVIL)).toEqual([200, `ran ${EVIL}`]);
  });
});
