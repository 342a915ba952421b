import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CharterError, type CharterErrorCode } from '../../src/errors.js';
import { checkJwtSignature, decodeJwt, signJwt, verifyCredential, verifyPresentation } from '../../src/credentials/index.js';
import { documentResolver } from '../../src/did/index.js';
import type { CharterResolver, DIDDocument, ResolvedKey } from '../../src/did/types.js';
import { createSigner, importVerificationKey, keyTypeOfJwk, validatePublicJwk } from '../../src/keys/index.js';
import type { PrivateJwk } from '../../src/keys/types.js';

/**
 * The W3C VC-JOSE-COSE test-suite inputs (w3c/vc-jose-cose-test-suite,
 * commit ff6be51), read in place from ../shared/vectors/interop/jose-suite:
 * - vm-*.json: verification methods with their secret keys (Ed25519, P-256,
 *   and P-384 / P-521, which Charter does not support and must refuse cleanly);
 * - credential-*.json, presentation-*.json: unsigned inputs;
 * - *.txt: signed JOSE vectors (good, bad signature, bad media type, ES512,
 *   vc/vp claims, a presentation with a non-credential, ES384).
 * Their issuer is an https URL and their kid a bare JWK thumbprint, while
 * Charter only attributes credentials to DIDs; so each signed vector is
 * checked twice: its signature through checkJwtSignature with a test-only
 * resolver over the vm files, and its full verification (expected refusal).
 * The same inputs are then re-signed by the suite's did:example key
 * (vm-did-ed25519.json) to run every claim rule end to end.
 */
const DIR = resolve(__dirname, '../../../shared/vectors/interop/jose-suite');
const text = (f: string) => readFileSync(resolve(DIR, f), 'utf8').trim();
const json = <T = Record<string, unknown>>(f: string) => JSON.parse(text(f)) as T;

interface Vm {
  id: string;
  controller: string;
  publicKeyJwk: Record<string, unknown> & { kid: string };
  secretKeyJwk: Record<string, unknown>;
}
const VMS = ['vm-ed25519.json', 'vm-p256.json', 'vm-p384.json', 'vm-p521.json'].map((f) => json<Vm>(f));
const SUITE_ISSUER = 'https://example.issuer/vc-jose-cose';

/** Test-only: finds a suite verification method by controller and bare-thumbprint kid. */
const vmResolver: CharterResolver = {
  resolve: async () => {
    throw new CharterError('DID_NOT_FOUND', 'test resolver resolves keys only');
  },
  resolveKey: async (did, kid) => {
    const vm = VMS.find((v) => v.controller === did && v.publicKeyJwk.kid === kid);
    if (!vm) throw new CharterError('VERIFICATION_METHOD_NOT_FOUND', 'no such suite key');
    const jwk = validatePublicJwk(vm.publicKeyJwk);
    return { ...importVerificationKey(jwk), id: vm.id, controller: did, did, keyType: keyTypeOfJwk(jwk) } as ResolvedKey;
  },
  clear: () => undefined,
};

/** What each signed vector must come to in Charter. */
const SIGNED: { file: string; decode?: CharterErrorCode; signature?: CharterErrorCode[]; verify: CharterErrorCode[]; kind: 'vc' | 'vp' }[] = [
  // Valid ES256 signature; refused because the issuer is no DID and "iat" is a string (RFC 7519 §4.1.6).
  { file: 'credential-jose-minimal.txt', signature: [], verify: ['INVALID_CREDENTIAL'], kind: 'vc' },
  { file: 'credential-issuer-match-signed.txt', signature: [], verify: ['INVALID_CREDENTIAL'], kind: 'vc' },
  { file: 'credential-jose-bad-signature.txt', signature: ['INVALID_SIGNATURE'], verify: ['INVALID_CREDENTIAL'], kind: 'vc' },
  { file: 'credential-jose-bad-media-type.txt', signature: [], verify: ['INVALID_TYP'], kind: 'vc' },
  { file: 'credential-jose-vc-vp-claims.txt', signature: [], verify: ['INVALID_CREDENTIAL'], kind: 'vc' },
  // ES512 over P-521: not an algorithm Charter accepts.
  { file: 'credential-jose-unknown-extensions.txt', decode: 'UNSUPPORTED_ALG', verify: ['UNSUPPORTED_ALG'], kind: 'vc' },
  { file: 'presentation-jose-bad-credential.txt', signature: [], verify: ['INVALID_PRESENTATION'], kind: 'vp' },
  { file: 'presentation-jose-bad-media-type.txt', signature: [], verify: ['INVALID_TYP'], kind: 'vp' },
  // ES384 over P-384.
  { file: 'presentation-jose-multiple.txt', decode: 'UNSUPPORTED_ALG', verify: ['UNSUPPORTED_ALG'], kind: 'vp' },
];

