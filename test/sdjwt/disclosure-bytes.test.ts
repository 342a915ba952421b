import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseDisclosure } from '../../src/sdjwt/disclosures.js';

/**
 * A disclosure's bytes have one reading: strict UTF-8 without a byte order
 * mark (RFC 8259 §8.1), JSON whose objects name each member once. A lenient
 * decoder strips a BOM or keeps the last duplicate, where a peer refuses.
 */
const enc = (bytes: Buffer | string) => Buffer.from(bytes).toString('base64url');
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const refused = (encoded: string) => {
  expect(() => parseDisclosure(encoded, 'sha-256')).toThrow(expect.objectContaining({ code: 'DISCLOSURE_INVALID' }));
};

describe('disclosure bytes', () => {
  it('a leading UTF-8 BOM is refused, before an array of two or three, with or without whitespace after it', () => {
    for (const json of ['["salt","bom",1]', '["salt","x"]', ' ["salt","bom",1]', '\n["salt","bom",1]']) refused(enc(Buffer.concat([BOM, Buffer.from(json)])));
    refused(enc(Buffer.concat([BOM, BOM, Buffer.from('["salt","bom",1]')])));
  });

  it('a BOM in UTF-16 or UTF-32 (not UTF-8 at all) is refused', () => {
    refused(enc(Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('["s","n",1]', 'utf16le')])));
    refused(enc(Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('["s","n",1]')])));
  });

  it('U+FEFF inside a string, or after the start, is an ordinary character', () => {
    const d = parseDisclosure(enc('["salt","name","a\uFEFFb"]'), 'sha-256');
    expect(d).toMatchObject({ name: 'name', value: 'a\uFEFFb' });
    expect(parseDisclosure(enc('["salt","\uFEFFname",1]'), 'sha-256').name).toBe('\uFEFFname');
    // whitespace then a BOM is not JSON
    refused(enc(Buffer.concat([Buffer.from(' '), BOM, Buffer.from('["s","n",1]')])));
  });

  it('the digest is over the encoded form as given (RFC 9901 §4.2.3)', () => {
    const e = enc('["salt","n",1]');
    expect(parseDisclosure(e, 'sha-256').digest).toBe(createHash('sha256').update(e).digest('base64url'));
  });

  it('a member named twice in any object of the value is refused, however the name is spelt', () => {
    for (const json of [
      '["s","n",{"a":1,"a":2}]',
      '["s","n",{"a":1,"\\u0061":2}]',
      '["s","n",[{"x":{"k":1,"k":1}}]]',
      '["s",{"role":"user","role":"admin"}]',
      '["s","n",{"__proto__":1,"__proto__":2}]',
    ])
      refused(enc(json));
    expect(parseDisclosure(enc('["s","n",{"a":{"b":1},"c":{"b":2}}]'), 'sha-256').value).toEqual({ a: { b: 1 }, c: { b: 2 } });
  });
});
