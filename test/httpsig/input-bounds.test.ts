import { generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { MAX_COMPONENTS } from '../../src/httpsig/base.js';
import { jwkThumbprint, signDirectory, verifyDirectoryResponse, verifyRequestSignature } from '../../src/httpsig/index.js';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';

/**
 * The signature layer's bounds and parsing seams: a signature covers at most
 * MAX_COMPONENTS components (an unauthenticated request cannot buy seconds of
 * CPU with thousands of @query-param components); a Display String in another
 * label cannot hide a repeated or Decimal parameter; a key directory skips
 * keys Charter does not verify with instead of refusing its usable keys.
 */
const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const jwk = publicKey.export({ format: 'jwk' }) as Record<string, string>;
const kid = jwkThumbprint(jwk as never);
const NOW = 1_780_000_000;
const now = new Date(NOW * 1000);
const sig = (base: string) => `:${nodeSign(null, Buffer.from(base, 'ascii'), privateKey).toString('base64')}:`;
const verify = (r: { method: string; url: string; headers: Record<string, string> }) => verifyRequestSignature(r, { keys: { keys: [jwk] }, now });

describe('a signature covers at most MAX_COMPONENTS components', () => {
  const request = (n: number) => {
    const names = Array.from({ length: n }, (_, i) => `p${i}`);
    const url = `https://example.com/a?${names.map((p) => `${p}=1`).join('&')}`;
    const list = `("@authority" ${names.map((p) => `"@query-param";name="${p}"`).join(' ')})`;
    const sp = `${list};created=${NOW};keyid="${kid}";expires=${NOW + 60};nonce="n${n}";tag="web-bot-auth"`;
    const base = ['"@authority": example.com', ...names.map((p) => `"@query-param";name="${p}": 1`), `"@signature-params": ${sp}`].join('\n');
    return { method: 'GET', url, headers: { 'signature-input': `sig1=${sp}`, signature: `sig1=${sig(base)}` } };
  };
  it('at the bound (the authority and 63 query parameters) it verifies', async () => {
    const d = await verify(request(MAX_COMPONENTS - 1));
    expect(d.reasons).toEqual([]);
    expect(d.ok).toBe(true);
  });
  it('one more is refused before any component is derived', async () => {
    const d = await verify(request(MAX_COMPONENTS));
    expect(d.ok).toBe(false);
    expect(d.reasons.map((r) => r.code)).toEqual(['SIGNATURE_INVALID']);
    expect(d.reasons[0]!.message).toMatch(/at most 64 components/);
  });
});

describe('a Display String in another label hides nothing', () => {
  const canon = (nonce: string) => `("@authority");created=${NOW};keyid="${kid}";expires=${NOW + 60};nonce="${nonce}";tag="web-bot-auth"`;
  const req = (input: string, signedParams: string) => {
    const base = ['"@authority": example.com', `"@signature-params": ${signedParams}`].join('\n');
    return { method: 'GET', url: 'https://example.com/a', headers: { 'signature-input': input, signature: `junk=:AAAA:, sig1=${sig(base)}` } };
  };
  it.each([
    ['a repeated tag', (c: string) => c.replace('tag="web-bot-auth"', 'tag="evil";tag="web-bot-auth"')],
    ['a repeated created', (c: string) => c.replace(`created=${NOW}`, `created=0;created=${NOW}`)],
    ['a Decimal created', (c: string) => c.replace(`created=${NOW}`, `created=${NOW}.0`)],
  ])('%s after a label with p=%"a;x": refused', async (_, bend) => {
    const nonce = `n-${Math.random()}`;
    const d = await verify(req(`junk=("@authority");p=%"a;x", sig1=${bend(canon(nonce))}`, canon(nonce)));
    expect(d.ok).toBe(false);
  });
  it('the same label with a Display String parameter of its own, honest otherwise: read as a string (an unknown parameter, refused)', async () => {
    const d = await verify(req(`junk=("@authority");p=%"a;x", sig1=${canon('honest')}`, canon('honest')));
    // Only sig1 is a signature Charter reads (junk's bytes are no Ed25519 signature); sig1 verifies.
    expect(d.reasons.filter((r) => r.ref === 'sig1')).toEqual([]);
  });
});

describe('a key directory with a key Charter does not verify with', () => {
  const ed = generateKeyPair('Ed25519');
  const usable = { jwk: ed.publicJwk, signer: createSigner(ed.privateJwk) };
  const rsa1024 = generateKeyPairSync('rsa', { modulusLength: 1024 }).publicKey.export({ format: 'jwk' }) as Record<string, string>;
  const rsa2048 = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey.export({ format: 'jwk' }) as Record<string, string>;
  const p256 = generateKeyPair('P-256').publicJwk;
  const withExtra = async (extra: Record<string, unknown>) => {
    const r = await signDirectory({ authority: 'agent.example', keys: [usable], now });
    const body = JSON.stringify({ keys: [...(JSON.parse(r.body) as { keys: unknown[] }).keys, extra] });
    // The extra key is unsigned: verified with requireSignature false, as the draft allows.
    return verifyDirectoryResponse(
      { url: 'https://agent.example/.well-known/http-message-signatures-directory', status: 200, headers: { ...r.headers }, body },
      { now, requireSignature: false },
    );
  };
  it.each([
    ['an RSA key of 1024 bits', { kty: 'RSA', n: rsa1024.n, e: rsa1024.e }],
    ['an RSA key saying RS512', { kty: 'RSA', n: rsa2048.n, e: rsa2048.e, alg: 'RS512' }],
    ['a P-256 key saying ECDH-ES', { ...p256, alg: 'ECDH-ES' }],
  ])('%s is left aside; the usable key stays', async (_, extra) => {
    const v = await withExtra(extra);
    expect(v.keys.map((k) => k.keyType)).toEqual(['Ed25519']);
  });
  it.each([
    ['an RSA key with private members', { kty: 'RSA', n: rsa2048.n, e: rsa2048.e, d: 'AQAB' }],
    ['an RSA key with exponent 1', { kty: 'RSA', n: rsa2048.n, e: 'AQ' }],
    ['a P-256 point off the curve', { ...p256, y: p256.x }],
  ])('%s makes the directory invalid (DIRECTORY_INVALID)', async (_, extra) => {
    await expect(withExtra(extra)).rejects.toMatchObject({ code: 'DIRECTORY_INVALID' });
  });
});

describe('optional whitespace is stripped in time linear in the field (RFC 9110 §5.5)', () => {
  // A run of spaces followed by other text: an unanchored /[ \t]+$/ retries from every space of the run
  // (quadratic: 64 KB took seconds). 256 KB of it would take minutes that way; a scan takes a millisecond.
  // The bound is generous: the test tells linear from quadratic, not fast from slow.
  const RUN = 256 * 1024;
  it.each([
    ['spaces', ' '],
    ['tabs', '\t'],
    ['spaces and tabs', ' \t'],
  ])('a Signature-Input with a %s run in the middle is refused at once', async (_, ws) => {
    const padding = ws.repeat(RUN / ws.length);
    for (const header of ['signature-input', 'signature', 'signature-agent']) {
      const headers: Record<string, string> = { 'signature-input': `sig1=("@authority");created=${NOW};keyid="${kid}"`, signature: 'sig1=:AAAA:' };
      headers[header] = `sig1=a${padding}x`;
      const t0 = performance.now();
      const d = await verify({ method: 'GET', url: 'https://example.com/a', headers });
      expect(performance.now() - t0).toBeLessThan(2_000);
      expect(d.ok).toBe(false);
    }
  });
  it('strips SP and HTAB at both ends only, never other spaces', async () => {
    const { stripOws, combinedFieldValue } = await import('../../src/httpsig/fields.js');
    expect(stripOws(' \t a b \t ')).toBe('a b');
    expect(stripOws('')).toBe('');
    expect(stripOws(' \t ')).toBe('');
    expect(stripOws('\u00a0a\u00a0')).toBe('\u00a0a\u00a0');
    expect(stripOws('\va\f')).toBe('\va\f');
    expect(stripOws(`a${' '.repeat(RUN)}b`)).toBe(`a${' '.repeat(RUN)}b`);
    expect(combinedFieldValue([' a ', '\tb\t', 'c\r\n  d'])).toBe('a, b, c d');
  });
});
