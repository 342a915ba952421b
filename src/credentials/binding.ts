import type { Reason } from '../errors.js';
import { canonicalJson } from '../encoding/json.js';

/**
 * What binds a proof (a vp+jwt, an SD-JWT's key binding JWT, a payment
 * mandate's closing layer) to one verifier, one moment and one request,
 * checked on its decoded claims before any signature. In the spirit of DPoP
 * (RFC 9449 §4.3): `aud`, a recent `iat`, a `jti` (or a nonce the verifier
 * issued) used once, and the transport's own claims: `htm`/`htu` for an
 * HTTP request, `mcp` for a tool call. The guard applies these rules to a
 * live request, and an evidence bundle's re-check to the request its
 * receipt records: one copy of them, so both refuse alike.
 */
export type ProofBinding =
  /**
   * An HTTP request: its method and the URL clients addressed (the verifier's public origin + path, with
   * the query as received). `queryUnknown`: the URL is recorded without its query (a receipt's `htu`), so
   * an `htq` claim cannot be compared.
   */
  | { kind: 'http'; method: string; url: string; queryUnknown?: true }
  /** Any other call: claims the presentation must carry, compared as canonical JSON (e.g. `{ mcp: { tool, args } }`). */
  | { kind: 'claims'; claims: Record<string, unknown> }
  /** No transport binding (a queue message, a CLI check): the presentation must carry none. */
  | { kind: 'none' };

export interface FreshnessContext {
  aud: string;
  now: number;
  maxAgeSeconds: number;
  skewSeconds: number;
  mode: 'iat' | 'challenge';
}

/** Claims that bind a presentation to one transport's request: never accepted by another. */
const TRANSPORT_CLAIMS = ['htm', 'htu', 'htq', 'mcp'] as const;
const HTTP_CLAIMS = ['htm', 'htu', 'htq'];
const MAX_ID = 256;
/** A jti or nonce a proof can be used up by: a non-empty string of at most 256 characters. */
export const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_ID;
/** RFC 7515 §4.1.9: a media type compares case-insensitively, and "application/" may be left out. */
const isVpJwt = (typ: unknown) => typeof typ === 'string' && /^(?:application\/)?vp\+jwt$/i.test(typ);

/**
 * RFC 9449 §4.3 item 9: `htu` compares without query and fragment, after
 * syntax-based normalisation (RFC 3986 §6.2.2/6.2.3): the WHATWG URL parser
 * lowercases scheme and host, drops a default port and resolves dot segments.
 */
export function htuOf(url: string | URL): string | undefined {
  try {
    const u = typeof url === 'string' ? new URL(url) : url;
    if (u.protocol !== 'http:' && u.protocol !== 'https:') return undefined;
    return u.origin + u.pathname;
  } catch {
    return undefined;
  }
}

/** The query of a request URL as received, without its "?" ("" for none; a fragment never binds: see unambiguousPath). */
export function queryOf(url: string): string {
  const q = url.indexOf('?');
  return q < 0 ? '' : url.slice(q + 1);
}

/** A JWT NumericDate claim: absent, or a finite number (seconds); anything else is refused, never ignored. */
function numericDate(p: Record<string, unknown>, name: string, reasons: Reason[]): number | undefined {
  const v = p[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) {
    reasons.push({ code: 'INVALID_PRESENTATION', message: `the presentation's "${name}" must be a number (seconds since the epoch)` });
    return undefined;
  }
  return v * 1000;
}

/** `aud`, `iat` (required, recent, not in the future), `exp` and `nbf` of a proof's claims. */
function timeAndAudience(p: Record<string, unknown>, c: FreshnessContext, what: string, reasons: Reason[]): void {
  const aud = p.aud;
  if (!(aud === c.aud || (Array.isArray(aud) && aud.length === 1 && aud[0] === c.aud))) {
    reasons.push({ code: 'AUDIENCE_MISMATCH', message: `the ${what} is meant for another audience` });
  }
  const skew = c.skewSeconds * 1000;
  const iat = numericDate(p, 'iat', reasons);
  const exp = numericDate(p, 'exp', reasons);
  const nbf = numericDate(p, 'nbf', reasons);
  if (p.iat === undefined) reasons.push({ code: 'INVALID_PRESENTATION', message: `the ${what} has no "iat"` });
  else if (iat !== undefined && iat > c.now + skew) reasons.push({ code: 'ISSUED_IN_FUTURE', message: `the ${what} is issued in the future` });
  else if (iat !== undefined && c.now - iat > c.maxAgeSeconds * 1000 + skew)
    reasons.push({ code: 'PRESENTATION_STALE', message: `the ${what} is older than ${c.maxAgeSeconds} s` });
  if (exp !== undefined && c.now - skew >= exp) reasons.push({ code: 'PRESENTATION_STALE', message: `the ${what} has expired` });
  if (nbf !== undefined && c.now + skew < nbf) reasons.push({ code: 'ISSUED_IN_FUTURE', message: `the ${what} is not valid yet` });
}

