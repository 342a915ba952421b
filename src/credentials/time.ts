import type { CharterErrorCode, Reason } from '../errors.js';
import { describeTime, parseDateTime } from '../encoding/time.js';

/** DESIGN.md "Time": a default skew of 60 s, configurable up to 300 s. */
export const DEFAULT_SKEW_SECONDS = 60;
export const MAX_SKEW_SECONDS = 300;
/** How old (since its iat) a presentation may be, wherever one is verified. */
export const DEFAULT_MAX_AGE_SECONDS = 300;
/** The most a verifier may be configured to accept (maxAgeSeconds): replay keys outlive it (guard/decide.ts). */
export const MAX_MAX_AGE_SECONDS = 3600;

/** Clock skew actually applied: default 60 s, never more than 300 s (DESIGN.md "Time"). */
export function skewOf(s: number | undefined): number {
  if (s === undefined) return DEFAULT_SKEW_SECONDS;
  if (typeof s !== 'number' || !Number.isFinite(s) || s < 0) throw new TypeError('skewSeconds must be a non-negative number');
  return Math.min(s, MAX_SKEW_SECONDS);
}

/** The presentation age allowed, seconds: a bad value is a TypeError, never a check silently off (NaN compares false). */
export function maxAgeOf(s: number | undefined): number {
  if (s === undefined) return DEFAULT_MAX_AGE_SECONDS;
  if (typeof s !== 'number' || !Number.isFinite(s) || s < 0) throw new TypeError('maxAgeSeconds must be a non-negative finite number');
  return s;
}

/** A validity window in ms since the epoch; each bound absent when nothing sets it. */
export interface Bounds {
  from?: number;
  until?: number;
  iat?: number;
}

/** The ECMAScript time range (±8.64e15 ms): a NumericDate beyond it names no representable instant. */
const MAX_NUMERIC_DATE = 8.64e12;

/** A NumericDate (RFC 7519 §2) that names a representable instant: a finite number of seconds within ±8.64e12. */
export const isNumericDate = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v) && Math.abs(v) <= MAX_NUMERIC_DATE;

/**
 * The JWT time claims that are present, in ms. RFC 7519 §4.1.4-6: `exp`,
 * `nbf` and `iat` are NumericDates (§2: a JSON number of seconds). A present
 * claim of any other type (a string, null, an object, an array, a boolean,
 * an overflowed 1e400) is a reason under `code`, never skipped: a peer that
 * reads the claim would otherwise judge the token differently.
 */
export function readNumericDates(payload: Record<string, unknown>, code: CharterErrorCode, problems: Reason[]): { nbf?: number; exp?: number; iat?: number } {
  const out: { nbf?: number; exp?: number; iat?: number } = {};
  for (const name of ['nbf', 'exp', 'iat'] as const) {
    if (!Object.hasOwn(payload, name)) continue;
    const v = payload[name];
    if (!isNumericDate(v)) {
      problems.push({ code, message: `the JWT claim "${name}" must be a NumericDate (a number of seconds)` });
      continue;
    }
    out[name] = v * 1000;
  }
  return out;
}

/**
 * The named date-time properties that are present, in ms; each must be a
 * strict RFC 3339 date-time with a time zone (VCDM 2.0 "Validity Period" dateTimeStamp,
 * encoding/time.ts). Returns undefined for a malformed one and records why.
 */
export function readDateTime(obj: Record<string, unknown>, name: string, code: CharterErrorCode, problems: Reason[]): number | undefined {
  if (!Object.hasOwn(obj, name)) return undefined;
  const t = parseDateTime(obj[name]);
  if (t === undefined) problems.push({ code, message: `${name} must be an RFC 3339 date-time with a time zone, such as 2025-01-01T00:00:00Z` });
  return t;
}

/** The latest of the lower bounds and the earliest of the upper ones: every present bound applies. */
export const latest = (...ts: (number | undefined)[]): number | undefined =>
  ts.reduce<number | undefined>((a, t) => (t === undefined ? a : a === undefined ? t : Math.max(a, t)), undefined);
export const earliest = (...ts: (number | undefined)[]): number | undefined =>
  ts.reduce<number | undefined>((a, t) => (t === undefined ? a : a === undefined ? t : Math.min(a, t)), undefined);

/** Validity window checks shared by credentials and presentations; times in ms. */
export function windowReasons(now: number, skewMs: number, w: Bounds, what: string): Reason[] {
  const out: Reason[] = [];
  if (w.until !== undefined && now - skewMs >= w.until) {
    out.push({ code: 'CREDENTIAL_EXPIRED', message: `${what} expired at ${describeTime(w.until)}` });
  }
  if (w.from !== undefined && now + skewMs < w.from) {
    out.push({ code: 'CREDENTIAL_NOT_YET_VALID', message: `${what} is not valid before ${describeTime(w.from)}` });
  }
  if (w.iat !== undefined && now + skewMs < w.iat) {
    out.push({ code: 'ISSUED_IN_FUTURE', message: `${what} claims to be issued in the future (${describeTime(w.iat)})` });
  }
  return out;
}

/**
 * The verification time a caller gives (default: now). An Invalid Date would
 * make every window comparison false, so an expired credential would pass:
 * anything but a valid Date is a TypeError (misuse), never a silent "valid".
 */
export function nowOf(now: unknown, who = 'verification'): Date {
  if (now === undefined) return new Date();
  if (!(now instanceof Date) || !Number.isFinite(now.getTime())) throw new TypeError(`${who}: now must be a valid Date`);
  return now;
}
