import { beforeAll, describe, expect, it } from 'vitest';
import type { Issuer } from '../../src/credentials/types.js';
import { createResolver } from '../../src/did/index.js';
import { issueSdJwtVc, presentSdJwtVc, verifySdJwtVc, type VerifySdJwtVcOptions } from '../../src/sdjwt/index.js';
import { makeIssuer } from '../helpers.js';

/**
 * The key binding JWT's age (SD-JWT §7.3 step 5: the verifier checks iat is
 * within an acceptable window) at its very edge: a presentation exactly
 * maxKeyBindingAgeSeconds + skew old is accepted, one millisecond older is
 * stale. And skew 0 is a setting (no slack at all), never refused as if it
 * were negative.
 */
const resolver = createResolver();
const AUD = 'did:web:verifier.example';
const NONCE = 'n-edge-1';
const T = Date.UTC(2031, 5, 1, 8, 0, 0);
let issuer: Issuer;
let holder: Issuer;
let presented: string;

const codes = async (now: number, o: Partial<VerifySdJwtVcOptions> = {}) =>
  (await verifySdJwtVc(presented, { resolver, aud: AUD, nonce: NONCE, now: new Date(now), ...o })).reasons.map((r) => r.code);

beforeAll(async () => {
  issuer = makeIssuer();
  holder = makeIssuer('P-256');
  const { token } = await issueSdJwtVc({
    issuer,
    subject: holder.did,
    vct: 'https://example.com/vct/Email',
    claims: { email: 'a@example.com' },
    validFrom: new Date(T - 86_400_000),
    validUntil: new Date(T + 86_400_000),
  });
  // The KB-JWT's iat is T (whole seconds).
  presented = await presentSdJwtVc(token, { holder, disclose: ['email'], aud: AUD, nonce: NONCE, now: new Date(T) });
});

describe('key binding age at its edge', () => {
  it.each([
    [300, 60],
    [300, 0],
    [0, 0],
    [10, 300],
  ])('maxKeyBindingAgeSeconds %d, skew %d: exactly that old is fresh, a millisecond older is stale', async (age, skew) => {
    const edge = T + (age + skew) * 1000;
    expect(await codes(edge, { maxKeyBindingAgeSeconds: age, skewSeconds: skew })).toEqual([]);
    expect(await codes(edge + 1, { maxKeyBindingAgeSeconds: age, skewSeconds: skew })).toEqual(['PRESENTATION_STALE']);
  });

  it('with skew 0 a key binding JWT issued a millisecond in the future is refused; at its iat it is fresh', async () => {
    expect(await codes(T, { skewSeconds: 0 })).toEqual([]);
    expect(await codes(T - 1, { skewSeconds: 0 })).toEqual(['ISSUED_IN_FUTURE']);
    expect(await codes(T - 60_000, { skewSeconds: 60 })).toEqual([]);
    expect(await codes(T - 60_001, { skewSeconds: 60 })).toEqual(['ISSUED_IN_FUTURE']);
  });
});
