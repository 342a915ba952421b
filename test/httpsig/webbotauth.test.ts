import { describe, expect, it } from 'vitest';
import { parseDictionary, serializeInnerList, serializeItem } from 'structured-headers';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import type { PrivateJwk, PublicJwk } from '../../src/keys/types.js';
import { parseSignatureInput, signatureBase } from '../../src/httpsig/base.js';
import { createSignature, requestContext } from '../../src/httpsig/sign.js';
import { parseComponentId } from '../../src/httpsig/components.js';
import { signatureGuardOptions } from '../../src/httpsig/guard.js';
import { jwkThumbprint, signDirectory, verifyDirectoryResponse, verifyRequestSignature, DIRECTORY_PATH } from '../../src/httpsig/index.js';
import { isCharterError } from '../../src/errors.js';
import { member, vectorRequest, vectors } from './vectors.js';

const rfc = vectors('rfc9421.json');
const wba = vectors('webbotauth.json');
const ed = wba.cases.filter((c: { alg: string; kind: string }) => c.alg === 'ed25519' && c.kind === 'request');
const dictCase = ed.find((c: { signatureAgent: string }) => !c.signatureAgent.startsWith('"'));
const legacyCase = ed.find((c: { signatureAgent: string }) => c.signatureAgent.startsWith('"'));
const dirCase = wba.cases.find((c: { kind: string }) => c.kind === 'directory-response');
const { d: _d, kid: _kid, ...edPub } = rfc.keys['test-key-ed25519'].jwk;
const keys = { keys: [edPub] };
const NOW = new Date(1735689600_000 + 30_000);

type Case = { signatureAgent: string; signatureInput: string; signature: string; signatureBase: string };
function request(c: Case, change: { agent?: string; input?: string; signature?: string; url?: string } = {}) {
  const r = vectorRequest(rfc.testRequest, {
    'signature-agent': change.agent ?? c.signatureAgent,
    'signature-input': change.input ?? c.signatureInput,
    signature: change.signature ?? c.signature,
  });
  return change.url ? { ...r, url: change.url } : r;
}
function baseOf(c: Case): string {
  const { label, value } = member(c.signatureInput);
  return signatureBase(parseSignatureInput(parseDictionary(`${label}=${value}`).get(label)!), requestContext(request(c)));
}

