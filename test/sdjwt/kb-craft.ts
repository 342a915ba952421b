import { createHash } from 'node:crypto';
import { deflateSync } from 'node:zlib';
import { signJwt } from '../../src/credentials/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import type { CharterResolver } from '../../src/did/types.js';
import { createTokenStatusChecker, verifySdJwtGrant, type VerifySdJwtGrantOptions } from '../../src/sdjwt/index.js';

/** Hand-made key binding JWTs, grants and Status List Tokens, for the shapes no honest party produces. */

export const AUD = 'did:web:verifier.example';
export const NONCE = 'n-review-1';
export const LIST = 'https://owner.example/statuslists/1';
export const GRANT_VCT = 'https://charter.dev/vct/DataAccessGrant';

export const nowS = () => Math.floor(Date.now() / 1000);
const sha = (s: string) => createHash('sha256').update(s).digest('base64url');

/** Appends a KB-JWT signed by `holder` over `presented` (which ends with `~`). */
export async function withKb(holder: Issuer, presented: string, extra: Record<string, unknown> = {}, header: Record<string, unknown> = { typ: 'kb+jwt' }): Promise<string> {
  const payload = { aud: AUD, nonce: NONCE, iat: nowS(), sd_hash: sha(presented), ...extra };
  return presented + (await signJwt(header, payload, holder.signer, holder.kid));
}

/** The payload of a DataAccessGrant SD-JWT VC bound to `grantee`'s key, valid for an hour. */
export function grantPayload(owner: Issuer, grantee: Issuer, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const t = nowS();
  return {
    iss: owner.did,
    sub: grantee.did,
    vct: GRANT_VCT,
    jti: 'urn:uuid:review-grant',
    iat: t,
    exp: t + 3600,
    _sd_alg: 'sha-256',
    cnf: { jwk: grantee.publicJwk },
    status: { status_list: { idx: 0, uri: LIST } },
    grant: { resources: ['profile/email'], actions: ['read'], purpose: 'order updates' },
    ...extra,
  };
}

/** A one-bit Status List Token for LIST, signed by `owner`; `lst` overrides the encoded list. */
export async function listJwt(owner: Issuer, o: { iat?: number; exp?: number; nbf?: number; lst?: string; bytes?: number[] } = {}): Promise<string> {
  const iat = o.iat ?? nowS();
  return signJwt(
    { typ: 'statuslist+jwt' },
    {
      iss: owner.did,
      sub: LIST,
      iat,
      exp: o.exp ?? iat + 3600,
      ...(o.nbf !== undefined ? { nbf: o.nbf } : {}),
      ttl: 60,
      status_list: { bits: 1, lst: o.lst ?? deflateSync(Buffer.from(o.bytes ?? [0])).toString('base64url') },
    },
    owner.signer,
    owner.kid,
  );
}

/** A Token Status List checker that reads `list` instead of the network. */
export async function statusFrom(resolver: CharterResolver, owner: Issuer) {
  const list = await listJwt(owner);
  return createTokenStatusChecker({ resolver, source: async () => list });
}

/** verifySdJwtGrant of `owner`'s grant of profile/email (read) to `grantee`, at AUD with NONCE, its status served by `statusFrom`. */
export function grantVerifier(resolver: CharterResolver, owner: Issuer, grantee: Issuer) {
  return async (token: string, o: Partial<VerifySdJwtGrantOptions> = {}) =>
    verifySdJwtGrant(token, {
      resolver,
      status: await statusFrom(resolver, owner),
      resource: 'profile/email',
      action: 'read',
      owner: owner.did,
      grantee: grantee.did,
      aud: AUD,
      nonce: NONCE,
      ...o,
    });
}
