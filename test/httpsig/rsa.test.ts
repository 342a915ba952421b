import { constants, createPrivateKey, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { parseDictionary, serializeInnerList, serializeItem } from 'structured-headers';
import { isCharterError } from '../../src/errors.js';
import { parseSignatureInput, signatureBase } from '../../src/httpsig/base.js';
import { importHttpSigKey, signatureAlgorithm, verifyBase } from '../../src/httpsig/keys.js';
import { createSignature, requestContext } from '../../src/httpsig/sign.js';
import { contentDigest, DIRECTORY_MEDIA_TYPE, DIRECTORY_PATH, jwkThumbprint, verifyDirectoryResponse, verifyRequestSignature } from '../../src/httpsig/index.js';
import { DIRECTORY_TAG } from '../../src/httpsig/directory-verify.js';
import { parseComponentId } from '../../src/httpsig/components.js';
import { member, vectorRequest, vectors } from './vectors.js';

/**
 * RSA keys in HTTP message signatures (verify only): RFC 9421 §3.3.1
 * rsa-pss-sha512 and §3.3.2 rsa-v1_5-sha256, as the RFC's Appendix B and
 * the Web Bot Auth draft's vectors use them. Honest RSA signatures verify;
 * every way to bend an RSA key or algorithm is refused.
 */
const rfc = vectors('rfc9421.json');
const wba = vectors('webbotauth.json');
const byId = (id: string) => rfc.cases.find((c: { id: string }) => c.id === id);
const pub = (name: string): Record<string, unknown> => {
  const { kty, n, e } = rfc.keys[name].jwk as { kty: string; n: string; e: string };
  return { kty, n, e };
};
const sigBytes = (sig: string) => new Uint8Array(Buffer.from(member(sig).value.slice(1, -1), 'base64'));
const baseOfInput = (input: string, msg: ReturnType<typeof requestContext>) => {
  const { label, value } = member(input);
  return signatureBase(parseSignatureInput(parseDictionary(`${label}=${value}`).get(label)!), msg);
};
const codeOf = (f: () => unknown): string | undefined => {
  try {
    f();
  } catch (e) {
    return isCharterError(e) ? e.code : `not a CharterError: ${String(e)}`;
  }
  return undefined;
};

describe('RFC 9421 Appendix B: RSA signatures verify', () => {
  it.each(['B.2.1', 'B.2.2', 'B.2.3'])('%s: rsa-pss-sha512 with test-key-rsa-pss (the key names its algorithm, PS512)', (id) => {
    const c = byId(id);
    const key = importHttpSigKey({ ...pub('test-key-rsa-pss'), alg: 'PS512' });
    const base = baseOfInput(c.signatureInput, requestContext(vectorRequest(rfc.testRequest)));
    expect(base).toBe(c.signatureBase);
    const chosen = signatureAlgorithm(key, undefined);
    expect(chosen).toEqual({ alg: 'rsa-pss-sha512' });
    expect(verifyBase(key, 'rsa-pss-sha512', base, sigBytes(c.signature))).toBe(true);
    // The same bytes are no PKCS#1 v1.5 signature, and one flipped bit breaks them.
    const v15 = importHttpSigKey(pub('test-key-rsa-pss'));
    expect(verifyBase(v15, 'rsa-v1_5-sha256', base, sigBytes(c.signature))).toBe(false);
    const bad = sigBytes(c.signature);
    bad[100]! ^= 1;
    expect(verifyBase(key, 'rsa-pss-sha512', base, bad)).toBe(false);
  });

  it('§4.3: the proxy signature (rsa-v1_5-sha256, test-key-rsa) verifies and is reproduced (PKCS#1 v1.5 is deterministic)', () => {
    const c = byId('4.3-proxy_sig');
    const key = importHttpSigKey(pub('test-key-rsa'));
    expect(key.algs).toEqual(['rsa-pss-sha512', 'rsa-v1_5-sha256']);
    expect(verifyBase(key, 'rsa-v1_5-sha256', c.signatureBase, sigBytes(c.signature))).toBe(true);
    expect(verifyBase(key, 'rsa-pss-sha512', c.signatureBase, sigBytes(c.signature))).toBe(false);
    const priv = createPrivateKey({ key: rfc.keys['test-key-rsa'].jwk, format: 'jwk' });
    const again = nodeSign('sha256', Buffer.from(c.signatureBase, 'ascii'), { key: priv, padding: constants.RSA_PKCS1_PADDING });
    expect(again.toString('base64')).toBe(member(c.signature).value.slice(1, -1));
  });

  it('an RSA key without alg and a signature without alg: nothing determines the algorithm (§3.3.7), refused', () => {
    const key = importHttpSigKey(pub('test-key-rsa-pss'));
    const chosen = signatureAlgorithm(key, undefined);
    expect('mismatch' in chosen).toBe(true);
    expect(signatureAlgorithm(key, 'rsa-pss-sha512')).toEqual({ alg: 'rsa-pss-sha512' });
    expect(signatureAlgorithm(key, 'ed25519')).toHaveProperty('mismatch');
    expect(signatureAlgorithm(importHttpSigKey({ ...pub('test-key-rsa'), alg: 'RS256' }), 'rsa-pss-sha512')).toHaveProperty('mismatch');
  });
});

describe('Web Bot Auth draft: RSA-PSS requests', () => {
  const rsaCases = wba.cases.filter((c: { alg: string; kind: string }) => c.alg === 'rsa-pss-sha512' && c.kind === 'request');
  const keys = { keys: [pub('test-key-rsa-pss')] };
  const NOW = new Date(1735689600_000 + 30_000);
  const request = (c: { signatureAgent: string; signatureInput: string; signature: string }, input = c.signatureInput, signature = c.signature) =>
    vectorRequest(rfc.testRequest, { 'signature-agent': c.signatureAgent, 'signature-input': input, signature });

  it('the keyid is the RFC 7638 thumbprint of test-key-rsa-pss', () => {
    expect(rsaCases.length).toBe(2);
    expect(jwkThumbprint(pub('test-key-rsa-pss'))).toBe('oD0HwocPBSfpNy5W3bpJeyFGY_IQ_YpqxSjQ3Yd-CLA');
  });

  it.each([
    ['dictionary Signature-Agent', false],
    ['legacy sf-string Signature-Agent', true],
  ])('%s: verifies with the key from the caller', async (_, legacy) => {
    const c = rsaCases.find((x: { signatureAgent: string }) => x.signatureAgent.startsWith('"') === legacy);
    const d = await verifyRequestSignature(request(c), { keys, now: NOW, requiredTag: 'web-bot-auth', legacySignatureAgent: legacy });
    expect(d.reasons).toEqual([]);
    expect(d).toMatchObject({ ok: true, alg: 'rsa-pss-sha512', thumbprint: 'oD0HwocPBSfpNy5W3bpJeyFGY_IQ_YpqxSjQ3Yd-CLA', key: { kty: 'RSA' } });
  });

  it.each([
    ['alg named rsa-v1_5-sha256', (i: string) => i.replace('alg="rsa-pss-sha512"', 'alg="rsa-v1_5-sha256"'), 'SIGNATURE_INVALID'],
    ['alg named ed25519', (i: string) => i.replace('alg="rsa-pss-sha512"', 'alg="ed25519"'), 'ALG_KEY_MISMATCH'],
    ['alg dropped (the key names none either)', (i: string) => i.replace(';alg="rsa-pss-sha512"', ''), 'ALG_KEY_MISMATCH'],
    ['alg hmac-sha256', (i: string) => i.replace('alg="rsa-pss-sha512"', 'alg="hmac-sha256"'), 'UNSUPPORTED_ALG'],
    ['created changed', (i: string) => i.replace('created=1735689600', 'created=1735689601'), 'SIGNATURE_INVALID'],
  ])('%s: refused', async (_, change, code) => {
    const c = rsaCases.find((x: { signatureAgent: string }) => !x.signatureAgent.startsWith('"'));
    const d = await verifyRequestSignature(request(c, change(c.signatureInput)), { keys, now: NOW });
    expect(d.ok).toBe(false);
    expect(d.reasons.map((r) => r.code)).toEqual([code]);
  });

  it('a key that says RS256 does not verify a PSS signature (ALG_KEY_MISMATCH)', async () => {
    const c = rsaCases.find((x: { signatureAgent: string }) => !x.signatureAgent.startsWith('"'));
    const d = await verifyRequestSignature(request(c), { keys: { keys: [{ ...pub('test-key-rsa-pss'), alg: 'RS256' }] }, now: NOW });
    expect(d.reasons.map((r) => r.code)).toEqual(['ALG_KEY_MISMATCH']);
  });
});

describe('RSA-PSS parameters are checked, not guessed', () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
  const key = importHttpSigKey({ ...jwk, alg: 'PS512' });
  const base = '"@authority": example.com\n"@signature-params": ("@authority");created=1735689600';
  const pss = (hash: string, saltLength: number) => nodeSign(hash, Buffer.from(base), { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength });

  it('SHA-512 with a 64-byte salt verifies; another salt length or hash does not', () => {
    expect(verifyBase(key, 'rsa-pss-sha512', base, pss('sha512', 64))).toBe(true);
    for (const salt of [0, 32, 63, 65, 190]) expect(verifyBase(key, 'rsa-pss-sha512', base, pss('sha512', salt)), `salt ${salt}`).toBe(false);
    expect(verifyBase(key, 'rsa-pss-sha512', base, pss('sha256', 64))).toBe(false);
    expect(verifyBase(key, 'rsa-pss-sha512', base + ' ', pss('sha512', 64))).toBe(false);
  });

  it('a signature of the wrong length, empty, or for another key is false, never a throw', () => {
    const good = pss('sha512', 64);
    expect(verifyBase(key, 'rsa-pss-sha512', base, good.subarray(1))).toBe(false);
    expect(verifyBase(key, 'rsa-pss-sha512', base, new Uint8Array(0))).toBe(false);
    expect(verifyBase(key, 'rsa-pss-sha512', base, new Uint8Array(512))).toBe(false);
    const other = importHttpSigKey({ ...(generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }) as object), alg: 'PS512' });
    expect(verifyBase(other, 'rsa-pss-sha512', base, good)).toBe(false);
    // An algorithm the key does not hold, and an RSA algorithm for an Ed25519 key.
    expect(verifyBase(key, 'rsa-v1_5-sha256', base, good)).toBe(false);
  });
});

