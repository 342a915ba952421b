import { isCharterError, HTTP_STATUS } from '../errors.js';
import type { CharterResolver, VerificationRelationship } from './types.js';
import type { PublicJwk } from '../keys/types.js';

/** The method ids a verification relationship lists: references, and the ids of embedded methods (DID Core §5.3). */
export function methodIds(entries: unknown): string[] {
  if (!Array.isArray(entries)) return [];
  return entries.flatMap((e) => (typeof e === 'string' ? [e] : typeof (e as { id?: unknown })?.id === 'string' ? [(e as { id: string }).id] : []));
}

/**
 * Does `did` list, under one of `relationships`, a key `matches` accepts?
 * Each key goes through resolveKey (Charter's method rules, cached); a
 * method Charter cannot use is no match. A fault worth a retry (503:
 * unreachable, too slow) propagates, so "the key is not theirs" is never
 * said for "the document could not be had"; any other resolution failure
 * is no match.
 */
export async function listsKey(resolver: CharterResolver, did: string, relationships: readonly VerificationRelationship[], matches: (jwk: PublicJwk) => boolean): Promise<boolean> {
  const retry = (e: unknown) => isCharterError(e) && HTTP_STATUS[e.code] === 503;
  for (const relationship of relationships) {
    let ids: string[];
    try {
      ids = methodIds((await resolver.resolve(did))[relationship]);
    } catch (e) {
      if (retry(e)) throw e;
      return false;
    }
    for (const id of ids) {
      try {
        if (matches((await resolver.resolveKey(did, id, relationship)).publicJwk)) return true;
      } catch (e) {
        if (retry(e)) throw e;
      }
    }
  }
  return false;
}
