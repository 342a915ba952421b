import { CharterError, isCharterError } from '../../errors.js';
import { TtlCache } from '../../did/index.js';
import type { CharterResolver, DIDDocument, ResolvedKey, VerificationRelationship } from '../../did/types.js';
import { importVerificationKey, keyTypeOfJwk, multibaseToPublicJwk, validatePublicJwk } from '../../keys/index.js';
import type { PublicJwk } from '../../keys/types.js';

/** What the adapter needs of a Veramo agent: `IResolver.resolveDid`. */
export interface DidResolvingAgent {
  resolveDid(args: { didUrl: string }): Promise<unknown>;
}

export interface VeramoResolverOptions {
  /** Cache lifetime in ms for documents and keys. Default 300_000; 0 disables caching. */
  cacheTtlMs?: number;
  cacheMaxEntries?: number;
}

const DID = /^did:[a-z0-9]+:[A-Za-z0-9._%:-]+$/;
const MAX_DID = 4096;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** DID Resolution §7.1.2 error names, as did-resolver and Veramo report them. */
const ERRORS: Record<string, 'DID_NOT_FOUND' | 'INVALID_DID' | 'UNSUPPORTED_DID_METHOD'> = {
  notFound: 'DID_NOT_FOUND',
  invalidDid: 'INVALID_DID',
  unsupportedDidMethod: 'UNSUPPORTED_DID_METHOD',
};

async function load(agent: DidResolvingAgent, did: string): Promise<DIDDocument> {
  if (typeof did !== 'string' || did.length > MAX_DID || !DID.test(did)) throw new CharterError('INVALID_DID', `malformed DID: ${String(did).slice(0, 80)}`);
  let res: unknown;
  try {
    res = await agent.resolveDid({ didUrl: did });
  } catch (e) {
    throw new CharterError('DID_RESOLUTION_FAILED', `the Veramo agent could not resolve ${did.slice(0, 80)}`, { cause: e });
  }
  const meta = isObj(res) && isObj(res.didResolutionMetadata) ? res.didResolutionMetadata : {};
  const doc = isObj(res) ? res.didDocument : undefined;
  if (typeof meta.error === 'string') {
    throw new CharterError(ERRORS[meta.error] ?? 'DID_RESOLUTION_FAILED', `resolving ${did.slice(0, 80)} failed (${meta.error.slice(0, 40)})`);
  }
  if (!isObj(doc)) throw new CharterError('DID_NOT_FOUND', `no DID document for ${did.slice(0, 80)}`);
  if (doc.id !== did) throw new CharterError('DID_RESOLUTION_FAILED', `the document for ${did.slice(0, 80)} names another DID`);
  return doc as unknown as DIDDocument;
}

/**
 * Picks the verification method as Charter's own resolver does: `kid` must
 * belong to `did`, be listed under `relationship` and be controlled by `did`;
 * without a kid the relationship must list exactly one method.
 */
function selectKey(doc: DIDDocument, did: string, kid: string | undefined, relationship: VerificationRelationship): ResolvedKey {
  const norm = (id: string) => (id.startsWith('#') ? did + id : id);
  const absolute = kid === undefined ? undefined : norm(kid);
  if (absolute !== undefined && absolute.split('#')[0] !== did) {
    throw new CharterError('KID_MISMATCH', `key ${absolute.slice(0, 100)} does not belong to ${did.slice(0, 80)}`);
  }
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

/**
 * A CharterResolver over a Veramo agent's `resolveDid`, so Charter verifies
 * with whatever DID methods the agent is configured for. Documents come back
 * as data from the agent and are checked as Charter checks its own: the
 * document must name the DID, and keys are chosen by the same rules.
 */
export function veramoResolver(agent: DidResolvingAgent, options: VeramoResolverOptions = {}): CharterResolver {
  if (typeof agent?.resolveDid !== 'function') throw new TypeError('veramoResolver needs an agent with resolveDid (the DIDResolverPlugin)');
  const ttl = options.cacheTtlMs ?? 300_000;
  const max = options.cacheMaxEntries ?? 10_000;
  const docs = new TtlCache<string, Promise<DIDDocument>>(ttl, max);
  const keys = new TtlCache<string, ResolvedKey>(ttl, max);

  function resolve(did: string): Promise<DIDDocument> {
    const hit = docs.get(did);
    if (hit) return hit;
    const p = load(agent, did);
    docs.set(did, p);
    p.catch(() => docs.delete(did));
    return p;
  }

  async function resolveKey(did: string, kid: string | undefined, relationship: VerificationRelationship): Promise<ResolvedKey> {
    const cacheKey = `${relationship}|${did}|${kid ?? ''}`;
    const hit = keys.get(cacheKey);
    if (hit) return hit;
    let key: ResolvedKey;
    try {
      key = selectKey(await resolve(did), did, kid, relationship);
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

/** DID methods Charter resolves itself: did:key and did:jwk offline, did:web with its SSRF defences. */
const OWN_METHODS = new Set(['key', 'jwk', 'web']);

/**
 * Charter's resolver for the methods it implements (so did:web stays
 * https-only, size-capped and barred from private, loopback and link-local
 * addresses whatever resolver the agent was built with), and the Veramo
 * agent's `resolveDid` for every other method (did:ethr, did:ion, ...).
 */
export function routedResolver(own: CharterResolver, agent: CharterResolver): CharterResolver {
  const pick = (did: string) => (OWN_METHODS.has(typeof did === 'string' ? (did.split(':')[1] ?? '') : '') ? own : agent);
  return {
    resolve: (did) => pick(did).resolve(did),
    resolveKey: (did, kid, relationship) => pick(did).resolveKey(did, kid, relationship),
    clear: (did) => {
      own.clear(did);
      agent.clear(did);
    },
  };
}
