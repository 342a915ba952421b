import { Resolver, type DIDResolutionResult, type ParsedDID } from 'did-resolver';
import { CharterError, isCharterError } from '../errors.js';
import { resolveDidKey } from './key.js';
import { resolveDidJwk } from './jwk.js';
import { resolveDidWeb } from './web-resolve.js';
import { documentResolver } from './document-resolver.js';
import { assertDidSyntax } from './select.js';
import type { CharterResolver, DIDDocument, ResolveOptions } from './types.js';

const METHODS = new Set(['key', 'jwk', 'web']);

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
 * the hot path (resolveKey on a known kid) is a Map lookup (documentResolver).
 */
export function createResolver(options: ResolveOptions = {}): CharterResolver {
  // Misuse fails here (TypeError), not as a resolution failure on every DID later; cacheTtlMs and
  // cacheMaxEntries are checked by documentResolver.
  if (typeof options !== 'object' || options === null) throw new TypeError('createResolver options must be an object');
  if (options.timeoutMs !== undefined && !(typeof options.timeoutMs === 'number' && options.timeoutMs > 0 && options.timeoutMs <= 2 ** 31 - 1)) {
    throw new TypeError('timeoutMs must be a positive number of milliseconds (at most 2^31 - 1)');
  }
  // NaN would disable the body cap (no size compares greater than NaN).
  if (options.maxBytes !== undefined && !(Number.isSafeInteger(options.maxBytes) && options.maxBytes > 0)) throw new TypeError('maxBytes must be a positive whole number of bytes');
  const registry = new Resolver({
    key: (did: string) => asResult(() => resolveDidKey(did))(),
    jwk: (did: string) => asResult(() => resolveDidJwk(did))(),
    web: (did: string, _parsed: ParsedDID) => asResult(() => resolveDidWeb(did, options))(),
  });

  /** Syntax and method, checked before any lookup or network. */
  function checkDid(did: string): void {
    assertDidSyntax(did);
    const method = did.split(':')[1]!;
    if (!METHODS.has(method)) throw new CharterError('UNSUPPORTED_DID_METHOD', `DID method "${method}" is not supported (key, jwk, web)`);
  }

  async function load(did: string): Promise<DIDDocument> {
    checkDid(did);
    const res = await registry.resolve(did);
    const meta = res.didResolutionMetadata as { error?: string; charter?: unknown };
    if (meta.charter) throw isCharterError(meta.charter) ? meta.charter : new CharterError('DID_RESOLUTION_FAILED', `could not resolve ${did.slice(0, 80)}`);
    if (meta.error === 'unsupportedDidMethod') throw new CharterError('UNSUPPORTED_DID_METHOD', `DID method of ${did.slice(0, 80)} is not supported`);
    if (meta.error === 'invalidDid') throw new CharterError('INVALID_DID', `malformed DID: ${did.slice(0, 80)}`);
    if (!res.didDocument) throw new CharterError('DID_NOT_FOUND', `no DID document for ${did.slice(0, 80)}`);
    // documentResolver checks the document's id against the DID for every loader.
    return res.didDocument;
  }

  return documentResolver(load, { ...options, check: checkDid });
}
