import { randomUUID } from 'node:crypto';
import { CharterError, toReason, type Reason, shown } from '../errors.js';
import { decodeJwt, replicatedClaimConflicts, signJwt, type DecodedJwt } from './jws.js';
import { isMediaType } from './media.js';
import { contextProblem, isObj, isTypeValue, isUrl } from './shape.js';
import { earliest, latest, maxAgeOf, nowOf, readDateTime, readNumericDates, skewOf, windowReasons, type Bounds } from './time.js';
import { checkJwtSignature, CREDENTIAL_OPTIONS, verifyCredential } from './verify.js';
import { readOptions, type OptionSpec } from '../encoding/options.js';
import { VC_CONTEXT_V1, VC_CONTEXT_V2, type CreatePresentationInput, type CredentialVerification, type PresentationVerification, type VerifyPresentationOptions } from './types.js';

/** VC-JOSE-COSE §3.2: credentials inside a vp+jwt are enveloped as data: URLs. */
const ENVELOPE_PREFIX = 'data:application/vc+jwt,';
const MAX_CREDENTIALS = 32;
const MAX_VP = 512 * 1024;

export async function createPresentation(input: CreatePresentationInput): Promise<string> {
  const { holder } = input;
  if (typeof input.aud !== 'string' || input.aud.length === 0) throw new CharterError('INVALID_ARGUMENT', 'a presentation needs an audience');
  if (input.credentials.length > MAX_CREDENTIALS) throw new CharterError('INVALID_ARGUMENT', `at most ${MAX_CREDENTIALS} credentials per presentation`);
  const ttl = input.expiresInSeconds ?? 300;
  if (!Number.isFinite(ttl) || ttl <= 0) throw new CharterError('INVALID_ARGUMENT', 'expiresInSeconds must be positive');
  const iat = Math.floor(Date.now() / 1000);
  const claims = {
    aud: input.aud,
    ...(input.nonce !== undefined ? { nonce: input.nonce } : {}),
    iat,
    exp: iat + Math.ceil(ttl),
    jti: `urn:uuid:${randomUUID()}`,
    ...(input.claims ?? {}),
  };
  if (input.format === 'vp-jwt-1.1') {
    const vp = { '@context': [VC_CONTEXT_V1], type: ['VerifiablePresentation'], verifiableCredential: input.credentials };
    return signJwt({ typ: 'JWT' }, { vp, iss: holder.did, nbf: iat, ...claims }, holder.signer, holder.kid);
  }
  const vp = {
    '@context': [VC_CONTEXT_V2],
    type: ['VerifiablePresentation'],
    holder: holder.did,
    verifiableCredential: input.credentials.map((jwt) => ({ '@context': [VC_CONTEXT_V2], id: ENVELOPE_PREFIX + jwt, type: 'EnvelopedVerifiableCredential' })),
  };
  return signJwt({ typ: 'vp+jwt', cty: 'vp' }, { ...vp, ...claims }, holder.signer, holder.kid);
}

const badVp = (message: string) => new CharterError('INVALID_PRESENTATION', message);
/** `id` of a holder given as a string or (VCDM 2.0 "Verifiable Presentations") as an object with an id. */
const idOf = (v: unknown): unknown => (isObj(v) ? v.id : v);
const hasType = (type: unknown, t: string) => type === t || (Array.isArray(type) && type.includes(t));

const ENVELOPE_MEMBERS = new Set(['@context', 'id', 'type']);

/**
 * An EnvelopedVerifiableCredential (VCDM 2.0 §4.13.1) of a vc+jwt: @context
 * (the v2 context, alone as a string or first in an array), type exactly
 * EnvelopedVerifiableCredential, id a data:application/vc+jwt URL (the media
 * type compares case-insensitively), and nothing else: a claim beside the
 * envelope is signed by the holder, not the issuer, and some readers would
 * take it for the credential's.
 */
