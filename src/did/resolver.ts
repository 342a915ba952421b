import { Resolver, type DIDResolutionResult, type ParsedDID } from 'did-resolver';
import { CharterError, isCharterError } from '../errors.js';
import { importVerificationKey, keyTypeOfJwk, multibaseToPublicJwk, validatePublicJwk } from '../keys/index.js';
import type { PublicJwk } from '../keys/types.js';
import { resolveDidKey } from './key.js';
import { resolveDidJwk } from './jwk.js';
import { resolveDidWeb } from './web-resolve.js';
import { TtlCache } from './cache.js';
import type { CharterResolver, DIDDocument, ResolvedKey, ResolveOptions, VerificationRelationship } from './types.js';

const DID = /^did:([a-z0-9]+):([A-Za-z0-9._%:-]+)$/;
const MAX_DID = 4096;

function asResult(fn: () => DIDDocument | Promise<DIDDocument>) {
  return async (): Promise<DIDResolutionResult> => {
    try {
      return { didDocument: await fn(), didDocumentMetadata: {}, didResolutionMetadata: { contentType: 'application/did+json' } };
    } catch (e) {
      // did-resolver carries errors as data; keep the CharterError to rethrow it intact.
      return { didDocument: null, didDocumentMetadata: {}, didResolutionMetadata: { error: 'charter', charter: e } };
    }
  };
}

/**
 * One resolver for did:key, did:jwk and did:web on top of did-resolver's
 * method registry, with a bounded TTL cache of documents and parsed keys so
 * the hot path (resolveKey on a known kid) is a Map lookup.
 */
export function createResolver(options: ResolveOptions = {}): CharterResolver {
  const ttl = options.cacheTtlMs ?? 300_000;
  const max = options.cacheMaxEntries ?? 10_000;
  const docs = new TtlCache<string, Promise<DIDDocument>>(ttl, max);
  const keys = new TtlCache<string, ResolvedKey>(ttl, max);
  const registry = new Resolver({
    key: (did: string) => asResult(() => resolveDidKey(did))(),
    jwk: (did: string) => asResult(() => resolveDidJwk(did))(),
    web: (did: string, _parsed: ParsedDID) => asResult(() => resolveDidWeb(did, options))(),
  });

  /** Syntax and method, checked before any lookup or network. */
  function checkDid(did: string): void {
    if (typeof did !== 'string' || did.length > MAX_DID) throw new CharterError('INVALID_DID', 'a DID must be a string of at most 4096 characters');
    const m = DID.exec(did);
    if (!m) throw new CharterError('INVALID_DID', `malformed DID: ${did.slice(0, 80)}`);
    if (!['key', 'jwk', 'web'].includes(m[1]!)) throw new CharterError('UNSUPPORTED_DID_METHOD', `DID method "${m[1]}" is not supported (key, jwk, web)`);
  }

  async function load(did: string): Promise<DIDDocument> {
    checkDid(did);
    const res = await registry.resolve(did);
    const meta = res.didResolutionMetadata as { error?: string; charter?: unknown };
    if (meta.charter) throw isCharterError(meta.charter) ? meta.charter : new CharterError('DID_RESOLUTION_FAILED', `could not resolve ${did.slice(0, 80)}`);
    if (meta.error === 'unsupportedDidMethod') throw new CharterError('UNSUPPORTED_DID_METHOD', `DID method of ${did.slice(0, 80)} is not supported`);
    if (meta.error === 'invalidDid') throw new CharterError('INVALID_DID', `malformed DID: ${did.slice(0, 80)}`);
    if (!res.didDocument) throw new CharterError('DID_NOT_FOUND', `no DID document for ${did.slice(0, 80)}`);
    if (res.didDocument.id !== did) throw new CharterError('DID_RESOLUTION_FAILED', `the document for ${did.slice(0, 80)} names another DID`);
    return res.didDocument;
  }

  function resolve(did: string): Promise<DIDDocument> {
    const hit = docs.get(did);
    if (hit) return hit;
    const p = load(did);
    docs.set(did, p);
    p.catch(() => docs.delete(did));
    return p;
  }

  async function resolveKey(did: string, kid: string | undefined, relationship: VerificationRelationship): Promise<ResolvedKey> {
    const cacheKey = `${relationship}|${did}|${kid ?? ''}`;
    const hit = keys.get(cacheKey);
    if (hit) return hit;
    checkDid(did);
    const absolute = kid === undefined ? undefined : kid.startsWith('#') ? did + kid : kid;
    if (absolute !== undefined && absolute.split('#')[0] !== did) {
      throw new CharterError('KID_MISMATCH', `key ${absolute.slice(0, 100)} does not belong to ${did.slice(0, 80)}`);
    }
    const doc = await resolve(did);
    const rel = (doc[relationship] ?? []).map((r) => (typeof r === 'string' ? (r.startsWith('#') ? did + r : r) : r));
    const relIds = rel.map((r) => (typeof r === 'string' ? r : r.id.startsWith('#') ? did + r.id : r.id));
    const methods = [...(doc.verificationMethod ?? []), ...rel.filter((r): r is Exclude<typeof r, string> => typeof r !== 'string')];
    const norm = (id: string) => (id.startsWith('#') ? did + id : id);
    let id = absolute;
    if (id === undefined) {
      if (relIds.length !== 1) {
        throw new CharterError('VERIFICATION_METHOD_NOT_FOUND', `${did.slice(0, 80)} has ${relIds.length} ${relationship} methods; the JWT must name one with "kid"`);
      }
      id = relIds[0]!;
    }
    const vm = methods.find((m) => norm(m.id) === id);
    if (!vm) throw new CharterError('VERIFICATION_METHOD_NOT_FOUND', `${id.slice(0, 100)} is not in the DID document`);
    if (!relIds.includes(id)) throw new CharterError('VERIFICATION_METHOD_NOT_AUTHORIZED', `${id.slice(0, 100)} is not authorized for ${relationship}`);
    if (vm.controller !== undefined && vm.controller !== did) {
      throw new CharterError('VERIFICATION_METHOD_NOT_AUTHORIZED', `${id.slice(0, 100)} is controlled by another DID`);
    }
    let jwk: PublicJwk;
    try {
      jwk = vm.publicKeyJwk ? validatePublicJwk(vm.publicKeyJwk) : multibaseToPublicJwk(String(vm.publicKeyMultibase));
    } catch (e) {
      throw new CharterError('INVALID_KEY', `${id.slice(0, 100)} carries no supported public key`, { cause: e });
    }
    const vk = importVerificationKey(jwk);
    const resolved: ResolvedKey = Object.freeze({ ...vk, id, controller: did, did, keyType: keyTypeOfJwk(jwk) });
    keys.set(cacheKey, resolved);
    return resolved;
  }

  return {
    resolve,
    resolveKey,
    clear(did?: string) {
      if (did === undefined) {
        docs.clear();
        keys.clear();
      } else {
        docs.delete(did);
        keys.deleteWhere((k) => k.split('|')[1] === did);
      }
    },
  };
}
