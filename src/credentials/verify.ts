import { readOptions, type OptionSpec } from '../encoding/options.js';
import { CharterError, toReason, type Reason } from '../errors.js';
import { deepFreeze } from '../encoding/json.js';
import { verifySignatureAsync } from '../keys/index.js';
import type { CharterResolver, VerificationRelationship } from '../did/types.js';
import { TtlCache } from '../did/cache.js';
import { decodeJwt, type DecodedJwt } from './jws.js';
import { normalizeCredential } from './normalize.js';
import { defaultSchemaChecker } from './schemas.js';
import { nowOf, skewOf, windowReasons } from './time.js';
import type { CredentialVerification, StatusReport, VerifyCredentialOptions } from './types.js';

/**
 * Checks a JWS signature against the signer's DID: the `kid` must belong to
 * `did` and be authorized for `relationship`, and `alg` must be the one the
 * key type signs with. Returns refusals (empty when valid). With `jwt`, the
 * very compact JWS `d` was decoded from, a signature already verified with
 * the same resolved key is not verified again (the memo below).
 */
export function checkJwtSignature(d: DecodedJwt, did: string, resolver: CharterResolver, relationship: VerificationRelationship, jwt?: string): Promise<Reason[]> {
  return checkSignature(d, did, resolver, relationship, jwt);
}

/**
 * checkJwtSignature, memoised when `memoKey` is given: it must be the very
 * compact JWS `d` was decoded from (verifyCredential passes its input), so
 * the memo never records a string other than the one verified.
 */
async function checkSignature(d: DecodedJwt, did: string, resolver: CharterResolver, relationship: VerificationRelationship, memoKey?: string): Promise<Reason[]> {
  let key;
  try {
    key = await resolver.resolveKey(did, d.header.kid, relationship);
  } catch (e) {
    return [toReason(e, 'DID_RESOLUTION_FAILED')];
  }
  // A resolver of the caller's own that answers without a key resolved nothing (503: retry), never a crash.
  if (typeof key !== 'object' || key === null) return [{ code: 'DID_RESOLUTION_FAILED', message: `the resolver gave no key for ${did.slice(0, 100)}` }];
  if (key.alg !== d.header.alg) {
    return [{ code: 'ALG_KEY_MISMATCH', message: `alg ${d.header.alg} does not fit the ${key.keyType} key ${key.id.slice(0, 100)}` }];
  }
  const memo = memoKey === undefined ? undefined : memoFor(key);
  if (memo?.get(memoKey!) === true) return [];
  if (!(await verifySignatureAsync(key, d.header.alg, d.signingInput, d.signature))) {
    return [{ code: 'INVALID_SIGNATURE', message: `the signature does not verify with ${key.id.slice(0, 100)}` }];
  }
  memo?.set(memoKey!, true);
  return [];
}

/**
 * Credentials whose signature already verified, per resolved key object. A
 * platform sees the same grant or mandate on every request while only the
 * presentation around it changes; this skips re-verifying the same bytes
 * with the same key. The key is the whole compact JWS (header, payload and
 * signature), so nothing altered can hit. Entries live only as long as the
 * resolver keeps that key cached: a re-resolved (rotated) key is a new object
 * with an empty memo, and a resolver without a cache never hits. Only the
 * signature is memoised; validity, schema and status are checked every time.
 */
const verifiedByKey = new WeakMap<object, TtlCache<string, true>>();
const MEMO_TTL_MS = 300_000;
const MEMO_MAX_PER_KEY = 1024;

function memoFor(key: object): TtlCache<string, true> {
  let m = verifiedByKey.get(key);
  if (m === undefined) verifiedByKey.set(key, (m = new TtlCache<string, true>(MEMO_TTL_MS, MEMO_MAX_PER_KEY)));
  return m;
}

/**
 * Credentials already decoded, normalised and schema-checked, by their exact
 * compact JWS. A platform sees the same grant or mandate chain on every
 * request; decoding (strict JSON, duplicate-key and UTF-8 checks) and the
 * JSON Schema are pure functions of those bytes, so they run once. The
 * cached objects are deep-frozen: no caller can change what the next
 * verification reads. Time, signature (memoised per key, above) and status
 * are checked on every call. Only credentials whose signature verified are kept.
 */
