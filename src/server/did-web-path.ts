/** did:web spec §3.2 (Read): the HTTP path of a did:web DID's document. */
export function didWebPath(did: string): string {
  const parts = did.split(':').slice(3).map(decodeURIComponent);
  return parts.length === 0 ? '/.well-known/did.json' : `/${parts.join('/')}/did.json`;
}

/**
 * A request's path (as the URL parser leaves it: dot segments resolved,
 * anything else still percent-encoded) decoded segment by segment, to compare
 * with `didWebPath`, which decodes the DID's segments: `/users/caf%C3%A9/did.json`
 * is the document of `did:web:host:users:caf%C3%A9`. Undefined when a segment
 * cannot be one did:web path segment once decoded: a malformed escape, an
 * encoded "/" or "\\", a "%" left to decode again, "?", "#", a control
 * character, or a dot segment (`%2e%2e` the parser did not resolve).
 */
export function decodedRequestPath(pathname: string): string | undefined {
  const out: string[] = [];
  for (const segment of pathname.split('/')) {
    let d: string;
    try {
      d = decodeURIComponent(segment);
    } catch {
      return undefined;
    }
    // eslint-disable-next-line no-control-regex -- control characters are what this refuses
    if (d === '.' || d === '..' || /[/\\?#%\u0000-\u001f\u007f]/.test(d)) return undefined;
    out.push(d);
  }
  return out.join('/');
}
