import { CharterError, isCharterError, shown } from '../errors.js';
import type { PublicJwk } from '../keys/types.js';
import { resolveDidJwk } from './jwk.js';
import { resolveDidKey } from './key.js';
import { assertDidSyntax, usableKeys } from './select.js';
import type { CharterResolver } from './types.js';
import { multibaseToPublicJwk } from '../keys/index.js';
import { TtlCache } from './cache.js';

/**
 * One party, several names: a did:key and a did:jwk of the same key, two
 * did:jwk spellings of it (member order, `alg`, `kid`), or a did:web listing
 * it, are all whoever holds that private key. Rules that tell parties apart
 * ("an agent cannot rate itself", "the operator's word is not a third
 * party's") compare keys, not DID strings. A did:web listing a key gives
 * that key's holder its voice (DID Core §5.3), so for those rules the two are
 * one; but the listing proves nothing about who holds the key, so where the
 * question is "did X sign this?" (a status list, status/checker.ts) only the
 * key that signed, named by X's own DID, counts.
 */

/** A public key as one string (key type, curve and coordinates), whatever JWK members or DID carry it. */
export function keyString(jwk: PublicJwk): string {
  return `${jwk.kty} ${jwk.crv} ${jwk.x} ${jwk.y ?? ''}`;
}

const SIGNING = ['assertionMethod', 'authentication'] as const;
const PURE_MAX = 50_000;
/**
 * The longest DID the memo keeps. A did:key is under 60 characters, a did:jwk of the largest key Charter
 * accepts (P-256 or secp256k1, with kid, alg and use) under 300; anything longer is read afresh every time
 * (same answer, no memory), so a request full of outsized subject ids leaves nothing behind.
 */
const PURE_MAX_LENGTH = 1024;
/** Characters the memo holds at most (DIDs plus key strings): entries alone would not bound it. */
const PURE_MAX_CHARS = 8 * 1024 * 1024;
const pure = new TtlCache<string, string>(Infinity, PURE_MAX, Date.now, PURE_MAX_CHARS);

/** The key of a did:key (its Multikey value) or a did:jwk (its JWK), checked as the resolver checks them; null if malformed. */
function readPureKey(did: string): string | null {
  try {
    if (did.startsWith('did:key:')) {
      resolveDidKey(did);
      return keyString(multibaseToPublicJwk(did.slice('did:key:'.length)));
    }
    const vm = resolveDidJwk(did).verificationMethod?.[0] as { publicKeyJwk?: PublicJwk } | undefined;
    return vm?.publicKeyJwk ? keyString(vm.publicKeyJwk) : null;
  } catch {
    return null;
  }
}

/**
 * The key a did:key or did:jwk is (the DID is nothing but its key), as
 * keyString; undefined for any other method or a DID that does not resolve.
 * Pure: no network, memoised.
 */
export function pureKeyOf(did: string): string | undefined {
  if (typeof did !== 'string' || !(did.startsWith('did:key:') || did.startsWith('did:jwk:'))) return undefined;
  const hit = pure.get(did);
  if (hit !== undefined) return hit;
  const k = readPureKey(did);
  // Only a DID that resolves, of a length a real one has, is memoised: a malformed or outsized one is
  // refused again next time (as cheaply as it was now) and holds no memory meanwhile.
  if (k === null) return undefined;
  if (did.length > PURE_MAX_LENGTH) return k;
  pure.set(did, k, Infinity, did.length + k.length);
  return k;
}

/** What the pureKeyOf memo holds (tests: that malformed and outsized DIDs take no place in it). */
export function pureMemoSize(): { entries: number; chars: number } {
  return { entries: pure.size, chars: pure.weight };
}

/** One string per party without a lookup: a did:key or did:jwk by the key it is (two DIDs of one key are one), any other DID by itself. */
export function partyKey(did: string): string {
  const k = pureKeyOf(did);
  return k === undefined ? did : `key ${k}`;
}

/**
 * Every signing key (assertionMethod, authentication, or the relationships
 * asked for) `did` lists, as keyString: the document through the resolver
 * (its cache), its methods by the rules resolveKey applies, in one pass
 * (select.ts usableKeys). A resolution that fails throws (unless the DID
 * cannot be one: then it has no key): "not the same party" is never said for
 * "could not look"; a document that resolves but cannot be read (ambiguous,
 * over select.ts MAX_METHODS) lists no key Charter would verify with.
 */
export async function signingKeysOf(resolver: CharterResolver, did: string, relationships: readonly ('assertionMethod' | 'authentication')[] = SIGNING): Promise<Set<string>> {
  const out = new Set<string>();
  const own = pureKeyOf(did);
  if (own !== undefined) return out.add(own);
  let doc;
  try {
    doc = await resolver.resolve(did);
  } catch (e) {
    // A DID that cannot be one (malformed, or a method nobody resolves) has no key to share.
    if (isCharterError(e) && (e.code === 'INVALID_DID' || e.code === 'UNSUPPORTED_DID_METHOD')) return out;
    throw e;
  }
  for (const relationship of relationships) {
    let keys;
    try {
      // One pass over the document, read once (select.ts usableKeys: resolveKey's rules), not one lookup per listed id.
      keys = usableKeys(doc, did, relationship, resolver.now?.());
    } catch {
      // a document Charter cannot read (ambiguous, over the caps) lists no method it would use: no key
      continue;
    }
    for (const k of keys) out.add(keyString(k.publicJwk));
  }
  return out;
}