interface Parsed {
  d: DecodedJwt;
  n: ReturnType<typeof normalizeCredential>;
  /** Reasons of the default schema checker, for this acceptV1 setting. */
  schema: Reason[];
}
// One map per acceptV1 setting, keyed by the token exactly: a key built by prefixing the token
// ("v2only " + jwt) would let that very string, which is no JWS, hit the entry of the token it names.
const PARSED_MAX = 4096;
/** The JWT characters each map may hold (the objects parsed from them take some times more), and the most one entry may have. */
const PARSED_MAX_BYTES = 4 * 1024 * 1024;
const PARSED_MAX_ENTRY = 16 * 1024;
const parsedCaches = {
  v1: new TtlCache<string, Parsed>(Infinity, PARSED_MAX, Date.now, PARSED_MAX_BYTES),
  v2only: new TtlCache<string, Parsed>(Infinity, PARSED_MAX, Date.now, PARSED_MAX_BYTES),
};

function parse(jwt: string, acceptV1: boolean, once: boolean, maxBytes: number | undefined, decoded?: DecodedJwt): Parsed {
  const limit = maxBytes !== undefined ? { maxBytes } : {};
  if (once) {
    // Not shared with any other call, so nothing to freeze. A token decoded under the default limit
    // (verifyDecodedCredential) is decoded again only to hold it to a limit of this call's own.
    const d = decoded !== undefined && maxBytes === undefined ? decoded : decodeJwt(jwt, limit);
    const n = normalizeCredential(d, acceptV1);
    return { d, n, schema: defaultSchemaChecker()(n.credential) };
  }
  const parsedCache = acceptV1 ? parsedCaches.v1 : parsedCaches.v2only;
  const hit = parsedCache.get(jwt);
  // A hit was parsed under another call's limit: this call's own maxBytes still applies.
  if (hit && (maxBytes === undefined || jwt.length <= maxBytes)) return hit;
  const d = decodeJwt(jwt, limit);
  const n = normalizeCredential(d, acceptV1);
  return { d: { ...d, header: deepFreeze(d.header), payload: deepFreeze(d.payload) }, n: deepFreeze(n), schema: deepFreeze(defaultSchemaChecker()(n.credential)) };
}

/**
 * Keeps a parsed credential once its signature verified: a forgery (any bytes that decode, up to
 * 64 KiB and many times that as objects) must not take a place in the cache, or anyone could fill
 * 4,096 of them and exhaust the heap.
 */
function remember(jwt: string, acceptV1: boolean, parsed: Parsed): void {
  // A signature anyone can make (a did:key of their own) is no bar to junk: the cache is also bounded by
  // the bytes it holds, and a credential larger than a grant or mandate ever is is parsed each time.
  if (jwt.length > PARSED_MAX_ENTRY) return;
  const parsedCache = acceptV1 ? parsedCaches.v1 : parsedCaches.v2only;
  if (parsedCache.get(jwt) !== undefined) return;
  parsedCache.set(jwt, parsed, Infinity, jwt.length);
}

/** A status checker's answer: its reasons, or STATUS_UNAVAILABLE when a checker of the caller's own answers with no list. */
export function statusAnswer(r: unknown): Reason[] {
  if (Array.isArray(r)) return r as Reason[];
  return [{ code: 'STATUS_UNAVAILABLE', message: 'the status checker answered without a list of reasons' }];
}

/** What verifyCredential reads (encoding/options.ts: unknown keys and non-boolean flags are TypeErrors). */
export const CREDENTIAL_OPTIONS: OptionSpec<VerifyCredentialOptions> = {
  resolver: true,
  now: true,
  skewSeconds: true,
  status: true,
  schemas: true,
  acceptV1: 'boolean',
  requireType: true,
  aud: true,
  maxBytes: true,
  once: 'boolean',
};

/**
 * Verifies a credential JWT (VCDM 2.0 `vc+jwt`, or VCDM 1.1 JWT) and returns
 * a decision with every reason. Fails closed: a credential carrying a status
 * entry is refused unless a status checker is given and passes.
 */
export function verifyCredential(jwt: string, given: VerifyCredentialOptions): Promise<CredentialVerification> {
  return verify(jwt, given);
}

/**
 * verifyCredential of a token used once (`once: true`) that its caller has
 * already decoded, as `decodeJwt(jwt)` (the default size limit) returned it:
 * importAttestations reads the id an attestation claims from it, to skip
 * what it holds before any crypto, and need not decode it twice. Internal:
 * `decoded` must be that very result, not a copy or an edit of it.
 */
export function verifyDecodedCredential(jwt: string, decoded: DecodedJwt, given: VerifyCredentialOptions & { once: true }): Promise<CredentialVerification> {
  return verify(jwt, given, decoded);
}

