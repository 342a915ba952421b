import { describe, expect, it } from 'vitest';
import { createResolver } from '../../src/did/index.js';
import { decodeCredential, signJwt, verifyCredential } from '../../src/credentials/index.js';
import { makeIssuer } from '../helpers.js';

/**
 * The VCDM 2.0 shape of a credential beyond its first @context entry:
 * every signature here is valid, so each refusal comes from the rule under test.
 */
const resolver = createResolver();
const alice = makeIssuer('Ed25519');
const bob = makeIssuer('P-256');
const V1 = 'https://www.w3.org/2018/credentials/v1';
const V2 = 'https://www.w3.org/ns/credentials/v2';
const day = 86_400_000;
const nowS = () => Math.floor(Date.now() / 1000);
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
const sign = (payload: object) => signJwt({ typ: 'vc+jwt', cty: 'vc' }, payload, alice.signer, alice.kid);
/** A VCDM 1.1 JWT with `vc` members replaced (and JWT claims set) by `over`. */
const signV1 = (vc: Record<string, unknown> = {}, claims: Record<string, unknown> = {}) =>
  signJwt(
    { typ: 'JWT' },
    { vc: { '@context': [V1], type: ['VerifiableCredential'], credentialSubject: { email: 'bob@example.com' }, ...vc }, iss: alice.did, sub: bob.did, nbf: nowS() - 10, ...claims },
    alice.signer,
    alice.kid,
  );
const codes = async (jwt: string) => (await verifyCredential(jwt, { resolver })).reasons.map((r) => r.code);
/** Each value of `key`, signed into an otherwise valid credential, and the codes it gets. */
const each = async (key: string, values: unknown[], make = (v: unknown) => sign(credential({ [key]: v }))) => Promise.all(values.map(async (v) => [v, await codes(await make(v))]));
const all = (values: unknown[], expected: string[]) => values.map((v) => [v, expected]);

describe('@context (VCDM 2.0 §4.3): every item a URL or a context object, no duplicate, one data model', () => {
  const good = [[V2], [V2, 'https://w3id.org/security/data-integrity/v2'], [V2, { ex: 'https://example.org/#' }], [V2, 'did:example:context', { '@vocab': 'urn:x:' }]];
  const bad = [
    [V2, 42],
    [V2, null],
    [V2, true],
    [V2, ['https://x.example']],
    [V2, 'not a url'],
    [V2, ''],
    [V2, '/relative/context'],
    [V2, 'https://ex ample.org/'],
    [V2, V2],
    [V2, 'https://x.example/c', 'https://x.example/c'],
    [V2, V1],
    [V2, 'https://x.example/c', V1],
    [V1, V2],
    V2,
    [],
    {},
    null,
  ];
  it('vc+jwt: well-formed lists pass; every malformed one is INVALID_CREDENTIAL', async () => {
    expect(await each('@context', good)).toEqual(all(good, []));
    expect(await each('@context', bad)).toEqual(all(bad, ['INVALID_CREDENTIAL']));
  });
  it('VCDM 1.1: the same rules with the v1 context first; the v2 context inside is refused', async () => {
    const goodV1 = [[V1], [V1, 'https://w3id.org/vc/status-list/2021/v1'], [V1, { ex: 'https://example.org/#' }]];
    const badV1 = [[V1, 42], [V1, null], [V1, 'not a url'], [V1, V1], [V1, V2], [V2], [V1, [V2]]];
    const make = (v: unknown) => signV1({ '@context': v });
    expect(await each('@context', goodV1, make)).toEqual(all(goodV1, []));
    expect(await each('@context', badV1, make)).toEqual(all(badV1, ['INVALID_CREDENTIAL']));
  });
  it('decodeCredential refuses what verification refuses', async () => {
    expect(() => decodeCredential('')).toThrow();
    const jwt = await sign(credential({ '@context': [V2, 7] }));
    expect(() => decodeCredential(jwt)).toThrow(expect.objectContaining({ code: 'INVALID_CREDENTIAL' }));
  });
});

