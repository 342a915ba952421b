import { afterEach, describe, expect, it } from 'vitest';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import { createDirectoryResolver, directoryFor, jwkThumbprint, signRequest, verifyRequestSignature, DIRECTORY_PATH } from '../../src/httpsig/index.js';
import { serve } from '../helpers.js';

/**
 * A fetched Web Bot Auth directory is cached for at most maxCacheSeconds of
 * real time, whatever `now` each caller passes: a caller whose now is in the
 * past must not keep using an entry past that, nor may a caller whose now is
 * in the future store one that then outlives it in real time.
 */
function agent() {
  const kp = generateKeyPair('Ed25519');
  return { jwk: kp.publicJwk, signer: createSigner(kp.privateJwk), keyId: jwkThumbprint(kp.publicJwk) };
}
type Agent = ReturnType<typeof agent>;

const servers: Array<{ close: () => Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

/** A directory server whose keys can change; directories signed for `expiresInSeconds`. */
async function directoryServer(initial: Agent[], expiresInSeconds = 600) {
  let keys = initial;
  let fetches = 0;
  const srv = await serve((req, res) => {
    if (req.url !== DIRECTORY_PATH) {
      res.statusCode = 404;
      return res.end();
    }
    fetches++;
    const dir = directoryFor({ keys: keys.map((k) => ({ jwk: k.jwk, signer: k.signer })), expiresInSeconds });
    void dir(req.headers.host!).then((r) => {
      res.writeHead(r.status, r.headers);
      res.end(r.body);
    });
  });
  servers.push(srv);
  return {
    origin: srv.url,
    fetches: () => fetches,
    set: (k: Agent[]) => {
      keys = k;
    },
  };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const MAX_CACHE_S = 1;

describe('directory cache life in real time, whatever now the caller passes', () => {
  it('filled at real time, then asked with a past now after its life: fetched again, a removed key verifies nothing', async () => {
    const [a, b] = [agent(), agent()];
    const dir = await directoryServer([a, b]);
    const T0 = new Date();
    const req = await signRequest(
      { method: 'GET', url: 'https://shop.example/x', headers: {} as Record<string, string> },
      { signer: a.signer, publicJwk: a.jwk, signatureAgent: dir.origin, now: T0 },
    );
    const r = createDirectoryResolver({ allowLoopback: true, maxCacheSeconds: MAX_CACHE_S });
    const o = { directories: r, allowLoopback: true };
    expect((await verifyRequestSignature(req, o)).ok).toBe(true);
    expect(dir.fetches()).toBe(1);
    dir.set([b]); // a rotated out
    await sleep(MAX_CACHE_S * 1000 + 300);
    for (const past of [new Date(T0.getTime() + 100), new Date(T0.getTime() - 30_000), T0]) {
      const d = await verifyRequestSignature(req, { ...o, now: past });
      expect(d.reasons.map((x) => x.code)).toEqual(['SIGNATURE_KEY_UNKNOWN']);
    }
    expect(dir.fetches()).toBeGreaterThanOrEqual(2);
  });

  it('the resolver itself: past, real and future nows in several orders never serve an entry older than maxCacheSeconds', async () => {
    const a = agent();
    const dir = await directoryServer([a]);
    for (const order of [
      ['past', 'real', 'future'],
      ['future', 'past', 'real'],
      ['real', 'future', 'past'],
    ] as const) {
      const r = createDirectoryResolver({ allowLoopback: true, maxCacheSeconds: MAX_CACHE_S });
      const when = (k: 'past' | 'real' | 'future') => (k === 'past' ? new Date(Date.now() - 3_600_000) : k === 'future' ? new Date(Date.now() + 120_000) : undefined);
      // First: fill (or not) with the first now.
      const before = dir.fetches();
      await r.resolve(dir.origin, when(order[0]));
      expect(dir.fetches()).toBe(before + 1);
      await sleep(MAX_CACHE_S * 1000 + 300);
      // Past its life in real time: every caller, whatever its now, fetches again.
      for (const k of order) {
        const n = dir.fetches();
        await r.resolve(dir.origin, when(k));
        // At most the first of these fetches; later ones within the new life may hit the new entry.
        if (k === order[0]) expect(dir.fetches()).toBe(n + 1);
      }
    }
  });

  it('an entry stored by a caller with a future now does not outlive maxCacheSeconds for real-time callers', async () => {
    const [a, b] = [agent(), agent()];
    const dir = await directoryServer([a, b]);
    const r = createDirectoryResolver({ allowLoopback: true, maxCacheSeconds: MAX_CACHE_S });
    const req = await signRequest(
      { method: 'GET', url: 'https://shop.example/x', headers: {} as Record<string, string> },
      { signer: a.signer, publicJwk: a.jwk, signatureAgent: dir.origin },
    );
    const future = new Date(Date.now() + 120_000);
    await r.resolve(dir.origin, future);
    dir.set([b]);
    await sleep(MAX_CACHE_S * 1000 + 300);
    const d = await verifyRequestSignature(req, { directories: r, allowLoopback: true });
    expect(d.reasons.map((x) => x.code)).toEqual(['SIGNATURE_KEY_UNKNOWN']);
  });

  it('within its life an entry is still shared (one fetch), for past and real nows', async () => {
    const a = agent();
    const dir = await directoryServer([a]);
    const r = createDirectoryResolver({ allowLoopback: true, maxCacheSeconds: 60 });
    await r.resolve(dir.origin);
    await r.resolve(dir.origin, new Date(Date.now() - 3_600_000));
    await r.resolve(dir.origin);
    expect(dir.fetches()).toBe(1);
  });
});
