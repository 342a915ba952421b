import { toReason, type Reason } from '../errors.js';
import { canonicalJson, sha256Digest } from '../encoding/json.js';
import { checkJwtSignature, decodeJwt, type DecodedJwt } from '../credentials/index.js';
import { replicatedClaimConflicts } from '../credentials/jws.js';
import { parseDateTime } from '../encoding/time.js';
import type { Issuer } from '../credentials/types.js';
import type { LocalSigner } from '../keys/types.js';
import type { CharterResolver } from '../did/types.js';

/** Media types (RFC 7515 §4.1.9) of what the audit layer signs. */
export const RECEIPT_TYP = 'charter-receipt+jwt';
export const CHECKPOINT_TYP = 'charter-checkpoint+jwt';
export const ACCESS_REPORT_TYP = 'charter-access-report+jwt';

/** Largest receipt, checkpoint or report accepted. */
export const MAX_AUDIT_JWS = 64 * 1024;

/**
 * Signs `claims` as a compact JWS whose payload is their canonical JSON (RFC
 * 8785), so the payload bytes, and the hash the log chains them by, are a
 * function of the claims alone.
 */
export async function signCanonical(typ: string, claims: object, signer: Issuer): Promise<{ jws: string; hash: string }> {
  const payload = canonicalJson(claims);
  return { jws: await signPayload(typ, payload, signer), hash: sha256Digest(payload) };
}

const headers = new Map<string, string>();
/** The encoded protected header of one signer and type (the same on every receipt it signs). */
function header(alg: string, kid: string, typ: string): string {
  const k = `${alg} ${typ} ${kid}`;
  let h = headers.get(k);
  if (h === undefined) {
    if (headers.size > 256) headers.clear();
    headers.set(k, (h = Buffer.from(JSON.stringify({ alg, kid, typ })).toString('base64url')));
  }
  return h;
}

/** Signs payload text (JSON) as it is: the log writer hashes it first, to chain entries before signing them. */
export async function signPayload(typ: string, payload: string, signer: Issuer): Promise<string> {
  const input = `${header(signer.signer.alg, signer.kid, typ)}.${Buffer.from(payload).toString('base64url')}`;
  // A local key signs in the thread pool: a receipt per decision stays off the event loop (keys/types.ts LocalSigner).
  const local = signer.signer as Partial<LocalSigner>;
  const data = new TextEncoder().encode(input);
  const sig = await (typeof local.signOffThread === 'function' ? local.signOffThread(data) : signer.signer.sign(data));
  return `${input}.${Buffer.from(sig).toString('base64url')}`;
}

/** `sha256-<b64u>` of a compact JWS's payload bytes: what a receipt's successor names as `prev`. */
export function payloadHash(jws: string): string {
  return sha256Digest(Buffer.from(jws.split('.')[1] ?? '', 'base64url'));
}

const TYP = (t: unknown, want: string) => typeof t === 'string' && t.toLowerCase().replace(/^application\//, '') === want;

export interface CheckedJws {
  reasons: Reason[];
  decoded?: DecodedJwt;
  /** The payload's hash, once decoded. */
  hash?: string;
}

/**
 * What no audit record Charter signs carries, and so what a verifier refuses
 * (each way one signature could be read as two records): an unencoded
 * payload (`b64`, RFC 7797) or any critical header; a header replicating a
 * claim (RFC 7519 §5.3) with another value, for a reader of the header would
 * see another signer; and payload text in any form but the one Charter
 * writes (`JSON.stringify` of the parsed claims: canonical JSON is that too),
 * so the hash the log chains by has one spelling, with no whitespace, escape
 * or number variant of the same claims.
 */
function recordFormReasons(d: DecodedJwt, payloadPart: string, code: Reason['code']): Reason[] {
  const reasons: Reason[] = [];
  if (Object.hasOwn(d.header, 'b64') || Object.hasOwn(d.header, 'crit')) reasons.push({ code, message: 'the record marks its header b64 or crit, which no audit record carries' });
  for (const k of replicatedClaimConflicts(d)) reasons.push({ code, message: `the header parameter "${k}" differs from the claim (RFC 7519 §5.3)` });
  const text = Buffer.from(payloadPart, 'base64url').toString('utf8');
  if (JSON.stringify(d.payload) !== text)
    reasons.push({ code, message: 'the payload is not in the form Charter signs (plain JSON: no whitespace, escapes or number forms of its own)' });
  return reasons;
}

/**
 * A signed record's time: `time` a strict RFC 3339 date-time and `iat` the
 * whole second it falls in, as Charter writes them (two clocks in one record
 * that disagree would date it two ways).
 */
export function recordTimeReasons(p: Record<string, unknown>, code: Reason['code']): Reason[] {
  const ms = parseDateTime(p.time);
  if (ms === undefined) return [{ code, message: "the record's time is not an RFC 3339 date-time" }];
  if (!Number.isSafeInteger(p.iat) || p.iat !== Math.floor(ms / 1000)) return [{ code, message: "the record's iat is not the second of its time" }];
  return [];
}

/**
 * Decodes and checks a signed audit record: strict compact JWS, the expected
 * `typ`, every part in canonical base64url (so no two strings carry the same
 * record: a flipped padding bit is refused, not ignored), the form Charter
 * signs (recordFormReasons), `iss` a DID, and the signature by `iss`'s
 * assertion key. Never throws for a bad record.
 */
export async function checkAuditJws(jws: string, typ: string, resolver: CharterResolver, code: Reason['code'], maxBytes = MAX_AUDIT_JWS): Promise<CheckedJws> {
  let d: DecodedJwt;
  try {
    d = decodeJwt(jws, { maxBytes });
  } catch (e) {
    return { reasons: [toReason(e, 'MALFORMED_JWT')] };
  }
  const hash = sha256Digest(Buffer.from(jws.split('.')[1]!, 'base64url'));
  if (!TYP(d.header.typ, typ)) return { reasons: [{ code: 'INVALID_TYP', message: `expected a ${typ}` }], decoded: d, hash };
  const [h, p, s] = jws.split('.') as [string, string, string];
  const canonical = (part: string) => Buffer.from(part, 'base64url').toString('base64url') === part;
  if (!canonical(h) || !canonical(p) || !canonical(s)) return { reasons: [{ code, message: 'a part is not in canonical base64url' }], decoded: d, hash };
  const form = recordFormReasons(d, p, code);
  if (form.length > 0) return { reasons: form, decoded: d, hash };
  const iss = d.payload.iss;
  if (typeof iss !== 'string' || !iss.startsWith('did:')) return { reasons: [{ code, message: 'the record names no signer (iss)' }], decoded: d, hash };
  return { reasons: await checkJwtSignature(d, iss, resolver, 'assertionMethod'), decoded: d, hash };
}
