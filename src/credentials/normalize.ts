import { CharterError, type Reason, shown } from '../errors.js';
import { VC_CONTEXT_V1, VC_CONTEXT_V2, type Credential, type CredentialFormat, type CredentialSubject } from './types.js';
import { replicatedClaimConflicts, type DecodedJwt } from './jws.js';
import { isMediaType } from './media.js';
import { contextProblem, extensionProblem, isObj, isUrl } from './shape.js';
import { soleSubject, subjectIds } from './subjects.js';
import { earliest, latest, readDateTime, readNumericDates, type Bounds } from './time.js';

export interface Normalized {
  format: CredentialFormat;
  credential: Credential;
  issuer: string;
  /** The sole subject's id; undefined when there are several subjects or it has none. */
  subject: string | undefined;
  subjects: string[];
  /** Every time bound the token carries, the strictest of each kind (ms). */
  bounds: Bounds;
  /** The JWT `aud` claim as a list, when the token has one: only a verifier it names may accept it. */
  audience?: string[];
  /**
   * Refusals found while reading that still leave issuer and shape known, so
   * verification goes on to check the signature and reports them all.
   */
  problems: Reason[];
}

const bad = (message: string) => new CharterError('INVALID_CREDENTIAL', message);

function issuerId(issuer: unknown): string {
  // VCDM 2.0 "Issuer": a URL, or an object whose `id` is one; Charter resolves DIDs only.
  const id = typeof issuer === 'string' ? issuer : isObj(issuer) ? issuer.id : undefined;
  if (typeof id !== 'string' || !id.startsWith('did:')) throw bad('the credential issuer must be a DID');
  return id;
}

/** VCDM 2.0 "Types": one type or several; a credential's include VerifiableCredential. */
function typesOf(type: unknown): string[] {
  const types = typeof type === 'string' ? [type] : type;
  // VCDM 2.0 §4.5: each type a term or an absolute URL: an empty string is neither.
  if (!Array.isArray(types) || !types.includes('VerifiableCredential') || types.some((t) => typeof t !== 'string' || t === '')) {
    throw bad('type must include VerifiableCredential (one string or an array of strings)');
  }
  return types as string[];
}

/**
 * VCDM 2.0 §4.8 "Credential Subject": one subject object or a non-empty set of them, each the
 * subject of at least one claim (an empty object states nothing; an id alone still names who);
 * an id, when present, is a URL (§4.4).
 */
function checkSubjects(s: unknown): CredentialSubject | CredentialSubject[] {
  const list = Array.isArray(s) ? s : [s];
  if (list.length === 0 || !list.every(isObj)) throw bad('credentialSubject must be an object or a non-empty array of objects');
  if (list.some((x) => Object.keys(x).length === 0)) throw bad('each credentialSubject must hold at least one claim or an id');
  if (list.some((x) => x.id !== undefined && !isUrl(x.id))) throw bad('a credentialSubject id must be an absolute URL, such as a DID');
  return s as CredentialSubject | CredentialSubject[];
}

/** The shape every credential must have; returns a copy with `type` as an array. */
export function checkShape(c: Record<string, unknown>, context: typeof VC_CONTEXT_V1 | typeof VC_CONTEXT_V2): Credential {
  const ctxProblem = contextProblem(c['@context'], context);
  if (ctxProblem !== undefined) throw bad(ctxProblem);
  const type = typesOf(c.type);
  const credentialSubject = checkSubjects(c.credentialSubject);
  if (c.id !== undefined && !isUrl(c.id)) throw bad('the credential id must be an absolute URL (such as urn:uuid:…)');
  const problem = extensionProblem(c, context === VC_CONTEXT_V2);
  if (problem !== undefined) throw bad(problem);
  return { ...c, type, credentialSubject } as Credential;
}

/**
 * RFC 7519 §4.1.3: `aud` is one string or an array of strings. A malformed
 * one is a problem (the token then names no verifier it can be accepted by).
 */
function audienceOf(payload: Record<string, unknown>, problems: Reason[]): string[] | undefined {
  if (!Object.hasOwn(payload, 'aud')) return undefined;
  const a = payload.aud;
  if (typeof a === 'string') return [a];
  if (Array.isArray(a) && a.every((x) => typeof x === 'string')) return a as string[];
  problems.push({ code: 'INVALID_CREDENTIAL', message: 'the JWT "aud" claim must be a string or an array of strings (RFC 7519 §4.1.3)' });
  return undefined;
}

