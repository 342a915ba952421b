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
