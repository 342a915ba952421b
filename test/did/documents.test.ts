import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createResolver, documentResolver } from '../../src/did/index.js';
import type { CharterResolver, VerificationRelationship } from '../../src/did/types.js';
import { generateKeyPair, publicJwkToMultibase } from '../../src/keys/index.js';
import type { PublicJwk } from '../../src/keys/types.js';
import { isCharterError, type CharterErrorCode } from '../../src/errors.js';
import { serve } from '../helpers.js';

type Code = CharterErrorCode | 'NONE' | 'OTHER';

async function codeOf(p: () => Promise<unknown>): Promise<Code> {
  try {
    await p();
    return 'NONE';
  } catch (e) {
    return isCharterError(e) ? e.code : 'OTHER';
  }
}

const KEY = generateKeyPair('Ed25519').publicJwk;
const OTHER_KEY = generateKeyPair('P-256').publicJwk;
const OTHER = 'did:example:mallory';

/** A document for `did` whose method(s) and relationships a case shapes. */
type Doc = (did: string, jwk: PublicJwk) => unknown;
interface Case {
  name: string;
  doc: Doc;
  /** The JWT kid, given the DID; undefined means no kid. */
  kid?: (did: string) => unknown;
  rel?: VerificationRelationship;
  code: Code;
}

const vm = (did: string, jwk: PublicJwk, extra: Record<string, unknown> = {}) => ({ id: `${did}#key-1`, type: 'JsonWebKey2020', controller: did, publicKeyJwk: jwk, ...extra });
const plain: Doc = (did, jwk) => ({ id: did, verificationMethod: [vm(did, jwk)], assertionMethod: [`${did}#key-1`] });
const abs = (did: string) => `${did}#key-1`;
const rel = () => '#key-1';