/** validFrom and validUntil: strict date-times, in order (VCDM 2.0 "Validity Period"). */
function validity(c: Record<string, unknown>, problems: Reason[], from = 'validFrom', until = 'validUntil'): Bounds {
  const f = readDateTime(c, from, 'INVALID_CREDENTIAL', problems);
  const u = readDateTime(c, until, 'INVALID_CREDENTIAL', problems);
  if (f !== undefined && u !== undefined && f > u) problems.push({ code: 'INVALID_CREDENTIAL', message: `${from} is later than ${until}` });
  return { ...(f !== undefined ? { from: f } : {}), ...(u !== undefined ? { until: u } : {}) };
}

/** `sub` must name the subject (or, with several, one of them): VC-JOSE-COSE §3.1.3 pairs sub with credentialSubject.id. */
function checkSub(sub: unknown, credential: Credential, problems: Reason[]): void {
  if (sub === undefined) return;
  const sole = soleSubject(credential);
  const ok = typeof sub === 'string' && (sole !== undefined ? sole.id === sub : subjectIds(credential).includes(sub));
  if (!ok) problems.push({ code: 'INVALID_CREDENTIAL', message: 'the JWT "sub" claim names another subject than credentialSubject' });
}

function done(d: DecodedJwt, format: CredentialFormat, credential: Credential, issuer: string, bounds: Bounds, problems: Reason[]): Normalized {
  for (const k of replicatedClaimConflicts(d)) problems.push({ code: 'INVALID_CREDENTIAL', message: `the header parameter "${k}" differs from the JWT claim (RFC 7519 §5.3)` });
  // RFC 7800: the issuer bound the credential to a key only its holder may present with. Charter checks that
  // binding for SD-JWT VCs (the key binding JWT), not for JWT credentials: one that asks for it is refused, never
  // accepted from any holder as if it said nothing.
  if (Object.hasOwn(d.payload, 'cnf')) {
    problems.push({
      code: 'UNKNOWN_CONSTRAINT',
      message: 'the credential is bound to a key ("cnf", RFC 7800), which Charter checks for SD-JWT VCs only: present it as an SD-JWT VC',
    });
  }
  const audience = audienceOf(d.payload, problems);
  return {
    format,
    credential,
    issuer,
    subject: soleSubject(credential)?.id,
    subjects: subjectIds(credential),
    bounds,
    ...(audience !== undefined ? { audience } : {}),
    problems,
  };
}

/**
 * `vc+jwt` (VC-JOSE-COSE §3.1.1): the payload is the credential itself. The
 * JWT claims must not contradict it (§3.1.3: iss/issuer, jti/id,
 * sub/credentialSubject.id are the same entities; `vc` and `vp` MUST NOT be
 * present), since a JWT library reading the claims and a VC library reading
 * the properties would otherwise see two different credentials.
 */
function readV2(d: DecodedJwt): Normalized {
  const { header, payload } = d;
  const problems: Reason[] = [];
  if (header.cty !== undefined && !isMediaType(header.cty, 'vc')) problems.push({ code: 'INVALID_TYP', message: 'cty must be "vc" when present' });
  for (const claim of ['vc', 'vp']) {
    if (Object.hasOwn(payload, claim)) problems.push({ code: 'INVALID_CREDENTIAL', message: `a vc+jwt must not carry a "${claim}" claim (VC-JOSE-COSE §3.1.3)` });
  }
  const credential = checkShape(payload, VC_CONTEXT_V2);
  const issuer = issuerId(credential.issuer);
  if (payload.iss !== undefined && payload.iss !== issuer) problems.push({ code: 'INVALID_CREDENTIAL', message: 'the JWT "iss" claim names another issuer than the credential' });
  if (payload.jti !== undefined && (typeof payload.jti !== 'string' || (credential.id !== undefined && payload.jti !== credential.id))) {
    problems.push({ code: 'INVALID_CREDENTIAL', message: 'the JWT "jti" claim differs from the credential id' });
  }
  checkSub(payload.sub, credential, problems);
  const t = readNumericDates(payload, 'INVALID_CREDENTIAL', problems);
  const v = validity(payload, problems);
  const bounds = { from: latest(v.from, t.nbf), until: earliest(v.until, t.exp), iat: t.iat };
  return done(d, 'vc+jwt', credential, issuer, bounds, problems);
}

/**
 * A VCDM 1.1 JWT carries the credential in `vc`, with iss/sub/nbf/exp/jti
 * standing for issuer, subject id, validity and id (VC Data Model 1.1
 * §6.3.1). Where both a claim and its property are present they must agree,
 * and every date bound in either place applies.
 */
const V2_BODY = ['@context', 'type', 'issuer', 'credentialSubject', 'validFrom', 'validUntil', 'credentialStatus', 'credentialSchema'] as const;

