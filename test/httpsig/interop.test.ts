import { createPrivateKey, createPublicKey } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { httpbis, createSigner as dhSigner, createVerifier as dhVerifier } from 'http-message-signatures';
import * as cfSig from 'http-message-sig';
import { signatureHeaders as cfSignatureHeaders, verify as cfVerify } from 'web-bot-auth';
import { Ed25519Signer } from 'web-bot-auth/crypto';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import type { KeyType } from '../../src/keys/types.js';
import { jwkThumbprint, signDirectory, signRequest, verifyDirectoryResponse, verifyRequestSignature, DIRECTORY_PATH } from '../../src/httpsig/index.js';
import { parseSignatureInput, signatureBase } from '../../src/httpsig/base.js';
import { requestContext } from '../../src/httpsig/sign.js';
import { parseDictionary } from 'structured-headers';
import { member, vectorRequest, vectors } from './vectors.js';

const AGENT = 'https://agent.example';
const URL_ = 'https://shop.example/checkout?cart=42&step=pay';

function agent(type: KeyType = 'Ed25519') {
  const kp = generateKeyPair(type);
  return { ...kp, signer: createSigner(kp.privateJwk), keyId: jwkThumbprint(kp.publicJwk) };
}
const dhAlg = (type: KeyType) => (type === 'Ed25519' ? 'ed25519' : 'ecdsa-p256-sha256');

describe('interop with http-message-signatures (dhensby, RFC 9421)', () => {
  it.each<KeyType>(['Ed25519', 'P-256'])('%s: its signed request, covering "signature-agent";key="sig1", passes Charter', async (type) => {
    const a = agent(type);
    const req = { method: 'POST', url: URL_, headers: { 'signature-agent': `sig1="${AGENT}"`, 'content-type': 'application/json' } as Record<string, string> };
    const signed = await httpbis.signMessage(
      {
        key: dhSigner(createPrivateKey({ key: { ...a.privateJwk }, format: 'jwk' }), dhAlg(type), a.keyId),
        name: 'sig1',
        fields: ['@method', '@authority', '@path', '@query', '"@query-param";name="cart"', 'content-type', '"signature-agent";key="sig1"'],
        params: ['created', 'keyid', 'alg', 'expires', 'nonce', 'tag'],
        paramValues: { nonce: 'n-1', tag: 'web-bot-auth' },
      },
      req,
    );
    const d = await verifyRequestSignature(signed, { keys: { keys: [a.publicJwk] }, requiredTag: 'web-bot-auth' });
    expect(d.reasons).toEqual([]);
    expect(d).toMatchObject({ ok: true, keyId: a.keyId, label: 'sig1' });
  });

  it.each<KeyType>(['Ed25519', 'P-256'])("%s: Charter's signed request (default components, Signature-Agent member) passes its verifier", async (type) => {
    const a = agent(type);
    const signed = await signRequest({ method: 'GET', url: URL_, headers: {} as Record<string, string> }, { signer: a.signer, publicJwk: a.publicJwk, signatureAgent: AGENT });
    const result = await httpbis.verifyMessage(
      {
        keyLookup: async (p) =>
          p.keyid === a.keyId ? { id: a.keyId, algs: [dhAlg(type)], verify: dhVerifier(createPublicKey({ key: { ...a.publicJwk }, format: 'jwk' }), dhAlg(type)) } : null,
        requiredFields: ['@authority', 'signature-agent'],
      },
      signed as { method: string; url: string; headers: Record<string, string> },
    );
    expect(result).toBe(true);
    // A signature changed by one bit fails there too: the peer is really checking.
    const bad = { ...signed, headers: { ...signed.headers, signature: String(signed.headers.signature).replace(/:(.)/, (_m, c: string) => `:${c === 'A' ? 'B' : 'A'}`) } };
    await expect(
      httpbis.verifyMessage(
        { keyLookup: async () => ({ id: a.keyId, algs: [dhAlg(type)], verify: dhVerifier(createPublicKey({ key: { ...a.publicJwk }, format: 'jwk' }), dhAlg(type)) }) },
        bad as { method: string; url: string; headers: Record<string, string> },
      ),
    ).resolves.toBe(false);
  });

  it('Charter\'s signed directory passes its verifier ("@authority";req over the request that fetched it)', async () => {
    const a = agent();
    const dir = await signDirectory({ keys: [{ jwk: a.publicJwk, signer: a.signer }], authority: 'agent.example' });
    const ok = await httpbis.verifyMessage(
      {
        keyLookup: async (p) =>
          p.keyid === a.keyId ? { id: a.keyId, algs: ['ed25519'], verify: dhVerifier(createPublicKey({ key: { ...a.publicJwk }, format: 'jwk' }), 'ed25519') } : null,
        requiredFields: ['@authority', 'content-digest'],
      },
      { status: 200, headers: dir.headers },
      { method: 'GET', url: `https://agent.example${DIRECTORY_PATH}`, headers: {} },
    );
    expect(ok).toBe(true);
  });
});

