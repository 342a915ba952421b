import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolver, resolveDidJwk } from '../../src/did/index.js';
import { generateKeyPair } from '../../src/keys/index.js';
import { isCharterError } from '../../src/errors.js';
import { serve } from '../helpers.js';

/*
 * JSON.parse keeps the last of two members with one name, other parsers the
 * first: a document or JWK with a repeated member means two things to two
 * readers (say, the victim's key to an auditor, the attacker's to Charter).
 * Refused wherever it sits, however the name is spelt, as JWT decoding does.
 */
const code = async (p: () => unknown) => {
  try {
    await p();
    return 'NONE';
  } catch (e) {
    return isCharterError(e) ? e.code : 'OTHER';
  }
};

const A = generateKeyPair('Ed25519').publicJwk;
const V = generateKeyPair('Ed25519').publicJwk;
const P = generateKeyPair('P-256').publicJwk;

describe('did:web documents with a repeated member name: DID_RESOLUTION_FAILED', () => {
  let srv: Awaited<ReturnType<typeof serve>>;
  const served = new Map<string, string>();
  beforeAll(async () => {
    srv = await serve((req, res) => {
      const body = served.get(req.url ?? '');
      if (body === undefined) res.writeHead(404).end();
      else res.writeHead(200, { 'content-type': 'application/did+json' }).end(body);
    });
  });
  afterAll(() => srv.close());
  const resolver = () => createResolver({ allowLoopback: true, allowHttp: true, timeoutMs: 2000, cacheTtlMs: 0 });

  /** A document text for `did`, with `{did}`, `{kid}` and `{x}` filled in. */
  const cases: [string, string][] = [
    [
      'top-level id twice',
      '{"id":"did:web:victim.example","id":"{did}","verificationMethod":[{"id":"{kid}","type":"JsonWebKey2020","controller":"{did}","publicKeyJwk":{"kty":"OKP","crv":"Ed25519","x":"{x}"}}],"assertionMethod":["{kid}"]}',
    ],
    [
      'the JWK x twice',
      `{"id":"{did}","verificationMethod":[{"id":"{kid}","type":"JsonWebKey2020","controller":"{did}","publicKeyJwk":{"kty":"OKP","crv":"Ed25519","x":"${V.x}","x":"{x}"}}],"assertionMethod":["{kid}"]}`,
    ],
    [
      'the method controller twice',
      '{"id":"{did}","verificationMethod":[{"id":"{kid}","type":"JsonWebKey2020","controller":"did:web:victim.example","controller":"{did}","publicKeyJwk":{"kty":"OKP","crv":"Ed25519","x":"{x}"}}],"assertionMethod":["{kid}"]}',
    ],
    [
      'the method type twice',
      '{"id":"{did}","verificationMethod":[{"id":"{kid}","type":"Ed25519VerificationKey2020","type":"JsonWebKey2020","controller":"{did}","publicKeyJwk":{"kty":"OKP","crv":"Ed25519","x":"{x}"}}],"assertionMethod":["{kid}"]}',
    ],
    [
      'assertionMethod twice',
      '{"id":"{did}","verificationMethod":[{"id":"{kid}","type":"JsonWebKey2020","controller":"{did}","publicKeyJwk":{"kty":"OKP","crv":"Ed25519","x":"{x}"}}],"assertionMethod":[],"assertionMethod":["{kid}"]}',
    ],
    [
      'a name spelt with an escape the second time',
      '{"id":"did:web:victim.example","\\u0069d":"{did}","verificationMethod":[{"id":"{kid}","type":"JsonWebKey2020","controller":"{did}","publicKeyJwk":{"kty":"OKP","crv":"Ed25519","x":"{x}"}}],"assertionMethod":["{kid}"]}',
    ],
    [
      'a repeated name in an embedded method',
      '{"id":"{did}","assertionMethod":[{"id":"{kid}","type":"JsonWebKey2020","controller":"{did}","publicKeyJwk":{"kty":"OKP","crv":"Ed25519","x":"{x}","crv":"Ed25519"}}]}',
    ],
    [
      'a repeated name deep in a service entry',
      '{"id":"{did}","service":[{"id":"#s","type":"X","serviceEndpoint":{"a":{"b":1,"b":2}}}],"verificationMethod":[{"id":"{kid}","type":"JsonWebKey2020","controller":"{did}","publicKeyJwk":{"kty":"OKP","crv":"Ed25519","x":"{x}"}}],"assertionMethod":["{kid}"]}',
    ],
  ];
  cases.forEach(([name, template], i) => {
    it(name, async () => {
      const did = `did:web:127.0.0.1%3A${srv.port}:dup${i}`;
      served.set(`/dup${i}/did.json`, template.replaceAll('{did}', did).replaceAll('{kid}', `${did}#key-1`).replaceAll('{x}', A.x));
      expect(await code(() => resolver().resolve(did))).toBe('DID_RESOLUTION_FAILED');
      expect(await code(() => resolver().resolveKey(did, `${did}#key-1`, 'assertionMethod'))).toBe('DID_RESOLUTION_FAILED');
    });
  });

  it('one name in sibling objects, or inside a string, is no repetition', async () => {
    const did = `did:web:127.0.0.1%3A${srv.port}:siblings`;
    const m = (frag: string, x: string) => `{"id":"${did}#${frag}","type":"JsonWebKey2020","controller":"${did}","publicKeyJwk":{"kty":"OKP","crv":"Ed25519","x":"${x}"}}`;
    served.set(
      '/siblings/did.json',
      `{"id":"${did}","note":"\\"id\\":\\"x\\",\\"id\\":1","verificationMethod":[${m('key-1', A.x)},${m('key-2', V.x)}],"assertionMethod":["${did}#key-1","${did}#key-2"]}`,
    );
    expect((await resolver().resolveKey(did, `${did}#key-2`, 'assertionMethod')).publicJwk.x).toBe(V.x);
  });
});

describe('did:jwk with a repeated JWK member: INVALID_DID', () => {
  const didOf = (json: string) => `did:jwk:${Buffer.from(json).toString('base64url')}`;
  const cases: [string, string][] = [
    ['x twice', `{"kty":"OKP","crv":"Ed25519","x":"${V.x}","x":"${A.x}"}`],
    ['crv twice, with one value', `{"kty":"OKP","crv":"Ed25519","crv":"Ed25519","x":"${A.x}"}`],
    ['kty twice, spelt with an escape', `{"kty":"OKP","k\\u0074y":"OKP","crv":"Ed25519","x":"${A.x}"}`],
    ['y twice on P-256', `{"kty":"EC","crv":"P-256","x":"${P.x}","y":"${P.y}","y":"${P.y}"}`],
    ['use twice (sig, then enc)', `{"kty":"OKP","crv":"Ed25519","x":"${A.x}","use":"sig","use":"enc"}`],
  ];
  for (const [name, json] of cases) {
    it(name, async () => {
      const did = didOf(json);
      expect(await code(() => resolveDidJwk(did))).toBe('INVALID_DID');
      expect(await code(() => createResolver().resolve(did))).toBe('INVALID_DID');
      expect(await code(() => createResolver().resolveKey(did, '#0', 'assertionMethod'))).toBe('INVALID_DID');
    });
  }
  it('a JWK without repetition still resolves', () => {
    expect(resolveDidJwk(didOf(JSON.stringify(A))).verificationMethod![0]!.publicKeyJwk).toMatchObject({ x: A.x });
  });
});