function readV1(d: DecodedJwt): Normalized {
  const { payload } = d;
  const vc = payload.vc as Record<string, unknown>;
  const problems: Reason[] = [];
  if (Object.hasOwn(payload, 'vp')) problems.push({ code: 'INVALID_CREDENTIAL', message: 'a credential JWT must not carry a "vp" claim' });
  // One token, one credential: a second one beside `vc` (a VCDM 2.0 body at the top level, with its own
  // issuer, subject or dates) would be read by some verifiers and ignored by others (as vc+jwt refuses `vc`).
  // did-jwt-vc moves an issuer object's id to `iss` and leaves its other properties (a name) in a
  // top-level `issuer`: that names no second issuer, so it is read as the issuer's description.
  const leftover = isObj(payload.issuer) && !Object.hasOwn(payload.issuer, 'id') && !isObj(vc.issuer) ? payload.issuer : undefined;
  for (const k of V2_BODY)
    if (Object.hasOwn(payload, k) && !(k === 'issuer' && leftover))
      problems.push({ code: 'INVALID_CREDENTIAL', message: `a VCDM 1.1 JWT carries its credential in "vc", not also a top-level "${k}"` });
  const iss = payload.iss;
  if (typeof iss !== 'string') throw bad('a VCDM 1.1 JWT needs "iss"');
  if (vc.issuer !== undefined && (typeof vc.issuer === 'string' ? vc.issuer : isObj(vc.issuer) ? vc.issuer.id : undefined) !== iss) {
    throw bad('vc.issuer and iss disagree');
  }
  if (payload.jti !== undefined && (typeof payload.jti !== 'string' || (vc.id !== undefined && vc.id !== payload.jti))) {
    problems.push({ code: 'INVALID_CREDENTIAL', message: 'the JWT "jti" claim differs from vc.id' });
  }
  let subject = vc.credentialSubject;
  // §6.3.1: `sub` is the id of the (single) subject.
  if (isObj(subject) && typeof payload.sub === 'string') {
    if (subject.id !== undefined && subject.id !== payload.sub) problems.push({ code: 'INVALID_CREDENTIAL', message: 'the JWT "sub" claim differs from credentialSubject.id' });
    subject = { ...subject, id: payload.sub };
  }
  const t = readNumericDates(payload, 'INVALID_CREDENTIAL', problems);
  // VCDM 1.1 "Issuance Date" and "Expiration": issuanceDate is when the credential becomes valid, expirationDate when it ceases to be.
  const v1 = validity(vc, problems, 'issuanceDate', 'expirationDate');
  const v2 = validity(vc, problems);
  const from = latest(t.nbf, v1.from, v2.from);
  const until = earliest(t.exp, v1.until, v2.until);
  const id = typeof payload.jti === 'string' ? payload.jti : vc.id;
  const credential = checkShape(
    {
      ...vc,
      ...(id !== undefined ? { id } : {}),
      issuer: leftover ? { ...leftover, id: iss } : iss,
      credentialSubject: subject,
      ...(from !== undefined ? { validFrom: new Date(from).toISOString() } : {}),
      ...(until !== undefined ? { validUntil: new Date(until).toISOString() } : {}),
    },
    VC_CONTEXT_V1,
  );
  if (!(isObj(vc.credentialSubject) && typeof payload.sub === 'string')) checkSub(payload.sub, credential, problems);
  return done(d, 'vc-jwt-1.1', credential, issuerId(iss), { from, until, iat: t.iat }, problems);
}

/**
 * Maps a decoded JWT to the VCDM 2.0 shape. Throws CharterError when the
 * token is not a credential Charter can attribute to an issuer (wrong typ,
 * broken shape, issuer not a DID); claim conflicts and malformed time claims
 * come back as `problems`.
 */
export function normalizeCredential(d: DecodedJwt, acceptV1: boolean): Normalized {
  const { header, payload } = d;
  // VC-JOSE-COSE §3.1.1: typ SHOULD be vc+jwt, so a token without one is still a credential when it is one
  // (readV2 checks the VCDM 2.0 shape and refuses `vc`/`vp` claims); a typ naming anything else is not.
  if (isMediaType(header.typ, 'vc+jwt') || (header.typ === undefined && !isObj(payload.vc))) return readV2(d);
  if ((header.typ === undefined || isMediaType(header.typ, 'jwt')) && isObj(payload.vc)) {
    if (!acceptV1) throw new CharterError('INVALID_TYP', 'VCDM 1.1 JWT credentials are not accepted here');
    return readV1(d);
  }
  throw new CharterError('INVALID_TYP', `typ "${shown(header.typ, 20)}" is not a credential (expected vc+jwt)`);
}
