/**
 * Per list URL, the issuance time of the newest copy a checker has accepted,
 * kept after the copy leaves the cache. A copy signed before it is a
 * rollback: an older list, still within its validity, served by a lagging
 * CDN edge, a stale mirror or a cache on the path, would bring back as valid
 * a credential this verifier has already seen revoked (Bitstring Status List
 * v1.0 §2.1: a revocation "is not reversible"). Such a copy is refused
 * (STATUS_UNAVAILABLE: fail closed; a fresh copy answers the next check).
 * A list that states no issuance time cannot be ordered and is not tracked.
 * Bounded: past `limit` URLs, the least recently used is forgotten, and one
 * origin keeps at most a tenth of them (its own least recently used goes
 * first): every check of a list counts as a use, so a list a verifier keeps
 * checking stays tracked, and lists served from one origin (an attacker's own
 * signed lists, named by credentials it presents) cannot push out another's.
 * A checker's `clear()` keeps it: it drops cached lists, not what the
 * verifier has seen.
 */
export interface ListWatermark {
  /**
   * Why a copy of `url` issued at `issuedMs` is refused, or undefined (and it
   * is recorded as seen). Call it only for a copy fully accepted (signature,
   * signer, times): a list nobody should trust must not raise the mark.
   */
  admit(url: string, issuedMs: number | undefined): string | undefined;
}

/** "https://host:port" of an absolute URL, without parsing it again (the list URLs here are normalised already). */
function originOf(url: string): string {
  const at = url.indexOf('/', url.indexOf('//') + 2);
  return at < 0 ? url : url.slice(0, at);
}

export function createListWatermark(limit: number): ListWatermark {
  // Both in least-recently-used order (a use deletes and sets again).
  const newest = new Map<string, number>();
  const byOrigin = new Map<string, Set<string>>();
  const perOrigin = Math.max(1, Math.floor(limit / 10));
  const forget = (url: string) => {
    newest.delete(url);
    const o = originOf(url);
    const set = byOrigin.get(o);
    set?.delete(url);
    if (set?.size === 0) byOrigin.delete(o);
  };
  return {
    admit(url, issuedMs) {
      if (issuedMs === undefined || !Number.isFinite(issuedMs)) return undefined;
      const seen = newest.get(url);
      if (seen !== undefined && issuedMs < seen) {
        return `the status list at ${new URL(url).host} is older than a copy this verifier accepted before (issued ${new Date(issuedMs).toISOString()}, seen ${new Date(seen).toISOString()})`;
      }
      const o = originOf(url);
      let mine = byOrigin.get(o);
      if (seen !== undefined) forget(url);
      else {
        if (mine !== undefined && mine.size >= perOrigin) forget(mine.values().next().value as string);
        else if (newest.size >= limit) forget(newest.keys().next().value as string);
      }
      mine = byOrigin.get(o);
      if (mine === undefined) byOrigin.set(o, (mine = new Set()));
      mine.add(url);
      newest.set(url, Math.max(seen ?? issuedMs, issuedMs));
      return undefined;
    },
  };
}
