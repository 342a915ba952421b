import { describe, expect, it } from 'vitest';
import { createResolver } from '../../src/did/index.js';
import { signJwt, verifyPresentation } from '../../src/credentials/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { makeIssuer } from '../helpers.js';

/**
 * The VCDM 2.0 shape of a presentation: @context, id, type, holder (or iss
 * for it, VC-JOSE-COSE §3.1.3) and the envelopes around its credentials.
 * Every signature here is valid, so each refusal comes from the rule under test.
 */
const resolver = createResolver();
const alice = makeIssuer('Ed25519');
const bob = makeIssuer('P-256');
const carol = makeIssuer('secp256k1');
const V1 = 'https://www.w3.org/2018/credentials/v1';
const V2 = 'https://www.w3.org/ns/credentials/v2';
const day = 86_400_000;
const nowS = () => Math.floor(Date.now() / 1000);
const iso = (ms: number) => new Date(ms).toISOString();
const aud = 'did:web:verifier.example';

const vc = await signJwt(
  { typ: 'vc+jwt', cty: 'vc' },
  {
    '@context': [V2],
    id: 'urn:uuid:c1',
    type: ['VerifiableCredential', 'EmailCredential'],
    issuer: alice.did,
    validFrom: iso(Date.now() - day),
    credentialSubject: { id: bob.did, email: 'bob@example.com' },
  },
  alice.signer,
  alice.kid,
);
const envelope = (over: Record<string, unknown> = {}) => ({ '@context': V2, id: `data:application/vc+jwt,${vc}`, type: 'EnvelopedVerifiableCredential', ...over });
const vp = (over: Record<string, unknown> = {}) => ({
  '@context': [V2],
  type: ['VerifiablePresentation'],
  holder: bob.did,
  verifiableCredential: [envelope()],
  aud,
  nonce: 'n',
  iat: nowS(),
  ...over,
});
const codes = async (payload: object, who: Issuer = bob, header: Record<string, unknown> = { typ: 'vp+jwt', cty: 'vp' }) =>
  (await verifyPresentation(await signJwt(header, payload, who.signer, who.kid), { resolver, aud, nonce: 'n' })).reasons.map((r) => r.code);
const each = (values: unknown[], make: (v: unknown) => object) => Promise.all(values.map(async (v) => [v, await codes(make(v))]));
const all = (values: unknown[], expected: string[]) => values.map((v) => [v, expected]);

describe('vp+jwt @context, type and id', () => {
  it('@context: the checks credentials get (VCDM 2.0 §4.3)', async () => {
    const good = [[V2], [V2, 'https://w3id.org/security/data-integrity/v2'], [V2, { ex: 'https://example.org/#' }]];
    const bad = [[V2, 42], [V2, null], [V2, ['https://x.example']], [V2, 'not a url'], [V2, V2], [V2, V1], [V1], V2, []];
    expect(await each(good, (c) => vp({ '@context': c }))).toEqual(all(good, []));
    expect(await each(bad, (c) => vp({ '@context': c }))).toEqual(all(bad, ['INVALID_PRESENTATION']));
  });
  it('type: one string or an array of strings that includes VerifiablePresentation', async () => {
    const good = ['VerifiablePresentation', ['VerifiablePresentation', 'ExamplePresentation']];
    const bad = [['VerifiablePresentation', 7], ['VerifiablePresentation', null], ['VerifiablePresentation', ''], [], 'VerifiableCredential', 5];
    expect(await each(good, (t) => vp({ type: t }))).toEqual(all(good, []));
    expect(await each(bad, (t) => vp({ type: t }))).toEqual(all(bad, ['INVALID_PRESENTATION']));
  });
  it('id (VCDM 2.0 §4.4): an absolute URL when present', async () => {
    const good = ['urn:uuid:3978344f-8596-4c3a-a978-8fcaba3903c5', 'https://x.example/vp/1'];
    const bad = ['not a url', '', 'vp/1', 5, null, ['urn:uuid:1']];
    expect(await each(good, (id) => vp({ id }))).toEqual(all(good, []));
    expect(await each(bad, (id) => vp({ id }))).toEqual(all(bad, ['INVALID_PRESENTATION']));
  });
  it('VCDM 1.1 presentation JWT: vp.@context is checked with the v1 context first, and vp.id is a URL', async () => {
    const v1 = (inner: Record<string, unknown>) => ({
      vp: { '@context': [V1], type: ['VerifiablePresentation'], verifiableCredential: [], ...inner },
      iss: bob.did,
      aud,
      nonce: 'n',
      iat: nowS(),
    });
    const legacy = (p: object) => codes(p, bob, { typ: 'JWT' });
    expect(await legacy(v1({}))).toEqual([]);
    expect(await legacy(v1({ id: 'urn:uuid:1' }))).toEqual([]);
    for (const inner of [{ '@context': [V1, 42] }, { '@context': [V1, V2] }, { '@context': [V2] }, { '@context': undefined }, { '@context': [V1, V1] }, { id: 'abc' }]) {
      expect([inner, await legacy(v1(inner))]).toEqual([inner, ['INVALID_PRESENTATION']]);
    }
  });
});

