import { afterEach, describe, expect, it } from 'vitest';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import { createDirectoryResolver, directoryFor, signRequest, verifyRequestSignature, DIRECTORY_PATH } from '../../src/httpsig/index.js';
import { serve } from '../helpers.js';

/**
 * One directory resolver answers every caller with the same options (verifyRequestSignature shares one per
 * option set across the process: several verifiers, tenants, tests). A directory judged at one caller's
 * future `now` may hold then and not now, and one judged now may no longer hold at that future time:
 * neither verdict may answer the other caller, whether through the cache or a fetch in flight.
 */
const servers: Array<{ close: () => Promise<void> }> = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

const FUTURE_MS = 10 * 60_000;

function agent() {
  const kp = generateKeyPair('Ed25519');
  return { jwk: kp.publicJwk, signer: createSigner(kp.privateJwk) };
}
type Agent = ReturnType<typeof agent>;

/** A directory server signing at `signedAt()` (ms) for `expiresInSeconds`, answering after `delayMs`. */
async function directoryServer(a: Agent, o: { signedAt: () => number; expiresInSeconds: number; delayMs?: number }) {
  let fetches = 0;
  const srv = await serve((req, res) => {
    if (req.url !== DIRECTORY_PATH) {
      res.statusCode = 404;
      return res.end();
    }
    fetches++;
    const dir = directoryFor({ keys: [a], expiresInSeconds: o.expiresInSeconds, cacheSeconds: Math.min(o.expiresInSeconds, 3600) });
    setTimeout(() => {
      void dir(req.headers.host!, new Date(o.signedAt())).then((r) => {
        res.writeHead(r.status, r.headers);
        res.end(r.body);
      });
    }, o.delayMs ?? 0);
  });
  servers.push(srv);
  return { origin: srv.url, fetches: () => fetches };
}

const request = (a: Agent, origin: string, now?: Date) =>
  signRequest(
    { method: 'GET', url: 'https://shop.example/x', headers: {} as Record<string, string> },
    { signer: a.signer, publicJwk: a.jwk, signatureAgent: origin, ...(now ? { now } : {}) },
  );
const codes = (d: { reasons: { code: string }[] }) => d.reasons.map((r) => r.code);

describe('a directory judged at one caller’s clock never answers another’s', () => {
  it("verifyRequestSignature's shared resolver: a directory signed in the future, accepted by a verifier on a future clock, is still refused at the real time", async () => {
    const a = agent();
    const dir = await directoryServer(a, { signedAt: () => Date.now() + FUTURE_MS, expiresInSeconds: 7200 });
    const future = new Date(Date.now() + FUTURE_MS);
    const tenantA = { directories: 'fetch' as const, allowLoopback: true, now: future };
    const tenantB = { directories: 'fetch' as const, allowLoopback: true };
    expect((await verifyRequestSignature(await request(a, dir.origin, future), tenantA)).ok).toBe(true);
    const b = await verifyRequestSignature(await request(a, dir.origin), tenantB);
    expect(b.ok).toBe(false);
    expect(codes(b)).toEqual(['DIRECTORY_INVALID']);
    // And again: nothing the first call left makes the second accept.
    expect((await verifyRequestSignature(await request(a, dir.origin), tenantB)).ok).toBe(false);
  });

  it('one resolver, called in turn: future now first, then real time and a past now, each refused as alone', async () => {
    const a = agent();
    const dir = await directoryServer(a, { signedAt: () => Date.now() + FUTURE_MS, expiresInSeconds: 7200 });
    const r = createDirectoryResolver({ allowLoopback: true });
    await expect(r.resolve(dir.origin, new Date(Date.now() + FUTURE_MS))).resolves.toBeDefined();
    for (const when of [undefined, new Date(), new Date(Date.now() - 3_600_000)]) {
      await expect(r.resolve(dir.origin, when)).rejects.toMatchObject({ code: 'DIRECTORY_INVALID' });
    }
  });

  it('a future caller’s fetch in flight is not joined by a real-time caller', async () => {
    const a = agent();
    const dir = await directoryServer(a, { signedAt: () => Date.now() + FUTURE_MS, expiresInSeconds: 7200, delayMs: 150 });
    const r = createDirectoryResolver({ allowLoopback: true });
    const [futureCaller, realCaller] = await Promise.allSettled([r.resolve(dir.origin, new Date(Date.now() + FUTURE_MS)), r.resolve(dir.origin)]);
    expect(futureCaller.status).toBe('fulfilled');
    expect(realCaller.status).toBe('rejected');
    expect((realCaller as PromiseRejectedResult).reason).toMatchObject({ code: 'DIRECTORY_INVALID' });
    expect(dir.fetches()).toBe(2);
  });

  it('a real-time fetch in flight is not joined by a future caller, by whose time the directory has expired', async () => {
    const a = agent();
    const dir = await directoryServer(a, { signedAt: () => Date.now(), expiresInSeconds: 120, delayMs: 150 });
    const r = createDirectoryResolver({ allowLoopback: true });
    const [realCaller, futureCaller] = await Promise.allSettled([r.resolve(dir.origin), r.resolve(dir.origin, new Date(Date.now() + FUTURE_MS))]);
    expect(realCaller.status).toBe('fulfilled');
    expect(futureCaller.status).toBe('rejected');
    expect((futureCaller as PromiseRejectedResult).reason).toMatchObject({ code: 'DIRECTORY_INVALID' });
  });

  it('a future caller neither evicts nor replaces the entry real-time callers share', async () => {
    const a = agent();
    const dir = await directoryServer(a, { signedAt: () => Date.now(), expiresInSeconds: 120 });
    const r = createDirectoryResolver({ allowLoopback: true });
    await r.resolve(dir.origin);
    expect(dir.fetches()).toBe(1);
    // Expired at its time: it fetches (and is refused) on its own.
    await expect(r.resolve(dir.origin, new Date(Date.now() + FUTURE_MS))).rejects.toMatchObject({ code: 'DIRECTORY_INVALID' });
    expect(dir.fetches()).toBe(2);
    await r.resolve(dir.origin);
    await r.resolve(dir.origin, new Date(Date.now() - 60_000));
    expect(dir.fetches()).toBe(2);
  });
});
