import type { IncomingMessage, ServerResponse } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import type { PrivateJwk, PublicJwk } from '../../src/keys/types.js';
import {
  checkVerifyOptions,
  createDirectoryResolver,
  directoryFor,
  jwkThumbprint,
  signRequest,
  verifyRequestSignature,
  DIRECTORY_PATH,
  DIRECTORY_MEDIA_TYPE,
  contentDigest,
  verifyDirectoryResponse,
  type DirectoryResponse,
  type VerifyRequestSignatureOptions,
} from '../../src/httpsig/index.js';
import { serve } from '../helpers.js';
import { vectors } from './vectors.js';

const SHOP = 'https://shop.example/search?q=tea';
const codes = (d: { reasons: { code: string }[] }) => d.reasons.map((r) => r.code);

function agent() {
  const kp = generateKeyPair('Ed25519');
  return { jwk: kp.publicJwk, signer: createSigner(kp.privateJwk), keyId: jwkThumbprint(kp.publicJwk) };
}

interface Agent {
  jwk: PublicJwk;
  signer: ReturnType<typeof createSigner>;
  keyId: string;
}

/** A directory server on 127.0.0.1 counting connections and fetches; `shape` may alter each response. */
async function directoryServer(keys: Agent[], shape: (r: DirectoryResponse, req: IncomingMessage, res: ServerResponse) => boolean | void = () => {}, expiresInSeconds = 300) {
  const directory = directoryFor({ keys: keys.map((k) => ({ jwk: k.jwk, signer: k.signer })), expiresInSeconds });
  let fetches = 0;
  let connections = 0;
  const srv = await serve((req, res) => {
    if (req.url !== DIRECTORY_PATH) {
      res.statusCode = 404;
      return res.end();
    }
    fetches++;
    void directory(req.headers.host!).then((r) => {
      if (shape(r, req, res) === true) return; // the shaper answered itself
      res.writeHead(r.status, r.headers);
      res.end(r.body);
    });
  });
  srv.server.on('connection', () => connections++);
  servers.push(srv);
  return { ...srv, origin: srv.url, fetches: () => fetches, connections: () => connections };
}
const servers: Array<{ close: () => Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

async function signedBy(a: Agent, signatureAgent: string) {
  return signRequest({ method: 'GET', url: SHOP, headers: {} as Record<string, string> }, { signer: a.signer, publicJwk: a.jwk, signatureAgent });
}
function options(extra: Partial<VerifyRequestSignatureOptions> = {}): VerifyRequestSignatureOptions {
  return { directories: createDirectoryResolver({ allowLoopback: true, timeoutMs: 1000 }), allowLoopback: true, ...extra };
}

describe('key directories fetched from Signature-Agent (real servers on 127.0.0.1)', () => {
  it('a request signed by a key of the signed directory verifies and is attributed to that origin; the directory is cached', async () => {
    const a = agent();
    const dir = await directoryServer([agent(), a]);
    const opts = options();
    const d = await verifyRequestSignature(await signedBy(a, dir.origin), opts);
    expect(d.reasons).toEqual([]);
    expect(d).toMatchObject({ ok: true, signatureAgent: dir.origin, directory: `${dir.origin}${DIRECTORY_PATH}`, keyId: a.keyId });
    expect((await verifyRequestSignature(await signedBy(a, dir.origin), opts)).ok).toBe(true);
    expect(dir.fetches()).toBe(1);
  });

  it('concurrent requests naming one directory share one fetch', async () => {
    const a = agent();
    const dir = await directoryServer([a]);
    const opts = options();
    const ds = await Promise.all([1, 2, 3, 4].map(async () => verifyRequestSignature(await signedBy(a, dir.origin), opts)));
    expect(ds.every((d) => d.ok)).toBe(true);
    expect(dir.fetches()).toBe(1);
  });

  it('the cache never outlives the directory signatures: past their expiry the directory is fetched again', async () => {
    const a = agent();
    const dir = await directoryServer(
      [a],
      (r) => {
        r.headers['cache-control'] = 'max-age=86400'; // the server's cache header is longer than its signatures
      },
      10,
    );
    const opts = options();
    expect((await verifyRequestSignature(await signedBy(a, dir.origin), opts)).ok).toBe(true);
    // Well within the signatures' 10 s (a loaded machine may take seconds between two lines).
    expect((await verifyRequestSignature(await signedBy(a, dir.origin), { ...opts, now: new Date(Date.now() + 1000) })).ok).toBe(true);
    expect(dir.fetches()).toBe(1);
    expect((await verifyRequestSignature(await signedBy(a, dir.origin), { ...opts, now: new Date(Date.now() + 10_500) })).ok).toBe(true);
    expect(dir.fetches()).toBe(2);
  });

  it('a directory signed while the fetch ran is judged when it arrived: not "created in the future", even with no skew', async () => {
    const a = agent();
    const dir = await directoryServer([a]);
    // The request is verified as of 5 s ago (a request that began just before a second boundary, exaggerated).
    const then = new Date(Date.now() - 5000);
    const req = await signRequest(
      { method: 'GET', url: SHOP, headers: {} as Record<string, string> },
      { signer: a.signer, publicJwk: a.jwk, signatureAgent: dir.origin, now: then },
    );
    const d = await verifyRequestSignature(req, options({ now: then, skewSeconds: 0, directories: createDirectoryResolver({ allowLoopback: true, skewSeconds: 0 }) }));
    expect(d.reasons).toEqual([]);
    expect(d.ok).toBe(true);
  });

  it('a directory without its signatures is refused (Charter policy); a caller may relax it as the draft does', async () => {
    const a = agent();
    const dir = await directoryServer([a], (r) => {
      delete r.headers.signature;
      delete r.headers['signature-input'];
    });
    expect(codes(await verifyRequestSignature(await signedBy(a, dir.origin), options()))).toEqual(['DIRECTORY_INVALID']);
    const relaxed = options({ directories: createDirectoryResolver({ allowLoopback: true, requireSignature: false }) });
    expect((await verifyRequestSignature(await signedBy(a, dir.origin), relaxed)).ok).toBe(true);
  });

  it('a directory signature made for another authority is refused', async () => {
    const a = agent();
    const other = directoryFor({ keys: [{ jwk: a.jwk, signer: a.signer }] });
    const dir = await directoryServer([a], (_r, _req, res) => {
      void other('elsewhere.example').then((r) => {
        res.writeHead(200, r.headers);
        res.end(r.body);
      });
      return true;
    });
    expect(codes(await verifyRequestSignature(await signedBy(a, dir.origin), options()))).toEqual(['DIRECTORY_INVALID']);
  });

  it('a keyid the directory does not list: SIGNATURE_KEY_UNKNOWN', async () => {
    const dir = await directoryServer([agent()]);
    expect(codes(await verifyRequestSignature(await signedBy(agent(), dir.origin), options()))).toEqual(['SIGNATURE_KEY_UNKNOWN']);
  });

  it("a directory serving RFC 9421's published test key is refused (INVALID_KEY), though the same key passed explicitly is the caller's choice", async () => {
    const rfc = vectors('rfc9421.json');
    const { d: _d, kid: _k, ...jwk } = rfc.keys['test-key-ed25519'].jwk;
    const test = { jwk: jwk as PublicJwk, signer: createSigner(rfc.keys['test-key-ed25519'].jwk as PrivateJwk), keyId: jwkThumbprint(jwk) };
    const dir = await directoryServer([test]);
    const r = await signedBy(test, dir.origin);
    expect(codes(await verifyRequestSignature(r, options()))).toEqual(['INVALID_KEY']);
    expect((await verifyRequestSignature(r, { keys: { keys: [jwk] } })).ok).toBe(true);
  });

  it('a Signature-Agent on a non-public address is refused without connecting', async () => {
    const a = agent();
    const dir = await directoryServer([a]);
    const strict = { directories: createDirectoryResolver({ timeoutMs: 1000 }) };
    const host = dir.origin.replace('http://', '');
    for (const target of [dir.origin, `https://${host}`, `https://localhost:${dir.port}`]) {
      const d = await verifyRequestSignature(await signedBy(a, target), strict);
      expect(codes(d)).toEqual(['FORBIDDEN_ADDRESS']);
    }
    expect(codes(await verifyRequestSignature(await signedBy(a, 'https://10.1.2.3'), strict))).toEqual(['FORBIDDEN_ADDRESS']);
    expect(dir.connections()).toBe(0);
    expect(dir.fetches()).toBe(0);
  });

  it('a directory over the size cap: DIRECTORY_INVALID', async () => {
    const a = agent();
    const dir = await directoryServer([a], (_r, _req, res) => {
      res.writeHead(200, { 'content-type': 'application/http-message-signatures-directory+json' });
      res.end(JSON.stringify({ keys: [], pad: 'x'.repeat(70 * 1024) }));
      return true;
    });
    expect(codes(await verifyRequestSignature(await signedBy(a, dir.origin), options()))).toEqual(['DIRECTORY_INVALID']);
  });

  it('a directory served with another media type: DIRECTORY_INVALID', async () => {
    const a = agent();
    const dir = await directoryServer([a], (r) => {
      r.headers['content-type'] = 'application/json';
    });
    expect(codes(await verifyRequestSignature(await signedBy(a, dir.origin), options()))).toEqual(['DIRECTORY_INVALID']);
  });

  it('a redirect is not followed: DIRECTORY_UNAVAILABLE, and its target is never fetched', async () => {
    const a = agent();
    const target = await directoryServer([a]);
    const dir = await directoryServer([a], (_r, _req, res) => {
      res.writeHead(302, { location: `${target.origin}${DIRECTORY_PATH}` });
      res.end();
      return true;
    });
    expect(codes(await verifyRequestSignature(await signedBy(a, dir.origin), options()))).toEqual(['DIRECTORY_UNAVAILABLE']);
    expect(target.fetches()).toBe(0);
  });

  it('only a 200 counts: a 404 or 500 is DIRECTORY_UNAVAILABLE', async () => {
    const a = agent();
    for (const status of [404, 500]) {
      const dir = await directoryServer([a], (_r, _req, res) => {
        res.writeHead(status);
        res.end();
        return true;
      });
      expect(codes(await verifyRequestSignature(await signedBy(a, dir.origin), options()))).toEqual(['DIRECTORY_UNAVAILABLE']);
    }
  });

  it('a slow server that keeps sending is cut off by the wall-clock deadline: DIRECTORY_UNAVAILABLE', async () => {
    const a = agent();
    const dir = await directoryServer([a], (_r, _req, res) => {
      res.writeHead(200, { 'content-type': 'application/http-message-signatures-directory+json' });
      res.write('{"keys":[');
      const drip = setInterval(() => res.write(' '), 50); // never idle long enough for a socket timeout
      res.on('close', () => clearInterval(drip));
      return true;
    });
    const started = Date.now();
    const d = await verifyRequestSignature(await signedBy(a, dir.origin), { ...options(), directories: createDirectoryResolver({ allowLoopback: true, timeoutMs: 400 }) });
    expect(codes(d)).toEqual(['DIRECTORY_UNAVAILABLE']);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it('directories given by the caller, by origin: the request is attributed to that origin without a fetch', async () => {
    const a = agent();
    const d = await verifyRequestSignature(await signedBy(a, 'https://agent.example'), { directories: { 'https://agent.example': { keys: [a.jwk] } } });
    expect(d).toMatchObject({ ok: true, signatureAgent: 'https://agent.example' });
    const elsewhere = await verifyRequestSignature(await signedBy(a, 'https://impostor.example'), { directories: { 'https://agent.example': { keys: [a.jwk] } } });
    expect(codes(elsewhere)).toEqual(['SIGNATURE_KEY_UNKNOWN']); // keys are looked up by (URL, key), never by key alone
  });

  it('directories given by the caller: each key an http(s) origin, one key per origin, checked when the options are (a TypeError, never a 500 per request)', async () => {
    const a = agent();
    const set = { keys: [a.jwk] };
    for (const bad of [
      'agent.example',
      '',
      'not a url',
      'ftp://agent.example',
      'data:text/plain,x',
      'https://agent.example/keys',
      'https://agent.example?x=1',
      'https://agent.example#k',
      'https://user@agent.example',
    ]) {
      expect(() => checkVerifyOptions({ directories: { [bad]: set } })).toThrow(TypeError);
      await expect(verifyRequestSignature(await signedBy(a, 'https://agent.example'), { directories: { [bad]: set } })).rejects.toThrow(TypeError);
    }
    for (const dup of [
      { 'https://agent.example': set, 'https://agent.example/': set } as Record<string, typeof set>,
      { 'https://agent.example': set, 'https://AGENT.example': set },
    ]) {
      expect(() => checkVerifyOptions({ directories: dup })).toThrow(/already names the origin/);
    }
    for (const good of ['https://agent.example/', 'https://Agent.Example']) {
      const d = await verifyRequestSignature(await signedBy(a, 'https://agent.example'), { directories: { [good]: set } });
      expect([good, d.ok, d.signatureAgent]).toEqual([good, true, 'https://agent.example']);
    }
  });
});

describe('directory keys are used only within their nbf and exp', () => {
  const URL_ = `https://agent.example${DIRECTORY_PATH}`;
  const now = new Date('2026-06-01T00:00:00Z');
  const s = Math.floor(now.getTime() / 1000);
  const day = 86_400;
  /** A directory listing `a` with these extra members (unsigned: the window check comes before the bindings). */
  const response = (a: Agent, extra: Record<string, unknown>, b?: Agent) => {
    const keys = [
      { kty: a.jwk.kty, crv: a.jwk.crv, kid: a.keyId, x: a.jwk.x, use: 'sig', ...extra },
      ...(b ? [{ kty: b.jwk.kty, crv: b.jwk.crv, kid: b.keyId, x: b.jwk.x, use: 'sig' }] : []),
    ];
    const body = JSON.stringify({ keys });
    return { url: URL_, headers: { 'content-type': DIRECTORY_MEDIA_TYPE, 'content-digest': contentDigest(body) }, body };
  };
  const verify = (r: ReturnType<typeof response>) => verifyDirectoryResponse(r, { now, requireSignature: false });

  it('a key past its exp or before its nbf signs nothing, in seconds or in milliseconds', () => {
    const a = agent();
    for (const extra of [{ exp: s - 30 * day }, { exp: (s - 30 * day) * 1000 }, { nbf: s + 30 * day }, { nbf: (s + 30 * day) * 1000 }, { nbf: s - day, exp: s - 120 }]) {
      expect(() => verify(response(a, extra))).toThrow(expect.objectContaining({ code: 'DIRECTORY_INVALID' }));
      // Beside a valid key, the dated one is left out.
      const b = agent();
      expect(verify(response(a, extra, b)).keys.map((k) => k.thumbprint)).toEqual([b.keyId]);
    }
  });
  it('a key within its window is used, and the directory is kept no longer than the key', () => {
    const a = agent();
    expect(verify(response(a, { nbf: s - day, exp: s + 3600 })).keys).toHaveLength(1);
    expect(verify(response(a, { exp: (s + 3600) * 1000 })).expiresAt).toBe((s + 3600) * 1000);
    // Within the skew (60 s) of either bound.
    expect(verify(response(a, { nbf: s + 30, exp: s + 7200 })).keys).toHaveLength(1);
    expect(verify(response(a, { exp: s - 30 })).keys).toHaveLength(1);
  });
  it('a directory naming a member twice (in a key, or keys itself) or nesting too deep is refused: readers would disagree on the key', () => {
    const a = agent();
    const b = agent();
    const good = response(a, {});
    expect(verify(good).keys).toHaveLength(1);
    const withText = (body: string) => ({ ...good, headers: { ...good.headers, 'content-digest': contentDigest(body) }, body });
    const key = `{"kty":"OKP","crv":"Ed25519","kid":"${a.keyId}","x":"${b.jwk.x}","x":"${a.jwk.x}","use":"sig"}`;
    for (const body of [
      `{"keys":[${key}]}`,
      `{"keys":[],"keys":[${key.replace(`"x":"${b.jwk.x}",`, '')}]}`,
      `{"keys":[${key.replace(`"x":"${b.jwk.x}",`, '')}],"pad":${'['.repeat(80)}${']'.repeat(80)}}`,
    ]) {
      expect(() => verify(withText(body)), body.slice(0, 60)).toThrow(expect.objectContaining({ code: 'DIRECTORY_INVALID' }));
    }
  });
  it('a key listed twice (one copy expired, not yet valid, or both undated; the same key under kid or not) is refused, whatever the order', () => {
    const a = agent();
    const b = agent();
    const entry = { kty: a.jwk.kty, crv: a.jwk.crv, kid: a.keyId, x: a.jwk.x, use: 'sig' };
    const other = { kty: b.jwk.kty, crv: b.jwk.crv, kid: b.keyId, x: b.jwk.x, use: 'sig' };
    const copies: Record<string, unknown>[] = [
      { ...entry, exp: s - day },
      { ...entry, nbf: s + 30 * day },
      { ...entry, exp: s + day },
      entry,
      { kty: a.jwk.kty, crv: a.jwk.crv, x: a.jwk.x },
      { ...entry, use: 'sig', alg: 'EdDSA' },
    ];
    const dir = (keys: Record<string, unknown>[]) => {
      const body = JSON.stringify({ keys });
      return { url: URL_, headers: { 'content-type': DIRECTORY_MEDIA_TYPE, 'content-digest': contentDigest(body) }, body };
    };
    for (const c of copies) {
      for (const keys of [
        [c, entry],
        [entry, c],
        [c, other, entry],
        [other, entry, c],
      ]) {
        expect(() => verify(dir(keys)), JSON.stringify(keys)).toThrow(expect.objectContaining({ code: 'DIRECTORY_INVALID', message: expect.stringMatching(/more than once/) }));
      }
    }
    // Each key once: read.
    expect(verify(dir([entry, other])).keys.map((k) => k.thumbprint)).toEqual([a.keyId, b.keyId]);
  });
  it('an nbf or exp that is not a time refuses the directory', () => {
    const a = agent();
    for (const extra of [{ exp: String(s + day) }, { nbf: null }, { exp: -1 }, { exp: Number.NaN }, { nbf: true }, { exp: [s + day] }]) {
      expect(() => verify(response(a, extra))).toThrow(expect.objectContaining({ code: 'DIRECTORY_INVALID' }));
    }
  });
});
