import { checkTimeZone, firstInstantOf, localFields } from '../encoding/zone.js';
import type { CalendarUnit, LedgerWindow } from './types.js';

/**
 * Where a cumulative limit's window starts, for both backends: `at` minus
 * the period for a rolling window, or the start of the current calendar
 * day, ISO week (Monday), month or year in an IANA time zone (as Verifiable
 * Intent's proposed `payment.cumulative` periods DAILY..YEARLY ask). Rows
 * with `at > since` count, so a calendar window's `since` is its first
 * millisecond minus one.
 */
export function windowSince(at: number, w: LedgerWindow): number {
  if ('periodSeconds' in w) return at - w.periodSeconds * 1000;
  return calendarStart(at, w.calendar, w.timeZone) - 1;
}

const UNITS: ReadonlySet<string> = new Set<CalendarUnit>(['day', 'week', 'month', 'year']);

export function checkWindow(w: unknown): w is LedgerWindow {
  if (typeof w !== 'object' || w === null) return false;
  const o = w as Record<string, unknown>;
  if ('periodSeconds' in o) return typeof o.periodSeconds === 'number' && Number.isFinite(o.periodSeconds) && o.periodSeconds > 0;
  if (typeof o.calendar !== 'string' || !UNITS.has(o.calendar) || typeof o.timeZone !== 'string') return false;
  checkTimeZone(o.timeZone);
  return true;
}

/** The first instant of the calendar `unit` holding `at`, in `timeZone`. */
export function calendarStart(at: number, unit: CalendarUnit, timeZone: string): number {
  const l = localFields(at, timeZone);
  let y = l.y;
  let m = l.m;
  let d = l.d;
  if (unit === 'week') [y, m, d] = ymd(Date.UTC(y, m - 1, d) - l.wd * 86_400_000);
  if (unit === 'month' || unit === 'year') d = 1;
  if (unit === 'year') m = 1;
  return firstInstantOf(y, m, d, timeZone);
}

function ymd(t: number): [number, number, number] {
  const x = new Date(t);
  return [x.getUTCFullYear(), x.getUTCMonth() + 1, x.getUTCDate()];
}
