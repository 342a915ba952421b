import { parseDateTime } from '../encoding/time.js';
import { firstInstantOf } from '../encoding/zone.js';

/**
 * Dates a mandate's constraints name (VI recurrence `start_date`/`end_date`,
 * AP2 `execution_date` and its window): an ISO 8601 calendar date
 * (`2026-03-01`, the whole day in the verifier's calendar time zone) or an
 * RFC 3339 date-time with a zone, read as strictly as credential times
 * (encoding/time.ts), except that the lower-case `t`/`z` and the space
 * separator RFC 3339 §5.6 NOTE allows are taken. A date-time without a zone
 * would be read in the host's local time, so it is refused (DESIGN.md
 * "Time"), as is anything else Date.parse happens to accept ("2026-02-30"
 * rolled over to March, "24:00").
 */
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const RFC3339_NOTE = /^(\d{4}-\d{2}-\d{2})[t ](.*)$/;

/** A day, or an instant: its first and last millisecond. */
export interface DateSpan {
  start: number;
  end: number;
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
    return { start: firstInstantOf(y, m, day, timeZone), end: firstInstantOf(next.getUTCFullYear(), next.getUTCMonth() + 1, next.getUTCDate(), timeZone) - 1 };
  }
  const t = parseDateTime(v.replace(RFC3339_NOTE, '$1T$2').replace(/z$/, 'Z'));
  return t === undefined ? undefined : { start: t, end: t };
}
