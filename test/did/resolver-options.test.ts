import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolver, documentResolver, TtlCache, type ResolveOptions } from '../../src/did/index.js';
import { isCharterError } from '../../src/errors.js';
import { serve } from '../helpers.js';

/*
 * Resolver options are checked when the resolver is built (TypeError, as
 * createDirectoryResolver and createStatusChecker do): a NaN maxBytes used to
 * turn the body cap off, a NaN cacheTtlMs to keep entries forever.
 */
const BAD: Record<string, unknown[]> = {
  maxBytes: [Number.NaN, 0, -1, 1.5, Number.POSITIVE_INFINITY, '1000', 2 ** 60],
  timeoutMs: [Number.NaN, 0, -5, Number.POSITIVE_INFINITY, '300', 2 ** 31],
  cacheTtlMs: [Number.NaN, -1, Number.POSITIVE_INFINITY, '60000'],
  cacheMaxEntries: [Number.NaN, -1, 1.5, '10', Number.POSITIVE_INFINITY],
};

describe('createResolver and documentResolver options', () => {
  for (const [name, values] of Object.entries(BAD)) {
    it(`createResolver refuses a bad ${name}`, () => {
      for (const v of values) expect(() => createResolver({ [name]: v } as ResolveOptions), `${name}: ${String(v)}`).toThrow(TypeError);
    });
  }
  it('documentResolver refuses a bad cacheTtlMs, cacheMaxEntries or check', () => {
    const load = async () => ({ id: 'did:example:a' });
    for (const v of BAD.cacheTtlMs!) expect(() => documentResolver(load, { cacheTtlMs: v as number }), String(v)).toThrow(TypeError);
    for (const v of BAD.cacheMaxEntries!) expect(() => documentResolver(load, { cacheMaxEntries: v as number }), String(v)).toThrow(TypeError);
    expect(() => documentResolver(load, { check: 'yes' as never })).toThrow(TypeError);
  });
  it('accepts the documented values: defaults, 0 to disable the cache, whole numbers', () => {
    expect(() => createResolver()).not.toThrow();
    expect(() => createResolver({ cacheTtlMs: 0, cacheMaxEntries: 0, maxBytes: 1, timeoutMs: 0.5 })).not.toThrow();
    expect(() => createResolver({ cacheTtlMs: 60_000, cacheMaxEntries: 10, maxBytes: 1024 * 1024, timeoutMs: 10_000 })).not.toThrow();
  });
  it('TtlCache refuses a NaN or negative lifetime or size, and a NaN per-entry ttl caches nothing', () => {
    for (const [ttl, max] of [
      [Number.NaN, 10],
      [-1, 10],
      ['60000', 10],
      [1000, Number.NaN],
      [1000, -1],
    ] as const)
      expect(() => new TtlCache(ttl as number, max as number), `${ttl} ${max}`).toThrow(TypeError);
    let t = 0;
    const c = new TtlCache<string, number>(1000, 10, () => t);
    c.set('nan', 1, Number.NaN);
    expect(c.get('nan')).toBeUndefined();
    c.set('k', 1);
    t = 999;
    expect(c.get('k')).toBe(1);
    t = 1000;
    expect(c.get('k')).toBeUndefined();
  });
});

describe('the did:web body cap holds', () => {
  let srv: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    srv = await serve((_req, res) => {
      res.writeHead(200);
      res.end(Buffer.alloc(2 * 1024 * 1024, 0x20));
    });
  });
  afterAll(() => srv.close());
  it('a 2 MiB document is DID_DOCUMENT_TOO_LARGE at the default cap and at a small one', async () => {
    for (const o of [{}, { maxBytes: 1000 }]) {
      const r = createResolver({ allowLoopback: true, allowHttp: true, timeoutMs: 5000, ...o });
      const code = await r.resolve(`did:web:127.0.0.1%3A${srv.port}`).then(
        () => 'NONE',
        (e: unknown) => (isCharterError(e) ? e.code : 'OTHER'),
      );
      expect(code).toBe('DID_DOCUMENT_TOO_LARGE');
    }
  });
});
