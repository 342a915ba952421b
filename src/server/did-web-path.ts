/** did:web spec §3.2 (Read): the HTTP path of a did:web DID's document. */
export function didWebPath(did: string): string {
  const parts = did.split(':').slice(3).map(decodeURIComponent);
  return parts.length === 0 ? '/.well-known/did.json' : `/${parts.join('/')}/did.json`;
}
