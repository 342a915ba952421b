import { describe, expect, it } from 'vitest';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import { didKeyRef } from '../../src/did/index.js';
import { visible } from '../../src/cli/io.js';
import { charter, freshEnv } from './harness.js';

/**
 * Human output shows values anyone can sign (a credential's id, type and
 * subject, a server's message): control characters in them are printed as
 * visible escapes, so a forged credential cannot clear the screen or recolour
 * what the person reads. JSON output carries them escaped, as JSON does.
 */
const ESC = '\u001b[2J\u001b[32m';

async function forged(): Promise<string> {
  const kp = generateKeyPair('Ed25519');
  const ref = didKeyRef('key', kp.publicJwk);
  const s = createSigner(kp.privateJwk);
  const payload = {
    '@context': ['https://www.w3.org/ns/credentials/v2'],
    id: 'urn:uuid:00000000-0000-4000-8000-000000000000',
    type: ['VerifiableCredential', `Passport${ESC}GOVERNMENT-VERIFIED\u202e`],
    issuer: ref.did,
    validFrom: new Date(Date.now() - 1000).toISOString(),
    credentialSubject: { id: 'did:example:x', note: `${ESC}x\u0085` },
  };
  const h = Buffer.from(JSON.stringify({ alg: s.alg, kid: ref.kid, typ: 'vc+jwt', cty: 'vc' })).toString('base64url');
  const p = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${h}.${p}.${Buffer.from(await s.sign(new TextEncoder().encode(`${h}.${p}`))).toString('base64url')}`;
}

describe('terminal output', () => {
  it('visible(): C0 (but newline and tab), DEL, C1 and bidi overrides become \\u escapes; other text is kept', () => {
    expect(visible(`a${ESC}b\n\tc\u202ed\u0085e\u007f`)).toBe('a\\u001b[2J\\u001b[32mb\n\tc\\u202ed\\u0085e\\u007f');
    expect(visible('plain ✓ text — ünïcödé')).toBe('plain ✓ text — ünïcödé');
  });

  it('charter vc verify prints a signed ESC sequence as text, never as a terminal command; --json keeps the value', async () => {
    const env = freshEnv();
    expect((await charter(['init'], env)).code).toBe(0);
    const jwt = await forged();
    const human = await charter(['vc', 'verify', jwt], env);
    expect(human.stdout).toContain('\\u001b[2J');
    // eslint-disable-next-line no-control-regex -- what must not reach the terminal
    expect(human.stdout + human.stderr).not.toMatch(/[\u001b\u0085\u202e]/);
    const asJson = await charter(['vc', 'verify', jwt, '--json'], env);
    expect(JSON.stringify(JSON.parse(asJson.stdout))).toContain('Passport\\u001b[2J');
  });
});
