import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { findDuplicateKey, jsonTextProblem, scanJson } from '../../src/encoding/json.js';
import { decodeJwt } from '../../src/credentials/jws.js';
import { parseDisclosure } from '../../src/sdjwt/disclosures.js';
import { createResolver, resolveDidJwk } from '../../src/did/index.js';
import { contentDigest, DIRECTORY_MEDIA_TYPE, DIRECTORY_PATH, verifyDirectoryResponse } from '../../src/httpsig/index.js';
import { parseJsonText } from '../../src/mandates/json.js';
import { parseTrustAnchor } from '../../src/mandates/trust.js';
import { verifyMandateChain } from '../../src/mandates/index.js';
import { generateKeyPair } from '../../src/keys/index.js';
import { isCharterError } from '../../src/errors.js';
import { serve } from '../helpers.js';

/**
 * A JSON number beyond the range of an IEEE 754 double (1e400, -1e400, a
 * 400-digit integer) is read by JSON.parse as ±Infinity, which no JSON text
 * can carry again and canonical JSON (RFC 8785) cannot encode. I-JSON (RFC
 * 7493 §2.2) says not to use such numbers: every reader refuses the text
 * with its usual CharterError code, as it does a duplicate member name.
 */

const HUGE = ['1e400', '-1e400', '1E400', '1e+400', '1' + '0'.repeat(400), '-' + '9'.repeat(400) + '.5', '1.7976931348623159e308'];
/** A short name for a literal in test titles. */
const label = (n: string) => (n.length > 30 ? `${n.slice(0, 12)}... (${n.length} characters)` : n);
/** Finite as doubles: an underflow to 0 is a number JSON.parse reads faithfully enough (RFC 7493 §2.2 speaks of range). */
const FINE = ['1e-400', '-1e-400', '0', '-0', '1.5', '1e308', '1.7976931348623157e308', '1' + '0'.repeat(300), '0.' + '0'.repeat(400) + '1', '123456789012345678901234567890'];

const code = async (f: () => unknown): Promise<string> => {
  try {
    await f();
    return 'NONE';
  } catch (e) {
    return isCharterError(e) ? e.code : `raw ${(e as Error).constructor.name}`;
  }
};
const b64 = (s: string) => Buffer.from(s).toString('base64url');