describe('credentialSubject (VCDM 2.0 §4.8): each subject holds at least one claim', () => {
  it('an empty subject, alone or among others, is INVALID_CREDENTIAL; an id alone, or a claim without id, passes', async () => {
    const bad = [{}, [{}], [{ id: bob.did }, {}], [{}, { email: 'x' }]];
    const good = [{ id: bob.did }, [{ id: bob.did }], { email: 'x' }, [{ id: bob.did }, { email: 'x' }], { id: bob.did, nested: {} }];
    expect(await each('credentialSubject', bad)).toEqual(all(bad, ['INVALID_CREDENTIAL']));
    expect(await each('credentialSubject', good)).toEqual(all(good, []));
  });
  it('VCDM 1.1: an empty vc.credentialSubject without sub is refused; sub alone makes an id-only subject', async () => {
    expect(await codes(await signV1({ credentialSubject: {} }, { sub: undefined }))).toEqual(['INVALID_CREDENTIAL']);
    expect(await codes(await signV1({ credentialSubject: [{}] }, { sub: undefined }))).toEqual(['INVALID_CREDENTIAL']);
    expect(await codes(await signV1({ credentialSubject: {} }))).toEqual([]);
  });
});

describe('identifiers (VCDM 2.0 §4.4): one absolute URL', () => {
  const good = ['urn:uuid:3978344f-8596-4c3a-a978-8fcaba3903c5', 'https://example.edu/credentials/1872', 'did:example:123', 'http://x.example/a?b#c'];
  const bad = [
    'not a url',
    '',
    'credentials/1872',
    '#frag',
    '//example.edu/x',
    'urn:',
    'https://exa mple.edu/',
    'urn:uuid:x\n',
    'https://x.example/\u0000',
    5,
    null,
    {},
    ['urn:uuid:1'],
    true,
  ];
  it('credential id', async () => {
    expect(await each('id', good)).toEqual(all(good, []));
    expect(await each('id', bad)).toEqual(all(bad, ['INVALID_CREDENTIAL']));
  });
  it('credentialSubject id, in one subject or any of several', async () => {
    const one = (id: unknown) => sign(credential({ credentialSubject: { id, email: 'x' } }));
    const several = (id: unknown) =>
      sign(
        credential({
          credentialSubject: [
            { id: bob.did, email: 'x' },
            { id, email: 'y' },
          ],
        }),
      );
    expect(await each('', good, one)).toEqual(all(good, []));
    expect(await each('', bad, one)).toEqual(all(bad, ['INVALID_CREDENTIAL']));
    expect(await each('', bad, several)).toEqual(all(bad, ['INVALID_CREDENTIAL']));
  });
  it('VCDM 1.1: jti, vc.id and sub are identifiers too', async () => {
    expect(await codes(await signV1({}, { jti: 'urn:uuid:1' }))).toEqual([]);
    expect(await codes(await signV1({}, { jti: 'not a url' }))).toEqual(['INVALID_CREDENTIAL']);
    expect(await codes(await signV1({ id: 'abc' }))).toEqual(['INVALID_CREDENTIAL']);
    expect(await codes(await signV1({}, { sub: 'bob' }))).toEqual(['INVALID_CREDENTIAL']);
  });
});

