import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResolver, documentResolver } from '../../src/did/index.js';
import { listsKey, methodIds } from '../../src/did/methods.js';
import { keyString, signingKeysOf } from '../../src/did/parties.js';
import { MAX_METHODS, selectKey, usableKeys } from '../../src/did/select.js';
import type { CharterResolver, DIDDocument, VerificationRelationship } from '../../src/did/types.js';
import { generateKeyPair, publicJwkToMultibase } from '../../src/keys/index.js';
import type { PublicJwk } from '../../src/keys/types.js';
import { isCharterError } from '../../src/errors.js';
import { serve } from '../helpers.js';

/*
 * A DID document lists at most MAX_METHODS methods in verificationMethod and
 * in each relationship, is read once per document object, and the callers
 * that look at every listed key (listsKey, signingKeysOf) make one selection
 * pass, not one resolveKey per listed id: 13,000 dangling "#n" references
 * (90 KB) froze the event loop for seconds per request.
 */

const codeOf = (f: () => unknown): string => {
  try {
    f();
    return 'NONE';
  } catch (e) {
    return isCharterError(e) ? e.code : 'OTHER';
  }
};
const codeOfAsync = async (p: Promise<unknown>): Promise<string> =>
  p.then(
    () => 'NONE',
    (e: unknown) => (isCharterError(e) ? e.code : 'OTHER'),
  );

const DID = 'did:web:caps.example';
const refs = (n: number) => Array.from({ length: n }, (_, i) => `#${i.toString(36)}`);
const vm = (did: string, frag: string, jwk: PublicJwk, extra: Record<string, unknown> = {}) => ({
  id: `${did}#${frag}`,
  type: 'JsonWebKey2020',
  controller: did,
  publicKeyJwk: jwk,
  ...extra,
});

/** An array whose element reads are counted (its length is free). */
function counted<T>(items: T[]): { list: T[]; reads: () => number } {
  let n = 0;
  const list = new Proxy(items, {
    get(target, p, r) {
      if (typeof p === 'string' && /^\d+$/.test(p)) n++;
      return Reflect.get(target, p, r) as unknown;
    },
  });
  return { list, reads: () => n };
}

/** A resolver that counts the lookups made through it. */
function counting(inner: CharterResolver) {
  const calls = { resolve: 0, resolveKey: 0 };
  const resolver: CharterResolver = {
    resolve: (did) => {
      calls.resolve++;
      return inner.resolve(did);
    },
    resolveKey: (did, kid, rel) => {
      calls.resolveKey++;
      return inner.resolveKey(did, kid, rel);
    },
    clear: (did) => inner.clear(did),
  };
  return { resolver, calls };
}

describe('a document over the caps is refused without being read', () => {
  it('13,000 dangling authentication references: DID_DOCUMENT_TOO_LARGE, no entry read, however often asked', () => {
    const { list, reads } = counted(refs(13_000));
    const doc = { id: DID, authentication: list };
    for (let i = 0; i < 3; i++) {
      expect(codeOf(() => selectKey(doc, DID, `${DID}#${i}`, 'authentication'))).toBe('DID_DOCUMENT_TOO_LARGE');
      expect(codeOf(() => usableKeys(doc, DID, 'authentication'))).toBe('DID_DOCUMENT_TOO_LARGE');
    }
    expect(reads()).toBe(0);
  });

  it('the cap holds for verificationMethod and for every relationship, at MAX_METHODS + 1', () => {
    const jwk = generateKeyPair('Ed25519').publicJwk;
    const over = MAX_METHODS + 1;
    const many = Array.from({ length: over }, (_, i) => vm(DID, `k${i}`, jwk));
    expect(codeOf(() => selectKey({ id: DID, verificationMethod: many, assertionMethod: [`${DID}#k0`] }, DID, `${DID}#k0`, 'assertionMethod'))).toBe('DID_DOCUMENT_TOO_LARGE');
    const rels: VerificationRelationship[] = ['authentication', 'assertionMethod', 'capabilityInvocation', 'capabilityDelegation', 'keyAgreement'];
    for (const rel of rels) {
      // Over the cap in a relationship other than the one asked for: the document is refused whole.
      const doc = { id: DID, verificationMethod: [vm(DID, 'k0', jwk)], assertionMethod: [`${DID}#k0`], [rel]: refs(over) };
      const asked: VerificationRelationship = rel === 'assertionMethod' ? 'authentication' : 'assertionMethod';
      expect(codeOf(() => selectKey(doc, DID, `${DID}#k0`, asked))).toBe('DID_DOCUMENT_TOO_LARGE');
    }
  });

  it('a document at the caps still works: every one of MAX_METHODS methods, through resolveKey, listsKey and signingKeysOf', async () => {
    const keys = Array.from({ length: MAX_METHODS }, () => generateKeyPair('Ed25519').publicJwk);
    const doc = {
      id: DID,
      verificationMethod: keys.map((k, i) => vm(DID, `k${i}`, k)),
      assertionMethod: keys.map((_, i) => `#k${i}`),
      authentication: keys.map((_, i) => `${DID}#k${i}`),
    };
    const r = documentResolver(async () => doc);
    const last = await r.resolveKey(DID, `#k${MAX_METHODS - 1}`, 'assertionMethod');
    expect(last.publicJwk.x).toBe(keys[MAX_METHODS - 1]!.x);
    expect(await listsKey(r, DID, ['authentication'], (j) => j.x === keys[MAX_METHODS - 1]!.x)).toBe(true);
    const all = await signingKeysOf(r, DID);
    expect(all).toEqual(new Set(keys.map(keyString)));
  });
});