describe('RSA keys that are unsound are refused where they enter', () => {
  const good = pub('test-key-rsa-pss');
  const n = good.n as string;
  const small = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' }) as Record<string, unknown>;
  const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const big = (bytes: number[]) => Buffer.from(bytes).toString('base64url');
  it.each([
    ['a private key (d)', { ...good, d: rfc.keys['test-key-rsa-pss'].jwk.d }],
    ['a CRT member alone (p)', { ...good, p: 'AQAB' }],
    ['exponent 1 (every message its own signature)', { ...good, e: 'AQ' }],
    ['exponent 3', { ...good, e: 'Aw' }],
    ['an even exponent', { ...good, e: big([1, 0, 0]) }],
    ['an exponent of 2^256 + 1', { ...good, e: big([1, ...new Array(31).fill(0), 1]) }],
    ['n with a leading zero octet', { ...good, n: Buffer.concat([Buffer.from([0]), Buffer.from(n, 'base64url')]).toString('base64url') }],
    ['n in base64 with padding', { ...good, n: Buffer.from(n, 'base64url').toString('base64') }],
    // 256 octets take 342 characters, the last carrying 4 unused bits that must be zero (RFC 4648 §3.5).
    ['n with a non-canonical last character', { ...good, n: n.slice(0, -1) + B64[B64.indexOf(n.at(-1)!) ^ 1]! }],
    ['n missing', { kty: 'RSA', e: 'AQAB' }],
    ['e as a number', { ...good, e: 65537 }],
    ['use enc', { ...good, use: 'enc' }],
  ])('%s: INVALID_KEY', (_, jwk) => {
    expect(codeOf(() => importHttpSigKey(jwk))).toBe('INVALID_KEY');
  });

  it.each([
    ['1024 bits', { kty: 'RSA', n: small.n, e: small.e }],
    ['n beyond 8192 bits', { ...good, n: Buffer.alloc(1025, 0xff).toString('base64url') }],
  ])('%s: UNSUPPORTED_KEY_TYPE (well formed, outside what Charter verifies with)', (_, jwk) => {
    expect(codeOf(() => importHttpSigKey(jwk))).toBe('UNSUPPORTED_KEY_TYPE');
  });

  it.each([[['PS512']], [512], [{ toString: () => 'PS512' }]])('alg %j that is no string: INVALID_KEY (RFC 7517 §4.4)', (alg) => {
    expect(codeOf(() => importHttpSigKey({ ...good, alg }))).toBe('INVALID_KEY');
  });

  it.each(['HS256', 'ES256', 'EdDSA', 'PS256', 'RS512', 'rsa-pss-sha256', 'none'])('an RSA key saying alg %s: ALG_KEY_MISMATCH', (alg) => {
    expect(codeOf(() => importHttpSigKey({ ...good, alg }))).toBe('ALG_KEY_MISMATCH');
  });

  it('a caller key list holding an unsound RSA key is a TypeError when the verifier is built', async () => {
    await expect(verifyRequestSignature(vectorRequest(rfc.testRequest), { keys: { keys: [{ ...good, e: 'AQ' }] } })).rejects.toThrow(TypeError);
  });
});

