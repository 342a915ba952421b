import { randomUUID } from 'node:crypto';
import { CharterError } from '../errors.js';
import { signJwt } from './jws.js';
import { defaultSchemaChecker } from './schemas.js';
import { VC_CONTEXT_V1, VC_CONTEXT_V2, type Credential, type IssueCredentialInput, type IssuedCredential } from './types.js';

const DID = /^did:[a-z0-9]+:[A-Za-z0-9._%:-]+$/;
const TYPE = /^[A-Za-z][A-Za-z0-9]{0,63}$/;
const RESERVED = new Set(['id']);

/** Seconds since the epoch (JWT NumericDate). */
const nd = (d: Date) => Math.floor(d.getTime() / 1000);

/**
 * Signs a credential. `vc+jwt` (default): the VCDM 2.0 credential is the JWS
 * payload (VC-JOSE-COSE §3.1.1). `vc-jwt-1.1`: the VCDM 1.1 JWT encoding that
 * did-jwt-vc and Veramo read (`vc` claim plus iss, sub, nbf, exp, jti).
 * The subject is checked against its schema before signing.
 */
export async function issueCredential(input: IssueCredentialInput): Promise<IssuedCredential> {
  const { issuer } = input;
  if (!DID.test(input.subject)) throw new CharterError('INVALID_ARGUMENT', `subject must be a DID, got "${String(input.subject).slice(0, 60)}"`);
  const types = Array.isArray(input.type) ? input.type : [input.type];
  if (types.length === 0 || types.some((t) => !TYPE.test(t))) throw new CharterError('INVALID_ARGUMENT', 'credential types must be alphanumeric names such as EmailCredential');
  if (Object.keys(input.claims).some((k) => RESERVED.has(k))) throw new CharterError('INVALID_ARGUMENT', 'claims must not set "id": the subject is given separately');
  const validFrom = input.validFrom ?? new Date();
  if (input.validUntil && input.validUntil.getTime() <= validFrom.getTime()) {
    throw new CharterError('INVALID_ARGUMENT', 'validUntil must be after validFrom');
  }
  const id = input.id ?? `urn:uuid:${randomUUID()}`;
  const format = input.format ?? 'vc+jwt';
  const credential: Credential = {
    '@context': [format === 'vc+jwt' ? VC_CONTEXT_V2 : VC_CONTEXT_V1],
    id,
    type: ['VerifiableCredential', ...types.filter((t) => t !== 'VerifiableCredential')],
    issuer: issuer.did,
    validFrom: new Date(Math.floor(validFrom.getTime() / 1000) * 1000).toISOString(),
    ...(input.validUntil ? { validUntil: new Date(Math.floor(input.validUntil.getTime() / 1000) * 1000).toISOString() } : {}),
    credentialSubject: { id: input.subject, ...input.claims },
    ...(input.credentialSchema ? { credentialSchema: input.credentialSchema } : {}),
    ...(input.credentialStatus ? { credentialStatus: input.credentialStatus } : {}),
    ...(input.extra ?? {}),
  };
  const schemaErrors = defaultSchemaChecker()(credential);
  if (schemaErrors.length > 0) throw new CharterError('SCHEMA_INVALID', schemaErrors[0]!.message);

  if (format === 'vc+jwt') {
    const jwt = await signJwt({ typ: 'vc+jwt', cty: 'vc' }, credential, issuer.signer, issuer.kid);
    return { id, jwt, credential, format };
  }
  const { id: _id, issuer: _iss, validFrom: _vf, validUntil: _vu, ...rest } = credential;
  // VCDM 1.1 §6.3.1: the subject's id travels as `sub`.
  const cs = credential.credentialSubject;
  const subjectClaims = Array.isArray(cs) ? cs : (({ id: _sub, ...claims }) => claims)(cs);
  const payload = {
    vc: { ...rest, credentialSubject: subjectClaims },
    iss: issuer.did,
    sub: input.subject,
    jti: id,
    nbf: nd(validFrom),
    ...(input.validUntil ? { exp: nd(input.validUntil) } : {}),
  };
  const jwt = await signJwt({ typ: 'JWT' }, payload, issuer.signer, issuer.kid);
  return { id, jwt, credential, format };
}