async function verify(jwt: string, given: VerifyCredentialOptions, decoded?: DecodedJwt): Promise<CredentialVerification> {
  const options = readOptions('verifyCredential', given, CREDENTIAL_OPTIONS);
  if (!options || typeof options.resolver?.resolveKey !== 'function') throw new TypeError('verifyCredential needs options.resolver');
  for (const k of ['aud', 'requireType'] as const) if (options[k] !== undefined && typeof options[k] !== 'string') throw new TypeError(`verifyCredential: ${k} must be a string`);
  // Checked here, not where used: a wrong one would pass any credential that never reaches its use (no status entry).
  for (const k of ['status', 'schemas'] as const)
    if (options[k] !== undefined && typeof options[k] !== 'function') throw new TypeError(`verifyCredential: ${k} must be a function`);
  if (options.maxBytes !== undefined && !(Number.isSafeInteger(options.maxBytes) && options.maxBytes > 0))
    throw new TypeError('verifyCredential: maxBytes must be a positive whole number');
  const skewMs = skewOf(options.skewSeconds) * 1000;
  const now = nowOf(options.now, 'verifyCredential');
  let parsed: Parsed;
  try {
    parsed = parse(jwt, options.acceptV1 ?? true, options.once === true, options.maxBytes, decoded);
  } catch (e) {
    return { ok: false, reasons: [toReason(e, 'MALFORMED_JWT')], jwt };
  }
  const { d, n } = parsed;
  const { credential, issuer, subject, subjects, format } = n;
  const base = { issuer, ...(subject !== undefined ? { subject } : {}), subjects, credential, format, ...(credential.id !== undefined ? { id: credential.id } : {}), jwt };

  const reasons = await checkSignature(d, issuer, options.resolver, 'assertionMethod', options.once === true ? undefined : jwt);
  if (reasons.length === 0 && options.once !== true) remember(jwt, options.acceptV1 ?? true, parsed);
  reasons.push(...n.problems);
  reasons.push(...windowReasons(now.getTime(), skewMs, n.bounds, 'the credential'));
  // RFC 7519 §4.1.3: a processor not named in a present `aud` must reject the token.
  if (n.audience !== undefined && (options.aud === undefined || !n.audience.includes(options.aud))) {
    const message =
      options.aud === undefined ? 'the credential is meant for a named audience: pass aud (who this verifier is) to verify it' : 'the credential is meant for another audience';
    reasons.push({ code: 'AUDIENCE_MISMATCH', message });
  }
  reasons.push(...(options.schemas ? options.schemas(credential) : parsed.schema));
  if (options.requireType !== undefined && !credential.type.includes(options.requireType)) {
    reasons.push({ code: 'INVALID_CREDENTIAL', message: `expected a ${options.requireType}` });
  }
  // Status last, and only for an authentic credential: no network for forgeries.
  const status: StatusReport[] = [];
  if (credential.credentialStatus !== undefined && reasons.length === 0) {
    if (!options.status) {
      reasons.push({ code: 'STATUS_UNAVAILABLE', message: 'the credential has a status entry but no status checker is configured' });
    } else {
      try {
        reasons.push(...statusAnswer(await options.status(credential, { issuer, now, report: (r) => status.push(r) })));
      } catch (e) {
        reasons.push(toReason(e, 'STATUS_UNAVAILABLE'));
      }
    }
  }
  return { ok: reasons.length === 0, reasons, ...base, ...(status.length > 0 ? { status } : {}) };
}

/** verifyCredential for callers who want an exception: throws a CharterError with the first reason's code. */
export async function assertCredential(jwt: string, options: VerifyCredentialOptions): Promise<CredentialVerification> {
  const v = await verifyCredential(jwt, options);
  if (!v.ok) {
    const r = v.reasons[0]!;
    throw new CharterError(r.code, r.message, { details: { reasons: v.reasons } });
  }
  return v;
}

/** Decodes a credential without verifying it (for display and storage). */
export function decodeCredential(jwt: string) {
  return normalizeCredential(decodeJwt(jwt), true).credential;
}

/** What the parse cache holds (tests: that forgeries and outsized credentials take no place in it). */
export function parseCacheSize(): { entries: number; bytes: number } {
  return { entries: parsedCaches.v1.size + parsedCaches.v2only.size, bytes: parsedCaches.v1.weight + parsedCaches.v2only.weight };
}
