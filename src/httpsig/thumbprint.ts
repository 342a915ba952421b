import { createHash } from 'node:crypto';

/**
 * RFC 7638 JWK SHA-256 Thumbprint, base64url: the required members only, in
 * lexicographic order, no whitespace (§3.2; OKP members per RFC 8037 §2).
 * Web Bot Auth uses it as `keyid` and as the directory's `kid`.
 */
export function jwkThumbprint(given: { kty?: unknown; crv?: unknown; x?: unknown; y?: unknown; e?: unknown; n?: unknown }): string {
  const jwk = typeof given === 'object' && given !== null ? given : {};
  const s = (v: unknown, name: string): string => {
    if (typeof v !== 'string' || v.length === 0) throw new TypeError(`a JWK thumbprint needs the member ${name}`);
    return v;
  };
  let members: string;
  if (jwk.kty === 'OKP') members = JSON.stringify({ crv: s(jwk.crv, 'crv'), kty: 'OKP', x: s(jwk.x, 'x') });
  else if (jwk.kty === 'EC') members = JSON.stringify({ crv: s(jwk.crv, 'crv'), kty: 'EC', x: s(jwk.x, 'x'), y: s(jwk.y, 'y') });
  else if (jwk.kty === 'RSA') members = JSON.stringify({ e: s(jwk.e, 'e'), kty: 'RSA', n: s(jwk.n, 'n') });
  else throw new TypeError('a JWK thumbprint needs kty OKP, EC or RSA');
  return createHash('sha256').update(members).digest('base64url');
}