function envelopedJwt(e: unknown): string {
  const fail = () => badVp('each credential must be an EnvelopedVerifiableCredential with a data:application/vc+jwt URL');
  if (!isObj(e)) throw fail();
  const ctx = e['@context'];
  if (ctx !== VC_CONTEXT_V2 && contextProblem(ctx, VC_CONTEXT_V2) !== undefined) throw badVp(`an EnvelopedVerifiableCredential needs the @context ${VC_CONTEXT_V2}`);
  const type = Array.isArray(e.type) && e.type.length === 1 ? e.type[0] : e.type;
  if (type !== 'EnvelopedVerifiableCredential' || typeof e.id !== 'string' || e.id.slice(0, ENVELOPE_PREFIX.length).toLowerCase() !== ENVELOPE_PREFIX) throw fail();
  if (Object.keys(e).some((k) => !ENVELOPE_MEMBERS.has(k))) throw badVp('an EnvelopedVerifiableCredential holds only @context, id and type');
  return e.id.slice(ENVELOPE_PREFIX.length);
}

interface Unwrapped {
  holder: string;
  credentials: string[];
  /** vp+jwt (VCDM 2.0) or a VCDM 1.1 VP JWT. */
  v2: boolean;
  problems: Reason[];
  bounds: Bounds;
}

/** The holder DID and the credential JWTs of a vp+jwt or a VCDM 1.1 VP JWT. */
function unwrap(d: DecodedJwt): Unwrapped {
  const p = d.payload;
  const problems: Reason[] = [];
  let holder: unknown;
  let list: unknown;
  let bounds: Bounds = {};
  const v2 = isMediaType(d.header.typ, 'vp+jwt');
  if (v2) {
    if (d.header.cty !== undefined && !isMediaType(d.header.cty, 'vp')) problems.push({ code: 'INVALID_TYP', message: 'cty must be "vp" when present' });
    // VC-JOSE-COSE §3.1.3: the JWT claim names vc and vp MUST NOT be present.
    for (const claim of ['vc', 'vp']) {
      if (Object.hasOwn(p, claim)) problems.push({ code: 'INVALID_PRESENTATION', message: `a vp+jwt must not carry a "${claim}" claim (VC-JOSE-COSE §3.1.3)` });
    }
    const ctxProblem = contextProblem(p['@context'], VC_CONTEXT_V2);
    if (ctxProblem !== undefined) throw badVp(ctxProblem);
    if (!isTypeValue(p.type) || !hasType(p.type, 'VerifiablePresentation')) throw badVp('type must include VerifiablePresentation (one string or an array of strings)');
    if (p.id !== undefined && !isUrl(p.id)) throw badVp('the presentation id must be an absolute URL (such as urn:uuid:…)');
    // holder is optional in VCDM 2.0 §4.13; VC-JOSE-COSE §3.1.3: `iss`, when present, names the holder.
    // Either way the holder is a DID and signed the presentation (checked in verifyDecodedPresentation).
    holder = p.holder === undefined ? p.iss : idOf(p.holder);
    if (p.iss !== undefined && p.iss !== holder) problems.push({ code: 'INVALID_PRESENTATION', message: 'the JWT "iss" claim names another holder than the presentation' });
    const vc = p.verifiableCredential;
    list = (Array.isArray(vc) ? vc : vc === undefined ? [] : [vc]).map(envelopedJwt);
    // A presentation has no validity period in VCDM 2.0; if it states one anyway, it binds too.
    const f = readDateTime(p, 'validFrom', 'INVALID_PRESENTATION', problems);
    const u = readDateTime(p, 'validUntil', 'INVALID_PRESENTATION', problems);
    bounds = { from: f, until: u };
  } else if ((d.header.typ === undefined || isMediaType(d.header.typ, 'jwt')) && isObj(p.vp)) {
    if (Object.hasOwn(p, 'vc')) problems.push({ code: 'INVALID_PRESENTATION', message: 'a presentation JWT must not carry a "vc" claim' });
    // One token, one presentation: none beside `vp` at the top level (another holder, other credentials).
    for (const k of ['@context', 'type', 'holder', 'verifiableCredential']) {
      if (Object.hasOwn(p, k))
        problems.push({ code: 'INVALID_PRESENTATION', message: `a VCDM 1.1 presentation JWT carries its presentation in "vp", not also a top-level "${k}"` });
    }
    const ctxProblem = contextProblem(p.vp['@context'], VC_CONTEXT_V1);
    if (ctxProblem !== undefined) throw badVp(ctxProblem);
    // VCDM 1.1 §4.10: a presentation's type includes VerifiablePresentation, as in 2.0.
    if (!isTypeValue(p.vp.type) || !hasType(p.vp.type, 'VerifiablePresentation')) throw badVp('vp.type must include VerifiablePresentation (one string or an array of strings)');
    if (p.vp.id !== undefined && !isUrl(p.vp.id)) throw badVp('the presentation id must be an absolute URL (such as urn:uuid:…)');
    holder = p.iss;
    if (p.vp.holder !== undefined && idOf(p.vp.holder) !== p.iss) throw badVp('vp.holder and iss disagree');
    const vc = p.vp.verifiableCredential;
    list = Array.isArray(vc) ? vc : vc === undefined ? [] : [vc];
  } else {
    throw new CharterError('INVALID_TYP', `typ "${shown(d.header.typ, 20)}" is not a presentation (expected vp+jwt)`);
  }
  for (const k of replicatedClaimConflicts(d)) problems.push({ code: 'INVALID_PRESENTATION', message: `the header parameter "${k}" differs from the JWT claim (RFC 7519 §5.3)` });
  if (typeof holder !== 'string' || !holder.startsWith('did:')) throw badVp('the presentation holder must be a DID');
  if (!Array.isArray(list) || list.length > MAX_CREDENTIALS || list.some((c) => typeof c !== 'string')) {
    throw badVp(`a presentation carries at most ${MAX_CREDENTIALS} credentials, as JWTs`);
  }
  return { holder, credentials: list as string[], v2, problems, bounds };
}