/** Refusals of `typ`, `aud`, the time claims and the jti or nonce a freshness mode needs; each one is a 401. */
export function freshnessReasons(header: Record<string, unknown>, p: Record<string, unknown>, c: FreshnessContext): Reason[] {
  const reasons: Reason[] = [];
  if (!isVpJwt(header.typ)) reasons.push({ code: 'INVALID_TYP', message: 'the proof must be a vp+jwt presentation' });
  timeAndAudience(p, c, 'presentation', reasons);
  if (c.mode === 'iat' && !isId(p.jti)) reasons.push({ code: 'INVALID_PRESENTATION', message: `the presentation needs a "jti" of at most ${MAX_ID} characters` });
  if (c.mode === 'challenge' && !isId(p.nonce)) reasons.push({ code: 'NONCE_MISMATCH', message: 'this verifier requires a nonce from its challenge' });
  return reasons;
}

/**
 * The same checks for a proof whose used-once value is its `nonce` in both
 * modes: the key binding JWT of an SD-JWT presentation (RFC 9901 §4.3 makes
 * `nonce` required there, so it doubles as the jti), and the closing layer
 * of a payment mandate chain (Verifiable Intent L3a or L2, the closed AP2
 * mandate), which carries `aud`, `nonce` and `iat` and nothing like a jti.
 * In challenge mode the nonce must be one this verifier issued.
 */
export function nonceProofReasons(p: Record<string, unknown>, c: FreshnessContext, what: string): Reason[] {
  const reasons: Reason[] = [];
  timeAndAudience(p, c, what, reasons);
  if (!isId(p.nonce)) {
    reasons.push(
      c.mode === 'challenge'
        ? { code: 'NONCE_MISMATCH', message: 'this verifier requires a nonce from its challenge' }
        : { code: 'INVALID_PRESENTATION', message: `the ${what} needs a "nonce" of at most ${MAX_ID} characters, used once` },
    );
  }
  return reasons;
}

const same = (a: unknown, b: unknown) => {
  try {
    return canonicalJson(a) === canonicalJson(b);
  } catch {
    return false;
  }
};

/**
 * Refusals of the transport binding: the request's own claims must match, and no other transport's may appear.
 * `absentOk`: a proof whose format has no place for transport claims (a payment mandate layer) may carry none;
 * any it does carry must still match.
 */
export function bindingReasons(p: Record<string, unknown>, b: ProofBinding, absentOk = false): Reason[] {
  const reasons: Reason[] = [];
  const allowed = new Set<string>(b.kind === 'http' ? HTTP_CLAIMS : b.kind === 'claims' ? Object.keys(b.claims) : []);
  const foreign = TRANSPORT_CLAIMS.filter((k) => p[k] !== undefined && !allowed.has(k));
  if (foreign.length > 0) reasons.push({ code: 'REQUEST_MISMATCH', message: `the presentation is bound to another kind of request (${foreign.join(', ')})` });
  if (absentOk && [...allowed].every((k) => p[k] === undefined)) return reasons;
  if (b.kind === 'http') {
    if (p.htm !== b.method) reasons.push({ code: 'REQUEST_MISMATCH', message: `the presentation is bound to another method (htm), not ${b.method.slice(0, 16)}` });
    const htu = typeof p.htu === 'string' ? htuOf(p.htu) : undefined;
    if (htu === undefined || htu !== htuOf(b.url)) reasons.push({ code: 'REQUEST_MISMATCH', message: 'the presentation is bound to another URL (htu)' });
    // `htq` (Charter's, optional; charterFetch sends it): the query exactly as sent, "" for none. htu leaves
    // the query out (RFC 9449 §4.3), so without htq a proof taken in flight could be used first with another
    // query; with it, the query is bound as the path is. Compared as sent: no normalisation, no reordering.
    if (p.htq !== undefined && (typeof p.htq !== 'string' || (b.queryUnknown !== true && p.htq !== queryOf(b.url))))
      reasons.push({ code: 'REQUEST_MISMATCH', message: 'the presentation is bound to another query (htq)' });
  } else if (b.kind === 'claims') {
    for (const [k, v] of Object.entries(b.claims)) {
      if (!same(p[k], v)) reasons.push({ code: 'REQUEST_MISMATCH', message: `the presentation is bound to another call ("${k.slice(0, 40)}" differs)` });
    }
  }
  return reasons;
}
