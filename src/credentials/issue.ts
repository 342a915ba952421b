import { randomUUID } from 'node:crypto';
import { CharterError, isCharterError, shown } from '../errors.js';
import { numericDate, signedDate } from '../encoding/time.js';
import { signJwt } from './jws.js';
import { checkShape } from './normalize.js';
import { isUrl } from './shape.js';
import { defaultSchemaChecker } from './schemas.js';
import { VC_CONTEXT_V1, VC_CONTEXT_V2, type Credential, type IssueCredentialInput, type IssuedCredential } from './types.js';

const DID = /^did:[a-z0-9]+:[A-Za-z0-9._%:-]+$/;
const TYPE = /^[A-Za-z][A-Za-z0-9]{0,63}$/;
const RESERVED = new Set(['id']);
/**
 * Properties issueCredential writes from its own inputs: `extra` must not
 * replace them, or the signed credential would say something other than the
 * call (another issuer, no VerifiableCredential type, a validUntil before
 * validFrom). The VCDM 1.1 names are there for the vc-jwt-1.1 format, where
 * nbf and exp carry the dates.
 */
const CORE = new Set(['@context', 'id', 'type', 'issuer', 'validFrom', 'validUntil', 'issuanceDate', 'expirationDate']);
/**
 * JWT claims the token's own (VC-JOSE-COSE §3.1.3 and VCDM 1.1 §6.3.1): set from the call or never, so an
 * `extra` one would sign a token its verifier refuses (another iss or sub, a `vc` in a vc+jwt, a `cnf`).
 * nbf, exp and iat may be given, as NumericDates (RFC 7519 §2): they bound the credential as its dates do.
 */
const JWT_CLAIMS = new Set(['iss', 'sub', 'jti', 'vc', 'vp', 'cnf']);
const NUMERIC_DATES = ['nbf', 'exp', 'iat'] as const;

const nd = numericDate;

/** `extra` may add properties, and set credentialSubject / credentialSchema / credentialStatus only where the call leaves them open. */
function checkExtra(input: IssueCredentialInput): Record<string, unknown> {
  const extra = input.extra ?? {};
  const taken = Object.keys(extra).filter(
    (k) =>
      CORE.has(k) ||
      JWT_CLAIMS.has(k) ||
      // A subject the call does not describe (a status list's `<url>#list`) replaces subject and claims only when claims is empty.
      (k === 'credentialSubject' && Object.keys(input.claims).length > 0) ||
      (k === 'credentialSchema' && input.credentialSchema !== undefined) ||
      (k === 'credentialStatus' && input.credentialStatus !== undefined),
  );
  const notDates = NUMERIC_DATES.filter((k) => extra[k] !== undefined && !(typeof extra[k] === 'number' && Number.isSafeInteger(extra[k]) && (extra[k] as number) >= 0));
  if (notDates.length > 0) throw new CharterError('INVALID_ARGUMENT', `extra "${notDates[0]}" must be a NumericDate (whole seconds since 1970, RFC 7519 §2)`);
  if (taken.length > 0) {
    throw new CharterError(
      'INVALID_ARGUMENT',
      `extra must not set ${taken
        .slice(0, 3)
        .map((k) => `"${k.slice(0, 40)}"`)
        .join(', ')}: pass it as its own input`,
    );
  }
  return extra;
}

/**
 * Signs a credential. `vc+jwt` (default): the VCDM 2.0 credential is the JWS
 * payload (VC-JOSE-COSE §3.1.1). `vc-jwt-1.1`: the VCDM 1.1 JWT encoding that
 * did-jwt-vc and Veramo read (`vc` claim plus iss, sub, nbf, exp, jti).
 * The subject is checked against its schema before signing.
 */
export async function issueCredential(input: IssueCredentialInput): Promise<IssuedCredential> {
  const { issuer } = input;
  if (!DID.test(input.subject)) throw new CharterError('INVALID_ARGUMENT', `subject must be a DID, got "${shown(input.subject, 60)}"`);
  const types = Array.isArray(input.type) ? input.type : [input.type];
  if (types.length === 0 || types.some((t) => !TYPE.test(t))) throw new CharterError('INVALID_ARGUMENT', 'credential types must be alphanumeric names such as EmailCredential');
  if (Object.keys(input.claims).some((k) => RESERVED.has(k))) throw new CharterError('INVALID_ARGUMENT', 'claims must not set "id": the subject is given separately');
  if (input.id !== undefined && !isUrl(input.id)) throw new CharterError('INVALID_ARGUMENT', 'id must be an absolute URL (such as urn:uuid:…), VCDM 2.0 §4.4');
  const extra = checkExtra(input);
  // Compared as signed (whole seconds): .100 and .900 of one second are the same instant on the wire.
  const validFrom = signedDate(input.validFrom, 'validFrom') ?? signedDate(new Date(), 'now')!;
  const validUntil = signedDate(input.validUntil, 'validUntil');
  if (validUntil && validUntil.getTime() <= validFrom.getTime()) {
    throw new CharterError('INVALID_ARGUMENT', 'validUntil must be at least a second after validFrom');
  }
  const id = input.id ?? `urn:uuid:${randomUUID()}`;
  const format = input.format ?? 'vc+jwt';
  const credential: Credential = {
    '@context': [format === 'vc+jwt' ? VC_CONTEXT_V2 : VC_CONTEXT_V1],
    id,
    type: ['VerifiableCredential', ...types.filter((t) => t !== 'VerifiableCredential')],
    issuer: issuer.did,
    validFrom: validFrom.toISOString(),
    ...(validUntil ? { validUntil: validUntil.toISOString() } : {}),
    credentialSubject: { id: input.subject, ...input.claims },
    ...(input.credentialSchema ? { credentialSchema: input.credentialSchema } : {}),
    ...(input.credentialStatus ? { credentialStatus: input.credentialStatus } : {}),
    ...extra,
  };
  // Never sign what verification refuses (an empty subject, an evidence without a type, …).
  try {
    // As serialised: a claim set to undefined is not signed, and a Date is signed as its string.
    checkShape(JSON.parse(JSON.stringify(credential)) as Record<string, unknown>, format === 'vc+jwt' ? VC_CONTEXT_V2 : VC_CONTEXT_V1);
  } catch (e) {
    throw isCharterError(e) ? new CharterError('INVALID_ARGUMENT', e.message) : e;
  }
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
    ...(validUntil ? { exp: nd(validUntil) } : {}),
  };
  const jwt = await signJwt({ typ: 'JWT' }, payload, issuer.signer, issuer.kid);
  return { id, jwt, credential, format };
}
