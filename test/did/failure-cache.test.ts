import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDidWeb, createResolver } from '../../src/did/index.js';
import { generateKeyPair } from '../../src/keys/index.js';
import { serve } from '../helpers.js';

/**
 * A presentation names whatever did:web it likes, and the verifier resolves it before any signature is
 * checked: a DID that fails is remembered for failureTtlMs (at most cacheTtlMs, for at most cacheMaxEntries
 * DIDs), so repeated requests naming it do not make the verifier fetch its host once each.
 */
const key = generateKeyPair().publicJwk;
let healthy = false;
const hits: string[] = [];
let srv: Awaited<ReturnType<typeof serve>>;
beforeAll(async () => {
  srv = await serve((req, res) => {
    hits.push(req.url ?? '');
    if (!healthy) return res.writeHead(503).end();
    const path = (req.url ?? '').replace(/\/did\.json$/, '').replace(/\//g, ':');
    res.writeHead(200, { 'content-type': 'application/did+json' }).end(JSON.stringify(createDidWeb({ domain: `did:web:127.0.0.1%3A${srv.port}${path}`, publicJwk: key }).document));
  });
});
afterAll(() => srv.close());

const local = { allowLoopback: true, allowHttp: true, timeoutMs: 2000 };
const did = (seg: string) => `did:web:127.0.0.1%3A${srv.port}:${seg}`;
const fetchesOf = (seg: string) => hits.filter((h) => h === `/${seg}/did.json`).length;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('did:web: a failed resolution is remembered for failureTtlMs', () => {
  it('ten resolutions (resolve and resolveKey) of a failing did:web make one fetch', async () => {
    healthy = false;
    const resolver = createResolver(local);
    for (let i = 0; i < 5; i++) {
      await expect(resolver.resolve(did('down'))).rejects.toMatchObject({ code: 'DID_RESOLUTION_FAILED' });
      await expect(resolver.resolveKey(did('down'), `${did('down')}#key-1`, 'assertionMethod')).rejects.toMatchObject({ code: 'DID_RESOLUTION_FAILED' });
    }
    expect(fetchesOf('down')).toBe(1);
  });

  it('after failureTtlMs the DID is loaded again, and a host that recovered resolves', async () => {
    healthy = false;
    const resolver = createResolver({ ...local, failureTtlMs: 200 });
    await expect(resolver.resolve(did('later'))).rejects.toMatchObject({ code: 'DID_RESOLUTION_FAILED' });
    healthy = true;
    await expect(resolver.resolve(did('later'))).rejects.toMatchObject({ code: 'DID_RESOLUTION_FAILED' });
    expect(fetchesOf('later')).toBe(1);
    await sleep(300);
    expect((await resolver.resolve(did('later'))).id).toBe(did('later'));
    expect(fetchesOf('later')).toBe(2);
  });

  it('clear(did) forgets the failure at once (a rotation or recovery notice)', async () => {
    healthy = false;
    const resolver = createResolver(local);
    await expect(resolver.resolve(did('cleared'))).rejects.toMatchObject({ code: 'DID_RESOLUTION_FAILED' });
    healthy = true;
    resolver.clear(did('cleared'));
    expect((await resolver.resolve(did('cleared'))).id).toBe(did('cleared'));
    expect(fetchesOf('cleared')).toBe(2);
  });

  it('remembers at most cacheMaxEntries failed DIDs, oldest forgotten first', async () => {
    healthy = false;
    const resolver = createResolver({ ...local, cacheMaxEntries: 2 });
    for (const s of ['m0', 'm1', 'm2']) await expect(resolver.resolve(did(s))).rejects.toMatchObject({ code: 'DID_RESOLUTION_FAILED' });
    for (const s of ['m2', 'm1', 'm0']) await expect(resolver.resolve(did(s))).rejects.toMatchObject({ code: 'DID_RESOLUTION_FAILED' });
    expect(['m0', 'm1', 'm2'].map(fetchesOf)).toEqual([2, 1, 1]);
  });

  it('cacheTtlMs: 0 caches no failure either; a failureTtlMs that is no number is a TypeError', async () => {
    healthy = false;
    const resolver = createResolver({ ...local, cacheTtlMs: 0 });
    for (let i = 0; i < 3; i++) await expect(resolver.resolve(did('uncached'))).rejects.toMatchObject({ code: 'DID_RESOLUTION_FAILED' });
    expect(fetchesOf('uncached')).toBe(3);
    for (const failureTtlMs of [-1, Number.NaN, Number.POSITIVE_INFINITY, '30' as unknown as number]) expect(() => createResolver({ failureTtlMs })).toThrow(TypeError);
  });
});