describe('scanJson / jsonTextProblem: numbers beyond a double', () => {
  it.each(HUGE.map((n) => [label(n), n]))('%s is reported, wherever it sits', (_l, n) => {
    for (const text of [n, `{"n":${n}}`, `[1,${n}]`, `{"a":{"b":[{"c":${n}}]}}`, ` ${n} `]) {
      expect(scanJson(text)).toEqual({ nonFinite: n });
      expect(jsonTextProblem(text)).toMatch(/beyond the range of a double/);
      expect(findDuplicateKey(text)).toBeUndefined();
    }
  });
  it.each(FINE.map((n) => [label(n), n]))('%s is accepted', (_l, n) => {
    expect(Number.isFinite(JSON.parse(n))).toBe(true);
    expect(scanJson(`{"n":${n},"m":[${n}]}`)).toBeUndefined();
    expect(jsonTextProblem(`{"n":${n}}`)).toBeUndefined();
  });
  it('1e400 inside a string, or as a member name, is no number', () => {
    expect(scanJson('{"1e400":"1e400","s":"-1e400\\"1e400"}')).toBeUndefined();
  });
  it('a duplicate or a deep nest is still found past a non-finite number (the CLI asks only tooDeep)', () => {
    expect(scanJson('{"n":1e400,"a":1,"a":2}')).toEqual({ duplicate: 'a' });
    expect(findDuplicateKey('{"n":1e400,"a":1,"a":2}')).toBe('a');
    expect(scanJson(`[1e400,${'['.repeat(80)}${']'.repeat(80)}]`)).toEqual({ tooDeep: true });
    expect(scanJson('[1e400,2e400]')).toEqual({ nonFinite: '1e400' });
  });
  it('keeps up with a large text of ordinary numbers', () => {
    const text = JSON.stringify(Array.from({ length: 200_000 }, (_, i) => ({ i, x: i * 1.25e-3, y: -i })));
    const t0 = performance.now();
    expect(scanJson(text)).toBeUndefined();
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe('every reader refuses a number beyond a double with its usual code', () => {
  const A = generateKeyPair('Ed25519').publicJwk;
  it.each(HUGE.map((n) => [label(n), n]))('%s', async (_l, n) => {
    // JWT header and payload.
    expect(await code(() => decodeJwt(`${b64(`{"alg":"EdDSA","n":${n}}`)}.${b64('{"iss":"x"}')}.${b64('sig')}`))).toBe('MALFORMED_JWT');
    expect(await code(() => decodeJwt(`${b64('{"alg":"EdDSA"}')}.${b64(`{"iss":"x","exp":${n}}`)}.${b64('sig')}`))).toBe('MALFORMED_JWT');
    // SD-JWT disclosures.
    expect(await code(() => parseDisclosure(b64(`["salt","age",${n}]`), 'sha-256'))).toBe('DISCLOSURE_INVALID');
    expect(await code(() => parseDisclosure(b64(`["salt",{"n":${n}}]`), 'sha-256'))).toBe('DISCLOSURE_INVALID');
    // did:jwk.
    expect(await code(() => resolveDidJwk(`did:jwk:${b64(`{"kty":"OKP","crv":"Ed25519","x":"${A.x}","n":${n}}`)}`))).toBe('INVALID_DID');
    // A Web Bot Auth key directory.
    const body = `{"keys":[{"kty":"OKP","crv":"Ed25519","x":"${A.x}","use":"sig","exp":${n}}]}`;
    const res = { url: `https://agent.example${DIRECTORY_PATH}`, headers: { 'content-type': DIRECTORY_MEDIA_TYPE, 'content-digest': contentDigest(body) }, body };
    expect(await code(() => verifyDirectoryResponse(res, { requireSignature: false }))).toBe('DIRECTORY_INVALID');
    // Mandate inputs: JSON text, a trust anchor file, a chain given as text.
    expect(await code(() => parseJsonText(`{"n":${n}}`, 'the input'))).toBe('INVALID_ARGUMENT');
    expect(await code(() => parseTrustAnchor(`{"kty":"OKP","crv":"Ed25519","x":"${A.x}","n":${n}}`))).toBe('INVALID_ARGUMENT');
    expect(await code(() => verifyMandateChain(`{"payment":"a~b","n":${n}}`, { profile: 'ap2', trust: { issuers: [A] } }))).toBe('INVALID_ARGUMENT');
  });
  it('the same texts with an ordinary number are read on their merits', async () => {
    expect(decodeJwt(`${b64('{"alg":"EdDSA","n":1e-400}')}.${b64('{"iss":"x","exp":1e3}')}.${b64('sig')}`).payload.exp).toBe(1000);
    expect(parseDisclosure(b64('["salt","age",1e-400]'), 'sha-256').value).toBe(0);
    expect(resolveDidJwk(`did:jwk:${b64(`{"kty":"OKP","crv":"Ed25519","x":"${A.x}","n":1}`)}`).id).toMatch(/^did:jwk:/);
    expect(parseJsonText('{"n":1e-400}', 'the input')).toEqual({ n: 0 });
  });
});

describe('a did:web document holding 1e400 does not resolve', () => {
  let srv: Awaited<ReturnType<typeof serve>>;
  const served = new Map<string, string>();
  const A = generateKeyPair('Ed25519').publicJwk;
  beforeAll(async () => {
    srv = await serve((req, res) => {
      const body = served.get(req.url ?? '');
      if (body === undefined) res.writeHead(404).end();
      else res.writeHead(200, { 'content-type': 'application/did+json' }).end(body);
    });
  });
  afterAll(() => srv.close());
  const resolver = () => createResolver({ allowLoopback: true, allowHttp: true, timeoutMs: 2000, cacheTtlMs: 0 });
  const doc = (did: string, extra: string) =>
    `{"id":"${did}"${extra},"verificationMethod":[{"id":"${did}#key-1","type":"JsonWebKey2020","controller":"${did}","publicKeyJwk":{"kty":"OKP","crv":"Ed25519","x":"${A.x}"}}],"assertionMethod":["${did}#key-1"]}`;

  it.each([...HUGE.map((n) => [label(n), n, 'DID_RESOLUTION_FAILED']), ['1e-400', '1e-400', 'NONE'], ['1', '1', 'NONE']])('"n":%s: %s', async (_l, n, expected) => {
    const path = `n${Math.random().toString(36).slice(2)}`;
    const did = `did:web:127.0.0.1%3A${srv.port}:${path}`;
    served.set(`/${path}/did.json`, doc(did, `,"n":${n},"service":[{"id":"#s","type":"X","serviceEndpoint":{"m":[${n}]}}]`));
    expect(await code(() => resolver().resolve(did))).toBe(expected);
    expect(await code(() => resolver().resolveKey(did, `${did}#key-1`, 'assertionMethod'))).toBe(expected);
  });
});
