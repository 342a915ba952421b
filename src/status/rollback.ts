/**
 * Per list URL, the issuance time of the newest copy a checker has accepted,
 * kept after the copy leaves the cache. A copy signed before it is a
 * rollback: an older list, still within its validity, served by a lagging
 * CDN edge, a stale mirror or a cache on the path, would bring back as valid
 * a credential this verifier has already seen revoked (Bitstring Status List
 * v1.0 §2.1: a revocation "is not reversible"). Such a copy is refused
 * (STATUS_UNAVAILABLE: fail closed; a fresh copy answers the next check).
 * A list that states no issuance time cannot be ordered and is not tracked.
 * Bounded: past `limit` URLs, the least recently used is forgotten, every
 * check of a list counting as a use (a list a verifier keeps checking stays
 * tracked). Anyone can make a verifier admit lists, naming its own signed
 * ones in the credentials it presents, so lists are also grouped by site
 * (the last two labels of the host name, whatever its case or port; an IP
 * address alone): once the map is full, a site holding a tenth of it gives
 * up its own least recently used first, so a flood from one site pushes out
 * that site's lists, not another issuer's. A flood from many sites can still
 * push a list out; this mark is defence in depth (it also starts empty after
 * a restart), and a list's own validity window bounds any rollback.
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

/**
 * The site a list URL is served from, for grouping: the host name's last two labels ("a.b.example" ->
 * "b.example"), lower-cased, without port or user info; an IP literal whole. A string that is no URL is
 * its own group. A multi-label public suffix (co.uk) groups more widely, which only makes the cap stricter.
 */
function siteOf(url: string): string {
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    return url;
  }
  if (host.startsWith('[') || /^[\d.]+$/.test(host)) return host;
  const labels = host.replace(/\.$/, '').split('.');
  return labels.slice(-2).join('.');
}

export function createListWatermark(limit: number): ListWatermark {
  // Both in least-recently-used order (a use deletes and sets again).
  const newest = new Map<string, number>();
  const bySite = new Map<string, Set<string>>();
  const siteOfUrl = new Map<string, string>();
  const perSite = Math.max(1, Math.floor(limit / 10));
  const forget = (url: string) => {
    newest.delete(url);
    const site = siteOfUrl.get(url)!;
    siteOfUrl.delete(url);
    const set = bySite.get(site);
    set?.delete(url);
    if (set?.size === 0) bySite.delete(site);
  };
  return {
    admit(url, issuedMs) {
      if (issuedMs === undefined || !Number.isFinite(issuedMs)) return undefined;
      const seen = newest.get(url);
      if (seen !== undefined && issuedMs < seen) {
        return `the status list at ${new URL(url).host} is older than a copy this verifier accepted before (issued ${new Date(issuedMs).toISOString()}, seen ${new Date(seen).toISOString()})`;
      }
      // A URL tracked already knows its site; only a new one is parsed.
      const site = siteOfUrl.get(url) ?? siteOf(url);
      if (seen !== undefined) forget(url);
      else if (newest.size >= limit) {
        const mine = bySite.get(site);
        forget(mine !== undefined && mine.size >= perSite ? (mine.values().next().value as string) : (newest.keys().next().value as string));
      }
      let mine = bySite.get(site);
      if (mine === undefined) bySite.set(site, (mine = new Set()));
      mine.add(url);
      siteOfUrl.set(url, site);
      newest.set(url, Math.max(seen ?? issuedMs, issuedMs));
      return undefined;
    },
  };
}