describe('listsKey and signingKeysOf: one pass, no lookup per listed id', () => {
  let srv: Awaited<ReturnType<typeof serve>>;
  let body = '';
  let did = '';
  beforeAll(async () => {
    srv = await serve((_req, res) => {
      res.setHeader('content-type', 'application/did+json');
      res.end(body);
    });
    did = `did:web:127.0.0.1%3A${srv.port}`;
  });
  afterAll(() => srv.close());

  it('a did:web of 13,000 dangling references (~90 KB): no match, no key, no resolveKey at all, and resolveKey refuses it', async () => {
    body = JSON.stringify({ id: did, authentication: refs(13_000) });
    expect(body.length).toBeLessThan(100 * 1024);
    const { resolver, calls } = counting(createResolver({ allowLoopback: true, allowHttp: true }));
    const want = generateKeyPair('Ed25519').publicJwk;
    for (let i = 0; i < 2; i++) {
      expect(await listsKey(resolver, did, ['authentication', 'assertionMethod'], (j) => j.x === want.x)).toBe(false);
      expect(await signingKeysOf(resolver, did)).toEqual(new Set());
    }
    expect(calls.resolveKey).toBe(0);
    // One document lookup per listsKey / signingKeysOf call, whatever the number of relationships asked.
    expect(calls.resolve).toBe(4);
    expect(await codeOfAsync(resolver.resolveKey(did, '#0', 'authentication'))).toBe('DID_DOCUMENT_TOO_LARGE');
  });

  it('a document is read once per document object, however many lookups', () => {
    const jwk = generateKeyPair('Ed25519').publicJwk;
    let idReads = 0;
    const node = new Proxy(vm(DID, 'k1', jwk), {
      get(t, p, r) {
        if (p === 'id') idReads++;
        return Reflect.get(t, p, r) as unknown;
      },
    });
    const doc = { id: DID, verificationMethod: [node], assertionMethod: [`${DID}#k1`], authentication: [`${DID}#k1`] };
    selectKey(doc, DID, `${DID}#k1`, 'assertionMethod');
    const once = idReads;
    expect(once).toBeGreaterThan(0);
    for (let i = 0; i < 50; i++) {
      selectKey(doc, DID, `${DID}#k1`, 'assertionMethod');
      selectKey(doc, DID, undefined, 'authentication');
      usableKeys(doc, DID, 'assertionMethod');
    }
    expect(idReads).toBe(once);
  });

  it('a document changed in place is read again', () => {
    const [a, b] = [generateKeyPair('Ed25519').publicJwk, generateKeyPair('Ed25519').publicJwk];
    const doc: Record<string, unknown[] | string> = { id: DID, verificationMethod: [vm(DID, 'a', a)], assertionMethod: [`${DID}#a`] };
    expect(usableKeys(doc, DID, 'assertionMethod').map((k) => k.publicJwk.x)).toEqual([a.x]);
    (doc.verificationMethod as unknown[]).push(vm(DID, 'b', b));
    (doc.assertionMethod as unknown[]).push(`${DID}#b`);
    expect(usableKeys(doc, DID, 'assertionMethod').map((k) => k.publicJwk.x)).toEqual([a.x, b.x]);
    expect(selectKey(doc, DID, `${DID}#b`, 'assertionMethod').publicJwk.x).toBe(b.x);
    (doc.verificationMethod as unknown[])[1] = vm(DID, 'b', a);
    expect(selectKey(doc, DID, `${DID}#b`, 'assertionMethod').publicJwk.x).toBe(a.x);
    doc.assertionMethod = [`${DID}#a`];
    expect(codeOf(() => selectKey(doc, DID, `${DID}#b`, 'assertionMethod'))).toBe('VERIFICATION_METHOD_NOT_AUTHORIZED');
    // A duplicate definition added in place makes the document ambiguous, and a refusal is not kept past a fix.
    (doc.verificationMethod as unknown[]).push(vm(DID, 'a', b));
    expect(codeOf(() => selectKey(doc, DID, `${DID}#a`, 'assertionMethod'))).toBe('VERIFICATION_METHOD_NOT_FOUND');
    (doc.verificationMethod as unknown[]).pop();
    expect(selectKey(doc, DID, `${DID}#a`, 'assertionMethod').publicJwk.x).toBe(a.x);
  });
});

