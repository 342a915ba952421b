import { CharterError } from '../errors.js';
import { VC_CONTEXT_V1, VC_CONTEXT_V2, type Credential, type CredentialFormat } from './types.js';
import type { DecodedJwt } from './jws.js';

export interface Normalized {
  format: CredentialFormat;
  credential: Credential;
  issuer: string;
  subject: string | undefined;
  /** JWT NumericDate claims, in seconds, when present. */
  nbf?: number;
  exp?: number;
  iat?: number;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown, name: string): number | undefined => {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new CharterError('INVALID_CREDENTIAL', `JWT "${name}" must be a number`);
  return v;
};

function issuerId(issuer: unknown): string {
  const id = typeof issuer === 'string' ? issuer : isObj(issuer) ? issuer.id : undefined;
  if (typeof id !== 'string' || !id.startsWith('did:')) throw new CharterError('INVALID_CREDENTIAL', 'the credential issuer must be a DID');
  return id;
}

function checkShape(c: Record<string, unknown>, context: string): Credential {
  const ctx = c['@context'];
  if (!Array.isArray(ctx) || ctx[0] !== context) throw new CharterError('INVALID_CREDENTIAL', `@context must start with ${context}`);
  const type = c.type;
  if (!Array.isArray(type) || !type.includes('VerifiableCredential') || type.some((t) => typeof t !== 'string')) {
    throw new CharterError('INVALID_CREDENTIAL', 'type must be an array including VerifiableCredential');
  }
  if (!isObj(c.credentialSubject)) throw new CharterError('INVALID_CREDENTIAL', 'credentialSubject must be one JSON object');
  for (const k of ['validFrom', 'validUntil'] as const) {
    if (c[k] !== undefined && (typeof c[k] !== 'string' || Number.isNaN(Date.parse(c[k] as string)))) {
      throw new CharterError('INVALID_CREDENTIAL', `${k} must be an XML Schema dateTime`);
    }
  }
  if (c.id !== undefined && typeof c.id !== 'string') throw new CharterError('INVALID_CREDENTIAL', 'id must be a URL string');
  return c as Credential;
}

/**
 * Maps a decoded JWT to the VCDM 2.0 shape: a `vc+jwt` payload is the
 * credential itself (VC-JOSE-COSE §3.1.1); a VCDM 1.1 JWT carries it in `vc`
 * with iss/sub/nbf/exp/jti standing for issuer, subject id, validity and id
 * (VC Data Model 1.1 §6.3.1).
 */
export function normalizeCredential(d: DecodedJwt, acceptV1: boolean): Normalized {
  const { header, payload } = d;
  if (header.typ === 'vc+jwt') {
    if (header.cty !== undefined && header.cty !== 'vc') throw new CharterError('INVALID_TYP', 'cty must be "vc" when present');
    const credential = checkShape(payload, VC_CONTEXT_V2);
    const issuer = issuerId(credential.issuer);
    const sub = credential.credentialSubject.id;
    return { format: 'vc+jwt', credential, issuer, subject: typeof sub === 'string' ? sub : undefined, nbf: num(payload.nbf, 'nbf'), exp: num(payload.exp, 'exp'), iat: num(payload.iat, 'iat') };
  }
  if ((header.typ === undefined || header.typ === 'JWT') && isObj(payload.vc)) {
    if (!acceptV1) throw new CharterError('INVALID_TYP', 'VCDM 1.1 JWT credentials are not accepted here');
    const vc = payload.vc;
    const iss = payload.iss;
    if (typeof iss !== 'string') throw new CharterError('INVALID_CREDENTIAL', 'a VCDM 1.1 JWT needs "iss"');
    const nbf = num(payload.nbf, 'nbf');
    const exp = num(payload.exp, 'exp');
    const subject = isObj(vc.credentialSubject) ? { ...vc.credentialSubject } : vc.credentialSubject;
    if (isObj(subject) && typeof payload.sub === 'string') subject.id = payload.sub;
    const credential = checkShape(
      {
        ...vc,
        '@context': vc['@context'],
        ...(typeof payload.jti === 'string' ? { id: payload.jti } : {}),
        issuer: iss,
        credentialSubject: subject,
        ...(nbf !== undefined ? { validFrom: new Date(nbf * 1000).toISOString() } : {}),
        ...(exp !== undefined ? { validUntil: new Date(exp * 1000).toISOString() } : {}),
      },
      VC_CONTEXT_V1,
    );
    if (isObj(vc.issuer) && vc.issuer.id !== undefined && vc.issuer.id !== iss) throw new CharterError('INVALID_CREDENTIAL', 'vc.issuer and iss disagree');
    const sub = credential.credentialSubject.id;
    return { format: 'vc-jwt-1.1', credential, issuer: issuerId(iss), subject: typeof sub === 'string' ? sub : undefined, nbf, exp, iat: num(payload.iat, 'iat') };
  }
  throw new CharterError('INVALID_TYP', `typ "${String(header.typ).slice(0, 20)}" is not a credential (expected vc+jwt)`);
}