describe('typed objects beside the subject (VCDM 2.0 §5.3-5.6)', () => {
  for (const key of ['evidence', 'termsOfUse', 'refreshService']) {
    it(`${key}: an object or objects, each with a type`, async () => {
      const good = [{ type: 'X' }, { type: ['X', 'Y'] }, [{ type: 'X' }], [{ id: 'https://e.example/1', type: 'X', extra: 1 }, { type: ['Y'] }], { id: 'urn:uuid:1', type: 'X' }];
      const bad = [
        'foo',
        5,
        null,
        true,
        [],
        [{ type: 'X' }, 'foo'],
        {},
        [{}],
        { id: 'https://e.example' },
        { type: '' },
        { type: [] },
        { type: 5 },
        { type: ['X', 7] },
        [[{ type: 'X' }]],
        { type: 'X', id: 'not a url' },
      ];
      expect(await each(key, good)).toEqual(all(good, []));
      expect(await each(key, bad)).toEqual(all(bad, ['INVALID_CREDENTIAL']));
    });
    it(`${key}: the same in a VCDM 1.1 credential`, async () => {
      expect(await codes(await signV1({ [key]: { type: 'X' } }))).toEqual([]);
      expect(await codes(await signV1({ [key]: { id: 'https://e.example' } }))).toEqual(['INVALID_CREDENTIAL']);
      expect(await codes(await signV1({ [key]: 'foo' }))).toEqual(['INVALID_CREDENTIAL']);
    });
  }
  it('relatedResource: unique URL ids, each with digestSRI or digestMultibase', async () => {
    const sri = 'sha384-S57yQDg1MTzF56Oi9DbSQ14u7jBy0RDdx0YbeV7shwhCS88G8SCXeFq82PafhCrW';
    const good = [
      { id: 'https://x.example/a', digestSRI: sri },
      [{ id: 'https://x.example/a', digestMultibase: 'uEiBZ' }],
      [
        { id: 'https://x.example/a', digestSRI: sri, mediaType: 'application/json' },
        { id: 'https://x.example/b', digestMultibase: 'uEiBZ' },
      ],
    ];
    const bad = [
      { id: 'https://x.example/a' },
      [{ id: 'https://x.example/a' }],
      { digestSRI: sri },
      { id: 'not a url', digestSRI: sri },
      { id: 'https://x.example/a', digestSRI: 5 },
      { id: 'https://x.example/a', digestSRI: '' },
      [
        { id: 'https://x.example/a', digestSRI: sri },
        { id: 'https://x.example/a', digestMultibase: 'uEiBZ' },
      ],
      [],
      'https://x.example/a',
      null,
    ];
    expect(await each('relatedResource', good)).toEqual(all(good, []));
    expect(await each('relatedResource', bad)).toEqual(all(bad, ['INVALID_CREDENTIAL']));
  });
  for (const key of ['name', 'description']) {
    it(`${key} (§4.6): a string or language value objects, on the credential and on an issuer object`, async () => {
      const good = [
        'Alice',
        '',
        { '@value': 'Alice' },
        { '@value': 'Alice', '@language': 'en' },
        { '@value': 'أليس', '@language': 'ar', '@direction': 'rtl' },
        [
          { '@value': 'a', '@language': 'en' },
          { '@value': 'b', '@language': 'fr' },
        ],
      ];
      const bad = [
        5,
        null,
        true,
        {},
        [],
        ['Alice'],
        { '@value': 5 },
        { value: 'Alice' },
        { '@value': 'a', '@language': 5 },
        { '@value': 'a', '@direction': 'up' },
        { '@value': 'a', extra: 1 },
        [{ '@value': 'a' }, 'b'],
      ];
      expect(await each(key, good)).toEqual(all(good, []));
      expect(await each(key, bad)).toEqual(all(bad, ['INVALID_CREDENTIAL']));
      const onIssuer = (v: unknown) => sign(credential({ issuer: { id: alice.did, [key]: v } }));
      expect(await each(key, good, onIssuer)).toEqual(all(good, []));
      expect(await each(key, bad, onIssuer)).toEqual(all(bad, ['INVALID_CREDENTIAL']));
    });
  }
  it('name, description and relatedResource are VCDM 2.0 terms: a 1.1 credential may use them as it likes', async () => {
    expect(await codes(await signV1({ name: 5, description: {}, relatedResource: 'x' }))).toEqual([]);
  });
});

describe("VCDM 1.1: one credential per token, with did-jwt-vc's leftover issuer description", () => {
  it("a top-level issuer object without id (did-jwt-vc moves the id to iss) is the issuer's description", async () => {
    const jwt = await signV1({}, { issuer: { name: 'Example Uni' } });
    const v = await verifyCredential(jwt, { resolver });
    expect(v.reasons).toEqual([]);
    expect(v.issuer).toBe(alice.did);
    expect(decodeCredential(jwt).issuer).toEqual({ id: alice.did, name: 'Example Uni' });
  });
  it('anything naming a second credential or issuer beside vc is refused', async () => {
    const second = [
      { issuer: bob.did },
      { issuer: { id: bob.did, name: 'Bob' } },
      { issuer: { id: alice.did } },
      { issuer: ['did:example:x'] },
      { issuer: 'Example Uni' },
      { credentialSubject: { id: bob.did } },
      { type: ['VerifiableCredential'] },
      { validUntil: iso(Date.now() + day) },
    ];
    for (const claims of second) expect([claims, await codes(await signV1({}, claims))]).toEqual([claims, ['INVALID_CREDENTIAL']]);
    // With an issuer object inside vc, a second description at the top level is not merged.
    expect(await codes(await signV1({ issuer: { id: alice.did, name: 'A' } }, { issuer: { name: 'B' } }))).toEqual(['INVALID_CREDENTIAL']);
  });
});
