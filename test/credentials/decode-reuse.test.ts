import { describe, expect, it } from 'vitest';
import { decodeJwt } from '../../src/credentials/index.js';
import { isCharterError } from '../../src/errors.js';

const b64 = (o: unknown) => Buffer.from(typeof o === 'string' ? o : JSON.stringify(o)).toString('base64url');
const sig = Buffer.alloc(64, 7).toString('base64url');
const token = (payload: unknown, header: unknown = { alg: 'EdDSA', kid: 'did:key:z#k' }) => `${b64(header)}.${b64(payload)}.${sig}`;
const code = (f: () => unknown) => {
  try {
    f();
    return 'decoded';
  } catch (e) {
    return isCharterError(e) ? e.code : String(e);
  }
};

/**
 * decodeJwt reads each header and payload from bytes decoded into one buffer
 * it reuses: a token decoded after another must read its own bytes only,
 * never what the one before left beyond its end.
 */
describe('decoding one token after another', () => {
  const long = { iss: 'did:key:zLong', note: 'x'.repeat(6000), n: [1, 2, 3] };

  it('a short token after a long one reads exactly its own header and payload', () => {
    expect(decodeJwt(token(long)).payload).toEqual(long);
    const short = decodeJwt(token({ a: 1 }, { alg: 'ES256' }));
    expect(short.header).toEqual({ alg: 'ES256' });
    expect(short.payload).toEqual({ a: 1 });
    expect(decodeJwt(token(long)).payload).toEqual(long);
  });

  it('what was decoded stays as it was when the next token is decoded', () => {
    const first = decodeJwt(token(long));
    const snapshot = JSON.stringify(first);
    decodeJwt(token({ iss: 'did:key:zOther', note: 'y'.repeat(7000) }));
    expect(JSON.stringify(first)).toBe(snapshot);
    expect(Buffer.from(first.signature).toString('base64url')).toBe(sig);
  });

  it('a payload cut short, or with characters the decoder skips, is refused after a long one too', () => {
    const good = token(long);
    const [h, p, s] = good.split('.') as [string, string, string];
    for (const bad of [
      `${h}.${p.slice(0, 10)}.${s}`, // the rest of the long payload must not be read from the buffer
      `${h}.${p.slice(0, 400)}*${p.slice(400)}.${s}`,
      `${h}.${p.slice(0, 400)}\n${p.slice(400)}.${s}`,
      `${h}.${p.slice(0, 400)}+${p.slice(401)}.${s}`,
      `${h}.${p}=.${s}`,
    ]) {
      expect(code(() => decodeJwt(good))).toBe('decoded');
      expect(code(() => decodeJwt(bad))).toBe('MALFORMED_JWT');
    }
  });

  it('a part larger than a default-sized token decodes under a larger limit, and the next small one still reads right', () => {
    const huge = { note: 'z'.repeat(100_000) };
    expect(decodeJwt(token(huge), { maxBytes: 200_000 }).payload).toEqual(huge);
    expect(decodeJwt(token({ b: 2 })).payload).toEqual({ b: 2 });
    expect(code(() => decodeJwt(token(huge)))).toBe('INPUT_TOO_LARGE');
  });

  it('UTF-8 that does not decode is refused whatever was decoded before', () => {
    decodeJwt(token(long));
    const badUtf8 = `${b64({ alg: 'EdDSA' })}.${Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xc3, 0x28, 0x22, 0x7d]).toString('base64url')}.${sig}`;
    expect(code(() => decodeJwt(badUtf8))).toBe('MALFORMED_JWT');
  });
});
