import type { Reason } from '../errors.js';

/** DESIGN.md "Time": a default skew of 60 s, configurable up to 300 s. */
export const DEFAULT_SKEW_SECONDS = 60;
export const MAX_SKEW_SECONDS = 300;
/** How old (since its iat) a presentation may be, wherever one is verified. */
export const DEFAULT_MAX_AGE_SECONDS = 300;

/** Clock skew actually applied: default 60 s, never more than 300 s. */
export function skewOf(s: number | undefined): number {
  if (s === undefined) return DEFAULT_SKEW_SECONDS;
  if (!Number.isFinite(s) || s < 0) throw new TypeError('skewSeconds must be a non-negative number');
  return Math.min(s, MAX_SKEW_SECONDS);
}

/** Validity window checks shared by credentials and presentations; times in ms. */
export function windowReasons(now: number, skewMs: number, w: { from?: number | undefined; until?: number | undefined; iat?: number | undefined }, what: string): Reason[] {
  const out: Reason[] = [];
  if (w.until !== undefined && now - skewMs >= w.until) {
    out.push({ code: 'CREDENTIAL_EXPIRED', message: `${what} expired at ${new Date(w.until).toISOString()}` });
  }
  if (w.from !== undefined && now + skewMs < w.from) {
    out.push({ code: 'CREDENTIAL_NOT_YET_VALID', message: `${what} is not valid before ${new Date(w.from).toISOString()}` });
  }
  if (w.iat !== undefined && now + skewMs < w.iat) {
    out.push({ code: 'ISSUED_IN_FUTURE', message: `${what} claims to be issued in the future (${new Date(w.iat).toISOString()})` });
  }
  return out;
}
