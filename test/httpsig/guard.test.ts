import { parseDictionary } from 'structured-headers';
import { describe, expect, it } from 'vitest';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import {
  acceptSignature,
  checkRequestSignature,
  createDirectoryResolver,
  jwkThumbprint,
  signatureGuardDecision,
  signatureGuardOptions,
  signRequest,
} from '../../src/httpsig/index.js';

const kp = generateKeyPair('Ed25519');
const a = { jwk: kp.publicJwk, signer: createSigner(kp.privateJwk) };
const URL_ = 'https://api.example/items?page=2';

/** What an adapter hands over: method, absolute URL, a header getter over node's lower-case headers. */
function input(headers: Record<string, string>, method = 'GET') {
  return { method, url: URL_, header: (name: string) => headers[name] };
}

describe('the middleware entry: checkRequestSignature + signatureGuardDecision', () => {
  it('options are checked once, when the guard is built; the default tag is web-bot-auth', () => {
    expect(() => signatureGuardOptions({})).toThrow(TypeError);
    expect(() => signatureGuardOptions({ keys: { keys: [a.jwk] }, requireNonce: true })).toThrow(TypeError);
    expect(() => signatureGuardOptions({ keys: { keys: [a.jwk] }, tag: '' })).toThrow(TypeError);
    expect(signatureGuardOptions({ keys: { keys: [a.jwk] } }).requiredTag).toBe('web-bot-auth');
    expect(signatureGuardOptions({ keys: { keys: [a.jwk] }, tag: null }).requiredTag).toBeUndefined();
    expect(signatureGuardOptions({ directories: 'fetch', tag: 'agent-payer-auth' }).requiredTag).toBe('agent-payer-auth');
  });

  it('verified: allow, with who signed', async () => {
    const r = await signRequest(
      { method: 'GET', url: URL_, headers: {} as Record<string, string> },
      { signer: a.signer, publicJwk: a.jwk, signatureAgent: 'https://agent.example' },
    );
    const options = signatureGuardOptions({ keys: { keys: [a.jwk] } });
    const g = signatureGuardDecision(await checkRequestSignature(input(r.headers), options));
    expect(g).toMatchObject({ allow: true, outcome: 'verified', retryable: false, agent: { keyId: jwkThumbprint(a.jwk), label: 'sig1', tag: 'web-bot-auth' } });
  });

  it('invalid, unsigned and unverified are told apart; a refusal carries an Accept-Signature request', async () => {
    const r = await signRequest(
      { method: 'GET', url: URL_, headers: {} as Record<string, string> },
      { signer: a.signer, publicJwk: a.jwk, signatureAgent: 'https://agent.example' },
    );
    const options = signatureGuardOptions({ keys: { keys: [a.jwk] } });
    const invalid = signatureGuardDecision(await checkRequestSignature(input(r.headers, 'POST'), options));
    expect(invalid).toMatchObject({ allow: false, outcome: 'invalid', code: 'SIGNATURE_INVALID', retryable: false });
    expect(invalid.acceptSignature).toBe('sig1=("@method" "@authority" "@path" "@query" "signature-agent";key="sig1");tag="web-bot-auth"');
    expect(parseDictionary(invalid.acceptSignature!).has('sig1')).toBe(true);

    const unsigned = signatureGuardDecision(await checkRequestSignature(input({}), options));
    expect(unsigned).toMatchObject({ allow: false, outcome: 'unsigned', code: 'SIGNATURE_MISSING' });

    // A directory that cannot be reached is not evidence against the signer (draft, "Discovery Failure").
    const other = generateKeyPair('Ed25519');
    const s = await signRequest(
      { method: 'GET', url: URL_, headers: {} as Record<string, string> },
      { signer: createSigner(other.privateJwk), publicJwk: other.publicJwk, signatureAgent: 'http://127.0.0.1:9' },
    );
    const down = signatureGuardOptions({ directories: createDirectoryResolver({ allowLoopback: true, timeoutMs: 500 }), allowLoopback: true });
    const unverified = signatureGuardDecision(await checkRequestSignature(input(s.headers), down));
    expect(unverified).toMatchObject({ allow: false, outcome: 'unverified', code: 'DIRECTORY_UNAVAILABLE', retryable: true });
  });

  it('acceptSignature for a Trusted Agent Protocol tag asks for no Signature-Agent member', () => {
    expect(acceptSignature({ tag: 'agent-browser-auth' })).toBe('sig1=("@method" "@authority" "@path" "@query");tag="agent-browser-auth"');
  });
});
