import { afterEach, describe, expect, it } from 'vitest';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import { createDirectoryResolver, directoryFor, jwkThumbprint, signRequest, verifyRequestSignature, DIRECTORY_PATH } from '../../src/httpsig/index.js';
import { serve } from '../helpers.js';

/**
 * The Signature-Agent origin comes from the request, before any signature is
 * checked: without a memory of failures, each unsigned request naming an
 * origin whose directory fails makes the verifier fetch that origin again (a
 * 1:1 reflector towards any origin an attacker names). A failure is kept for
 * failureCacheSeconds, for a bounded number of origins.
 */
const servers: Array<{ close: () => Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

function agent() {
  const kp = generateKeyPair('Ed25519');
  return { jwk: kp.publicJwk, signer: createSigner(kp.privateJwk), keyId: jwkThumbprint(kp.publicJwk) };
}

/** A directory server that fails (503) until `heal()`, then serves a valid directory of `keys`. */
async function flakyDirectory(keys: ReturnType<typeof agent>[] = []) {
  let fetches = 0;
  let healthy = false;
  const srv = await serve((req, res) => {
    fetches++;
    if (!healthy || req.url !== DIRECTORY_PATH) return res.writeHead(503).end();
    void directoryFor({ keys: keys.map((k) => ({ jwk: k.jwk, signer: k.signer })) })(req.headers.host!).then((r) => res.writeHead(r.status, r.headers).end(r.body));
  });
  servers.push(srv);
  return { origin: srv.url, fetches: () => fetches, heal: () => void (healthy = true) };
}

/** An unsigned request (a made-up signature) naming `origin` as its Signature-Agent. */
function forged(origin: string) {
  const now = Math.floor(Date.now() / 1000);
  return {
    method: 'GET',
    url: 'https://api.example/',
    headers: {
      host: 'api.example',
      'signature-agent': `a="${origin}"`,
      'signature-input': `a=("@authority" "signature-agent";key="a");created=${now};expires=${now + 60};keyid="kid-anything";tag="web-bot-auth"`,
      signature: `a=:${Buffer.alloc(64).toString('base64')}:`,
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('a failing key directory is fetched once per failureCacheSeconds, however many requests name it', () => {
  it("directories: 'fetch' (the default resolver): 20 forged requests, one after the other, make one fetch", async () => {
    const dir = await flakyDirectory();
    for (let i = 0; i < 20; i++) {
      const d = await verifyRequestSignature(forged(dir.origin), { directories: 'fetch', allowLoopback: true });
      expect([i, d.ok, d.reasons[0]?.code]).toEqual([i, false, 'DIRECTORY_UNAVAILABLE']);
    }
    expect(dir.fetches()).toBe(1);
  });

  it('20 concurrent forged requests make one fetch, and all get the same refusal', async () => {
    const dir = await flakyDirectory();
    const resolver = createDirectoryResolver({ allowLoopback: true });
    const ds = await Promise.all(Array.from({ length: 20 }, () => verifyRequestSignature(forged(dir.origin), { directories: resolver, allowLoopback: true })));
    expect(new Set(ds.map((d) => d.reasons[0]?.code))).toEqual(new Set(['DIRECTORY_UNAVAILABLE']));
    expect(dir.fetches()).toBe(1);
  });

  it('after failureCacheSeconds the origin is fetched again, and a directory that recovered verifies a real signature', async () => {
    const a = agent();
    const dir = await flakyDirectory([a]);
    const resolver = createDirectoryResolver({ allowLoopback: true, failureCacheSeconds: 0.3 });
    for (let i = 0; i < 5; i++) await expect(resolver.resolve(dir.origin)).rejects.toMatchObject({ code: 'DIRECTORY_UNAVAILABLE' });
    expect(dir.fetches()).toBe(1);
    dir.heal();
    // Still within the failure's life: remembered, not fetched, though the server has recovered.
    await expect(resolver.resolve(dir.origin)).rejects.toMatchObject({ code: 'DIRECTORY_UNAVAILABLE' });
    expect(dir.fetches()).toBe(1);
    await sleep(400);
    const req = await signRequest(
      { method: 'GET', url: 'https://shop.example/x', headers: {} as Record<string, string> },
      { signer: a.signer, publicJwk: a.jwk, signatureAgent: dir.origin },
    );
    const d = await verifyRequestSignature(req, { directories: resolver, allowLoopback: true });
    expect([d.ok, d.reasons]).toEqual([true, []]);
    expect(dir.fetches()).toBe(2);
  });

  it("a failure judged at a caller's own clock is never served to real-time callers (one resolver shared by all)", async () => {
    const a = agent();
    const dir = await flakyDirectory([a]);
    dir.heal();
    const resolver = createDirectoryResolver({ allowLoopback: true });
    // A re-check a day ahead: the directory's short-lived signature has expired there, so it fails.
    const ahead = new Date(Date.now() + 86_400_000);
    await expect(resolver.resolve(dir.origin, ahead)).rejects.toMatchObject({ code: expect.stringMatching(/^DIRECTORY_/) });
    await expect(resolver.resolve(dir.origin, ahead)).rejects.toMatchObject({ code: expect.stringMatching(/^DIRECTORY_/) });
    // The real-time caller right after is not refused with it: it fetches and verifies.
    const dirNow = await resolver.resolve(dir.origin);
    expect(dirNow.keys.length).toBe(1);
    // A real-time failure is not served to a caller at another time either (it is judged afresh).
    const down = await flakyDirectory();
    await expect(resolver.resolve(down.origin)).rejects.toMatchObject({ code: 'DIRECTORY_UNAVAILABLE' });
    await expect(resolver.resolve(down.origin, new Date(Date.now() - 3_600_000))).rejects.toMatchObject({ code: 'DIRECTORY_UNAVAILABLE' });
    expect(down.fetches()).toBe(2);
  });

  it('remembers at most maxEntries failed origins: the oldest is forgotten first', async () => {
    const dirs = await Promise.all([flakyDirectory(), flakyDirectory(), flakyDirectory()]);
    const resolver = createDirectoryResolver({ allowLoopback: true, maxEntries: 2 });
    for (const d of dirs) await expect(resolver.resolve(d.origin)).rejects.toMatchObject({ code: 'DIRECTORY_UNAVAILABLE' });
    // The two newest are still remembered; the first was dropped to make room and is fetched again.
    await expect(resolver.resolve(dirs[2]!.origin)).rejects.toMatchObject({ code: 'DIRECTORY_UNAVAILABLE' });
    await expect(resolver.resolve(dirs[1]!.origin)).rejects.toMatchObject({ code: 'DIRECTORY_UNAVAILABLE' });
    await expect(resolver.resolve(dirs[0]!.origin)).rejects.toMatchObject({ code: 'DIRECTORY_UNAVAILABLE' });
    expect(dirs.map((d) => d.fetches())).toEqual([2, 1, 1]);
  });

  it('refuses a failureCacheSeconds that is not a positive number of seconds when built', () => {
    for (const failureCacheSeconds of [0, -1, Number.NaN, Number.POSITIVE_INFINITY, 1e9, '30' as unknown as number]) {
      expect(() => createDirectoryResolver({ failureCacheSeconds })).toThrow(TypeError);
    }
  });
});