describe('VC-JOSE-COSE test suite: signed vectors', () => {
  for (const v of SIGNED) {
    it(`${v.file}: ${v.decode ?? `signature ${v.signature!.join(',') || 'valid'}`}, verification refuses with ${v.verify.join(', ')}`, async () => {
      const jwt = text(v.file);
      if (v.decode) {
        expect(() => decodeJwt(jwt)).toThrow(expect.objectContaining({ code: v.decode }));
      } else {
        const d = decodeJwt(jwt);
        const signer = v.kind === 'vc' ? (d.payload.issuer as string) : (d.payload.holder as string);
        expect(signer).toBe(SUITE_ISSUER);
        expect((await checkJwtSignature(d, signer, vmResolver, 'assertionMethod')).map((r) => r.code)).toEqual(v.signature);
      }
      const r =
        v.kind === 'vc' ? await verifyCredential(jwt, { resolver: vmResolver }) : await verifyPresentation(jwt, { resolver: vmResolver, aud: 'x', allowMissingNonce: true });
      expect(r.ok).toBe(false);
      expect([...new Set(r.reasons.map((x) => x.code))]).toEqual(v.verify);
    });
  }

  it('the vectors really are what their names say (so the outcomes above test the right thing)', () => {
    const h = (f: string) => decodeJwt(text(f)).header;
    expect(h('credential-jose-bad-media-type.txt')).toMatchObject({ typ: 'bad+typ', cty: 'bad+cty' });
    expect(h('presentation-jose-bad-media-type.txt')).toMatchObject({ typ: 'bad+typ', cty: 'bad+cty' });
    expect(decodeJwt(text('credential-jose-vc-vp-claims.txt')).payload).toMatchObject({ vc: 'oops', vp: 'nooo' });
    expect(typeof decodeJwt(text('credential-jose-minimal.txt')).payload.iat).toBe('string');
    // The bad signature is the minimal credential's payload under garbled signature bytes.
    expect(text('credential-jose-bad-signature.txt').split('.')[1]).toBe(text('credential-issuer-match-signed.txt').split('.')[1]);
  });
});

describe('VC-JOSE-COSE test suite: verification methods', () => {
  it('Ed25519 and P-256 keys import; P-384 and P-521 are refused with a CharterError, never a crash', () => {
    for (const f of ['vm-ed25519.json', 'vm-p256.json', 'vm-did-ed25519.json']) expect(validatePublicJwk(json<Vm>(f).publicKeyJwk).kty).toBeDefined();
    for (const f of ['vm-p384.json', 'vm-p521.json']) {
      const vm = json<Vm>(f);
      let thrown: unknown;
      try {
        importVerificationKey(vm.publicKeyJwk as never);
      } catch (e) {
        thrown = e;
      }
      expect(thrown).toBeInstanceOf(CharterError);
      expect(['UNSUPPORTED_KEY_TYPE', 'INVALID_KEY']).toContain((thrown as CharterError).code);
      expect(() => createSigner(vm.secretKeyJwk as unknown as PrivateJwk)).toThrow(CharterError);
    }
  });
});

// --- The inputs re-signed by the suite's DID key, checked end to end ---

