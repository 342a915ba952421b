/**
 * How a home shares its per-grant room for reported uses between verifiers (putAccessReceipts with
 * `maxPerGrant`): fairly between classes of verifier that cost something to create, as reputation weighs
 * all unknown attesters together as one. A did:key or did:jwk is free to mint (a self-certifying key, no
 * one to vouch for it), so every such verifier shares ONE share: a thousand fresh keys weigh as one. A
 * did:web verifier costs a host name: one share per host (lower-cased, its port included, whatever its
 * path). A host is no registrable domain (no public-suffix list here): wildcard DNS under one domain
 * makes many hosts, each its own share. Any other method: one share per DID.
 */
export function accessShareOf(verifier: string): string {
  const method = /^did:([a-z0-9]+):/.exec(verifier)?.[1];
  if (method === 'key' || method === 'jwk') return 'self-certifying';
  if (method === 'web') {
    // did:web §3.1: the host (its port percent-encoded as %3A) is the first segment; the rest is a path.
    const host = verifier.slice('did:web:'.length).split(':')[0]!;
    let decoded = host;
    try {
      decoded = decodeURIComponent(host);
    } catch {
      // Not percent-encoding: kept as written.
    }
    return `web:${decoded.toLowerCase()}`;
  }
  return verifier;
}

/** The uses one verifier holds of a grant, and when it began reporting. */
export interface VerifierHolding {
  verifier: string;
  n: number;
  first: number;
}

/**
 * With the grant full, whom a new use by `verifier` takes room from: the verifiers of the share holding
 * the most (on a tie, the one that began reporting last), when that share holds more than this one
 * would after; undefined when none does (the new use is refused, 'full').
 */
export function accessRoomFrom(holdings: readonly VerifierHolding[], verifier: string): string[] | undefined {
  const mine = accessShareOf(verifier);
  const shares = new Map<string, { n: number; first: number; verifiers: string[] }>();
  for (const h of holdings) {
    const key = accessShareOf(h.verifier);
    const s = shares.get(key);
    if (s) {
      s.n += h.n;
      s.first = Math.min(s.first, h.first);
      s.verifiers.push(h.verifier);
    } else shares.set(key, { n: h.n, first: h.first, verifiers: [h.verifier] });
  }
  const held = shares.get(mine)?.n ?? 0;
  let top: { key: string; n: number; first: number; verifiers: string[] } | undefined;
  for (const [key, s] of shares) {
    if (key === mine) continue;
    if (!top || s.n > top.n || (s.n === top.n && (s.first > top.first || (s.first === top.first && key < top.key)))) top = { key, ...s };
  }
  if (!top || !(held === 0 || top.n > held + 1)) return undefined;
  return top.verifiers;
}
