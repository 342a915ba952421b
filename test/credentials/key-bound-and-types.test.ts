import { describe, expect, it } from 'vitest';
import { createResolver } from '../../src/did/index.js';
import { createPresentation, issueCredential, signJwt, verifyCredential, verifyPresentation } from '../../src/credentials/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { makeIssuer } from '../helpers.js';

/**
 * A credential bound to a key (`cnf`, RFC 7800) is refused as a JWT credential, since nothing would check
 * that its presenter holds that key; a type value must be a term or a URL (VCDM 2.0 §4.5); and
 * issueCredential never signs JWT claims its verifier refuses (VC-JOSE-COSE §3.1.3).
 */
const resolver = createResolver();
const alice = makeIssuer('Ed25519');
const bob = makeIssuer('P-256');
const mallory = makeIssuer('Ed25519');
const V2 = 'https://www.w3.org/ns/credentials/v2';
const day = 86_400_000;
const aud = 'did:web:verifier.example';
const iso = (ms: number) => new Date(ms).toISOString();
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
const sign = (payload: object, who: Issuer = alice) => signJwt({ typ: 'vc+jwt', cty: 'vc' }, payload, who.signer, who.kid);
const codes = (r: { reasons: { code: string }[] }) => r.reasons.map((x) => x.code);

describe('a credential bound to a key (cnf)', () => {
  const cnfs = [{ jwk: mallory.publicJwk }, { jwk: bob.publicJwk }, { kid: `${bob.did}#${bob.did.slice(8)}` }, {}, null, 'x', []];

  it('is refused alone and in a presentation, whoever presents it (its own key holder too), in every form cnf takes', async () => {
    for (const cnf of cnfs) {
      const vc = await sign(credential({ cnf }));
      expect([cnf, codes(await verifyCredential(vc, { resolver }))]).toEqual([cnf, ['UNKNOWN_CONSTRAINT']]);
      for (const holder of [bob, mallory]) {
        const vp = await createPresentation({ holder, credentials: [vc], aud, nonce: 'n' });
        const r = await verifyPresentation(vp, { resolver, aud, nonce: 'n', allowHolderMismatch: true });
        expect([cnf, r.ok, codes(r)]).toEqual([cnf, false, ['UNKNOWN_CONSTRAINT']]);
      }
    }
  });

  it('in a VCDM 1.1 JWT too, at the top level; a credential without cnf still verifies', async () => {
    const v1 = await signJwt(
      { typ: 'JWT' },
      {
        iss: alice.did,
        sub: bob.did,
        nbf: Math.floor(Date.now() / 1000) - 60,
        cnf: { jwk: mallory.publicJwk },
        vc: { '@context': ['https://www.w3.org/2018/credentials/v1'], type: ['VerifiableCredential'], credentialSubject: { degree: 'BSc' } },
      },
      alice.signer,
      alice.kid,
    );
    expect(codes(await verifyCredential(v1, { resolver }))).toEqual(['UNKNOWN_CONSTRAINT']);
    expect((await verifyCredential(await sign(credential()), { resolver })).ok).toBe(true);
  });
});

describe('type values', () => {
  it('an empty string among the types (first, last, twice) is refused, as it is in a presentation; terms and URLs pass', async () => {
    for (const type of [
      ['VerifiableCredential', ''],
      ['', 'VerifiableCredential'],
      ['VerifiableCredential', 'EmailCredential', '', ''],
      ['VerifiableCredential', ['EmailCredential']],
      ['VerifiableCredential', 7],
      ['VerifiableCredential', null],
    ]) {
      expect([type, (await verifyCredential(await sign(credential({ type })), { resolver })).ok]).toEqual([type, false]);
    }
    for (const type of [
      ['VerifiableCredential'],
      ['VerifiableCredential', 'EmailCredential'],
      ['VerifiableCredential', 'https://example.com/vocab#Email'],
      'VerifiableCredential',
    ]) {
      expect([type, codes(await verifyCredential(await sign(credential({ type })), { resolver }))]).toEqual([type, []]);
    }
  });
});

describe('issueCredential never signs JWT claims its verifier refuses', () => {
  const input = { issuer: alice, subject: bob.did, type: 'EmailCredential', claims: { email: 'bob@example.com' } };

  it('iss, sub, jti, vc, vp or cnf in extra: INVALID_ARGUMENT, nothing signed, in both formats', async () => {
    for (const format of ['vc+jwt', 'vc-jwt-1.1'] as const) {
      for (const extra of [{ iss: mallory.did }, { sub: mallory.did }, { jti: 'urn:other' }, { vc: {} }, { vp: {} }, { cnf: { jwk: mallory.publicJwk } }]) {
        await expect(issueCredential({ ...input, format, extra })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      }
    }
  });

  it('nbf, exp and iat must be NumericDates; given as such they bound the credential', async () => {
    for (const bad of ['tomorrow', 1.5, -1, Number.NaN, '1700000000', null]) {
      for (const k of ['nbf', 'exp', 'iat']) await expect(issueCredential({ ...input, extra: { [k]: bad } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    const past = Math.floor(Date.now() / 1000) - 60;
    const issued = await issueCredential({ ...input, extra: { exp: past } });
    expect(codes(await verifyCredential(issued.jwt, { resolver }))).toEqual(['CREDENTIAL_EXPIRED']);
  });
});