const DID = 'did:example:vc-jose-cose';
const didVm = json<Vm>('vm-did-ed25519.json');
const KID = didVm.id;
/** Test-only DID documents: the suite's Ed25519 key, and the unsupported curves under their own DIDs. */
function documentFor(did: string): DIDDocument {
  const vm = did === DID ? didVm : VMS.find((v) => `did:example:${v.publicKeyJwk.crv}` === did);
  if (!vm) throw new CharterError('DID_NOT_FOUND', 'unknown test DID');
  const id = `${did}#key`;
  const method = { id: did === DID ? KID : id, type: 'JsonWebKey', controller: did, publicKeyJwk: vm.publicKeyJwk };
  return { id: did, verificationMethod: [method], assertionMethod: [method.id], authentication: [method.id] } as DIDDocument;
}
const didResolver = documentResolver(async (did) => documentFor(did), { cacheTtlMs: 0 });
const signer = createSigner(didVm.secretKeyJwk as unknown as PrivateJwk);
const NOW = new Date('2025-06-01T00:00:00Z');
const anySchema = () => [];

/** The suite input with its https issuer replaced by the suite DID (Charter attributes credentials to DIDs). */
function asDid<T>(v: T): T {
  return JSON.parse(JSON.stringify(v).split(SUITE_ISSUER).join(DID)) as T;
}
const signVc = (payload: object, header: Record<string, unknown> = { typ: 'vc+jwt', cty: 'vc' }) => signJwt(header, payload, signer, KID);
const vcCodes = async (jwt: string, o: Partial<Parameters<typeof verifyCredential>[1]> = {}) => [
  ...new Set((await verifyCredential(jwt, { resolver: didResolver, now: NOW, schemas: anySchema, ...o })).reasons.map((r) => r.code)),
];

