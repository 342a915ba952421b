import { createPublicKey, verify as nodeVerify } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { ES256, digest, generateSalt } from '@sd-jwt/crypto-nodejs';
import type { Issuer } from '../../src/credentials/types.js';
import { createResolver, safeFetch } from '../../src/did/index.js';
import type { PublicJwk } from '../../src/keys/types.js';
import { allocateTokenStatus, createTokenStatusChecker, issueSdJwtVc, presentSdJwtVc, setTokenStatus, verifySdJwtVc } from '../../src/sdjwt/index.js';
import { makeIssuer } from '../helpers.js';
import { statusWorld, type StatusWorld } from '../status/token-world.js';

/** @sd-jwt/sd-jwt-vc as an independent peer: its tokens verify in Charter, Charter's verify in it. */
const resolver = createResolver();
const AUD = 'https://verifier.example';
const NONCE = 'a-fresh-nonce';
const VCT = 'https://credentials.example.com/identity_credential';
const now = () => Math.floor(Date.now() / 1000);

/** Verifies an EdDSA JWS signing input against a JWK, as a peer verifier callback. */
const ed25519Verifier = (jwk: PublicJwk) => {
  const key = createPublicKey({ key: { ...jwk }, format: 'jwk' });
  return (data: string, sig: string) => nodeVerify(null, Buffer.from(data), key, Buffer.from(sig, 'base64url'));
};

describe('a token issued by @sd-jwt/sd-jwt-vc, verified by Charter', () => {
  const ISS = 'https://issuer.example';
  let holder: Issuer;
  let issuerPublic: PublicJwk & { kid: string };
  let token: string;
  let peer: SDJwtVcInstance;

  beforeAll(async () => {
    holder = makeIssuer('P-256');
    const { publicKey, privateKey } = await ES256.generateKeyPair();
    issuerPublic = { kty: 'EC', crv: 'P-256', x: publicKey.x!, y: publicKey.y!, kid: 'peer-key-1' };
    peer = new SDJwtVcInstance({
      signer: await ES256.getSigner(privateKey),
      signAlg: 'ES256',
      hasher: digest,
      hashAlg: 'sha-256',
      saltGenerator: generateSalt,
      kbSigner: async (data: string) => Buffer.from(holder.signer.sign(new TextEncoder().encode(data)) as Uint8Array).toString('base64url'),
      kbSignAlg: 'ES256',
    });
    token = await peer.issue(
      {
        iss: ISS,
        vct: VCT,
        iat: now(),
        exp: now() + 3600,
        sub: holder.did,
        cnf: { jwk: holder.publicJwk },
        given_name: 'Erika',
        family_name: 'Mustermann',
        address: { street: 'Heidestraße 17', locality: 'Köln' },
      },
      { _sd: ['given_name', 'family_name'], address: { _sd: ['street'] } },
      { header: { kid: 'peer-key-1' } },
    );
  });

  const trusted = () => [{ iss: ISS, keys: [issuerPublic] }];

  it('verifies with the issuer trusted by its JWK (issuance-time check, no key binding)', async () => {
    const v = await verifySdJwtVc(token, { resolver, trustedIssuers: trusted(), allowMissingKeyBinding: true });
    expect(v.reasons).toEqual([]);
    expect(v).toMatchObject({
      ok: true,
      issuer: ISS,
      subject: holder.did,
      vct: VCT,
      claims: { given_name: 'Erika', family_name: 'Mustermann', address: { street: 'Heidestraße 17', locality: 'Köln' } },
    });
    expect((await verifySdJwtVc(token, { resolver, allowMissingKeyBinding: true })).reasons.map((r) => r.code)).toEqual(['UNTRUSTED_ISSUER']);
    expect(
      (
        await verifySdJwtVc(token, { resolver, trustedIssuers: [{ iss: ISS, keys: [{ ...makeIssuer('P-256').publicJwk, kid: 'peer-key-1' }] }], allowMissingKeyBinding: true })
      ).reasons.map((r) => r.code),
    ).toEqual(['INVALID_SIGNATURE']);
  });

  it("Charter presents it with the holder's key; the peer presents it too; Charter verifies both", async () => {
    const ours = await presentSdJwtVc(token, { holder, disclose: ['family_name', 'address.street'], aud: AUD, nonce: NONCE });
    const a = await verifySdJwtVc(ours, { resolver, trustedIssuers: trusted(), aud: AUD, nonce: NONCE });
    expect(a.reasons).toEqual([]);
    expect(a.disclosed).toEqual(['address.street', 'family_name']);
    expect(a.claims).not.toHaveProperty('given_name');

    const theirs = await peer.present(token, { given_name: true }, { kb: { payload: { aud: AUD, nonce: NONCE, iat: now() } } });
    const b = await verifySdJwtVc(theirs, { resolver, trustedIssuers: trusted(), aud: AUD, nonce: NONCE });
    expect(b.reasons).toEqual([]);
    expect(b.claims).toMatchObject({ given_name: 'Erika' });
    expect(b.keyBinding).toMatchObject({ aud: AUD, nonce: NONCE });
    expect((await verifySdJwtVc(theirs, { resolver, trustedIssuers: trusted(), aud: AUD, nonce: 'other' })).reasons.map((r) => r.code)).toEqual(['NONCE_MISMATCH']);
  });
});