/**
 * The DIDs and signing keys of `dids` (the agent, its operator): who counts as "self". `pure` holds the
 * keys that are one of them (a did:key or did:jwk: the DID is its key); `keys` those and every key their
 * documents list.
 */
export async function partiesOf(resolver: CharterResolver, dids: readonly (string | undefined)[]): Promise<{ dids: Set<string>; keys: Set<string>; pure: Set<string> }> {
  const named = [...new Set(dids.filter((d): d is string => typeof d === 'string' && d.length > 0))];
  const keys = new Set<string>();
  for (const set of await Promise.all(named.map((d) => signingKeysOf(resolver, d)))) for (const k of set) keys.add(k);
  const pure = new Set(named.map(pureKeyOf).filter((k): k is string => k !== undefined));
  return { dids: new Set(named), keys, pure };
}

/**
 * How `did` is tied to `parties`, and by whose word. 'self': by name, by
 * the key it is, or by a key its own document lists that a party's document
 * lists too: `did`'s own doing (anyone may list anyone's public key, the
 * agent's too, so counting such a tie as anything but `did`'s own would let
 * a stranger's document speak for the agent). 'listed': only through a key a
 * party's document lists that `did` is (a did:key or did:jwk it names): that
 * party may have listed someone else's key, so this does not say `did` is
 * that party, and it does not say it is not; only the party's own document
 * can make it. Undefined: no tie. Resolved through `resolver`; a DID that
 * cannot be resolved throws (signingKeysOf).
 */
export async function partyLink(
  resolver: CharterResolver,
  parties: { dids: Set<string>; keys: Set<string>; pure: Set<string> },
  did: string,
): Promise<'self' | 'listed' | undefined> {
  if (parties.dids.has(did)) return 'self';
  const own = pureKeyOf(did);
  if (own !== undefined) return parties.pure.has(own) ? 'self' : parties.keys.has(own) ? 'listed' : undefined;
  if (parties.keys.size === 0) return undefined;
  for (const k of await signingKeysOf(resolver, did)) if (parties.keys.has(k)) return 'self';
  return undefined;
}

/**
 * partyLink for a signature whose key is known: `key` is the one `did`'s signature verified with
 * (keyString; noting.ts soleKey). That key is whoever signed, whatever any document lists, so it
 * decides first: a key that is one of `parties` (a did:key or did:jwk of theirs) makes `did` them
 * ('self'); a key only a party's document lists is 'listed', whoever else's document lists it too (the
 * party may have listed a critic's own signing key: the tie is the party's doing and must cost it, never
 * the critic). Otherwise a did:web whose document shares some other key with a party's document is
 * 'shared': who listed that key cannot be told (the party may have listed a critic's second or rotated-in
 * key, or a stranger the agent's key), so the tie may neither silence `did` nor cost the agent its score
 * (scoring.ts counts such ratings only against the agent). When `key` is not known (a rating recorded
 * before keys were), as partyLink: a key `did`'s own document shares with a party is `did`'s own doing ('self').
 */
export async function signerLink(
  resolver: CharterResolver,
  parties: { dids: Set<string>; keys: Set<string>; pure: Set<string> },
  did: string,
  key: string | undefined,
): Promise<'self' | 'listed' | 'shared' | undefined> {
  if (key !== undefined && !parties.dids.has(did)) {
    if (parties.pure.has(key)) return 'self';
    if (parties.keys.has(key)) return 'listed';
    const link = await partyLink(resolver, parties, did);
    // A did:key or did:jwk is its one key (handled above); only a document can share another.
    return link === 'self' && pureKeyOf(did) === undefined ? 'shared' : link;
  }
  return partyLink(resolver, parties, did);
}

/** Is `did` one of `parties`, by name or (for a did:key or did:jwk) by the key it is? */
export function isParty(parties: { dids: Set<string>; keys: Set<string> }, did: string): boolean {
  if (parties.dids.has(did)) return true;
  const k = pureKeyOf(did);
  return k !== undefined && parties.keys.has(k);
}

/** Do `a` and `b` share a signing key (or a name)? Both resolved through `resolver`. */
export async function sameParty(resolver: CharterResolver, a: string, b: string): Promise<boolean> {
  if (a === b) return true;
  const [ka, kb] = await Promise.all([signingKeysOf(resolver, a), signingKeysOf(resolver, b)]);
  for (const k of ka) if (kb.has(k)) return true;
  return false;
}

/**
 * A DID another party is named by: well-formed (DID Core §3.1), and for the
 * methods that carry their key (did:key, did:jwk) one that decodes, so a
 * mistyped DID is named where it is given instead of matching nothing
 * later. INVALID_DID otherwise, the message naming it as `what`.
 */
export function checkedPartyDid(did: unknown, what: string): string {
  try {
    assertDidSyntax(did);
    if (did.startsWith('did:key:')) resolveDidKey(did);
    else if (did.startsWith('did:jwk:')) resolveDidJwk(did);
  } catch (e) {
    const why = e instanceof CharterError ? e.message : 'it does not decode';
    throw new CharterError('INVALID_DID', `${what} ${shown(did, 80)} is not a valid DID (${why.slice(0, 120)})`);
  }
  return did;
}
