import { createHash, randomBytes } from 'node:crypto';
import { signJwt } from '../../src/credentials/index.js';
import type { Issuer } from '../../src/credentials/types.js';

/** Hand-made SD-JWT pieces, for the shapes no honest issuer produces. */

export function disclosure(arr: unknown[]): { encoded: string; digest: string } {
  const encoded = Buffer.from(JSON.stringify(arr)).toString('base64url');
  return { encoded, digest: createHash('sha256').update(encoded).digest('base64url') };
}

export const salt = () => randomBytes(16).toString('base64url');

/** The claims every Charter SD-JWT VC has, for `issuer` about `subject`, valid for an hour. */
export function basePayload(issuer: Issuer, subject: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Math.floor(Date.now() / 1000);
  return { iss: issuer.did, sub: subject, vct: 'https://example.com/vct/Test', jti: 'urn:uuid:test', iat: now, exp: now + 3600, _sd_alg: 'sha-256', ...extra };
}

/** Signs `payload` as an SD-JWT VC and appends `disclosures` (encoded) and a trailing `~`. */
export async function craft(issuer: Issuer, payload: Record<string, unknown>, disclosures: string[] = [], header: Record<string, unknown> = { typ: 'dc+sd-jwt' }): Promise<string> {
  const jwt = await signJwt(header, payload, issuer.signer, issuer.kid);
  return [jwt, ...disclosures, ''].join('~');
}

/** Re-encodes the issuer-signed JWT's header with a change, keeping payload, signature and disclosures. */
export function withHeader(token: string, change: (h: Record<string, unknown>) => void): string {
  const [jwt, ...rest] = token.split('~');
  const [h, p, s] = jwt!.split('.');
  const header = JSON.parse(Buffer.from(h!, 'base64url').toString()) as Record<string, unknown>;
  change(header);
  return [[Buffer.from(JSON.stringify(header)).toString('base64url'), p, s].join('.'), ...rest].join('~');
}