describe("interop with web-bot-auth (Cloudflare's Web Bot Auth library)", () => {
  const edAgent = () => {
    const a = agent('Ed25519');
    return { ...a, cfSigner: Ed25519Signer.fromJWK({ ...a.privateJwk }) };
  };

  it('its signed request (dictionary Signature-Agent, whole field covered) passes Charter', async () => {
    const a = edAgent();
    const signer = await a.cfSigner;
    expect(signer.keyid).toBe(a.keyId); // both compute the RFC 7638 thumbprint
    const req = { method: 'GET', url: URL_, headers: { 'Signature-Agent': `sig1="${AGENT}"` } as Record<string, string> };
    const now = Date.now();
    const h = await cfSignatureHeaders(req, signer, { created: new Date(now), expires: new Date(now + 60_000), key: 'sig1' });
    const d = await verifyRequestSignature({ ...req, headers: { ...req.headers, ...h } }, { keys: { keys: [a.publicJwk] }, requiredTag: 'web-bot-auth' });
    expect(d.reasons).toEqual([]);
    expect(d.ok).toBe(true);
  });

  it("Charter's signed request passes its verifier when the whole Signature-Agent field is covered", async () => {
    const a = edAgent();
    const signed = await signRequest(
      { method: 'GET', url: URL_, headers: {} as Record<string, string> },
      { signer: a.signer, publicJwk: a.publicJwk, signatureAgent: AGENT, components: ['@authority', 'signature-agent'] },
    );
    const key = await crypto.subtle.importKey('jwk', { ...a.publicJwk }, { name: 'Ed25519' }, false, ['verify']);
    let checked = 0;
    await cfVerify(signed as { method: string; url: string; headers: Record<string, string> }, async (data, sig) => {
      checked++;
      if (!(await crypto.subtle.verify('Ed25519', key, sig as Uint8Array<ArrayBuffer>, new TextEncoder().encode(data)))) throw new Error('invalid');
    });
    expect(checked).toBe(1);
  });

  it("its ;key handling is wrong: for the draft's own vector it builds the base over the whole field, so it cannot verify a correct ;key signature", () => {
    const rfc = vectors('rfc9421.json');
    const c = vectors('webbotauth.json').cases.find((x: { alg: string; signatureAgent: string }) => x.alg === 'ed25519' && !x.signatureAgent.startsWith('"'));
    const req = vectorRequest(rfc.testRequest, { 'signature-agent': c.signatureAgent, 'signature-input': c.signatureInput, signature: c.signature });
    const { label, value } = member(c.signatureInput);
    const input = parseSignatureInput(parseDictionary(`${label}=${value}`).get(label)!);
    expect(signatureBase(input, requestContext(req))).toBe(c.signatureBase); // Charter: RFC 9421 §2.1.2

    const theirs = cfSig.extractHeader({ headers: req.headers } as never, 'signature-agent');
    expect(theirs).toBe('agent2="https://signature-agent.test"'); // the whole field, where §2.1.2 wants the member value
    expect(c.signatureBase).toContain(': "https://signature-agent.test"\n');
  });

  it("Charter's signed directory passes its (http-message-sig) verifier", async () => {
    const a = edAgent();
    const dir = await signDirectory({ keys: [{ jwk: a.publicJwk, signer: a.signer }], authority: 'agent.example' });
    const key = await crypto.subtle.importKey('jwk', { ...a.publicJwk }, { name: 'Ed25519' }, false, ['verify']);
    const valid = await cfSig.verify(
      { request: { method: 'GET', url: `https://agent.example${DIRECTORY_PATH}`, headers: {} }, response: { status: 200, headers: dir.headers } },
      async (data, sig, params) => {
        expect(params.keyid).toBe(a.keyId);
        expect(params.tag).toBe('http-message-signatures-directory');
        return crypto.subtle.verify('Ed25519', key, sig as Uint8Array<ArrayBuffer>, new TextEncoder().encode(data));
      },
    );
    expect(valid).toBe(true);
    // And Charter's own verifier accepts the same response.
    expect(verifyDirectoryResponse({ url: `https://agent.example${DIRECTORY_PATH}`, headers: dir.headers, body: dir.body }).keys[0]!.bound).toBe(true);
  });
});
