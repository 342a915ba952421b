import type { AddressInfo } from 'node:net';
import { createPrivateKey, createPublicKey } from 'node:crypto';
import express from 'express';
import { httpbis, createSigner as dhSigner, createVerifier as dhVerifier } from 'http-message-signatures';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { charter, keepRawBody, requireSignature } from '../../src/http/adapters/express.js';
import { charterFetch } from '../../src/http/client.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import type { KeyType } from '../../src/keys/types.js';
import { contentDigest, jwkThumbprint } from '../../src/httpsig/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { tempDir } from '../helpers.js';

const dhAlg = (type: KeyType) => (type === 'Ed25519' ? 'ed25519' : 'ecdsa-p256-sha256');

/** The Express guard and charterFetch against an independent RFC 9421 implementation (http-message-signatures). */
describe('interop: requireSignature and charterFetch with http-message-signatures', () => {
  const keys = { ed: generateKeyPair('Ed25519'), p256: generateKeyPair('P-256') };
  let store: Store;
  let url: string;
  let close: () => void;
  const ran: unknown[] = [];

  beforeAll(async () => {
    store = await openSqliteStore(`${tempDir()}/api.db`);
    const verifier = createVerifier({ aud: 'did:web:api.example', store, trustHostHeader: true });
    const guard = requireSignature({ keys: { keys: [keys.ed.publicJwk, keys.p256.publicJwk] } });
    const app = express();
    app.get('/items', charter(verifier, guard), (req, res) => {
      ran.push(req.charter!.signature!.keyId);
      res.json({ ok: true });
    });
    app.post('/items', express.json({ verify: keepRawBody }), charter(verifier, guard), (req, res) => {
      ran.push(req.body);
      res.json({ ok: true });
    });
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((r) => server.once('listening', () => r()));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    close = () => {
      server.closeAllConnections();
      server.close();
    };
  });
  afterAll(async () => {
    close();
    await store.close();
  });

  it.each<['ed' | 'p256', KeyType]>([
    ['ed', 'Ed25519'],
    ['p256', 'P-256'],
  ])('%s: a request it signed (Web Bot Auth parameters, a Signature-Agent member, a Content-Digest) passes the Express guard', async (name, type) => {
    const kp = keys[name];
    const keyId = jwkThumbprint(kp.publicJwk);
    const body = '{"sku":"tea"}';
    const sign = (method: string, path: string, extra: Record<string, string>, fields: string[]) =>
      httpbis.signMessage(
        {
          key: dhSigner(createPrivateKey({ key: { ...kp.privateJwk }, format: 'jwk' }), dhAlg(type), keyId),
          name: 'sig1',
          fields,
          params: ['created', 'keyid', 'alg', 'expires', 'nonce', 'tag'],
          paramValues: { nonce: `n-${Math.random()}`, tag: 'web-bot-auth', expires: new Date(Date.now() + 60_000) },
        },
        { method, url: `${url}${path}`, headers: { 'signature-agent': 'sig1="https://agent.example"', ...extra } },
      );
    ran.length = 0;
    const get = await sign('GET', '/items?page=2', {}, ['@method', '@authority', '@path', '@query', '"signature-agent";key="sig1"']);
    const r1 = await fetch(`${url}/items?page=2`, { headers: get.headers as Record<string, string> });
    expect(r1.status).toBe(200);
    const post = await sign('POST', '/items', { 'content-type': 'application/json', 'content-digest': contentDigest(body) }, [
      '@method',
      '@authority',
      '@path',
      'content-digest',
      '"signature-agent";key="sig1"',
    ]);
    const r2 = await fetch(`${url}/items`, { method: 'POST', headers: post.headers as Record<string, string>, body });
    expect(r2.status).toBe(200);
    expect(ran).toEqual([keyId, { sku: 'tea' }]);
    // Its signature over one body does not carry another.
    const r3 = await fetch(`${url}/items`, { method: 'POST', headers: post.headers as Record<string, string>, body: '{"sku":"gold"}' });
    expect(r3.status).toBe(401);
  });

  it.each<['ed' | 'p256', KeyType]>([
    ['ed', 'Ed25519'],
    ['p256', 'P-256'],
  ])('%s: what charterFetch sends (with Content-Digest) passes its verifier', async (name, type) => {
    const kp = keys[name];
    let sent: { method: string; url: string; headers: Record<string, string> } | undefined;
    const capture: typeof fetch = async (u, init) => {
      sent = { method: init!.method!, url: String(u), headers: {} as Record<string, string> };
      new Headers(init!.headers).forEach((v, k) => (sent!.headers[k] = v));
      return new Response('{}');
    };
    await charterFetch(
      `${url}/items?x=1`,
      { method: 'POST', body: '{"a":1}' },
      { sign: { signer: createSigner(kp.privateJwk), publicJwk: kp.publicJwk, signatureAgent: 'https://agent.example' }, fetch: capture },
    );
    const lookup = async (p: { keyid?: string }) =>
      p.keyid === jwkThumbprint(kp.publicJwk)
        ? { id: p.keyid, algs: [dhAlg(type)], verify: dhVerifier(createPublicKey({ key: { ...kp.publicJwk }, format: 'jwk' }), dhAlg(type)) }
        : null;
    expect(await httpbis.verifyMessage({ keyLookup: lookup, requiredFields: ['@method', '@authority', '@path', 'content-digest', 'signature-agent'] }, sent!)).toBe(true);
    expect(await httpbis.verifyMessage({ keyLookup: lookup }, { ...sent!, method: 'PUT' })).toBe(false);
  });
});
