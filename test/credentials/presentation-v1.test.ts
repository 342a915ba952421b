import { describe, expect, it } from 'vitest';
import { createResolver } from '../../src/did/index.js';
import { createPresentation, issueCredential, signJwt, verifyPresentation } from '../../src/credentials/index.js';
import { makeIssuer } from '../helpers.js';

/**
 * VCDM 1.1 presentation JWTs (a `vp` claim, typ JWT): the same shape rules as
 * a vp+jwt where 1.1 has them (§4.10: type includes VerifiablePresentation),
 * refused outright under acceptV1: false, and the presentation's age checked
 * with an allowance the caller cannot turn off by mistake.
 */
const resolver = createResolver();
const issuer = makeIssuer();
const holder = makeIssuer('P-256');
const aud = 'did:web:verifier.example';
const V1 = 'https://www.w3.org/2018/credentials/v1';
const nowS = () => Math.floor(Date.now() / 1000);
const cred = (await issueCredential({ issuer, subject: holder.did, type: 'EmailCredential', claims: { email: 'h@example.com' }, format: 'vc-jwt-1.1' })).jwt;
const codes = async (jwt: string, over: Record<string, unknown> = {}) =>
  (await verifyPresentation(jwt, { resolver, aud, allowMissingNonce: true, ...over })).reasons.map((r) => r.code);
const legacy = (vp: Record<string, unknown>, claims: Record<string, unknown> = {}) =>
  signJwt({ typ: 'JWT' }, { vp, iss: holder.did, aud, iat: nowS(), ...claims }, holder.signer, holder.kid);

describe('VCDM 1.1 presentation JWTs', () => {
  it('honest: accepted, with and without a typ JWT', async () => {
    expect(await codes(await createPresentation({ holder, credentials: [cred], aud, format: 'vp-jwt-1.1' }))).toEqual([]);
    expect(await codes(await legacy({ '@context': [V1], type: ['VerifiablePresentation'], verifiableCredential: [cred] }))).toEqual([]);
    expect(await codes(await legacy({ '@context': [V1], type: 'VerifiablePresentation', verifiableCredential: cred }))).toEqual([]);
  });

  it.each([
    ['missing', undefined],
    ['another type', 'NotAPresentation'],
    ['another type in a list', ['VerifiableCredential']],
    ['the name in another case', ['verifiablepresentation']],
    ['an empty list', []],
    ['a number', 1],
    ['null', null],
    ['an object', { type: 'VerifiablePresentation' }],
    ['a list with a non-string', ['VerifiablePresentation', 7]],
  ])('vp.type %s: INVALID_PRESENTATION', async (_what, type) => {
    const vp: Record<string, unknown> = { '@context': [V1], verifiableCredential: [cred] };
    if (type !== undefined) vp.type = type;
    expect(await codes(await legacy(vp))).toEqual(['INVALID_PRESENTATION']);
  });

  it('acceptV1: false refuses a 1.1 presentation (INVALID_TYP), however well formed; a vp+jwt still passes', async () => {
    const v1 = await createPresentation({ holder, credentials: [], aud, format: 'vp-jwt-1.1' });
    expect(await codes(v1, { acceptV1: false })).toEqual(['INVALID_TYP']);
    expect(await codes(v1, { acceptV1: true })).toEqual([]);
    // With its credential, the credential is refused too.
    expect(await codes(await createPresentation({ holder, credentials: [cred], aud, format: 'vp-jwt-1.1' }), { acceptV1: false })).toContain('INVALID_TYP');
    expect(await codes(await createPresentation({ holder, credentials: [], aud }), { acceptV1: false })).toEqual([]);
  });

  it.each([Number.NaN, Infinity, -Infinity, -1, '300', null])('maxAgeSeconds %p is a TypeError, never an age check turned off', async (maxAgeSeconds) => {
    const old = await legacy({ '@context': [V1], type: ['VerifiablePresentation'] }, { iat: nowS() - 365 * 86_400 });
    await expect(verifyPresentation(old, { resolver, aud, allowMissingNonce: true, maxAgeSeconds: maxAgeSeconds as number })).rejects.toThrow(TypeError);
    const fresh = await createPresentation({ holder, credentials: [], aud });
    await expect(verifyPresentation(fresh, { resolver, aud, allowMissingNonce: true, maxAgeSeconds: maxAgeSeconds as number })).rejects.toThrow(TypeError);
  });

  it('a year-old presentation is stale in both formats; maxAgeSeconds 0 leaves the skew only', async () => {
    const old = await legacy({ '@context': [V1], type: ['VerifiablePresentation'] }, { iat: nowS() - 365 * 86_400 });
    expect(await codes(old)).toEqual(['PRESENTATION_STALE']);
    const recent = await legacy({ '@context': [V1], type: ['VerifiablePresentation'] }, { iat: nowS() - 30 });
    expect(await codes(recent, { maxAgeSeconds: 0, skewSeconds: 60 })).toEqual([]);
    expect(await codes(recent, { maxAgeSeconds: 0, skewSeconds: 0 })).toEqual(['PRESENTATION_STALE']);
  });
});