describe('honest documents: the same keys as one resolveKey per listed id', () => {
  const ed = generateKeyPair('Ed25519').publicJwk;
  const p256 = generateKeyPair('P-256').publicJwk;
  const k1 = generateKeyPair('secp256k1').publicJwk;
  const other = generateKeyPair('Ed25519').publicJwk;
  const embedded = generateKeyPair('Ed25519').publicJwk;
  const D = 'did:web:honest.example';
  const docs: Record<string, DIDDocument> = {
    'one key, every relationship': { id: D, verificationMethod: [vm(D, 'key-1', ed)], authentication: [`${D}#key-1`], assertionMethod: [`${D}#key-1`] } as never,
    'mixed methods and junk': {
      id: D,
      verificationMethod: [
        vm(D, 'ed', ed),
        { id: '#p', type: 'Multikey', controller: D, publicKeyMultibase: publicJwkToMultibase(p256) },
        vm(D, 'k1', k1, { type: 'EcdsaSecp256k1VerificationKey2019' }),
        vm(D, 'foreign-controller', other, { controller: 'did:web:evil.example' }),
        vm(D, 'agree', ed, { type: 'X25519KeyAgreementKey2020' }),
        vm(D, 'unknown-type', other, { type: 'SomethingElse2099' }),
        vm(D, 'old', other, { revoked: '2020-01-01T00:00:00Z' }),
      ],
      authentication: ['#ed', `${D}#p`, '#missing', 'did:web:evil.example#k', vm(D, 'emb', embedded), '#ed', '#agree', '#old'],
      assertionMethod: ['#k1', '#foreign-controller', '#unknown-type', `${D}#emb`, '#p', '#p'],
    } as never,
    'embedded only': { id: D, assertionMethod: [vm(D, 'e1', embedded, { id: '#e1' })], authentication: [vm(D, 'e2', ed)] } as never,
    'no relationships': { id: D, verificationMethod: [vm(D, 'key-1', ed)] } as never,
  };

  /** The old algorithm: one resolveKey per listed id, failures skipped. */
  async function oneByOne(r: CharterResolver, did: string, rels: readonly VerificationRelationship[]): Promise<Set<string>> {
    const out = new Set<string>();
    const doc = await r.resolve(did);
    for (const rel of rels) {
      for (const id of methodIds(doc[rel])) {
        try {
          out.add(keyString((await r.resolveKey(did, id, rel)).publicJwk));
        } catch {
          // skipped, as before
        }
      }
    }
    return out;
  }

  for (const [name, doc] of Object.entries(docs)) {
    it(name, async () => {
      const r = documentResolver(async () => structuredClone(doc));
      for (const rels of [['assertionMethod'], ['authentication'], ['assertionMethod', 'authentication']] as const) {
        const want = await oneByOne(r, D, rels);
        expect(await signingKeysOf(r, D, rels)).toEqual(want);
        for (const k of [ed, p256, k1, other, embedded]) {
          expect(await listsKey(r, D, rels, (j) => keyString(j) === keyString(k))).toBe(want.has(keyString(k)));
        }
      }
    });
  }

  it('the mixed document yields exactly its usable keys', async () => {
    const r = documentResolver(async () => structuredClone(docs['mixed methods and junk']!));
    expect(await signingKeysOf(r, D, ['authentication'])).toEqual(new Set([ed, p256, embedded].map(keyString)));
    expect(await signingKeysOf(r, D, ['assertionMethod'])).toEqual(new Set([k1, p256].map(keyString)));
  });
});
