import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createResolver } from '../../src/did/index.js';
import { verifyCredential, verifyPresentation } from '../../src/credentials/index.js';
import { ERROR_CODES } from '../../src/errors.js';

const resolver = createResolver();
const codes = new Set<string>(ERROR_CODES);
const part = fc.oneof(
  fc.string(),
  fc.base64String().map((s) => s.replace(/=+$/, '').replace(/\+/g, '-').replace(/\//g, '_')),
  fc.jsonValue().map((v) => Buffer.from(JSON.stringify(v)).toString('base64url')),
  fc.constantFrom(Buffer.from('{"alg":"EdDSA","typ":"vc+jwt","kid":"did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp#z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"}').toString('base64url')),
);

describe('verification never throws on hostile input', () => {
  it('any three-part string is refused with a known code (property)', async () => {
    await fc.assert(
      fc.asyncProperty(part, part, part, async (h, p, s) => {
        const v = await verifyCredential(`${h}.${p}.${s}`, { resolver });
        expect(v.ok).toBe(false);
        for (const r of v.reasons) expect(codes.has(r.code)).toBe(true);
        const vp = await verifyPresentation(`${h}.${p}.${s}`, { resolver, aud: 'x', nonce: 'n' });
        expect(vp.ok).toBe(false);
      }),
      { numRuns: 300 },
    );
  });
});
