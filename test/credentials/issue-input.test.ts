import { describe, expect, it } from 'vitest';
import { createResolver } from '../../src/did/index.js';
import { issueCredential, verifyCredential } from '../../src/credentials/index.js';
import { signStatusList } from '../../src/status/issuer.js';
import { makeIssuer } from '../helpers.js';

/** What issueCredential refuses to sign: anything its own verification would refuse, or that says other than the call. */
const resolver = createResolver();
const alice = makeIssuer('Ed25519');
const bob = makeIssuer('P-256');
const day = 86_400_000;
type Input = Parameters<typeof issueCredential>[0];
const issue = (over: Partial<Input> = {}, format: Input['format'] = 'vc+jwt') =>
  issueCredential({ issuer: alice, subject: bob.did, type: 'EmailCredential', claims: { email: 'bob@example.com' }, format, ...over });
const refusal = async (over: Partial<Input>, format: Input['format'] = 'vc+jwt') => {
  try {
    await issue(over, format);
    return 'issued';
  } catch (e) {
    return (e as { code?: string }).code ?? (e as Error).constructor.name;
  }
};
const FORMATS = ['vc+jwt', 'vc-jwt-1.1'] as const;

describe('extra adds properties; it never replaces what the call sets', () => {
  for (const format of FORMATS) {
    it(`${format}: @context, id, type, issuer and the dates in extra are INVALID_ARGUMENT`, async () => {
      for (const extra of [
        { '@context': ['https://www.w3.org/2018/credentials/v1'] },
        { id: 'urn:uuid:other' },
        { type: ['EmailCredential'] },
        { type: 'VerifiableCredential' },
        { issuer: bob.did },
        { issuer: { id: alice.did, name: 'Alice' } },
        { validFrom: '2000-01-01T00:00:00Z' },
        { validUntil: '2000-01-01T00:00:00Z' },
        { issuanceDate: '2000-01-01T00:00:00Z' },
        { expirationDate: '2000-01-01T00:00:00Z' },
        { credentialSubject: { id: 'did:example:mallory', email: 'x' } },
      ]) {
        expect([extra, await refusal({ extra }, format)]).toEqual([extra, 'INVALID_ARGUMENT']);
      }
    });
  }
  it('credentialSchema and credentialStatus in extra only where the call gives none', async () => {
    const entry = { type: 'BitstringStatusListEntry' as const, statusPurpose: 'revocation' as const, statusListIndex: '1', statusListCredential: 'https://x.example/s' };
    const suspension = { ...entry, statusPurpose: 'suspension' as const, statusListIndex: '2' };
    expect(await refusal({ credentialStatus: entry, extra: { credentialStatus: [entry, suspension] } })).toBe('INVALID_ARGUMENT');
    // What grants do: both entries through extra.
    const both = await issue({ extra: { credentialStatus: [entry, suspension] } });
    expect(both.credential.credentialStatus).toEqual([entry, suspension]);
    const schema = { id: 'https://x.example/schema.json', type: 'JsonSchema' as const };
    expect(await refusal({ credentialSchema: schema, extra: { credentialSchema: schema } })).toBe('INVALID_ARGUMENT');
  });
  it('a subject that is no DID replaces subject and claims only when claims is empty (a status list)', async () => {
    const subject = { id: 'https://x.example/status/1#list', type: 'BitstringStatusList', statusPurpose: 'revocation', encodedList: 'uH4sI' };
    const vc = await issue({ claims: {}, type: 'BitstringStatusListCredential', extra: { credentialSubject: subject } });
    expect(vc.credential.credentialSubject).toEqual(subject);
    expect((await verifyCredential(vc.jwt, { resolver })).reasons).toEqual([]);
    // Charter's own status lists still sign.
    const list = { id: 'l1', issuerDid: alice.did, url: 'https://x.example/status/1', purpose: 'revocation', bits: new Uint8Array(16_384), ttlSeconds: 300 };
    const jwt = await signStatusList(list as unknown as Parameters<typeof signStatusList>[0], alice);
    expect((await verifyCredential(jwt, { resolver })).reasons).toEqual([]);
  });
  it('what verification refuses is not signed: an empty subject, typeless evidence, a bad name, a bad context entry', async () => {
    for (const extra of [
      { evidence: [{ id: 'https://e.example' }] },
      { evidence: 'foo' },
      { termsOfUse: {} },
      { refreshService: [{ type: '' }] },
      { relatedResource: [{ id: 'https://r.example' }] },
      { name: 5 },
      { description: {} },
    ]) {
      expect([extra, await refusal({ extra })]).toEqual([extra, 'INVALID_ARGUMENT']);
    }
    for (const credentialSubject of [{}, [{}], [{ id: bob.did }, {}], { u: undefined }]) {
      expect([credentialSubject, await refusal({ claims: {}, extra: { credentialSubject } })]).toEqual([credentialSubject, 'INVALID_ARGUMENT']);
    }
    // An id-only subject (claims {}) is still a subject: it names who.
    expect(await refusal({ claims: {} })).toBe('issued');
    // Typed evidence, as reputation attestations carry it, still signs.
    const ok = await issue({
      extra: { evidence: [{ id: 'urn:uuid:r1', type: ['Evidence', 'InteractionReceipt'], receipt: 'a.b.c' }], name: { '@value': 'Email', '@language': 'en' } },
    });
    expect((await verifyCredential(ok.jwt, { resolver })).reasons).toEqual([]);
  });
});

describe('input.id and the dates', () => {
  for (const format of FORMATS) {
    it(`${format}: id must be an absolute URL`, async () => {
      for (const id of ['not a url', '', 'credentials/1', '#x', 'https://exa mple.org/']) expect([id, await refusal({ id }, format)]).toEqual([id, 'INVALID_ARGUMENT']);
      for (const id of ['urn:uuid:1', 'https://x.example/c/1', 'did:example:c1']) expect([id, await refusal({ id }, format)]).toEqual([id, 'issued']);
    });
    it(`${format}: an invalid Date, or anything but a Date, is INVALID_ARGUMENT (not a RangeError)`, async () => {
      for (const d of [new Date(NaN), '2030-01-01T00:00:00Z', 1_900_000_000_000, null, {}, new Date(Date.UTC(10_000, 0, 1))]) {
        expect([d, await refusal({ validFrom: d as Date }, format)]).toEqual([d, 'INVALID_ARGUMENT']);
        expect([d, await refusal({ validUntil: d as Date }, format)]).toEqual([d, 'INVALID_ARGUMENT']);
      }
    });
    it(`${format}: validUntil is compared with validFrom as signed, in whole seconds`, async () => {
      const t = Math.floor(Date.now() / 1000) * 1000 + day;
      // .100 and .900 of one second are signed as the same instant: an empty window.
      expect(await refusal({ validFrom: new Date(t + 100), validUntil: new Date(t + 900) }, format)).toBe('INVALID_ARGUMENT');
      expect(await refusal({ validFrom: new Date(t + 900), validUntil: new Date(t + 1000) }, format)).toBe('issued');
      expect(await refusal({ validFrom: new Date(t), validUntil: new Date(t) }, format)).toBe('INVALID_ARGUMENT');
      const vc = await issue({ validFrom: new Date(t + 999), validUntil: new Date(t + 1999) }, format);
      expect([vc.credential.validFrom, vc.credential.validUntil]).toEqual([new Date(t).toISOString(), new Date(t + 1000).toISOString()]);
    });
  }
});