describe('a key directory listing an RSA key', () => {
  const { publicKey, privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const { n, e } = publicKey.export({ format: 'jwk' }) as { n: string; e: string };
  const rsaPub = { kty: 'RSA', n, e };
  const kid = jwkThumbprint(rsaPub);
  const NOW = new Date('2026-12-03T10:00:00Z');
  const created = Math.floor(NOW.getTime() / 1000);
  const pssSigner = {
    alg: 'PS512',
    keyType: 'RSA',
    sign: async (data: Uint8Array) => nodeSign('sha512', data, { key: privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: 64 }),
  };

  async function directory(opts: { alg?: string; sign?: boolean; keyAlg?: string }) {
    const body = JSON.stringify({ keys: [{ ...rsaPub, kid, use: 'sig', ...(opts.keyAlg ? { alg: opts.keyAlg } : {}) }] });
    const headers: Record<string, string> = { 'content-type': DIRECTORY_MEDIA_TYPE, 'content-digest': contentDigest(body) };
    if (opts.sign !== false) {
      const request = { kind: 'request' as const, method: 'GET', url: new URL(`https://agent.example${DIRECTORY_PATH}`), field: () => undefined };
      const msg = { kind: 'response' as const, status: 200, field: (k: string) => (headers[k] === undefined ? undefined : [headers[k]!]), request };
      const params: Array<[string, string | number]> = [
        ['created', created],
        ['expires', created + 300],
        ['keyid', kid],
        ...(opts.alg ? [['alg', opts.alg] as [string, string]] : []),
        ['tag', DIRECTORY_TAG],
      ];
      const { innerList, signature } = await createSignature(msg, [parseComponentId('"@authority";req'), parseComponentId('"content-digest"')], params, pssSigner as never);
      headers['signature-input'] = `binding=${serializeInnerList(innerList)}`;
      headers.signature = `binding=${serializeItem([signature, new Map()])}`;
    }
    return { url: `https://agent.example${DIRECTORY_PATH}`, status: 200, headers, body };
  }

  it('signed with rsa-pss-sha512 (named by the signature or by the key): the key is bound and listed', async () => {
    for (const o of [{ alg: 'rsa-pss-sha512' }, { keyAlg: 'PS512' }]) {
      const v = verifyDirectoryResponse(await directory(o), { now: NOW });
      expect(v.keys.map((k) => [k.thumbprint, k.keyType, k.alg])).toEqual([[kid, 'RSA', 'rsa-pss-sha512']]);
    }
  });

  it.each([
    ['no binding signature at all', { sign: false }],
    ['a binding whose algorithm nothing names', {}],
    ['a binding naming rsa-v1_5-sha256 (a PSS signature)', { alg: 'rsa-v1_5-sha256' }],
    ['a key saying RS256 with a PSS binding', { keyAlg: 'RS256', alg: 'rsa-pss-sha512' }],
  ])('%s: refused, the key signs nothing', async (_, o) => {
    const r = await directory(o);
    expect(() => verifyDirectoryResponse(r, { now: NOW })).toThrow(
      expect.objectContaining({ code: 'DIRECTORY_INVALID', message: expect.stringMatching(/no valid directory signature/) as string }) as Error,
    );
  });
});