const CASES: Case[] = [
  // the rules refuse only what they must
  { name: 'absolute ids, absolute kid', doc: plain, kid: abs, code: 'NONE' },
  { name: 'absolute ids, relative kid', doc: plain, kid: rel, code: 'NONE' },
  { name: 'absolute ids, no kid', doc: plain, code: 'NONE' },
  {
    name: 'relative ids, relative kid',
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, jwk, { id: '#key-1' })], assertionMethod: ['#key-1'] }),
    kid: rel,
    code: 'NONE',
  },
  {
    name: 'relative ids, absolute kid',
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, jwk, { id: '#key-1' })], assertionMethod: ['#key-1'] }),
    kid: abs,
    code: 'NONE',
  },
  { name: 'relative ids, no kid', doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, jwk, { id: '#key-1' })], assertionMethod: ['#key-1'] }), code: 'NONE' },
  { name: 'embedded method, kid', doc: (did, jwk) => ({ id: did, assertionMethod: [vm(did, jwk)] }), kid: abs, code: 'NONE' },
  { name: 'embedded relative method, no kid', doc: (did, jwk) => ({ id: did, assertionMethod: [vm(did, jwk, { id: '#key-1' })] }), code: 'NONE' },
  {
    name: 'Multikey method',
    doc: (did, jwk) => ({
      id: did,
      verificationMethod: [{ id: `${did}#key-1`, type: 'Multikey', controller: did, publicKeyMultibase: publicJwkToMultibase(jwk) }],
      assertionMethod: [`${did}#key-1`],
    }),
    kid: rel,
    code: 'NONE',
  },
  {
    name: 'two methods, kid picks one',
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, jwk), vm(did, OTHER_KEY, { id: `${did}#key-2` })], assertionMethod: [`${did}#key-1`, `${did}#key-2`] }),
    kid: abs,
    code: 'NONE',
  },

  // the document is the DID's own
  { name: 'document of another DID', doc: (_did, jwk) => plain(OTHER, jwk), kid: abs, code: 'DID_RESOLUTION_FAILED' },
  { name: 'document of another DID, no kid', doc: (_did, jwk) => ({ ...(plain(OTHER, jwk) as object), verificationMethod: [vm(_did, jwk)] }), code: 'DID_RESOLUTION_FAILED' },
  { name: 'document without id', doc: (did, jwk) => ({ ...(plain(did, jwk) as object), id: undefined }), kid: abs, code: 'DID_RESOLUTION_FAILED' },
  { name: 'document id is an array', doc: (did, jwk) => ({ ...(plain(did, jwk) as object), id: [did] }), kid: abs, code: 'DID_RESOLUTION_FAILED' },
  { name: 'document id with a trailing #', doc: (did, jwk) => ({ ...(plain(did, jwk) as object), id: `${did}#` }), kid: abs, code: 'DID_RESOLUTION_FAILED' },
  { name: 'document id in upper case', doc: (did, jwk) => ({ ...(plain(did, jwk) as object), id: did.toUpperCase() }), kid: abs, code: 'DID_RESOLUTION_FAILED' },
  { name: 'document id with a query', doc: (did, jwk) => ({ ...(plain(did, jwk) as object), id: `${did}?versionId=2` }), kid: abs, code: 'DID_RESOLUTION_FAILED' },
  { name: 'document is an array', doc: (did, jwk) => [plain(did, jwk)], kid: abs, code: 'DID_RESOLUTION_FAILED' },
  { name: 'document is null', doc: () => null, kid: abs, code: 'DID_RESOLUTION_FAILED' },

  // a method of another DID is never used
  {
    name: "single method with another DID's id, no kid",
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, jwk, { id: `${OTHER}#key-1` })], assertionMethod: [`${OTHER}#key-1`] }),
    code: 'VERIFICATION_METHOD_NOT_AUTHORIZED',
  },
  {
    name: "single method with another DID's id and controller, no kid",
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(OTHER, jwk)], assertionMethod: [`${OTHER}#key-1`] }),
    code: 'VERIFICATION_METHOD_NOT_AUTHORIZED',
  },
  {
    name: "kid naming another DID's method",
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, jwk, { id: `${OTHER}#key-1` })], assertionMethod: [`${OTHER}#key-1`] }),
    kid: () => `${OTHER}#key-1`,
    code: 'KID_MISMATCH',
  },
  {
    name: "embedded method with another DID's id, no kid",
    doc: (did, jwk) => ({ id: did, assertionMethod: [vm(did, jwk, { id: `${OTHER}#key-1` })] }),
    code: 'VERIFICATION_METHOD_NOT_AUTHORIZED',
  },
  {
    name: 'method id with a path, no kid',
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, jwk, { id: `${did}/keys#key-1` })], assertionMethod: [`${did}/keys#key-1`] }),
    code: 'VERIFICATION_METHOD_NOT_AUTHORIZED',
  },
  {
    name: 'method id with a query, no kid',
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, jwk, { id: `${did}?v=1#key-1` })], assertionMethod: [`${did}?v=1#key-1`] }),
    code: 'VERIFICATION_METHOD_NOT_AUTHORIZED',
  },
  {
    name: 'method id of a longer DID, no kid',
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, jwk, { id: `${did}x#key-1` })], assertionMethod: [`${did}x#key-1`] }),
    code: 'VERIFICATION_METHOD_NOT_AUTHORIZED',
  },
  {
    name: 'controller absent, kid',
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, jwk, { controller: undefined })], assertionMethod: [`${did}#key-1`] }),
    kid: abs,
    code: 'VERIFICATION_METHOD_NOT_AUTHORIZED',
  },
  {
    name: 'controller absent, no kid',
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, jwk, { controller: undefined })], assertionMethod: [`${did}#key-1`] }),
    code: 'VERIFICATION_METHOD_NOT_AUTHORIZED',
  },
  {
    name: 'controller another DID',
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, jwk, { controller: OTHER })], assertionMethod: [`${did}#key-1`] }),
    kid: rel,
    code: 'VERIFICATION_METHOD_NOT_AUTHORIZED',
  },
  {
    name: 'controller an array holding the DID',
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, jwk, { controller: [did] })], assertionMethod: [`${did}#key-1`] }),
    kid: abs,
    code: 'VERIFICATION_METHOD_NOT_AUTHORIZED',
  },
  {
    name: 'controller a DID URL',
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, jwk, { controller: `${did}#key-1` })], assertionMethod: [`${did}#key-1`] }),
    kid: abs,
    code: 'VERIFICATION_METHOD_NOT_AUTHORIZED',
  },
  {
    name: 'controller relative',
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, jwk, { controller: '#' })], assertionMethod: [`${did}#key-1`] }),
    kid: abs,
    code: 'VERIFICATION_METHOD_NOT_AUTHORIZED',
  },
  {
    name: 'embedded method without controller',
    doc: (did, jwk) => ({ id: did, assertionMethod: [vm(did, jwk, { controller: undefined })] }),
    code: 'VERIFICATION_METHOD_NOT_AUTHORIZED',
  },

  // one id, one method
  {
    name: 'duplicate ids, kid',
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, jwk), vm(did, OTHER_KEY)], assertionMethod: [`${did}#key-1`] }),
    kid: abs,
    code: 'VERIFICATION_METHOD_NOT_FOUND',
  },
  {
    name: 'duplicate ids, no kid',
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, OTHER_KEY), vm(did, jwk)], assertionMethod: [`${did}#key-1`] }),
    code: 'VERIFICATION_METHOD_NOT_FOUND',
  },
  {
    name: 'duplicate ids, one relative',
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, jwk, { id: '#key-1' }), vm(did, OTHER_KEY)], assertionMethod: ['#key-1'] }),
    kid: rel,
    code: 'VERIFICATION_METHOD_NOT_FOUND',
  },
  {
    name: 'duplicate ids, listed and embedded',
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, jwk)], assertionMethod: [vm(did, OTHER_KEY)] }),
    kid: abs,
    code: 'VERIFICATION_METHOD_NOT_FOUND',
  },
  {
    name: 'duplicate ids, embedded twice',
    doc: (did, jwk) => ({ id: did, authentication: [vm(did, jwk)], assertionMethod: [vm(did, jwk)] }),
    kid: abs,
    code: 'VERIFICATION_METHOD_NOT_FOUND',
  },
  {
    name: 'duplicate ids elsewhere in the document',
    doc: (did, jwk) => ({
      id: did,
      verificationMethod: [vm(did, jwk), vm(did, OTHER_KEY, { id: `${did}#key-2` }), vm(did, jwk, { id: '#key-2' })],
      assertionMethod: [`${did}#key-1`],
    }),
    kid: abs,
    code: 'VERIFICATION_METHOD_NOT_FOUND',
  },
  {
    name: 'two methods, no kid',
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, jwk), vm(did, OTHER_KEY, { id: `${did}#key-2` })], assertionMethod: [`${did}#key-1`, `${did}#key-2`] }),
    code: 'VERIFICATION_METHOD_NOT_FOUND',
  },

  // malformed method entries make the methods unreadable
  {
    name: 'numeric method id',
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, jwk), vm(did, OTHER_KEY, { id: 42 })], assertionMethod: [`${did}#key-1`] }),
    kid: abs,
    code: 'VERIFICATION_METHOD_NOT_FOUND',
  },
  {
    name: 'array method id',
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, jwk, { id: [`${did}#key-1`] })], assertionMethod: [`${did}#key-1`] }),
    kid: abs,
    code: 'VERIFICATION_METHOD_NOT_FOUND',
  },
  {
    name: 'missing method id',
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, jwk, { id: undefined })], assertionMethod: [`${did}#key-1`] }),
    code: 'VERIFICATION_METHOD_NOT_FOUND',
  },
  {
    name: 'method that is a string',
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, jwk), `${did}#key-1`], assertionMethod: [`${did}#key-1`] }),
    kid: abs,
    code: 'VERIFICATION_METHOD_NOT_FOUND',
  },
  {
    name: 'bare method id',
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, jwk, { id: 'key-1' })], assertionMethod: ['key-1'] }),
    code: 'VERIFICATION_METHOD_NOT_FOUND',
  },
  {
    name: 'percent-encoded method fragment',
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, jwk, { id: '#key%2D1' })], assertionMethod: ['#key%2D1'] }),
    code: 'VERIFICATION_METHOD_NOT_FOUND',
  },
  {
    name: 'empty method fragment',
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, jwk, { id: `${did}#` })], assertionMethod: [`${did}#`] }),
    code: 'VERIFICATION_METHOD_NOT_FOUND',
  },
  {
    name: 'numeric relationship entry',
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, jwk)], assertionMethod: [`${did}#key-1`, 42] }),
    kid: abs,
    code: 'VERIFICATION_METHOD_NOT_FOUND',
  },
  { name: 'null relationship entry', doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, jwk)], assertionMethod: [null] }), code: 'VERIFICATION_METHOD_NOT_FOUND' },
  {
    name: 'verificationMethod not an array',
    doc: (did, jwk) => ({ id: did, verificationMethod: vm(did, jwk), assertionMethod: [`${did}#key-1`] }),
    kid: abs,
    code: 'DID_RESOLUTION_FAILED',
  },
  {
    name: 'relationship not an array',
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, jwk)], assertionMethod: `${did}#key-1` }),
    kid: abs,
    code: 'DID_RESOLUTION_FAILED',
  },

  // references and relationships
  {
    name: 'reference to a method not in the document, no kid',
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, jwk)], assertionMethod: ['#missing'] }),
    code: 'VERIFICATION_METHOD_NOT_FOUND',
  },
  {
    name: 'reference to a method not in the document, kid',
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, jwk)], assertionMethod: ['#missing', '#key-1'] }),
    kid: () => '#missing',
    code: 'VERIFICATION_METHOD_NOT_FOUND',
  },
  {
    name: 'method not in the relationship, kid',
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, jwk)], authentication: [`${did}#key-1`] }),
    kid: abs,
    code: 'VERIFICATION_METHOD_NOT_AUTHORIZED',
  },
  {
    name: 'method not in the relationship, no kid',
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, jwk)], authentication: [`${did}#key-1`] }),
    code: 'VERIFICATION_METHOD_NOT_FOUND',
  },
  {
    name: 'reference to a method embedded for another relationship',
    doc: (did, jwk) => ({ id: did, authentication: [vm(did, jwk)], assertionMethod: [`${did}#key-1`] }),
    kid: abs,
    code: 'VERIFICATION_METHOD_NOT_AUTHORIZED',
  },
  {
    name: 'embedded for another relationship, no kid',
    doc: (did, jwk) => ({ id: did, authentication: [vm(did, jwk)], assertionMethod: [`${did}#key-1`] }),
    code: 'VERIFICATION_METHOD_NOT_AUTHORIZED',
  },
  {
    name: 'keyAgreement only',
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, jwk)], keyAgreement: [`${did}#key-1`] }),
    kid: abs,
    code: 'VERIFICATION_METHOD_NOT_AUTHORIZED',
  },

  // kid spellings: exact strings, one spelling
  ...[
    ['empty kid', () => ''],
    ['kid "#"', () => '#'],
    ['kid with a trailing #', (d: string) => `${d}#`],
    ['bare kid', () => 'key-1'],
    ['percent-encoded relative kid', () => '#key%2D1'],
    ['percent-encoded absolute kid', (d: string) => `${d}#key%2D1`],
    ['percent-encoded DID in the kid', (d: string) => `${d.replace(/%3A/g, '%3a').replace(/:([^:]*)$/, ':%$1')}#key-1`],
    ['kid with a query', (d: string) => `${d}?versionId=1#key-1`],
    ['kid with a path', (d: string) => `${d}/path#key-1`],
    ['kid with two fragments', (d: string) => `${d}#key-1#key-1`],
    ['kid with a leading space', () => ' #key-1'],
    ['kid with a trailing space', () => '#key-1 '],
    ['kid with a newline', (d: string) => `${d}#key-1\n`],
    ['kid in upper case', (d: string) => `${d.toUpperCase()}#key-1`],
    ['kid with a full-width #', (d: string) => `${d}\uff03key-1`],
    ['kid of a longer DID', (d: string) => `${d}x#key-1`],
    ['numeric kid', () => 1],
    ['null kid', () => null],
    ['array kid', (d: string) => [`${d}#key-1`]],
    ['object kid', () => ({ toString: () => '#key-1' })],
  ].map(([name, kid]) => ({ name: name as string, doc: plain, kid: kid as (d: string) => unknown, code: 'KID_MISMATCH' as Code })),
  { name: 'kid differing in case', doc: plain, kid: () => '#KEY-1', code: 'VERIFICATION_METHOD_NOT_FOUND' },
  { name: 'kid with a query inside the fragment', doc: plain, kid: () => '#key-1?x=1', code: 'VERIFICATION_METHOD_NOT_FOUND' },

  // key material
  {
    name: 'JWK and Multikey on one method',
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, jwk, { publicKeyMultibase: publicJwkToMultibase(OTHER_KEY) })], assertionMethod: [`${did}#key-1`] }),
    kid: abs,
    code: 'INVALID_KEY',
  },
  {
    name: 'JWK and base58 on one method',
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, jwk, { publicKeyBase58: '11111111111111111111111111111111' })], assertionMethod: [`${did}#key-1`] }),
    kid: abs,
    code: 'INVALID_KEY',
  },
  {
    name: 'base58 key only',
    doc: (did) => ({
      id: did,
      verificationMethod: [{ id: `${did}#key-1`, type: 'Ed25519VerificationKey2018', controller: did, publicKeyBase58: '4zvwRjXUKGfvwnParsHAS3HuSVzV5cA4McphgmoCtajS' }],
      assertionMethod: [`${did}#key-1`],
    }),
    kid: abs,
    code: 'UNSUPPORTED_KEY_TYPE',
  },
  {
    name: 'no key at all',
    doc: (did) => ({ id: did, verificationMethod: [{ id: `${did}#key-1`, type: 'JsonWebKey2020', controller: did }], assertionMethod: [`${did}#key-1`] }),
    kid: abs,
    code: 'UNSUPPORTED_KEY_TYPE',
  },
  {
    name: 'publicKeyJwk with d',
    doc: (did) => ({ id: did, verificationMethod: [vm(did, generateKeyPair().privateJwk)], assertionMethod: [`${did}#key-1`] }),
    kid: abs,
    code: 'INVALID_KEY',
  },
  {
    name: 'publicKeyJwk with a foreign alg',
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, { ...jwk, alg: 'ES256' } as PublicJwk)], assertionMethod: [`${did}#key-1`] }),
    kid: abs,
    code: 'INVALID_KEY',
  },
  {
    name: 'publicKeyJwk with kty EC and crv Ed25519',
    doc: (did, jwk) => ({ id: did, verificationMethod: [vm(did, { ...jwk, kty: 'EC' })], assertionMethod: [`${did}#key-1`] }),
    kid: abs,
    code: 'INVALID_KEY',
  },
  {
    name: 'publicKeyMultibase not a string',
    doc: (did) => ({ id: did, verificationMethod: [{ id: `${did}#key-1`, type: 'Multikey', controller: did, publicKeyMultibase: ['z6Mk'] }], assertionMethod: [`${did}#key-1`] }),
    kid: abs,
    code: 'INVALID_KEY',
  },
];

