export type { CharterResolver, DIDDocument, DidKeyRef, ResolvedKey, ResolveOptions, VerificationRelationship } from './types.js';
export { didKeyFromJwk, resolveDidKey } from './key.js';
export { didJwkFromJwk, resolveDidJwk } from './jwk.js';
export { createDidWeb, didWebFromDomain, didWebToUrl } from './web.js';
export { createResolver } from './resolver.js';
export { didKeyRef } from './ref.js';
export { safeFetch, type SafeFetchOptions, type SafeResponse } from './fetch.js';
export { addressAllowed, classifyAddress, type AddressClass, type AddressPolicy } from './address.js';
export { TtlCache } from './cache.js';
