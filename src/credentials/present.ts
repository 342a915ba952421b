import { randomUUID } from 'node:crypto';
import { CharterError, toReason, type Reason } from '../errors.js';
import { decodeJwt, signJwt, type DecodedJwt } from './jws.js';
import { DEFAULT_MAX_AGE_SECONDS, skewOf, windowReasons } from './time.js';
import { checkJwtSignature, verifyCredential } from './verify.js';
import {
  VC_CONTEXT_V1,
  VC_CONTEXT_V2,
  type CreatePresentationInput,
  type CredentialVerification,
  type PresentationVerification,
  type VerifyPresentationOptions,
} from './types.js';

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
  const claims = { aud: input.aud, ...(input.nonce !== undefined ? { nonce: input.nonce } : {}), iat, exp: iat + Math.ceil(ttl), jti: `urn:uuid:${randomUUID()}`, ...(input.claims ?? {}) };
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

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The holder DID and the credential JWTs of a vp+jwt or a VCDM 1.1 VP JWT. */
function unwrap(d: DecodedJwt): { holder: string; credentials: string[] } {
  const p = d.payload;
  let holder: unknown;
  let list: unknown;
  if (d.header.typ === 'vp+jwt') {
    if (!Array.isArray(p['@context']) || p['@context'][0] !== VC_CONTEXT_V2) throw new CharterError('INVALID_PRESENTATION', `@context must start with ${VC_CONTEXT_V2}`);
    holder = p.holder;
    list = (Array.isArray(p.verifiableCredential) ? p.verifiableCredential : p.verifiableCredential === undefined ? [] : [p.verifiableCredential]).map((e: unknown) => {
      if (!isObj(e) || e.type !== 'EnvelopedVerifiableCredential' || typeof e.id !== 'string' || !e.id.startsWith(ENVELOPE_PREFIX)) {
        throw new CharterError('INVALID_PRESENTATION', 'each credential must be an EnvelopedVerifiableCredential with a data:application/vc+jwt URL');
      }
      return e.id.slice(ENVELOPE_PREFIX.length);
    });
  } else if ((d.header.typ === undefined || d.header.typ === 'JWT') && isObj(p.vp)) {
    holder = p.iss;
    if (p.vp.holder !== undefined && p.vp.holder !== p.iss) throw new CharterError('INVALID_PRESENTATION', 'vp.holder and iss disagree');
    const vc = p.vp.verifiableCredential;
    list = Array.isArray(vc) ? vc : vc === undefined ? [] : [vc];
  } else {
    throw new CharterError('INVALID_TYP', `typ "${String(d.header.typ).slice(0, 20)}" is not a presentation (expected vp+jwt)`);
  }
  if (typeof holder !== 'string' || !holder.startsWith('did:')) throw new CharterError('INVALID_PRESENTATION', 'the presentation holder must be a DID');
  if (!Array.isArray(list) || list.length > MAX_CREDENTIALS || list.some((c) => typeof c !== 'string')) {
    throw new CharterError('INVALID_PRESENTATION', `a presentation carries at most ${MAX_CREDENTIALS} credentials, as JWTs`);
  }
  return { holder, credentials: list as string[] };
}

/**
 * Verifies a presentation: the holder's authentication key signed it, it is
 * bound to this audience and nonce, fresh, and each credential verifies and
 * (unless allowed otherwise) is about the holder.
 */
export async function verifyPresentation(jwt: string, options: VerifyPresentationOptions): Promise<PresentationVerification> {
  if (!options || typeof options.aud !== 'string') throw new TypeError('verifyPresentation needs options.aud');
  if (options.nonce === undefined && !options.allowMissingNonce) throw new TypeError('verifyPresentation needs options.nonce (or allowMissingNonce)');
  const skewMs = skewOf(options.skewSeconds) * 1000;
  const now = (options.now ?? new Date()).getTime();
  let d: DecodedJwt;
  let u: ReturnType<typeof unwrap>;
  try {
    d = decodeJwt(jwt, { maxBytes: MAX_VP });
    u = unwrap(d);
  } catch (e) {
    return { ok: false, reasons: [toReason(e, 'MALFORMED_JWT')], credentials: [], jwt };
  }
  const p = d.payload;
  const reasons: Reason[] = await checkJwtSignature(d, u.holder, options.resolver, 'authentication');
  const aud = p.aud;
  if (!(aud === options.aud || (Array.isArray(aud) && aud.length === 1 && aud[0] === options.aud))) {
    reasons.push({ code: 'AUDIENCE_MISMATCH', message: 'the presentation is meant for another audience' });
  }
  if (options.nonce !== undefined && p.nonce !== options.nonce) reasons.push({ code: 'NONCE_MISMATCH', message: 'the presentation answers another nonce' });
  const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v * 1000 : undefined);
  // VCDM 1.1 VP JWTs (did-jwt-vc) may carry only nbf as the issuance time.
  const iat = num(p.iat) ?? (d.header.typ === 'vp+jwt' ? undefined : num(p.nbf));
  // did-jwt-vc writes VCDM 1.1 VPs with no time claim; there the matched nonce alone proves freshness.
  const legacyNonceBound = d.header.typ !== 'vp+jwt' && options.nonce !== undefined;
  if (iat === undefined && !legacyNonceBound) reasons.push({ code: 'INVALID_PRESENTATION', message: 'the presentation has no "iat"' });
  else if (iat !== undefined && now - iat > (options.maxAgeSeconds ?? DEFAULT_MAX_AGE_SECONDS) * 1000 + skewMs) {
    reasons.push({ code: 'PRESENTATION_STALE', message: 'the presentation is too old' });
  }
  for (const r of windowReasons(now, skewMs, { from: num(p.nbf), until: num(p.exp), iat }, 'the presentation')) reasons.push(r);

  const { holder } = u;
  const credentials: CredentialVerification[] = await Promise.all(u.credentials.map((c) => verifyCredential(c, options)));
  credentials.forEach((c, i) => {
    const ref = c.id ?? `credential ${i}`;
    for (const r of c.reasons) reasons.push({ ...r, ref });
    if (!options.allowHolderMismatch && c.credential !== undefined && c.subject !== holder) {
      reasons.push({ code: 'HOLDER_MISMATCH', message: 'the credential is about someone other than the holder', ref });
    }
  });
  return { ok: reasons.length === 0, reasons, holder, payload: p, credentials, jwt };
}
