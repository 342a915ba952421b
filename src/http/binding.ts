import type { Reason } from '../errors.js';

/**
 * Request binding, checked on the decoded (not yet verified) presentation
 * before any signature or store work, so a re-targeted or stale token costs
 * no crypto. In the spirit of DPoP (RFC 9449 §4.3): `htm` is the method,
 * `htu` the URL without query and fragment, `iat` recent; plus `aud`.
 */

export type FreshnessMode = 'iat' | 'challenge';

export interface BindingContext {
  method: string;
  /** The URL the request was addressed to (absolute). */
  url: string;
  aud: string;
  now: number;
  maxAgeSeconds: number;
  skewSeconds: number;
  mode: FreshnessMode;
}

/**
 * RFC 9449 §4.3 item 9: compare `htu` without query and fragment, after
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

const MAX_ID = 256;
const isId = (v: unknown): v is string => typeof v === 'string' && v.length > 0 && v.length <= MAX_ID;

/** What binds a presentation to this verifier and to now, whatever carries it (HTTP, an MCP tool call, a queue). */
export type FreshnessContext = Omit<BindingContext, 'method' | 'url'>;

/**
 * Refusals of `typ`, `aud`, `iat`/`exp` and the jti or nonce a freshness
 * mode needs; each one is a 401. Shared by every transport.
 */
export function freshnessReasons(header: Record<string, unknown>, p: Record<string, unknown>, c: FreshnessContext): Reason[] {
  const reasons: Reason[] = [];
  if (header.typ !== 'vp+jwt') reasons.push({ code: 'INVALID_TYP', message: 'the proof must be a vp+jwt presentation' });
  const aud = p.aud;
  if (!(aud === c.aud || (Array.isArray(aud) && aud.length === 1 && aud[0] === c.aud))) {
    reasons.push({ code: 'AUDIENCE_MISMATCH', message: 'the presentation is meant for another audience' });
  }
  const skew = c.skewSeconds * 1000;
  const iat = typeof p.iat === 'number' && Number.isFinite(p.iat) ? p.iat * 1000 : undefined;
  if (iat === undefined) reasons.push({ code: 'INVALID_PRESENTATION', message: 'the presentation has no "iat"' });
  else if (iat > c.now + skew) reasons.push({ code: 'ISSUED_IN_FUTURE', message: 'the presentation is issued in the future' });
  else if (c.now - iat > c.maxAgeSeconds * 1000 + skew) reasons.push({ code: 'CREDENTIAL_EXPIRED', message: `the presentation is older than ${c.maxAgeSeconds} s` });
  if (p.exp !== undefined && !(typeof p.exp === 'number' && c.now < p.exp * 1000 + skew)) {
    reasons.push({ code: 'CREDENTIAL_EXPIRED', message: 'the presentation has expired' });
  }
  if (c.mode === 'iat' && !isId(p.jti)) reasons.push({ code: 'INVALID_PRESENTATION', message: 'the presentation needs a "jti" of at most 256 characters' });
  if (c.mode === 'challenge' && !isId(p.nonce)) reasons.push({ code: 'NONCE_MISMATCH', message: 'this verifier requires a nonce from its challenge' });
  return reasons;
}

/** Refusals of the presentation's binding claims for an HTTP request: freshness plus `htm` and `htu`; each one is a 401. */
export function bindingReasons(header: Record<string, unknown>, p: Record<string, unknown>, c: BindingContext): Reason[] {
  const reasons = freshnessReasons(header, p, c);
  if (header.typ !== 'vp+jwt') reasons[0] = { code: 'INVALID_TYP', message: 'the Authorization header must carry a vp+jwt presentation' };
  if (p.htm !== c.method) reasons.push({ code: 'REQUEST_MISMATCH', message: `the presentation is bound to another method (htm), not ${c.method.slice(0, 16)}` });
  const htu = typeof p.htu === 'string' ? htuOf(p.htu) : undefined;
  if (htu === undefined || htu !== htuOf(c.url)) reasons.push({ code: 'REQUEST_MISMATCH', message: 'the presentation is bound to another URL (htu)' });
  if (p.mcp !== undefined) reasons.push({ code: 'REQUEST_MISMATCH', message: 'the presentation is bound to an MCP tool call' });
  return reasons;
}

/** RFC 6750 §2.1: `Bearer` 1*SP b64token. Undefined when absent or another scheme. */
export function bearerToken(authorization: string | null | undefined): string | undefined {
  if (!authorization) return undefined;
  const m = /^Bearer +([A-Za-z0-9\-._~+/]+=*) *$/i.exec(authorization);
  return m ? m[1] : undefined;
}
