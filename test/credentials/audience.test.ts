import { describe, expect, it } from 'vitest';
import { createResolver } from '../../src/did/index.js';
import { createPresentation, issueCredential, schemaIdFor, signJwt, verifyCredential, verifyPresentation } from '../../src/credentials/index.js';
import { GRANT_TYPE, verifyGrant } from '../../src/grants/index.js';
import { makeIssuer } from '../helpers.js';

/**
 * RFC 7519 §4.1.3: a credential JWT whose `aud` does not name the verifier
 * is refused, alone and inside a presentation bound to that verifier.
 */
const resolver = createResolver();
const alice = makeIssuer('Ed25519');
const bob = makeIssuer('P-256');
const V1 = 'https://www.w3.org/2018/credentials/v1';
const V2 = 'https://www.w3.org/ns/credentials/v2';
const day = 86_400_000;
const nowS = () => Math.floor(Date.now() / 1000);
const iso = (ms: number) => new Date(ms).toISOString();
const aud = 'did:web:verifier.example';
const other = 'did:web:someone-else.example';

const credential = (over: Record<string, unknown> = {}) => ({
  '@context': [V2],
  id: 'urn:uuid:c1',
  type: ['VerifiableCredential', 'EmailCredential'],
  issuer: alice.did,
  validFrom: iso(Date.now() - day),
  validUntil: iso(Date.now() + day),
  credentialSubject: { id: bob.did, email: 'bob@example.com' },
  ...over,
});
const v2 = (over: Record<string, unknown> = {}) => signJwt({ typ: 'vc+jwt', cty: 'vc' }, credential(over), alice.signer, alice.kid);
const v1 = (over: Record<string, unknown> = {}) =>
  signJwt(
    { typ: 'JWT' },
    { vc: { '@context': [V1], type: ['VerifiableCredential'], credentialSubject: { email: 'bob@example.com' } }, iss: alice.did, sub: bob.did, nbf: nowS() - 10, ...over },
    alice.signer,
    alice.kid,
  );
const codes = async (jwt: string, o: Partial<Parameters<typeof verifyCredential>[1]> = {}) => (await verifyCredential(jwt, { resolver, ...o })).reasons.map((r) => r.code);

describe('a credential JWT with an aud is accepted only by a verifier it names', () => {
  for (const [format, make] of [
    ['vc+jwt', v2],
    ['VCDM 1.1 JWT', v1],
  ] as const) {
    it(`${format}: aud as a string or an array naming the verifier passes; naming others, or no aud option, is AUDIENCE_MISMATCH`, async () => {
      for (const a of [aud, [aud], [other, aud]]) {
        const jwt = await make({ aud: a });
        expect([a, await codes(jwt, { aud })]).toEqual([a, []]);
        expect([a, await codes(jwt)]).toEqual([a, ['AUDIENCE_MISMATCH']]);
      }
      for (const a of [other, [other], [], aud.toUpperCase(), `${aud} `, `${aud}#x`]) {
        expect([a, await codes(await make({ aud: a }), { aud })]).toEqual([a, ['AUDIENCE_MISMATCH']]);
      }
    });
    it(`${format}: without aud, the aud option changes nothing`, async () => {
      const jwt = await make();
      expect(await codes(jwt)).toEqual([]);
      expect(await codes(jwt, { aud })).toEqual([]);
    });
    it(`${format}: an aud that is no string or array of strings is INVALID_CREDENTIAL, whoever verifies`, async () => {
      for (const a of [null, 5, true, {}, { id: aud }, [aud, 5], [null], [[aud]]]) {
        const jwt = await make({ aud: a });
        for (const o of [{}, { aud }]) {
          const v = await verifyCredential(jwt, { resolver, ...o });
          expect([a, v.ok, v.reasons.map((r) => r.code)]).toEqual([a, false, ['INVALID_CREDENTIAL']]);
        }
      }
    });
  }
  it('a non-string aud option is a TypeError (misuse)', async () => {
    await expect(verifyCredential(await v2(), { resolver, aud: 5 as unknown as string })).rejects.toThrow(TypeError);
  });
  it('the verdict is per call: the parse cache does not carry one verifier’s acceptance to another', async () => {
    const jwt = await v2({ aud });
    expect(await codes(jwt, { aud })).toEqual([]);
    expect(await codes(jwt, { aud: other })).toEqual(['AUDIENCE_MISMATCH']);
    expect(await codes(jwt, { aud, once: true })).toEqual([]);
  });
});

describe('inside a presentation, the credential aud is compared with the presentation verifier', () => {
  for (const format of ['vp+jwt', 'vp-jwt-1.1'] as const) {
    it(`${format}: a credential for this verifier verifies end to end; one for another verifier is refused with its ref`, async () => {
      const mine = format === 'vp+jwt' ? await v2({ aud }) : await v1({ aud });
      const theirs = format === 'vp+jwt' ? await v2({ aud: other, id: 'urn:uuid:c2' }) : await v1({ aud: [other], jti: 'urn:uuid:c2' });
      const ok = await createPresentation({ holder: bob, credentials: [mine], aud, nonce: 'n', format });
      expect((await verifyPresentation(ok, { resolver, aud, nonce: 'n' })).reasons).toEqual([]);
      const bad = await createPresentation({ holder: bob, credentials: [mine, theirs], aud, nonce: 'n', format });
      const v = await verifyPresentation(bad, { resolver, aud, nonce: 'n' });
      expect(v.reasons.map((r) => [r.code, r.ref])).toEqual([['AUDIENCE_MISMATCH', 'urn:uuid:c2']]);
      // Presented to the other verifier, a credential made out to us is refused there.
      const elsewhere = await createPresentation({ holder: bob, credentials: [mine], aud: other, nonce: 'n', format });
      expect((await verifyPresentation(elsewhere, { resolver, aud: other, nonce: 'n' })).reasons.map((r) => r.code)).toEqual(['AUDIENCE_MISMATCH']);
    });
  }

  it('a presented grant restricted to the verifier passes verifyGrant; restricted to another, it is refused', async () => {
    const status = async () => [];
    const entry = (purpose: 'revocation' | 'suspension', i: number) => ({
      type: 'BitstringStatusListEntry' as const,
      statusPurpose: purpose,
      statusListIndex: String(i),
      statusListCredential: 'https://alice.example/status/1',
    });
    const grant = (to: string) =>
      issueCredential({
        issuer: alice,
        subject: bob.did,
        type: GRANT_TYPE,
        claims: { grant: { resources: ['profile/email'], actions: ['read'], purpose: 'order updates' } },
        validUntil: new Date(Date.now() + day),
        credentialSchema: { id: schemaIdFor(GRANT_TYPE)!, type: 'JsonSchema' },
        extra: { credentialStatus: [entry('revocation', 1), entry('suspension', 2)], aud: to },
      });
    const ask = { resolver, status, resource: 'profile/email', action: 'read', owner: alice.did, aud, nonce: 'n' };
    const vp = async (to: string) => createPresentation({ holder: bob, credentials: [(await grant(to)).jwt], aud, nonce: 'n' });
    expect((await verifyGrant(await vp(aud), ask)).reasons).toEqual([]);
    expect((await verifyGrant(await vp(other), ask)).reasons.map((r) => r.code)).toEqual(['AUDIENCE_MISMATCH']);
  });
});
