import { CharterError, shown } from '../errors.js';
import { parseDateTime } from './time.js';

/**
 * ISO 8601 durations (`P30D`, `PT1H`, `P1W`) to seconds. Calendar units are
 * fixed-length here (a month is 30 days, a year 365) so that a rolling window
 * has one meaning everywhere; documented in README.
 */
const ISO = /^P(?!$)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?(?:T(?!$)(?:(\d+)H)?(?:(\d+)M)?(?:(\d+)S)?)?$/;
const UNITS = [365 * 86400, 30 * 86400, 7 * 86400, 86400, 3600, 60, 1] as const;

export function parseDuration(s: string): number {
  const m = typeof s === 'string' ? ISO.exec(s) : null;
  if (!m) throw new CharterError('INVALID_ARGUMENT', `"${shown(s, 40)}" is not an ISO 8601 duration such as P30D or PT1H`);
  let total = 0;
  for (let i = 0; i < UNITS.length; i++) {
    const g = m[i + 1];
    if (g !== undefined) total += Number(g) * UNITS[i]!;
  }
  if (!Number.isSafeInteger(total) || total <= 0) throw new CharterError('INVALID_ARGUMENT', `duration "${s}" must be positive`);
  return total;
}

export function isDuration(s: unknown): s is string {
  try {
    parseDuration(s as string);
    return true;
  } catch {
    return false;
  }
}

/**
 * CLI shorthand or ISO date to an absolute time: `30d`, `12h`, `45m`, `90s`,
 * `2w`, an ISO 8601 duration (`P30D`), or a time parseInstant reads. A
 * duration must be positive: `0s` would make something that expires as it
 * is made.
 */
export function parseExpiry(s: string, now: Date = new Date()): Date {
  const short = /^(\d+)([smhdw])$/.exec(s);
  if (short) {
    const mult = { s: 1, m: 60, h: 3600, d: 86400, w: 604800 }[short[2] as 's' | 'm' | 'h' | 'd' | 'w'];
    if (Number(short[1]) === 0) throw new CharterError('INVALID_ARGUMENT', `duration "${s}" must be positive`);
    return representable(now.getTime() + Number(short[1]) * mult * 1000, s);
  }
  if (s.startsWith('P')) return representable(now.getTime() + parseDuration(s) * 1000, s);
  const t = instant(s);
  if (t === undefined) {
    throw new CharterError(
      'INVALID_ARGUMENT',
      `"${s.slice(0, 40)}" is neither a duration (30d, 12h, P30D) nor a date-time with its time zone (2030-01-31T00:00:00Z) or a date (2030-01-31, midnight UTC)`,
    );
  }
  return new Date(t);
}

/**
 * A point in time given on the command line: an RFC 3339 date-time with its
 * time zone (`2030-01-31T09:00:00+01:00`; parseDateTime's strict reading), or
 * a bare date (`2030-01-31`) that is a real calendar day, read as midnight
 * UTC. A time without a zone (which Date.parse reads in the machine's zone)
 * and an impossible day (which Date.parse rolls over: 2030-02-30 → March 2)
 * are INVALID_ARGUMENT.
 */
export function parseInstant(s: string, what = 'the time'): Date {
  const t = instant(s);
  if (t === undefined) {
    throw new CharterError(
      'INVALID_ARGUMENT',
      `${what} "${s.slice(0, 40)}" is neither a date-time with its time zone (2030-01-31T00:00:00Z) nor a date (2030-01-31, midnight UTC)`,
    );
  }
  return new Date(t);
}

function instant(s: string): number | undefined {
  if (typeof s !== 'string') return undefined;
  return /^\d{4}-\d{2}-\d{2}$/.test(s) ? parseDateTime(`${s}T00:00:00Z`) : parseDateTime(s);
}

/** Latest instant an RFC 3339 date-time can write (year 9999): a later expiry is refused by name, not as "no expiry". */
const LATEST = Date.UTC(9999, 11, 31, 23, 59, 59);

function representable(t: number, s: string): Date {
  if (!Number.isFinite(t) || t > LATEST) throw new CharterError('INVALID_ARGUMENT', `"${s.slice(0, 40)}" is too far in the future: an expiry must be before the year 10000`);
  return new Date(t);
}