async function run(resolver: CharterResolver, did: string, c: Case): Promise<Code> {
  return codeOf(() => resolver.resolveKey(did, c.kid?.(did) as string | undefined, c.rel ?? 'assertionMethod'));
}

describe('DID document rules, documentResolver over an in-memory loader', () => {
  // A DID with a percent-encoded character, so kid spellings of it can be tried too.
  const DID = 'did:example:alice%3A1';
  for (const c of CASES) {
    it(`${c.name}: ${c.code}`, async () => {
      const r = documentResolver(async () => c.doc(DID, KEY) as never);
      expect(await run(r, DID, c)).toBe(c.code);
    });
  }

  it('resolve() refuses a document that names another DID, whatever the loader', async () => {
    const r = documentResolver(async () => plain(OTHER, KEY) as never);
    expect(await codeOf(() => r.resolve(DID))).toBe('DID_RESOLUTION_FAILED');
    expect(await codeOf(() => r.resolveKey(DID, undefined, 'assertionMethod'))).toBe('DID_RESOLUTION_FAILED');
  });

  it('a key meant for encryption or key agreement verifies nothing: use enc, key_ops without verify, a KeyAgreement type', async () => {
    const doc = (extra: Record<string, unknown>, jwk: Record<string, unknown> = {}) =>
      documentResolver(async () => ({ id: DID, verificationMethod: [vm(DID, { ...KEY, ...jwk } as PublicJwk, extra)], assertionMethod: [`${DID}#key-1`] }) as never);
    for (const [what, r] of [
      ['use enc', doc({}, { use: 'enc' })],
      ['key_ops encrypt', doc({}, { key_ops: ['encrypt'] })],
      ['key_ops not an array', doc({}, { key_ops: 'verify' })],
      ['X25519KeyAgreementKey2020', doc({ type: 'X25519KeyAgreementKey2020' })],
    ] as const) {
      expect([what, await codeOf(() => r.resolveKey(DID, undefined, 'assertionMethod'))]).toEqual([what, 'INVALID_KEY']);
    }
    for (const ok of [doc({}, { use: 'sig' }), doc({}, { key_ops: ['verify'] }), doc({})]) expect((await ok.resolveKey(DID, undefined, 'assertionMethod')).id).toBe(`${DID}#key-1`);
  });

  it('a malformed DID or kid costs no lookup', async () => {
    let loads = 0;
    const r = documentResolver(async (did) => {
      loads++;
      return plain(did, KEY) as never;
    });
    for (const did of ['not-a-did', 'did:example:', 'did:Example:x', 'did:example:x#frag', 'did:example:x?q', 'did:example:x y', 'did:example:x:', 'x'.repeat(5000)]) {
      expect(await codeOf(() => r.resolveKey(did, undefined, 'assertionMethod'))).toBe('INVALID_DID');
      expect(await codeOf(() => r.resolve(did))).toBe('INVALID_DID');
    }
    expect(await codeOf(() => r.resolveKey(DID, `${OTHER}#key-1`, 'assertionMethod'))).toBe('KID_MISMATCH');
    expect(loads).toBe(0);
  });

  it('an empty kid is not served from the cache entry of "no kid"', async () => {
    const r = documentResolver(async (did) => plain(did, KEY) as never);
    expect(await codeOf(() => r.resolveKey(DID, undefined, 'assertionMethod'))).toBe('NONE');
    expect(await codeOf(() => r.resolveKey(DID, '', 'assertionMethod'))).toBe('KID_MISMATCH');
    expect(await codeOf(() => r.resolveKey(DID, '#key-1', 'assertionMethod'))).toBe('NONE');
  });

  it('an unknown relationship name is refused, not read from the document', async () => {
    const r = documentResolver(async (did) => ({ ...(plain(did, KEY) as object), verificationMethod: [vm(did, KEY)], id: did }) as never);
    for (const rel of ['verificationMethod', 'id', '__proto__', 'service', 'controller']) {
      expect(await codeOf(() => r.resolveKey(DID, '#key-1', rel as VerificationRelationship))).toBe('INVALID_ARGUMENT');
    }
  });

  it('a method whose id or controller is not exactly the DID is never used (property)', async () => {
    const bases = [DID, OTHER, `${DID}x`, 'did:example:alice%3a1', 'DID:example:alice%3A1', `${DID}/path`, `${DID}?v=1`];
    const controllers = [undefined, DID, OTHER, [DID], `${DID}#key-1`, '', null, 42, 'did:example:alice%3a1'];
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...bases),
        fc.boolean(),
        fc.constantFrom(...controllers),
        fc.constantFrom('listed', 'embedded'),
        fc.constantFrom('none', 'absolute', 'relative'),
        async (base, relative, controller, form, kidForm) => {
          const id = relative && base === DID ? '#key-1' : `${base}#key-1`;
          const method = { id, type: 'JsonWebKey2020', controller, publicKeyJwk: KEY };
          const doc = form === 'listed' ? { id: DID, verificationMethod: [method], assertionMethod: [id] } : { id: DID, assertionMethod: [method] };
          const kid = kidForm === 'none' ? undefined : kidForm === 'relative' ? '#key-1' : `${base}#key-1`;
          const code = await codeOf(() => documentResolver(async () => doc as never).resolveKey(DID, kid, 'assertionMethod'));
          if (base === DID && controller === DID) expect(code).toBe('NONE');
          else expect(['KID_MISMATCH', 'VERIFICATION_METHOD_NOT_FOUND', 'VERIFICATION_METHOD_NOT_AUTHORIZED']).toContain(code);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('two definitions of one method id are always refused, wherever they sit (property)', async () => {
    const places = ['verificationMethod', 'authentication', 'assertionMethod', 'capabilityInvocation', 'keyAgreement'] as const;
    await fc.assert(
      fc.asyncProperty(
        fc.tuple(fc.constantFrom(...places), fc.boolean(), fc.constantFrom(KEY, OTHER_KEY)),
        fc.tuple(fc.constantFrom(...places), fc.boolean(), fc.constantFrom(KEY, OTHER_KEY)),
        fc.constantFrom<string | undefined>(undefined, '#key-1'),
        async (a, b, kid) => {
          const doc: Record<string, unknown[]> = { assertionMethod: [] };
          for (const [place, relative, jwk] of [a, b]) {
            const m = vm(DID, jwk, relative ? { id: '#key-1' } : {});
            (doc[place] ??= []).push(m);
            if (place === 'verificationMethod') doc.assertionMethod!.push(m.id);
          }
          const code = await codeOf(() => documentResolver(async () => ({ id: DID, ...doc }) as never).resolveKey(DID, kid, 'assertionMethod'));
          expect(code).toBe('VERIFICATION_METHOD_NOT_FOUND');
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('DID document rules, did:web documents served over loopback HTTP', () => {
  let srv: Awaited<ReturnType<typeof serve>>;
  const served = new Map<string, string>();
  beforeAll(async () => {
    srv = await serve((req, res) => {
      const body = served.get(req.url ?? '');
      if (body === undefined) res.writeHead(404).end();
      else res.writeHead(200, { 'content-type': 'application/did+json' }).end(body);
    });
  });
  afterAll(() => srv.close());

  const resolver = () => createResolver({ allowLoopback: true, allowHttp: true, timeoutMs: 2000 });
  CASES.forEach((c, i) => {
    it(`${c.name}: ${c.code}`, async () => {
      const did = `did:web:127.0.0.1%3A${srv.port}:case${i}`;
      served.set(`/case${i}/did.json`, JSON.stringify(c.doc(did, KEY)));
      expect(await run(resolver(), did, c)).toBe(c.code);
    });
  });

  it('a server answering for another did:web path is refused even when the kid matches its document', async () => {
    const victim = `did:web:127.0.0.1%3A${srv.port}:victim`;
    const attacker = `did:web:127.0.0.1%3A${srv.port}:attacker`;
    served.set('/victim/did.json', JSON.stringify(plain(attacker, KEY)));
    expect(await codeOf(() => resolver().resolveKey(victim, `${attacker}#key-1`, 'assertionMethod'))).toBe('KID_MISMATCH');
    expect(await codeOf(() => resolver().resolveKey(victim, '#key-1', 'assertionMethod'))).toBe('DID_RESOLUTION_FAILED');
    expect(await codeOf(() => resolver().resolveKey(victim, undefined, 'assertionMethod'))).toBe('DID_RESOLUTION_FAILED');
  });
});