describe('Web Bot Auth draft: Ed25519 requests', () => {
  it('dictionary Signature-Agent: the base covers the member value with its quotes, and the request verifies', async () => {
    expect(baseOf(dictCase)).toBe(dictCase.signatureBase);
    expect(dictCase.signatureBase).toContain('"signature-agent";key="agent2": "https://signature-agent.test"');
    const d = await verifyRequestSignature(request(dictCase), { keys, now: NOW, requiredTag: 'web-bot-auth' });
    expect(d.reasons).toEqual([]);
    expect(d).toMatchObject({ ok: true, label: 'sig2', tag: 'web-bot-auth', keyId: 'poqkLGiymh_W0uP6PZFw-dvez3QJT5SolqXBCW38r0U' });
    // The key was the caller's, not the directory's: the request is not attributed to the URL.
    expect(d.signatureAgent).toBeUndefined();
  });

  it('legacy sf-string Signature-Agent: refused by default, verified when the caller accepts the legacy form', async () => {
    expect(baseOf(legacyCase)).toBe(legacyCase.signatureBase);
    const strict = await verifyRequestSignature(request(legacyCase), { keys, now: NOW });
    expect(strict.reasons.map((r) => r.code)).toEqual(['SIGNATURE_INVALID']);
    const lenient = await verifyRequestSignature(request(legacyCase), { keys, now: NOW, legacySignatureAgent: true });
    expect(lenient.reasons).toEqual([]);
    expect(lenient.ok).toBe(true);
  });

  const input = dictCase.signatureInput as string;
  const mutations: Array<[string, Parameters<typeof request>[1], string]> = [
    ['@authority (another host)', { url: 'https://example.org/foo?param=Value&Pet=dog' }, 'SIGNATURE_INVALID'],
    ['@authority (another port)', { url: 'https://example.com:8443/foo' }, 'SIGNATURE_INVALID'],
    ['the Signature-Agent member value', { agent: 'agent2="https://signature-agent.example"' }, 'SIGNATURE_INVALID'],
    ['the Signature-Agent member key', { agent: 'agent3="https://signature-agent.test"' }, 'SIGNATURE_INVALID'],
    ['the Signature-Agent member parameters', { agent: 'agent2="https://signature-agent.test";type=directory' }, 'SIGNATURE_INVALID'],
    ['created', { input: input.replace('created=1735689600', 'created=1735689601') }, 'SIGNATURE_INVALID'],
    ['expires', { input: input.replace('expires=4889289600', 'expires=4889289601') }, 'SIGNATURE_INVALID'],
    ['nonce', { input: input.replace('nonce="n9p', 'nonce="m9p') }, 'SIGNATURE_INVALID'],
    ['tag', { input: input.replace('tag="web-bot-auth"', 'tag="web-bot-auth2"') }, 'SIGNATURE_INVALID'],
    ['keyid', { input: input.replace('keyid="poqk', 'keyid="Poqk') }, 'SIGNATURE_KEY_UNKNOWN'],
    ['alg (another registered algorithm)', { input: input.replace('alg="ed25519"', 'alg="ecdsa-p256-sha256"') }, 'ALG_KEY_MISMATCH'],
    ['alg (an unknown algorithm)', { input: input.replace('alg="ed25519"', 'alg="ed448"') }, 'UNSUPPORTED_ALG'],
    ['the covered component list (member dropped)', { input: input.replace(' "signature-agent";key="agent2"', '') }, 'SIGNATURE_INVALID'],
    ['the signature bytes', { signature: dictCase.signature.replace('RdNF', 'RdNG') }, 'SIGNATURE_INVALID'],
  ];
  it.each(mutations)('changing %s is refused', async (_what, change, code) => {
    const d = await verifyRequestSignature(request(dictCase, change), { keys, now: NOW });
    expect(d.ok).toBe(false);
    expect(d.reasons.map((r) => r.code)).toEqual([code]);
  });

  it('relabelling the Signature member alone keeps the signature valid (RFC 9421 §7.2.5; the label is not signed)', async () => {
    const d = await verifyRequestSignature(request(dictCase, { input: input.replace(/^sig2=/, 'other='), signature: dictCase.signature.replace(/^sig2=/, 'other=') }), {
      keys,
      now: NOW,
    });
    expect(d.ok).toBe(true);
  });
});

describe('Web Bot Auth draft: the signed directory response', () => {
  const url = `https://signature-agent.test${DIRECTORY_PATH}`;
  const headers = (change: Record<string, string> = {}) => ({
    'content-type': 'application/http-message-signatures-directory+json',
    'content-digest': dirCase.contentDigest,
    'signature-input': dirCase.signatureInput,
    signature: dirCase.signature,
    ...change,
  });
  const now = new Date(1735689600_000 + 60_000);

  it('verifies: digest, binding signature over ("@authority";req "content-digest"), kid = thumbprint', () => {
    const dir = verifyDirectoryResponse({ url, headers: headers(), body: dirCase.body }, { now });
    expect(dir.keys).toHaveLength(1);
    expect(dir.keys[0]).toMatchObject({ bound: true, thumbprint: 'poqkLGiymh_W0uP6PZFw-dvez3QJT5SolqXBCW38r0U' });
    expect(dir.expiresAt).toBe(4889289600_000);
  });

  it('signDirectory reproduces the draft response byte for byte (Ed25519, RFC 9421 test key)', async () => {
    const res = await signDirectory({
      keys: [{ jwk: edPub as PublicJwk, signer: createSigner(rfc.keys['test-key-ed25519'].jwk as PrivateJwk) }],
      authority: 'signature-agent.test',
      now: new Date(1735689600_000),
      expiresInSeconds: 4889289600 - 1735689600,
    });
    expect(res.body).toBe(dirCase.body);
    expect(res.headers['content-digest']).toBe(dirCase.contentDigest);
    expect(res.headers['signature-input']).toBe(dirCase.signatureInput);
    expect(res.headers.signature).toBe(dirCase.signature);
    expect(res.headers['content-type']).toBe('application/http-message-signatures-directory+json');
  });

  const code = (fn: () => unknown) => {
    try {
      fn();
      return 'ok';
    } catch (e) {
      return isCharterError(e) ? e.code : String(e);
    }
  };
  it.each([
    ['the authority it was fetched from', { url: `https://elsewhere.test${DIRECTORY_PATH}` }],
    ['the body (digest mismatch)', { body: dirCase.body.replace('"use":"sig"', '"use":"sig" ') }],
    ['the Content-Digest', { headers: headers({ 'content-digest': 'sha-256=:AADMT2aBdV/rqQr/NIru64ERQkCobVvllA4V0fLFDu0=:' }) }],
    ['the tag', { headers: headers({ 'signature-input': dirCase.signatureInput.replace('tag="http-message-signatures-directory"', 'tag="web-bot-auth"') }) }],
    ['the signature', { headers: headers({ signature: dirCase.signature.replace('l6P8', 'l6P9') }) }],
    ['the media type', { headers: headers({ 'content-type': 'application/json' }) }],
    ['the signatures, removed', { headers: { 'content-type': 'application/http-message-signatures-directory+json', 'content-digest': dirCase.contentDigest } }],
  ])('changing %s is refused (DIRECTORY_INVALID)', (_what, change: { url?: string; body?: string; headers?: Record<string, string> }) => {
    expect(code(() => verifyDirectoryResponse({ url: change.url ?? url, headers: change.headers ?? headers(), body: change.body ?? dirCase.body }, { now }))).toBe(
      'DIRECTORY_INVALID',
    );
  });

  it('a directory signature created in the future is refused; the draft made them optional, which a caller may choose', () => {
    const early = new Date(1735689600_000 - 3600_000);
    expect(code(() => verifyDirectoryResponse({ url, headers: headers(), body: dirCase.body }, { now: early }))).toBe('DIRECTORY_INVALID');
    const lenient = verifyDirectoryResponse({ url, headers: headers(), body: dirCase.body }, { now: early, requireSignature: false });
    expect(lenient.keys[0]!.bound).toBe(false);
  });
});