/**
 * Verifies a presentation: the holder's authentication key signed it, it is
 * bound to this audience and nonce, fresh, and each credential verifies and
 * (unless allowed otherwise) is about the holder.
 */
export function verifyPresentation(jwt: string, options: VerifyPresentationOptions): Promise<PresentationVerification> {
  return verifyDecodedPresentation(jwt, undefined, options);
}

const { requireType: _requireType, ...CREDENTIAL_PART } = CREDENTIAL_OPTIONS;
/** What verifyPresentation reads (encoding/options.ts). */
const PRESENTATION_OPTIONS: OptionSpec<VerifyPresentationOptions> = {
  ...CREDENTIAL_PART,
  aud: true,
  nonce: true,
  allowMissingNonce: 'boolean',
  allowHolderMismatch: 'boolean',
  maxAgeSeconds: true,
};

/**
 * verifyPresentation for a caller that already decoded `jwt` (the guard
 * decodes a presentation to check its binding before any crypto): `decoded`
 * must be decodeJwt(jwt, { maxBytes: 512 KiB })'s result for these very
 * bytes, so the presentation is parsed once per request. Internal: not
 * exported from the package.
 */
export async function verifyDecodedPresentation(jwt: string, decoded: DecodedJwt | undefined, given: VerifyPresentationOptions): Promise<PresentationVerification> {
  const options = readOptions('verifyPresentation', given, PRESENTATION_OPTIONS);
  if (!options || typeof options.aud !== 'string') throw new TypeError('verifyPresentation needs options.aud');
  if (options.nonce === undefined && options.allowMissingNonce !== true) throw new TypeError('verifyPresentation needs options.nonce (or allowMissingNonce)');
  const skewMs = skewOf(options.skewSeconds) * 1000;
  const maxAgeMs = maxAgeOf(options.maxAgeSeconds) * 1000;
  const now = nowOf(options.now, 'verifyPresentation').getTime();
  let d: DecodedJwt;
  let u: Unwrapped;
  try {
    d = decoded ?? decodeJwt(jwt, { maxBytes: MAX_VP });
    u = unwrap(d);
  } catch (e) {
    return { ok: false, reasons: [toReason(e, 'MALFORMED_JWT')], credentials: [], jwt };
  }
  const p = d.payload;
  const reasons: Reason[] = await checkJwtSignature(d, u.holder, options.resolver, 'authentication');
  reasons.push(...u.problems);
  // acceptV1: false refuses VCDM 1.1 presentations as it refuses 1.1 credentials.
  if (!u.v2 && options.acceptV1 === false) reasons.push({ code: 'INVALID_TYP', message: 'VCDM 1.1 JWT presentations are not accepted here (send a vp+jwt)' });
  const aud = p.aud;
  if (!(aud === options.aud || (Array.isArray(aud) && aud.length === 1 && aud[0] === options.aud))) {
    reasons.push({ code: 'AUDIENCE_MISMATCH', message: 'the presentation is meant for another audience' });
  }
  if (options.nonce !== undefined && p.nonce !== options.nonce) reasons.push({ code: 'NONCE_MISMATCH', message: 'the presentation answers another nonce' });
  // A present nbf, exp or iat of the wrong type refuses the presentation (RFC 7519 §4.1.4-6).
  const t = readNumericDates(p, 'INVALID_PRESENTATION', reasons);
  const malformedIat = Object.hasOwn(p, 'iat') && t.iat === undefined;
  // VCDM 1.1 VP JWTs (did-jwt-vc) may carry only nbf as the issuance time.
  const iat = t.iat ?? (u.v2 || malformedIat ? undefined : t.nbf);
  // did-jwt-vc writes VCDM 1.1 VPs with no time claim; there the matched nonce alone proves freshness.
  const legacyNonceBound = !u.v2 && options.nonce !== undefined;
  if (iat === undefined && !legacyNonceBound && !malformedIat) reasons.push({ code: 'INVALID_PRESENTATION', message: 'the presentation has no "iat"' });
  else if (iat !== undefined && now - iat > maxAgeMs + skewMs) {
    reasons.push({ code: 'PRESENTATION_STALE', message: 'the presentation is too old' });
  }
  const bounds = { from: latest(u.bounds.from, t.nbf), until: earliest(u.bounds.until, t.exp), iat };
  // One meaning per code: a presentation out of its time window is stale (or from the future), not an expired credential.
  const presentationCode = { CREDENTIAL_EXPIRED: 'PRESENTATION_STALE', CREDENTIAL_NOT_YET_VALID: 'ISSUED_IN_FUTURE' } as const;
  for (const r of windowReasons(now, skewMs, bounds, 'the presentation')) {
    reasons.push({ ...r, code: presentationCode[r.code as keyof typeof presentationCode] ?? r.code });
  }

  const { holder } = u;
  // A vp+jwt carries its credentials in data:application/vc+jwt envelopes, and that media type is a
  // VCDM 2.0 credential (VC-JOSE-COSE §3.1.1, §3.2): a VCDM 1.1 JWT inside one is refused.
  // The credential options only (verifyCredential refuses keys it does not know).
  const { nonce: _n, allowMissingNonce: _m, allowHolderMismatch: _h, maxAgeSeconds: _a, ...credentialOptions } = options;
  const each = u.v2 ? { ...credentialOptions, acceptV1: false } : credentialOptions;
  const credentials: CredentialVerification[] = await Promise.all(u.credentials.map((c) => verifyCredential(c, each)));
  credentials.forEach((c, i) => {
    const ref = c.id ?? `credential ${i}`;
    for (const r of c.reasons) reasons.push({ ...r, ref });
    // With several subjects, the holder must be one of them.
    if (options.allowHolderMismatch !== true && c.credential !== undefined && !(c.subjects ?? []).includes(holder)) {
      reasons.push({ code: 'HOLDER_MISMATCH', message: 'the credential is about someone other than the holder', ref });
    }
  });
  return { ok: reasons.length === 0, reasons, holder, payload: p, credentials, jwt };
}
