/**
 * Strict date-times for credentials: the intersection of RFC 3339 §5.6
 * `date-time` and XML Schema 1.1 `dateTimeStamp`, which VCDM 2.0 "Validity Period"
 * requires for `validFrom` and `validUntil`. `Date.parse` is not a
 * validator: it takes "Jan 1 2999", bare dates, zone-less times (read as
 * local time) and rolls "2024-02-30" over to March, so two verifiers could
 * read one credential two ways.
 *
 * Accepted: `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`, with
 * - an upper-case `T` and `Z` (dateTimeStamp has no lower-case forms, though
 *   RFC 3339 §5.6 NOTE would allow them; a space separator is refused too),
 * - a real calendar day (leap years per the Gregorian rule),
 * - hours 00-23 (RFC 3339 has no 24:00), seconds 00-59 (no leap second 60:
 *   dateTimeStamp forbids it and an ECMAScript time value cannot hold it),
 * - an offset of at most 14:00 (XML Schema 1.1 §3.3.7 timezoneFrag); `-00:00`
 *   (RFC 3339 §4.3, "unknown local offset") reads as UTC.
 * Fractions beyond milliseconds are truncated; RFC 3339 `time-secfrac` and
 * XSD `dateTimeStamp` allow any number of fraction digits.
 */
import { CharterError } from '../errors.js';

const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d+))?(?:(Z)|([+-])(\d{2}):(\d{2}))$/;
/** A bound on the input, not on the format: 19 + 6 (offset) leaves 38 fraction digits, far beyond any clock. */
const MAX_LENGTH = 64;

const isLeap = (y: number) => (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
const DAYS = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31] as const;

/**
 * Milliseconds since the epoch for a strict RFC 3339 date-time with a time
 * zone, or undefined for anything else (including non-strings).
 */
export function parseDateTime(value: unknown): number | undefined {
  if (typeof value !== 'string' || value.length > MAX_LENGTH) return undefined;
  const m = RFC3339.exec(value);
  if (!m) return undefined;
  const [year, month, day, hour, minute, second] = [m[1], m[2], m[3], m[4], m[5], m[6]].map(Number) as [number, number, number, number, number, number];
  if (month < 1 || month > 12) return undefined;
  const maxDay = month === 2 && isLeap(year) ? 29 : DAYS[month - 1]!;
  if (day < 1 || day > maxDay) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  let offsetMinutes = 0;
  if (m[8] === undefined) {
    const oh = Number(m[10]);
    const om = Number(m[11]);
    if (om > 59 || oh * 60 + om > 14 * 60) return undefined;
    offsetMinutes = (m[9] === '-' ? -1 : 1) * (oh * 60 + om);
  }
  const ms = m[7] === undefined ? 0 : Number(m[7].padEnd(3, '0').slice(0, 3));
  // Date.UTC maps years 0-99 to 1900-1999; setUTCFullYear does not.
  const d = new Date(0);
  d.setUTCFullYear(year, month - 1, day);
  d.setUTCHours(hour, minute, second, ms);
  return d.getTime() - offsetMinutes * 60_000;
}

/** True for a strict RFC 3339 date-time with a time zone (see parseDateTime). */
export function isDateTime(value: unknown): value is string {
  return parseDateTime(value) !== undefined;
}

/**
 * A time in ms as an ISO string for messages, without throwing on values an
 * ECMAScript Date cannot hold (a hostile `exp` of 1e300 must not crash a
 * decision).
 */
export function describeTime(ms: number): string {
  const d = new Date(ms);
  return Number.isNaN(d.getTime()) ? (ms > 0 ? 'the far future' : 'the far past') : d.toISOString();
}

/** Seconds since the epoch (JWT NumericDate, RFC 7519 §2). */
export const numericDate = (d: Date): number => Math.floor(d.getTime() / 1000);

/**
 * A date a caller asks Charter to sign (validFrom, validUntil, a key binding's
 * or a mandate's `now`), cut to whole seconds, which is what a NumericDate and
 * the validFrom / validUntil written carry. INVALID_ARGUMENT unless a valid
 * Date within the years 0000-9999 once cut: an Invalid Date would sign `null`
 * as a NumericDate, a string would throw a raw TypeError, and toISOString
 * reaches years -271821 to 275760, beyond any dateTimeStamp. Undefined stays
 * undefined.
 */
export function signedDate(d: unknown, name: string): Date | undefined {
  if (d === undefined) return undefined;
  if (!(d instanceof Date) || !Number.isFinite(d.getTime())) throw new CharterError('INVALID_ARGUMENT', `${name} must be a valid Date`);
  const s = new Date(numericDate(d) * 1000);
  if (s.getUTCFullYear() < 0 || s.getUTCFullYear() > 9999) throw new CharterError('INVALID_ARGUMENT', `${name} must be within the years 0000 to 9999`);
  return s;
}