describe('Web Bot Auth draft: a web-bot-auth signature carries expires', () => {
  // "Generating HTTP Message Signature": agents MUST include created, expires, keyid and tag.
  // Without expires, only the verifier's maxAgeSeconds (up to a day) would bound a replay.
  const kp = generateKeyPair('Ed25519');
  const signer = createSigner(kp.privateJwk);
  const T0 = new Date('2026-03-01T12:00:00Z');
  const signedWith = async (params: [string, string | number][]) => {
    const headers: Record<string, string> = { 'signature-agent': 'sig1="https://agent.example"' };
    const req = { method: 'GET', url: 'https://shop.example/a', headers };
    const comps = ['@authority', '"signature-agent";key="sig1"'].map(parseComponentId);
    const created = Math.floor(T0.getTime() / 1000);
    const { innerList, signature } = await createSignature(requestContext(req), comps, [['created', created], ['keyid', jwkThumbprint(kp.publicJwk)], ...params], signer);
    headers['signature-input'] = `sig1=${serializeInnerList(innerList)}`;
    headers.signature = `sig1=${serializeItem([signature, new Map()])}`;
    return req;
  };
  const options = (o: { tag?: string } = {}) => ({
    ...signatureGuardOptions({ directories: { 'https://agent.example': { keys: [kp.publicJwk] } }, maxAgeSeconds: 86_400, ...o }),
    now: new Date(T0.getTime() + 60_000),
  });
  const created = Math.floor(T0.getTime() / 1000);

  it('without expires it is refused (SIGNATURE_INVALID), whatever maxAgeSeconds allows; with it, accepted', async () => {
    const without = await verifyRequestSignature(
      await signedWith([
        ['alg', 'ed25519'],
        ['nonce', 'n1'],
        ['tag', 'web-bot-auth'],
      ]),
      options(),
    );
    expect([without.ok, without.reasons.map((r) => r.code)]).toEqual([false, ['SIGNATURE_INVALID']]);
    expect(without.reasons[0]!.message).toMatch(/expires/);
    const withIt = await verifyRequestSignature(
      await signedWith([
        ['alg', 'ed25519'],
        ['expires', created + 300],
        ['nonce', 'n2'],
        ['tag', 'web-bot-auth'],
      ]),
      options(),
    );
    expect(withIt.ok).toBe(true);
  });

  it('another tag is held to RFC 9421 alone: no expires needed', async () => {
    const other = await verifyRequestSignature(
      await signedWith([
        ['alg', 'ed25519'],
        ['nonce', 'n3'],
        ['tag', 'agent-browser-auth'],
      ]),
      options({ tag: 'agent-browser-auth' }),
    );
    expect(other.ok).toBe(true);
  });
});
