import { keyString } from './parties.js';
import type { CharterResolver, ResolvedKey, VerificationRelationship } from './types.js';

/**
 * A resolver that notes each key it hands out for `relationship`, with the
 * DID it was asked for. A signature check resolves the signer's key once and
 * verifies with that very key, so the key noted is the one the signature
 * verified with. Asking the resolver again afterwards is not the same: the
 * DID's document may have changed, or its cache entry been dropped (a
 * rotation notice, an expiry) while the check awaited, and a second lookup
 * of the same key id can answer with another key.
 */
export function notingKeys(resolver: CharterResolver, relationship: VerificationRelationship): { resolver: CharterResolver; keys: { did: string; key: ResolvedKey }[] } {
  const keys: { did: string; key: ResolvedKey }[] = [];
  return {
    keys,
    resolver: {
      resolve: (did) => resolver.resolve(did),
      clear: (did) => resolver.clear(did),
      ...(resolver.now !== undefined ? { now: resolver.now } : {}),
      resolveKey: async (did, kid, rel) => {
        const key = await resolver.resolveKey(did, kid, rel);
        if (rel === relationship) keys.push({ did, key });
        return key;
      },
    },
  };
}

/**
 * The one key noted for `did` (any DID when not given), as keyString; undefined when none or more than
 * one was, so the key a signature verified with cannot be told.
 */
export function soleKey(keys: readonly { did: string; key: ResolvedKey }[], did?: string): string | undefined {
  const used = did === undefined ? keys : keys.filter((k) => k.did === did);
  return used.length === 1 ? keyString(used[0]!.key.publicJwk) : undefined;
}
