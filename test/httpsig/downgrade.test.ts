import { describe, expect, it } from 'vitest';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import { jwkThumbprint, signRequest, verifyRequestSignature, type VerifyRequestSignatureOptions } from '../../src/httpsig/index.js';

/**
 * Downgrade: what a verifier requires of a request signature (its covered
 * components, its tag, a nonce, expires) holds for the signature that
 * verifies, whichever label it has. A second, weaker signature beside a
 * strong one by a stranger, one with fewer components, another tag, no
 * nonce, or an `alg` naming another algorithm than the key's is refused,
 * never taken because "a" signature verified.
 */
const URL_ = 'https://shop.example/orders/7?step=pay';
const T0 = new Date('2026-03-01T12:00:00Z');
type Req = { method: string; url: string; headers: Record<string, string> };
const agent = () => {
  const kp = generateKeyPair('Ed25519');
  return { ...kp, signer: createSigner(kp.privateJwk), keyId: jwkThumbprint(kp.publicJwk) };
};
const me = agent();
const stranger = agent();
const keys = { keys: [me.publicJwk] };
const base = (): Req => ({ method: 'POST', url: URL_, headers: { 'content-type': 'application/json' } });
const strict: VerifyRequestSignatureOptions = {
  keys,
  now: T0,
  requiredTag: 'web-bot-auth',
  requiredComponents: ['@method', '@path', '@query'],
  requireNonce: true,
  store: 'caller',
};
const sign = (r: Req, o: Partial<Parameters<typeof signRequest>[1]> = {}) =>
  signRequest(r, { signer: me.signer, publicJwk: me.publicJwk, now: T0, nonce: 'n1', ...o }) as Promise<Req>;
const codes = (d: { reasons: { code: string }[] }) => [...new Set(d.reasons.map((r) => r.code))].sort();

describe('a verifier that requires more is never met by a weaker signature', () => {
  it('the control: the full signature by a held key verifies under the strict options', async () => {
    expect(await verifyRequestSignature(await sign(base()), strict)).toMatchObject({ ok: true, label: 'sig1' });
  });

  it.each<[string, () => Promise<Req>, string[]]>([
    ['only @authority covered', () => sign(base(), { components: ['@authority'] }), ['SIGNATURE_INVALID']],
    ['@method and @authority, no @path or @query', () => sign(base(), { components: ['@method', '@authority'] }), ['SIGNATURE_INVALID']],
    ['no nonce', () => sign(base(), { nonce: false }), ['SIGNATURE_INVALID']],
    ['another tag', () => sign(base(), { tag: 'agent-browser-auth' }), ['SIGNATURE_TAG_MISMATCH']],
    ['no tag', () => sign(base(), { tag: null }), ['SIGNATURE_TAG_MISMATCH']],
    [
      "a stranger's full signature, and mine covering only @authority under another label",
      async () => sign(await signRequest(base(), { signer: stranger.signer, publicJwk: stranger.publicJwk, now: T0, nonce: 'n0' }), { label: 'sig2', components: ['@authority'] }),
      ['SIGNATURE_INVALID', 'SIGNATURE_KEY_UNKNOWN'],
    ],
    [
      'mine covering only @authority, then a full one under another tag',
      async () => sign(await sign(base(), { components: ['@authority'] }), { label: 'sig2', tag: 'agent-payer-auth' }),
      ['SIGNATURE_INVALID'],
    ],
  ])('%s: refused', async (_, make, expected) => {
    const d = await verifyRequestSignature(await make(), strict);
    expect(d.ok).toBe(false);
    expect(codes(d)).toEqual(expected);
  });

  it.each([
    ['ecdsa-p256-sha256', 'ALG_KEY_MISMATCH'],
    ['rsa-pss-sha512', 'ALG_KEY_MISMATCH'],
    ['hmac-sha256', 'UNSUPPORTED_ALG'],
    ['ED25519', 'UNSUPPORTED_ALG'],
  ])('an alg parameter of %s on an Ed25519 key: %s, never verified as the key would', async (alg, code) => {
    const r = await sign(base());
    r.headers['signature-input'] = r.headers['signature-input']!.replace(/;alg="[^"]*"/, `;alg="${alg}"`);
    expect(codes(await verifyRequestSignature(r, strict))).toEqual([code]);
  });
});
