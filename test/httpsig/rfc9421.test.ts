import { describe, expect, it } from 'vitest';
import { parseDictionary } from 'structured-headers';
import { createSigner } from '../../src/keys/index.js';
import type { PrivateJwk } from '../../src/keys/types.js';
import { parseSignatureInput, signatureBase } from '../../src/httpsig/base.js';
import { componentValue, parseComponentId, type MessageContext } from '../../src/httpsig/components.js';
import { fieldGetter } from '../../src/httpsig/fields.js';
import { importHttpSigKey, verifyBase } from '../../src/httpsig/keys.js';
import { requestContext } from '../../src/httpsig/sign.js';
import { verifyRequestSignature } from '../../src/httpsig/index.js';
import { member, parseHttp, vectorRequest, vectors } from './vectors.js';

const rfc = vectors('rfc9421.json');
const byId = (id: string) => rfc.cases.find((c: { id: string }) => c.id === id);
const pub = (name: string) => {
  const { d: _d, ...rest } = rfc.keys[name].jwk;
  return rest;
};

function requestMsg(text: string): MessageContext {
  return requestContext(vectorRequest(text));
}
function responseMsg(text: string): MessageContext {
  const m = parseHttp(text);
  return { kind: 'response', status: m.status!, field: fieldGetter(m.headers) };
}
function baseOf(c: { signatureInput?: string; signatureBase: string }, msg: MessageContext): string {
  // Signature-Input of the case, or (4.3) the @signature-params line of its base.
  const input = c.signatureInput ?? `x=${c.signatureBase.split('\n').pop()!.replace('"@signature-params": ', '')}`;
  const { label, value } = member(input);
  return signatureBase(parseSignatureInput(parseDictionary(`${label}=${value}`).get(label)!), msg);
}
function sigBytes(sig: string): Uint8Array {
  return new Uint8Array(Buffer.from(member(sig).value.slice(1, -1), 'base64'));
}

describe('RFC 9421 Appendix B known answers', () => {
  it.each(['B.2.1', 'B.2.2', 'B.2.3', 'B.2.5', 'B.2.6'])('%s: the signature base of test-request is reproduced exactly', (id) => {
    const c = byId(id);
    expect(baseOf(c, requestMsg(rfc.testRequest))).toBe(c.signatureBase);
  });

  it('B.2.4: the signature base of test-response is reproduced and the ecdsa-p256-sha256 signature (raw r||s) verifies', () => {
    const c = byId('B.2.4');
    // RFC 9421's B.2.4 base carries another Content-Digest than its test-response (an inconsistency of the RFC
    // text): the response is taken with the digest the base and signature were made over.
    const digest = /"content-digest": (.*)/.exec(c.signatureBase)![1]!;
    const base = baseOf(c, responseMsg(rfc.testResponse.replace(/Content-Digest: .*/, `Content-Digest: ${digest}`)));
    expect(base).toBe(c.signatureBase);
    const key = importHttpSigKey(pub('test-key-ecc-p256'));
    expect(key.alg).toBe('ecdsa-p256-sha256');
    expect(verifyBase(key, key.alg, base, sigBytes(c.signature))).toBe(true);
    const bad = sigBytes(c.signature);
    bad[10]! ^= 1;
    expect(verifyBase(key, key.alg, base, bad)).toBe(false);
  });

  it('B.2.6: Ed25519 base, signature verified, and the signature bytes reproduced (Ed25519 is deterministic)', async () => {
    const c = byId('B.2.6');
    const base = baseOf(c, requestMsg(rfc.testRequest));
    expect(base).toBe(c.signatureBase);
    const signer = createSigner(rfc.keys['test-key-ed25519'].jwk as PrivateJwk);
    const sig = await signer.sign(Buffer.from(base, 'ascii'));
    expect(Buffer.from(sig).toString('base64')).toBe(member(c.signature).value.slice(1, -1));

    const d = await verifyRequestSignature(vectorRequest(rfc.testRequest, { 'signature-input': c.signatureInput, signature: c.signature }), {
      keys: { keys: [pub('test-key-ed25519')] },
      now: new Date(1618884473_000),
    });
    expect(d.reasons).toEqual([]);
    expect(d).toMatchObject({ ok: true, keyId: 'test-key-ed25519', label: 'sig-b26', alg: 'ed25519', thumbprint: 'poqkLGiymh_W0uP6PZFw-dvez3QJT5SolqXBCW38r0U' });
  });

  it('B.3: the TLS-terminating proxy request (ecdsa-p256-sha256, a Client-Cert field) verifies', async () => {
    const c = byId('B.3');
    expect(baseOf(c, requestMsg(c.request))).toBe(c.signatureBase);
    const d = await verifyRequestSignature(vectorRequest(c.request, { 'signature-input': c.signatureInput, signature: c.signature }), {
      keys: { 'test-key-ecc-p256': pub('test-key-ecc-p256') },
      now: new Date(1618884473_000 + 120_000),
    });
    expect(d.reasons).toEqual([]);
    expect(d.ok).toBe(true);
  });

  it('4.3: the proxy signature base over a Forwarded request is reproduced', () => {
    const c = byId('4.3-proxy_sig');
    const text = rfc.testRequest
      .replace('Host: example.com', 'Host: origin.host.internal.example')
      .replace('\n\n', '\nForwarded: for=192.0.2.123;host=example.com;proto=https\n\n');
    expect(baseOf(c, requestMsg(text))).toBe(c.signatureBase);
  });
});