describe('VC-JOSE-COSE test suite: inputs signed by did:example:vc-jose-cose', () => {
  it('credential-minimal, -selective, -nested-selective and -unknown-extensions verify (unknown members are ignored, §3.1.3)', async () => {
    for (const f of ['credential-minimal.json', 'credential-selective.json', 'credential-nested-selective.json', 'credential-unknown-extensions.json']) {
      const v = await verifyCredential(await signVc(asDid(json(f))), { resolver: didResolver, now: NOW, schemas: anySchema });
      expect([f, v.reasons]).toEqual([f, []]);
      expect(v.issuer).toBe(DID);
    }
  });
  it("Charter's own schema registry refuses the suite's unknown credentialSchema (SCHEMA_INVALID)", async () => {
    expect(await vcCodes(await signVc(asDid(json('credential-minimal.json'))), { schemas: undefined })).toEqual(['SCHEMA_INVALID']);
  });
  it('credential-full carries a StatusList2021Entry: refused as status Charter cannot check (STATUS_INVALID with a checker; STATUS_UNAVAILABLE without one)', async () => {
    const jwt = await signVc(asDid(json('credential-full.json')));
    expect(await vcCodes(jwt)).toEqual(['STATUS_UNAVAILABLE']);
    const { createStatusChecker } = await import('../../src/status/index.js');
    expect(await vcCodes(jwt, { status: createStatusChecker({ resolver: didResolver }) })).toEqual(['STATUS_INVALID']);
    // Its validity window (2024-01-01 .. 2027-01-01) binds.
    const { credentialStatus: _s, ...rest } = asDid(json('credential-full.json'));
    expect(await vcCodes(await signVc(rest), { now: new Date('2027-06-01T00:00:00Z') })).toEqual(['CREDENTIAL_EXPIRED']);
    expect(await vcCodes(await signVc(rest), { now: new Date('2023-06-01T00:00:00Z') })).toEqual(['CREDENTIAL_NOT_YET_VALID']);
  });
  it("the signed vectors' payloads, re-signed: each claim rule refuses on its own", async () => {
    const payload = (f: string) => asDid(decodeJwt(text(f)).payload);
    const minimal = payload('credential-jose-minimal.txt');
    // As published: "iat" is an RFC 3339 string, not a NumericDate.
    expect(await vcCodes(await signVc(minimal))).toEqual(['INVALID_CREDENTIAL']);
    const { iat: _iat, ...fixed } = minimal;
    expect(await vcCodes(await signVc(fixed))).toEqual([]);
    expect(await vcCodes(await signVc({ ...fixed, iat: Date.parse('2010-01-01T19:23:24Z') / 1000 }))).toEqual([]);
    // iss and jti agree with issuer and id in the vector; changing either is refused.
    expect(await vcCodes(await signVc({ ...fixed, iss: 'did:example:someone-else' }))).toEqual(['INVALID_CREDENTIAL']);
    expect(await vcCodes(await signVc({ ...fixed, jti: 'http://university.example/credentials/9999' }))).toEqual(['INVALID_CREDENTIAL']);
    const { iat: _i2, ...claims } = payload('credential-jose-vc-vp-claims.txt');
    expect(await vcCodes(await signVc(claims))).toEqual(['INVALID_CREDENTIAL']);
    expect(await vcCodes(await signVc(fixed, { typ: 'bad+typ', cty: 'bad+cty' }))).toEqual(['INVALID_TYP']);
    expect(await vcCodes(await signVc(fixed, { typ: 'application/vc+jwt', cty: 'application/vc' }))).toEqual([]);
  });
  it('keys on unsupported curves under a DID are refused cleanly when a credential names them', async () => {
    for (const crv of ['P-384', 'P-521']) {
      const did = `did:example:${crv}`;
      const jwt = await signJwt({ typ: 'vc+jwt' }, { ...asDid(json('credential-minimal.json')), issuer: did }, signer, `${did}#key`);
      const codes = await vcCodes(jwt);
      expect(codes).toHaveLength(1);
      expect(['UNSUPPORTED_KEY_TYPE', 'INVALID_KEY']).toContain(codes[0]);
    }
  });
  it('presentation-single: the enveloped vc+jwt is truncated, so the presentation is refused (MALFORMED_JWT)', async () => {
    const vp = await signJwt({ typ: 'vp+jwt', cty: 'vp' }, { ...asDid(json('presentation-single.json')), aud: 'did:example:verifier', iat: NOW.getTime() / 1000 }, signer, KID);
    const r = await verifyPresentation(vp, {
      resolver: didResolver,
      aud: 'did:example:verifier',
      allowMissingNonce: true,
      now: NOW,
      schemas: anySchema,
      allowHolderMismatch: true,
    });
    expect(r.holder).toBe(DID);
    expect(r.ok).toBe(false);
    expect(r.reasons.map((x) => x.code)).toEqual(['MALFORMED_JWT']);
  });
  it('presentation-multiple and presentation-selective envelope vc+sd-jwt / vc+cose, which Charter does not take: INVALID_PRESENTATION', async () => {
    for (const f of ['presentation-multiple.json', 'presentation-selective.json']) {
      const vp = await signJwt({ typ: 'vp+jwt' }, { ...asDid(json(f)), aud: 'did:example:verifier', iat: NOW.getTime() / 1000 }, signer, KID);
      const r = await verifyPresentation(vp, { resolver: didResolver, aud: 'did:example:verifier', allowMissingNonce: true, now: NOW, schemas: anySchema });
      expect([f, r.reasons.map((x) => x.code)]).toEqual([f, ['INVALID_PRESENTATION']]);
    }
  });
  it('a presentation of a suite credential re-signed by the DID verifies, holder and subject aside', async () => {
    const { iat: _iat, ...fixed } = asDid(decodeJwt(text('credential-jose-minimal.txt')).payload);
    const vc = await signVc(fixed);
    const body = {
      ...asDid(json('presentation-single.json')),
      verifiableCredential: [{ '@context': 'https://www.w3.org/ns/credentials/v2', type: 'EnvelopedVerifiableCredential', id: `data:application/vc+jwt,${vc}` }],
    };
    const vp = await signJwt({ typ: 'vp+jwt', cty: 'vp' }, { ...body, aud: 'did:example:verifier', nonce: 'n', iat: NOW.getTime() / 1000 }, signer, KID);
    const opts = { resolver: didResolver, aud: 'did:example:verifier', nonce: 'n', now: NOW, schemas: anySchema };
    expect((await verifyPresentation(vp, { ...opts, allowHolderMismatch: true })).reasons).toEqual([]);
    // The subject is did:example:123, not the holder.
    expect((await verifyPresentation(vp, opts)).reasons.map((x) => x.code)).toEqual(['HOLDER_MISMATCH']);
  });
});