describe("a token issued and presented by Charter, verified by @sd-jwt/sd-jwt-vc (with Charter's Status List Token)", () => {
  let w: StatusWorld;
  let issuer: Issuer;
  let holder: Issuer;
  const id = 'urn:uuid:interop-status';
  let token: string;
  let uri: string;

  beforeAll(async () => {
    w = await statusWorld();
    issuer = w.issuer();
    holder = makeIssuer('P-256');
    const { status_list } = await allocateTokenStatus(w.store, { issuerDid: issuer.did, baseUrl: w.url, credentialId: id });
    uri = status_list.uri;
    token = (
      await issueSdJwtVc({
        issuer,
        id,
        subject: holder.did,
        vct: VCT,
        claims: { given_name: 'Erika', age_over_18: true },
        disclosable: ['given_name', 'age_over_18'],
        validUntil: new Date(Date.now() + 3_600_000),
        status: status_list,
      })
    ).token;
  });
  afterAll(() => w.close());

  const peer = () =>
    new SDJwtVcInstance({
      hasher: digest,
      verifier: ed25519Verifier(issuer.publicJwk),
      kbVerifier: async (data, sig, payload) => (await ES256.getVerifier(payload.cnf!.jwk))(data, sig),
      statusListFetcher: async (u) => (await safeFetch(u, { allowLoopback: true, allowHttp: true, accept: 'application/statuslist+jwt' })).body.toString(),
      statusVerifier: ed25519Verifier(issuer.publicJwk),
    });

  it("the peer verifies Charter's presentation, its key binding and its status", async () => {
    const p = await presentSdJwtVc(token, { holder, disclose: ['age_over_18'], aud: AUD, nonce: NONCE });
    const r = await peer().verify(p, { keyBindingNonce: NONCE });
    expect(r.payload).toMatchObject({ iss: issuer.did, vct: VCT, age_over_18: true, status: { status_list: { uri } } });
    expect(r.payload).not.toHaveProperty('given_name');
    expect(r.header).toMatchObject({ typ: 'dc+sd-jwt', kid: issuer.kid });
    expect(r.kb?.payload).toMatchObject({ aud: AUD, nonce: NONCE });
    expect(r.kb?.header).toMatchObject({ typ: 'kb+jwt', alg: 'ES256' });
  });

  it('after revocation both refuse it: the peer reading the Status List Token Charter serves, and Charter', async () => {
    await setTokenStatus(w.store, id, true, w.issuerFor);
    const p = await presentSdJwtVc(token, { holder, disclose: [], aud: AUD, nonce: NONCE });
    await expect(peer().verify(p, { keyBindingNonce: NONCE })).rejects.toThrow(/Status is not valid/);
    const status = createTokenStatusChecker({ resolver, allowLoopback: true, allowHttp: true });
    expect((await verifySdJwtVc(p, { resolver, status, aud: AUD, nonce: NONCE })).reasons.map((r) => r.code)).toEqual(['CREDENTIAL_REVOKED']);
  });
});