describe('RFC 9421 §2.1 and §2.2 component values (the RFC examples)', () => {
  const msg = (headers: Record<string, string | string[]>, url = 'https://www.example.com/path?param=value'): MessageContext => requestContext({ method: 'POST', url, headers });
  const value = (id: string, m: MessageContext) => componentValue(parseComponentId(id), m);

  it('§2.1: lines stripped, obs-fold replaced, several lines joined with ", "', () => {
    const m = msg({
      'x-ows-header': '   Leading and trailing whitespace.   ',
      'x-obs-fold-header': 'Obsolete\r\n    line folding.',
      'cache-control': ['max-age=60', '   must-revalidate'],
      'x-empty-header': '',
    });
    expect(value('x-ows-header', m)).toBe('Leading and trailing whitespace.');
    expect(value('x-obs-fold-header', m)).toBe('Obsolete line folding.');
    expect(value('cache-control', m)).toBe('max-age=60, must-revalidate');
    expect(value('x-empty-header', m)).toBe('');
  });

  it('§2.1: only SP and HTAB are stripped (RFC 9110 §5.5 OWS); a no-break space, VT or FF stays part of the value the handler sees', () => {
    expect(value('x-a', msg({ 'x-a': ' \t alice \t ' }))).toBe('alice');
    for (const odd of ['\u00a0', '\v', '\f', '\u2003', '\ufeff']) {
      expect(value('x-a', msg({ 'x-a': `alice${odd}` }))).toBe(`alice${odd}`);
      expect(value('x-a', msg({ 'x-a': `${odd}alice` }))).toBe(`${odd}alice`);
      // Byte sequences of each line keep it too: :YWxpY2XCoA==: is not :YWxpY2U=:.
      expect(value('"x-a";bs', msg({ 'x-a': `alice${odd}` }))).not.toBe(value('"x-a";bs', msg({ 'x-a': 'alice' })));
    }
  });

  it('§2.1.1 sf and §2.1.2 key: strict re-serialisation of a Dictionary and of its members', () => {
    const m = msg({ 'example-dict': ' a=1,    b=2;x=1;y=2,   c=(a   b   c), d' });
    expect(value('example-dict', m)).toBe('a=1,    b=2;x=1;y=2,   c=(a   b   c), d');
    expect(() => value('"example-dict";sf', m)).toThrow(); // the type of example-dict is not known to Charter
    // Nor is the type of a field named after an Object.prototype member (the table's own entries only).
    for (const name of ['constructor', '__proto__', 'tostring', 'hasownproperty', 'valueof']) {
      expect(() => value(`"${name}";sf`, msg({ [name]: 'abc' })), name).toThrow(/structured type of .* is not known/);
      expect(() => value(`"${name}";key="a"`, msg({ [name]: 'a=1' })), name).not.toThrow();
    }
    expect(value('"example-dict";key="a"', m)).toBe('1');
    expect(value('"example-dict";key="d"', m)).toBe('?1');
    expect(value('"example-dict";key="b"', m)).toBe('2;x=1;y=2');
    expect(value('"example-dict";key="c"', m)).toBe('(a b c)');
    expect(() => value('"example-dict";key="e"', m)).toThrow();
    const sa = msg({ 'signature-agent': 'a=1,    b=2;x=1;y=2,   c=(a   b   c)' });
    expect(value('"signature-agent";sf', sa)).toBe('a=1, b=2;x=1;y=2, c=(a b c)');
  });

  it('§2.1.3 bs: each line wrapped as a Byte Sequence', () => {
    expect(value('"example-header";bs', msg({ 'example-header': ['value, with, lots', 'of, commas'] }))).toBe(':dmFsdWUsIHdpdGgsIGxvdHM=:, :b2YsIGNvbW1hcw==:');
    expect(value('"example-header";bs', msg({ 'example-header': 'value, with, lots, of, commas' }))).toBe(':dmFsdWUsIHdpdGgsIGxvdHMsIG9mLCBjb21tYXM=:');
    expect(() => value('"example-header";bs;sf', msg({ 'example-header': 'a' }))).toThrow();
  });

  it('§2.2: derived components of a request', () => {
    const m = msg({}, 'https://WWW.Example.com:443/path?param=value&foo=bar&baz=bat%2Dman');
    expect(value('@method', m)).toBe('POST');
    expect(value('@authority', m)).toBe('www.example.com');
    expect(value('@scheme', m)).toBe('https');
    expect(value('@target-uri', m)).toBe('https://www.example.com/path?param=value&foo=bar&baz=bat%2Dman');
    expect(value('@request-target', m)).toBe('/path?param=value&foo=bar&baz=bat%2Dman');
    expect(value('@path', m)).toBe('/path');
    expect(value('@query', m)).toBe('?param=value&foo=bar&baz=bat%2Dman');
    expect(value('@query', msg({}, 'https://www.example.com/path'))).toBe('?');
    expect(value('@authority', msg({}, 'http://www.example.com:8080/'))).toBe('www.example.com:8080');
    expect(() => value('@status', m)).toThrow();
    expect(() => value('"@method";req', m)).toThrow();
  });

  it('§2.2.8 @query-param: form-decoded, then re-encoded with %20 for spaces', () => {
    const m = msg({}, 'https://www.example.com/parameters?var=this%20is%20a%20big%0Amultiline%20value&bar=with+plus+whitespace&fa%C3%A7ade%22%3A%20=something&qux=&dup=1&dup=2');
    expect(value('"@query-param";name="var"', m)).toBe('this%20is%20a%20big%0Amultiline%20value');
    expect(value('"@query-param";name="bar"', m)).toBe('with%20plus%20whitespace');
    expect(value('"@query-param";name="fa%C3%A7ade%22%3A%20"', m)).toBe('something');
    expect(value('"@query-param";name="qux"', m)).toBe('');
    expect(() => value('"@query-param";name="dup"', m)).toThrow(); // a repeated parameter must not be covered by name
    expect(() => value('"@query-param";name="absent"', m)).toThrow();
  });
});
