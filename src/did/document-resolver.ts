import { CharterError, isCharterError } from '../errors.js';
import { importVerificationKey, keyTypeOfJwk, multibaseToPublicJwk, validatePublicJwk } from '../keys/index.js';
import type { PublicJwk } from '../keys/types.js';
import { TtlCache } from './cache.js';
import type { CharterResolver, DIDDocument, ResolvedKey, VerificationRelationship } from './types.js';

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `kid` as an absolute DID URL; KID_MISMATCH when it names another DID's key. */
function absoluteKid(did: string, kid: string | undefined): string | undefined {
  if (kid === undefined) return undefined;
  const absolute = kid.startsWith('#') ? did + kid : kid;
  if (absolute.split('#')[0] !== did) throw new CharterError('KID_MISMATCH', `key ${absolute.slice(0, 100)} does not belong to ${did.slice(0, 80)}`);
  return absolute;
}

/**
 * Picks the verification method `id` (or, without one, the single method of
 * `relationship`) from a document that may come from anywhere: it must be in
 * the document, be listed under `relationship` and be controlled by `did`,
 * and carry a supported public key. Every shape is checked, not assumed.
 */
function selectKey(doc: DIDDocument, did: string, absolute: string | undefined, relationship: VerificationRelationship): ResolvedKey {
  const norm = (id: string) => (id.startsWith('#') ? did + id : id);
  const rel: unknown[] = Array.isArray(doc[relationship]) ? doc[relationship] : [];
  const embedded = rel.filter((r): r is Record<string, unknown> => isObj(r) && typeof r.id === 'string');
  const relIds = rel.flatMap((r) => (typeof r === 'string' ? [norm(r)] : isObj(r) && typeof r.id === 'string' ? [norm(r.id)] : []));
  const listed: unknown[] = Array.isArray(doc.verificationMethod) ? doc.verificationMethod : [];
  const methods = [...listed, ...embedded].filter((m): m is Record<string, unknown> => isObj(m) && typeof m.id === 'string');
  let id = absolute;
  if (id === undefined) {
    if (relIds.length !== 1) {
      throw new CharterError('VERIFICATION_METHOD_NOT_FOUND', `${did.slice(0, 80)} has ${relIds.length} ${relationship} methods; the JWT must name one with "kid"`);
    }
    id = relIds[0]!;
  }
  const vm = methods.find((m) => norm(m.id as string) === id);
  if (!vm) throw new CharterError('VERIFICATION_METHOD_NOT_FOUND', `${id.slice(0, 100)} is not in the DID document`);
  if (!relIds.includes(id)) throw new CharterError('VERIFICATION_METHOD_NOT_AUTHORIZED', `${id.slice(0, 100)} is not authorized for ${relationship}`);
  if (vm.controller !== undefined && vm.controller !== did) {
    throw new CharterError('VERIFICATION_METHOD_NOT_AUTHORIZED', `${id.slice(0, 100)} is controlled by another DID`);
  }
  let jwk: PublicJwk;
  try {
    jwk = vm.publicKeyJwk !== undefined ? validatePublicJwk(vm.publicKeyJwk) : multibaseToPublicJwk(String(vm.publicKeyMultibase));
  } catch (e) {
    throw new CharterError('INVALID_KEY', `${id.slice(0, 100)} carries no supported public key (publicKeyJwk or publicKeyMultibase)`, { cause: e });
  }
  return Object.freeze({ ...importVerificationKey(jwk), id, controller: did, did, keyType: keyTypeOfJwk(jwk) });
}

export interface DocumentResolverOptions {
  /** Cache lifetime in ms for documents and keys. Default 300_000; 0 disables caching. */
  cacheTtlMs?: number;
  cacheMaxEntries?: number;
  /** Checks a DID before any lookup (syntax, method); throws CharterError. */
  check?: (did: string) => void;
}

/**
 * A CharterResolver over any document source (`load` throws CharterError for
 * a DID it cannot resolve): a bounded TTL cache of documents and of selected
 * keys, so the hot path (resolveKey on a known kid) is a Map lookup, and one
 * set of key-selection rules whatever the source.
 */
export function documentResolver(load: (did: string) => Promise<DIDDocument>, options: DocumentResolverOptions = {}): CharterResolver {
  const ttl = options.cacheTtlMs ?? 300_000;
  const max = options.cacheMaxEntries ?? 10_000;
  const check = options.check ?? (() => undefined);
  const docs = new TtlCache<string, Promise<DIDDocument>>(ttl, max);
  const keys = new TtlCache<string, ResolvedKey>(ttl, max);

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
    // Syntax and kid first: a mismatched kid costs no lookup.
    check(did);
    const absolute = absoluteKid(did, kid);
    const doc = await resolve(did);
    let key: ResolvedKey;
    try {
      key = selectKey(doc, did, absolute, relationship);
    } catch (e) {
      throw isCharterError(e) ? e : new CharterError('DID_RESOLUTION_FAILED', `could not read the document of ${did.slice(0, 80)}`, { cause: e });
    }
    keys.set(cacheKey, key);
    return key;
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
