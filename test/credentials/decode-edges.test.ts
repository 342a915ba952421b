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
