import { CharterError, shown } from '../errors.js';

/**
 * Wall-clock arithmetic in IANA time zones, shared by the ledger's calendar
 * windows and the calendar dates mandates name. ECMAScript has no zone
 * arithmetic of its own before Temporal, so offsets are read back through
 * Intl.DateTimeFormat.
 */
const formats = new Map<string, Intl.DateTimeFormat>();

function formatFor(timeZone: string): Intl.DateTimeFormat {
  let f = formats.get(timeZone);
  if (!f) {
    try {
      f = new Intl.DateTimeFormat('en-US', {
        timeZone,
        hourCycle: 'h23',
        year: 'numeric',
        month: 'numeric',
        day: 'numeric',
        hour: 'numeric',
        minute: 'numeric',
        second: 'numeric',
        weekday: 'short',
      });
    } catch {
      throw new CharterError('INVALID_ARGUMENT', `"${shown(timeZone, 40)}" is not an IANA time zone such as Europe/Paris or UTC`);
    }
    if (formats.size > 256) formats.clear();
    formats.set(timeZone, f);
  }
  return f;
}

/** Throws INVALID_ARGUMENT unless `timeZone` names an IANA time zone. */
export function checkTimeZone(timeZone: string): void {
  formatFor(timeZone);
}

const WEEKDAY: Record<string, number> = { Mon: 0, Tue: 1, Wed: 2, Thu: 3, Fri: 4, Sat: 5, Sun: 6 };

/** Wall-clock fields of instant `t` in `timeZone`; `wd` counts from Monday = 0. */
export function localFields(t: number, timeZone: string) {
  const parts = Object.fromEntries(
    formatFor(timeZone)
      .formatToParts(new Date(t))
      .map((p) => [p.type, p.value]),
  );
  return { y: +parts.year!, m: +parts.month!, d: +parts.day!, h: +parts.hour!, min: +parts.minute!, s: +parts.second!, wd: WEEKDAY[parts.weekday!] ?? 0 };
}

/** Offset of `timeZone` from UTC at instant `t`, in ms. */
function offset(t: number, timeZone: string): number {
  const l = localFields(t, timeZone);
  return Date.UTC(l.y, l.m - 1, l.d, l.h, l.min, l.s) - Math.floor(t / 1000) * 1000;
}

const HOUR = 3_600_000;

/**
 * The earliest instant whose local date in `timeZone` is (y, m, d): local
 * midnight under one of the offsets in force around that day, the earliest
 * one that is that date's midnight (a zone falling back across midnight has
 * two: the day starts at the first). Where a DST change skips midnight,
 * the day starts at the change itself, found by bisection to the second.
 */
export function firstInstantOf(y: number, m: number, d: number, timeZone: string): number {
  const guess = Date.UTC(y, m - 1, d);
  const offsets = new Set([-36, -12, 12, 36].map((h) => offset(guess + h * HOUR, timeZone)));
  let first = Infinity;
  for (const o of offsets) {
    const t = guess - o;
    const l = localFields(t, timeZone);
    if (l.y === y && l.m === m && l.d === d && l.h === 0 && l.min === 0 && l.s === 0 && t < first) first = t;
  }
  if (first !== Infinity) return first;
  // Midnight does not exist that day: bisect between an instant of the day before and one of this day.
  const before = (t: number) => {
    const l = localFields(t, timeZone);
    return Date.UTC(l.y, l.m - 1, l.d) < guess;
  };
  let lo = guess - 15 * HOUR;
  let hi = guess + 15 * HOUR;
  while (before(hi)) hi += HOUR;
  while (hi - lo > 1000) {
    const mid = Math.floor((lo + hi) / 2000) * 1000;
    if (mid <= lo || mid >= hi) break;
    if (before(mid)) lo = mid;
    else hi = mid;
  }
  return hi;
}
