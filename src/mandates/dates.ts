/**
 * Dates a mandate's constraints name (VI recurrence `start_date`/`end_date`,
 * AP2 `execution_date` and its window): an ISO 8601 calendar date
 * (`2026-03-01`, the whole day in the verifier's calendar time zone) or an
 * RFC 3339 date-time with a zone. A date-time without a zone would be read in
 * the host's local time, so it is refused (DESIGN.md "Time"), as is anything
 * else Date.parse happens to accept.
 */
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** A day, or an instant: its first and last millisecond. */
export interface DateSpan {
  start: number;
  end: number;
}

/** Milliseconds `timeZone` is ahead of UTC at instant `t`. */
function offsetAt(t: number, timeZone: string): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' })
      .formatToParts(new Date(t))
      .map((p) => [p.type, p.value]),
  );
  return Date.UTC(+parts.year!, +parts.month! - 1, +parts.day!, +parts.hour!, +parts.minute!, +parts.second!) - Math.floor(t / 1000) * 1000;
}

/** The first instant of local date (y, m, d) in `timeZone` (two passes settle a DST change near midnight). */
function localMidnight(y: number, m: number, d: number, timeZone: string): number {
  const guess = Date.UTC(y, m - 1, d);
  let t = guess - offsetAt(guess, timeZone);
  t = guess - offsetAt(t, timeZone);
  return t;
}

/** The span a constraint date names, or undefined when it is not a calendar date or an RFC 3339 date-time with a zone. */
export function dateSpan(v: unknown, timeZone: string): DateSpan | undefined {
  if (typeof v !== 'string') return undefined;
  const d = DATE.exec(v);
  if (d) {
    const [y, m, day] = [Number(d[1]), Number(d[2]), Number(d[3])];
    const check = new Date(Date.UTC(y, m - 1, day));
    if (check.getUTCFullYear() !== y || check.getUTCMonth() !== m - 1 || check.getUTCDate() !== day) return undefined;
    const next = new Date(Date.UTC(y, m - 1, day + 1));
    return { start: localMidnight(y, m, day, timeZone), end: localMidnight(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), timeZone) - 1 };
  }
  if (!DATE_TIME.test(v)) return undefined;
  const t = Date.parse(v);
  return Number.isFinite(t) ? { start: t, end: t } : undefined;
}
