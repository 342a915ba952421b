import { isCharterError, HTTP_STATUS } from '../errors.js';
import { usableKeys } from './select.js';
import type { CharterResolver, DIDDocument, VerificationRelationship } from './types.js';
import type { PublicJwk } from '../keys/types.js';

/** The method ids a verification relationship lists: references, and the ids of embedded methods (DID Core §5.3). */
export function methodIds(entries: unknown): string[] {
  if (!Array.isArray(entries)) return [];
  return entries.flatMap((e) => (typeof e === 'string' ? [e] : typeof (e as { id?: unknown })?.id === 'string' ? [(e as { id: string }).id] : []));
}

/**
 * Does `did` list, under one of `relationships`, a key `matches` accepts?
 * The document is read once and every listed method goes through Charter's
 * method rules in one pass (select.ts usableKeys: the rules resolveKey
 * applies, on the resolver's cached document); a method Charter cannot use
 * is no match, and a document over the caps (select.ts MAX_METHODS) holds
 * none. A fault worth a retry (503: unreachable, too slow) propagates, so
 * "the key is not theirs" is never said for "the document could not be
 * had"; any other resolution failure is no match.
 */
export async function listsKey(resolver: CharterResolver, did: string, relationships: readonly VerificationRelationship[], matches: (jwk: PublicJwk) => boolean): Promise<boolean> {
  const retry = (e: unknown) => isCharterError(e) && HTTP_STATUS[e.code] === 503;
  let doc: DIDDocument;
  try {
    doc = await resolver.resolve(did);
  } catch (e) {
    if (retry(e)) throw e;
    return false;
  }
  for (const relationship of relationships) {
    let keys;
    try {
      keys = usableKeys(doc, did, relationship, resolver.now?.());
    } catch {
      // the document cannot be read (ambiguous, over the caps): it lists no key Charter would use
      return false;
    }
    for (const k of keys) if (matches(k.publicJwk)) return true;
  }
  return false;
}
