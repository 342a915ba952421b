import { request } from 'node:http';
import { join } from 'node:path';
import { createPublicKey } from 'node:crypto';
import { parseDictionary } from 'structured-headers';
import { httpbis, createVerifier as dhVerifier } from 'http-message-signatures';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHome, type Home } from '../../src/home/home.js';
import { serveHome, type RunningServer } from '../../src/server/serve.js';
import { contentDigest, DIRECTORY_MEDIA_TYPE, DIRECTORY_PATH, jwkThumbprint, verifyDirectoryResponse } from '../../src/httpsig/index.js';
import { isCharterError } from '../../src/errors.js';
import { tempDir } from '../helpers.js';

const headersOf = (h: Headers) => {
  const out: Record<string, string> = {};
  h.forEach((v, k) => (out[k] = v));
  return out;
};

/** `charter serve` publishes the key directory of the home's agents (Web Bot Auth), signed per request. */
describe('charter serve: /.well-known/http-message-signatures-directory', () => {
  let home: Home;
  let server: RunningServer;
  let dirUrl: string;

  beforeAll(async () => {
    home = await openHome({ home: join(tempDir('charter-dir-'), 'home'), passphrase: async () => 'directory tests', allowLoopback: true });
    await home.init();
    server = await serveHome(home, { port: 0 });
    await home.setPublicUrl(server.url);
    dirUrl = `${server.url}${DIRECTORY_PATH}`;
  });
  afterAll(async () => {
    await server.close();
    await home.close();
  });

  it('a home without agents serves no directory (404)', async () => {
    await home.createIdentity({ alias: 'alice' });
    const r = await fetch(dirUrl);
    expect([r.status, ((await r.json()) as { code: string }).code]).toEqual([404, 'NOT_FOUND']);
  });

  it("lists the agents' Ed25519 and P-256 keys, never a person's, signed for the public URL's authority with a short expiry", async () => {
    const ed = await home.createIdentity({ alias: 'crawler', meta: { role: 'agent' } });
    const p256 = await home.createIdentity({ alias: 'buyer', keyType: 'P-256', meta: { role: 'agent' } });
    await home.createIdentity({ alias: 'k1', keyType: 'secp256k1', meta: { role: 'agent' } }); // RFC 9421 has no algorithm for it
    const alice = await home.identity('alice');
    const r = await fetch(dirUrl);
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe(DIRECTORY_MEDIA_TYPE);
    const body = Buffer.from(await r.arrayBuffer());
    const headers = headersOf(r.headers);
    const dir = verifyDirectoryResponse({ url: dirUrl, status: 200, headers, body });
    expect(dir.keys.map((k) => k.thumbprint).sort()).toEqual([jwkThumbprint(ed.publicJwk), jwkThumbprint(p256.publicJwk)].sort());
    expect(dir.keys.every((k) => k.bound)).toBe(true);
    expect(JSON.stringify(JSON.parse(body.toString()))).not.toContain(alice.publicJwk.x);

    // Signed now, valid 300 s; cached for no longer than that.
    const input = parseDictionary(headers['signature-input']!);
    for (const [, member] of input) {
      const params = (member as [unknown, Map<string, unknown>])[1];
      const created = params.get('created') as number;
      expect(Math.abs(created - Date.now() / 1000)).toBeLessThan(30);
      expect((params.get('expires') as number) - created).toBe(300);
    }
    const maxAge = Number(/max-age=(\d+)/.exec(headers['cache-control']!)![1]);
    expect(maxAge).toBeGreaterThan(0);
    expect(maxAge).toBeLessThanOrEqual(300);

    const head = await fetch(dirUrl, { method: 'HEAD' });
    expect([head.status, (await head.text()).length]).toEqual([200, 0]);
  });

  it("signs the public URL's authority, never the Host header's", async () => {
    const got = await new Promise<{ headers: Record<string, string>; body: Buffer }>((resolve, reject) => {
      const u = new URL(dirUrl);
      const req = request({ host: u.hostname, port: u.port, path: u.pathname, headers: { host: 'evil.example' } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ headers: res.headers as Record<string, string>, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.end();
    });
    expect(verifyDirectoryResponse({ url: dirUrl, headers: got.headers, body: got.body }).keys.length).toBeGreaterThan(0);
    let code: string | undefined;
    try {
      verifyDirectoryResponse({ url: `http://evil.example${DIRECTORY_PATH}`, headers: got.headers, body: got.body });
    } catch (e) {
      code = isCharterError(e) ? e.code : 'other';
    }
    expect(code).toBe('DIRECTORY_INVALID');
  });

  it("passes an independent RFC 9421 verifier (http-message-signatures), each key's binding signature over the request that fetched it", async () => {
    const agents = (await home.store.listIdentities()).filter((i) => i.meta?.role === 'agent' && i.keyType !== 'secp256k1');
    const r = await fetch(dirUrl);
    const headers = headersOf(r.headers);
    const labels = [...parseDictionary(headers['signature-input']!).keys()];
    expect(labels.sort()).toEqual(['binding0', 'binding1']);
    const alg = (crv: string) => (crv === 'Ed25519' ? 'ed25519' : 'ecdsa-p256-sha256');
    let checked = 0;
    const ok = await httpbis.verifyMessage(
      {
        all: true,
        requiredFields: ['@authority', 'content-digest'],
        keyLookup: async (p) => {
          const a = agents.find((i) => jwkThumbprint(i.publicJwk) === p.keyid);
          if (!a) return null;
          checked++;
          return { id: p.keyid!, algs: [alg(a.publicJwk.crv)], verify: dhVerifier(createPublicKey({ key: { ...a.publicJwk }, format: 'jwk' }), alg(a.publicJwk.crv)) };
        },
      },
      { status: 200, headers },
      { method: 'GET', url: dirUrl, headers: {} },
    );
    expect(ok).toBe(true);
    expect(checked).toBe(2);
    // The same response for another authority, or with another digest, fails there too: the peer is really checking.
    const lookup = async (p: { keyid?: string }) => {
      const a = agents.find((i) => jwkThumbprint(i.publicJwk) === p.keyid)!;
      return { id: p.keyid!, algs: [alg(a.publicJwk.crv)], verify: dhVerifier(createPublicKey({ key: { ...a.publicJwk }, format: 'jwk' }), alg(a.publicJwk.crv)) };
    };
    expect(
      await httpbis.verifyMessage({ all: true, keyLookup: lookup }, { status: 200, headers }, { method: 'GET', url: `http://evil.example${DIRECTORY_PATH}`, headers: {} }),
    ).toBe(false);
    const other = { ...headers, 'content-digest': contentDigest('{"keys":[]}') };
    expect(await httpbis.verifyMessage({ all: true, keyLookup: lookup }, { status: 200, headers: other }, { method: 'GET', url: dirUrl, headers: {} })).toBe(false);
  });
});
