/**
 * Per list URL, the issuance time of the newest copy a checker has accepted,
 * kept after the copy leaves the cache. A copy signed before it is a
 * rollback: an older list, still within its validity, served by a lagging
 * CDN edge, a stale mirror or a cache on the path, would bring back as valid
 * a credential this verifier has already seen revoked (Bitstring Status List
 * v1.0 §2.1: a revocation "is not reversible"). Such a copy is refused
 * (STATUS_UNAVAILABLE: fail closed; a fresh copy answers the next check).
 * A list that states no issuance time cannot be ordered and is not tracked.
 * Bounded: past `limit` URLs, the longest unseen is forgotten. A checker's
 * `clear()` keeps it: it drops cached lists, not what the verifier has seen.
 */
export interface ListWatermark {
  /**
   * Why a copy of `url` issued at `issuedMs` is refused, or undefined (and it
   * is recorded as seen). Call it only for a copy fully accepted (signature,
   * signer, times): a list nobody should trust must not raise the mark.
   */
  admit(url: string, issuedMs: number | undefined): string | undefined;
}

export function createListWatermark(limit: number): ListWatermark {
  const newest = new Map<string, number>();
  return {
    admit(url, issuedMs) {
      if (issuedMs === undefined || !Number.isFinite(issuedMs)) return undefined;
      const seen = newest.get(url);
      if (seen === issuedMs) return undefined;
      if (seen !== undefined && issuedMs < seen) {
        return `the status list at ${new URL(url).host} is older than a copy this verifier accepted before (issued ${new Date(issuedMs).toISOString()}, seen ${new Date(seen).toISOString()})`;
      }
      newest.delete(url);
      if (newest.size >= limit) newest.delete(newest.keys().next().value as string);
      newest.set(url, Math.max(seen ?? issuedMs, issuedMs));
      return undefined;
    },
  };
}