describe('holder: optional in a vp+jwt, where iss then names it (VC-JOSE-COSE §3.1.3)', () => {
  it('no holder, iss the signer: verifies, and the holder is iss', async () => {
    const r = await verifyPresentation(await signJwt({ typ: 'vp+jwt' }, vp({ holder: undefined, iss: bob.did }), bob.signer, bob.kid), { resolver, aud, nonce: 'n' });
    expect(r.reasons).toEqual([]);
    expect(r.holder).toBe(bob.did);
  });
  it('every holder binding still holds: iss must be a DID, sign the presentation, and be a subject of the credentials', async () => {
    // Signed by someone other than iss: with their own key id, or with the holder's.
    expect(await codes(vp({ holder: undefined, iss: bob.did }), alice)).toEqual(['KID_MISMATCH']);
    const mallory = makeIssuer('P-256');
    expect(await codes(vp({ holder: undefined, iss: bob.did }), { ...mallory, kid: bob.kid })).toEqual(['INVALID_SIGNATURE']);
    // iss names someone the credential is not about: HOLDER_MISMATCH.
    expect(await codes(vp({ holder: undefined, iss: carol.did }), carol)).toEqual(['HOLDER_MISMATCH']);
    // Neither holder nor iss, or an iss that is no DID.
    for (const iss of [undefined, 'bob', 'https://bob.example', 5, null, { id: bob.did }]) {
      expect([iss, await codes(vp({ holder: undefined, iss }))]).toEqual([iss, ['INVALID_PRESENTATION']]);
    }
    // A holder that is present but names no one does not fall back to iss.
    for (const holder of [{ name: 'x' }, null, 5, '']) {
      expect([holder, await codes(vp({ holder, iss: bob.did }))]).toEqual([holder, ['INVALID_PRESENTATION']]);
    }
    // holder and iss both present must agree.
    expect(await codes(vp({ iss: carol.did }))).toContain('INVALID_PRESENTATION');
  });
});

describe('EnvelopedVerifiableCredential (VCDM 2.0 §4.13.1)', () => {
  const wrap = (e: unknown) => vp({ verifiableCredential: [e] });
  it('the v2 context (as a string or first in an array), the one type, a data: URL id: nothing more, nothing less', async () => {
    const good = [envelope(), envelope({ '@context': [V2] }), envelope({ '@context': [V2, 'https://x.example/c'] }), envelope({ type: ['EnvelopedVerifiableCredential'] })];
    expect(await each(good, wrap)).toEqual(all(good, []));
    const noContext = envelope();
    delete (noContext as Record<string, unknown>)['@context'];
    const bad = [
      noContext,
      envelope({ '@context': 'https://evil.example' }),
      envelope({ '@context': V1 }),
      envelope({ '@context': [V1] }),
      envelope({ '@context': [V2, 5] }),
      envelope({ '@context': null }),
      envelope({ type: ['EnvelopedVerifiableCredential', 'VerifiableCredential'] }),
      envelope({ type: 'VerifiableCredential' }),
      envelope({ type: [] }),
      envelope({ credentialSubject: { id: bob.did, admin: true } }),
      envelope({ issuer: 'did:web:gov.example' }),
      envelope({ name: 'x' }),
      envelope({ proof: {} }),
    ];
    expect(await each(bad, wrap)).toEqual(all(bad, ['INVALID_PRESENTATION']));
  });
});
