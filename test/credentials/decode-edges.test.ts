import { describe, expect, it } from 'vitest';
import { decodeJwt } from '../../src/credentials/index.js';

/**
 * decodeJwt refuses with a CharterError (MALFORMED_JWT), never a TypeError from
 * reading a property of what is not an object: JSON `null` as header or
 * payload (typeof null is "object"), and a JWT that is not a string at all.
 */
const b64 = (s: string) => Buffer.from(s).toString('base64url');
const failure = (f: () => unknown) => {
  try {
    f();
    return 'ok';
  } catch (e) {
    return `${(e as Error).constructor.name} ${(e as { code?: string }).code}`;
  }
};

describe('decodeJwt on JSON that is not an object', () => {
  it.each(['null', '[]', '1', '"x"', 'true'])('a header or payload of %s is MALFORMED_JWT', (json) => {
    const header = b64('{"alg":"EdDSA"}');
    expect(failure(() => decodeJwt(`${b64(json)}.${b64('{}')}.AAAA`))).toBe('CharterError MALFORMED_JWT');
    expect(failure(() => decodeJwt(`${header}.${b64(json)}.AAAA`))).toBe('CharterError MALFORMED_JWT');
  });

  it.each([1, null, undefined, {}, ['a.b.c']])('a JWT of %p (not a string) is MALFORMED_JWT', (jwt) => {
    expect(failure(() => decodeJwt(jwt as unknown as string))).toBe('CharterError MALFORMED_JWT');
  });
});

describe('decodeJwt on header parameters of the wrong type', () => {
  const token = (h: Record<string, unknown>) => `${b64(JSON.stringify({ alg: 'EdDSA', ...h }))}.${b64('{}')}.AAAA`;
  it.each([7, null, {}, ['did:key:z6Mk#z6Mk'], true])('a kid of %p is MALFORMED_JWT (a kid is a string, RFC 7515 §4.1.4)', (kid) => {
    expect(failure(() => decodeJwt(token({ kid })))).toBe('CharterError MALFORMED_JWT');
  });
  it('a string kid, and none, decode', () => {
    expect(decodeJwt(token({ kid: 'did:key:z6Mk#z6Mk' })).header.kid).toBe('did:key:z6Mk#z6Mk');
    expect(decodeJwt(token({})).header.kid).toBeUndefined();
  });
});

describe('decodeJwt size bound', () => {
  it('a JWT of exactly maxBytes decodes; one byte less of bound is INPUT_TOO_LARGE (default 64 KiB too)', () => {
    const jwt = `${b64('{"alg":"EdDSA"}')}.${b64(JSON.stringify({ pad: 'x'.repeat(200) }))}.AAAA`;
    expect(decodeJwt(jwt, { maxBytes: jwt.length }).payload).toHaveProperty('pad');
    expect(failure(() => decodeJwt(jwt, { maxBytes: jwt.length - 1 }))).toBe('CharterError INPUT_TOO_LARGE');
    const head = `${b64('{"alg":"EdDSA"}')}.`;
    const at = (n: number) => `${head}${b64(JSON.stringify({ pad: 'x'.repeat(n) }))}.AAAA`;
    // 49,122 characters of padding make the token exactly 64 KiB (65,536) long.
    expect(at(49_122).length).toBe(65_536);
    expect(failure(() => decodeJwt(at(49_122)))).toBe('ok');
    expect(failure(() => decodeJwt(at(49_123)))).toBe('CharterError INPUT_TOO_LARGE');
  });
});
