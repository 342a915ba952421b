import { describe, expect, it } from 'vitest';
import { documentResolver } from '../../src/did/document-resolver.js';
import { didWebToUrl } from '../../src/did/web.js';
import { generateKeyPair } from '../../src/keys/index.js';
import type { DIDDocument } from '../../src/did/types.js';
import { isCharterError } from '../../src/errors.js';

/**
 * What the resolver caches is what the document said when it was loaded,
 * for the document's lifetime only: a load begun before clear(did) (a
 * rotation notice) cannot cache the old key under the new document's
 * lifetime, and no caller can change the cached document another caller's
 * key selection reads.
 */
const DID = 'did:web:example.com';
const docWith = (jwk: unknown, id = '#key-1'): DIDDocument =>
  ({ id: DID, verificationMethod: [{ id, type: 'JsonWebKey2020', controller: DID, publicKeyJwk: jwk }], assertionMethod: [id] }) as unknown as DIDDocument;
const tick = () => new Promise((r) => setTimeout(r, 5));

describe('a load in flight when clear(did) is called', () => {
  it('answers its own caller with the old key but caches nothing: the next lookup reads the rotated document', async () => {
    const oldKey = generateKeyPair('Ed25519').publicJwk;
    const newKey = generateKeyPair('Ed25519').publicJwk;
    const pending: ((d: DIDDocument) => void)[] = [];
    const r = documentResolver(() => new Promise((res) => pending.push(res)), { cacheTtlMs: 300_000 });
    const first = r.resolveKey(DID, '#key-1', 'assertionMethod');
    await tick();
    r.clear(DID);
    const reload = r.resolve(DID);
    await tick();
    pending[0]!(docWith(oldKey));
    expect((await first).publicJwk.x).toBe(oldKey.x);
    pending[1]!(docWith(newKey));
    await reload;
    expect((await r.resolveKey(DID, '#key-1', 'assertionMethod')).publicJwk.x).toBe(newKey.x);
  });

  it('the same when the new load answers first', async () => {
    const oldKey = generateKeyPair('Ed25519').publicJwk;
    const newKey = generateKeyPair('Ed25519').publicJwk;
    const pending: ((d: DIDDocument) => void)[] = [];
    const r = documentResolver(() => new Promise((res) => pending.push(res)), { cacheTtlMs: 300_000 });
    const first = r.resolveKey(DID, '#key-1', 'assertionMethod');
    await tick();
    r.clear(DID);
    const second = r.resolveKey(DID, '#key-1', 'assertionMethod');
    await tick();
    pending[1]!(docWith(newKey));
    expect((await second).publicJwk.x).toBe(newKey.x);
    pending[0]!(docWith(oldKey));
    await first;
    expect((await r.resolveKey(DID, '#key-1', 'assertionMethod')).publicJwk.x).toBe(newKey.x);
  });
});

describe('the cached document', () => {
  it('is frozen: a caller cannot add a key another caller would then select', async () => {
    const r = documentResolver(async () => docWith(generateKeyPair('Ed25519').publicJwk), { cacheTtlMs: 300_000 });
    const doc = await r.resolve(DID);
    expect(Object.isFrozen(doc)).toBe(true);
    expect(Object.isFrozen(doc.verificationMethod)).toBe(true);
    expect(() => (doc.assertionMethod as unknown[]).push('#evil')).toThrow(TypeError);
    expect(() => ((doc.verificationMethod as unknown as { publicKeyJwk: { x: string } }[])[0]!.publicKeyJwk.x = 'A')).toThrow(TypeError);
    await expect(r.resolveKey(DID, '#evil', 'assertionMethod')).rejects.toSatisfy((e) => isCharterError(e));
  });

  it("is a copy: the loader's own object stays its own (changing it later changes nothing cached)", async () => {
    const k = generateKeyPair('Ed25519').publicJwk;
    const mine = docWith(k);
    const r = documentResolver(async () => mine, { cacheTtlMs: 300_000 });
    await r.resolve(DID);
    expect(Object.isFrozen(mine)).toBe(false);
    (mine.assertionMethod as unknown[]).push('#other');
    expect((await r.resolve(DID)).assertionMethod).toEqual(['#key-1']);
  });
});

describe('did:web ports', () => {
  it('%3A and %3a both name the port (RFC 3986 §2.1: hex digits in either case)', () => {
    expect(didWebToUrl('did:web:example.com%3A8443')).toBe('https://example.com:8443/.well-known/did.json');
    expect(didWebToUrl('did:web:example.com%3a8443')).toBe('https://example.com:8443/.well-known/did.json');
    expect(didWebToUrl('did:web:example.com%3a8443:u:alice')).toBe('https://example.com:8443/u/alice/did.json');
    for (const bad of ['did:web:example.com%3a0', 'did:web:example.com%3a65536', 'did:web:example.com%3b8443', 'did:web:example.com%3a']) {
      expect(() => didWebToUrl(bad), bad).toThrow(expect.objectContaining({ code: 'INVALID_DID' }) as Error);
    }
  });
});
