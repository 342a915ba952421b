import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { createResolver } from '../../src/did/index.js';
import { createTokenStatusChecker, decodeTokenStatusList, encodeTokenStatusList } from '../../src/sdjwt/index.js';
import { makeIssuer } from '../helpers.js';
import { LIST, listJwt, nowS } from '../sdjwt/kb-craft.js';

/**
 * A Status List Token's `lst` is one ZLIB stream and nothing after it, and
 * its `exp`, `iat` and `nbf` are judged at the verification time the caller
 * gives (`ctx.now`), as the credential itself is.
 */
const resolver = createResolver();
const issuer = makeIssuer();
const status = { status_list: { idx: 0, uri: LIST } };
const codes = (r: { code: string }[]) => r.map((x) => x.code);

describe('lst: a ZLIB stream and nothing after it', () => {
  const z = deflateSync(Buffer.from([0, 1]));
  it('bytes after the stream are STATUS_INVALID: one, many, zeros, a second stream, a gzip trailer-like tail', () => {
    for (const tail of [Buffer.from([1]), Buffer.from([1, 2, 3]), Buffer.alloc(64), deflateSync(Buffer.from([0xff])), Buffer.from([0x1f, 0x8b])]) {
      expect(() => decodeTokenStatusList(Buffer.concat([z, tail]).toString('base64url'))).toThrow(expect.objectContaining({ code: 'STATUS_INVALID' }));
    }
  });

  it('a truncated stream, raw DEFLATE and GZIP stay refused; the honest list reads', () => {
    for (const bad of [z.subarray(0, z.length - 1), z.subarray(2)])
      expect(() => decodeTokenStatusList(bad.toString('base64url'))).toThrow(expect.objectContaining({ code: 'STATUS_INVALID' }));
    expect([...decodeTokenStatusList(z.toString('base64url'))]).toEqual([0, 1]);
    expect([...decodeTokenStatusList(encodeTokenStatusList(new Uint8Array([5, 6, 7])))]).toEqual([5, 6, 7]);
  });

  it('through the checker: a list with a tail cannot be used (STATUS_INVALID), even if every bit says valid', async () => {
    const list = await listJwt(issuer, { lst: Buffer.concat([deflateSync(Buffer.from([0])), Buffer.from([1, 2, 3])]).toString('base64url') });
    const c = createTokenStatusChecker({ resolver, source: async () => list });
    expect(codes(await c(status, { issuer: issuer.did, now: new Date() }))).toEqual(['STATUS_INVALID']);
  });
});

describe("the list's exp, iat and nbf are judged at ctx.now", () => {
  const checker = (list: string) => createTokenStatusChecker({ resolver, source: async () => list });
  const at = (ms: number) => ({ issuer: issuer.did, now: new Date(ms) });

  it('a list valid by the checker clock but expired, not yet issued or not yet valid at ctx.now is STATUS_INVALID', async () => {
    const t = nowS();
    const c = checker(await listJwt(issuer, { iat: t - 60, exp: t + 3600, nbf: t - 60 }));
    expect(codes(await c(status, at(Date.now())))).toEqual([]);
    expect(codes(await c(status, at((t + 2 * 86_400) * 1000)))).toEqual(['STATUS_INVALID']); // after exp
    expect(codes(await c(status, at((t - 86_400) * 1000)))).toEqual(['STATUS_INVALID']); // before iat and nbf
    // the cached list is judged at each call's time, not the first one's
    expect(codes(await c(status, at(Date.now())))).toEqual([]);
  });

  it('nbf alone: a list not valid yet at ctx.now is refused, and accepted once ctx.now reaches it', async () => {
    const t = nowS();
    const c = checker(await listJwt(issuer, { iat: t - 60, nbf: t + 600, exp: t + 7200 }));
    expect(codes(await c(status, at(Date.now())))).toEqual(['STATUS_INVALID']);
    expect(codes(await c(status, at((t + 700) * 1000)))).toEqual([]);
  });

  it('a list expired by the checker clock but valid at an earlier ctx.now (a decision re-checked from evidence) is read', async () => {
    const t = nowS();
    const c = checker(await listJwt(issuer, { iat: t - 7200, exp: t - 3600 }));
    expect(codes(await c(status, at((t - 5400) * 1000)))).toEqual([]);
    expect(codes(await c(status, at(Date.now())))).toEqual(['STATUS_INVALID']);
  });

  it('skew applies at ctx.now as at the clock (60 s by default)', async () => {
    const t = nowS();
    const c = checker(await listJwt(issuer, { iat: t, exp: t + 3600 }));
    expect(codes(await c(status, at((t + 3600 + 30) * 1000)))).toEqual([]);
    expect(codes(await c(status, at((t + 3600 + 90) * 1000)))).toEqual(['STATUS_INVALID']);
    expect(codes(await c(status, at((t - 30) * 1000)))).toEqual([]);
    expect(codes(await c(status, at((t - 90) * 1000)))).toEqual(['STATUS_INVALID']);
  });

  it('a ctx.now that is not a valid Date is a TypeError; an absent one means the checker clock', async () => {
    const c = checker(await listJwt(issuer));
    for (const now of [new Date(NaN), 'now', Date.now()]) await expect(c(status, { issuer: issuer.did, now: now as never })).rejects.toThrow(TypeError);
    expect(codes(await c(status, { issuer: issuer.did } as never))).toEqual([]);
  });
});
