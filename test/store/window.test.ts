import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { calendarStart } from '../../src/store/window.js';

/**
 * A calendar window starts at the first instant of the local day, week,
 * month or year: through DST changes, including the rare ones that repeat
 * local midnight (a fall-back across it) or skip it (a spring-forward at it).
 */
const formats = new Map<string, Intl.DateTimeFormat>();
const localDate = (t: number, timeZone: string) => {
  let f = formats.get(timeZone);
  if (!f) formats.set(timeZone, (f = new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' })));
  return f.format(new Date(t));
};
const iso = (t: number) => new Date(t).toISOString();

describe('calendarStart', () => {
  it('a day whose local midnight happens twice starts at the first (Antarctica/Casey, 2023-03-09: UTC+11 to UTC+8)', () => {
    // Local 00:00 on 9 March was 13:00Z, and again at 16:00Z.
    for (const at of ['2023-03-08T13:30:00Z', '2023-03-08T15:59:59Z', '2023-03-08T16:00:00Z', '2023-03-08T17:00:00Z', '2023-03-09T12:00:00Z'])
      expect([at, iso(calendarStart(Date.parse(at), 'day', 'Antarctica/Casey'))]).toEqual([at, '2023-03-08T13:00:00.000Z']);
  });

  it('a day without a local midnight starts at the DST change (America/Asuncion, 2023-10-01: 00:00 became 01:00)', () => {
    expect(iso(calendarStart(Date.parse('2023-10-01T12:00:00Z'), 'day', 'America/Asuncion'))).toBe('2023-10-01T04:00:00.000Z');
    expect(iso(calendarStart(Date.parse('2023-10-02T12:00:00Z'), 'day', 'America/Asuncion'))).toBe('2023-10-02T03:00:00.000Z');
  });

  it('ordinary DST days, weeks, months and years in Paris', () => {
    expect(iso(calendarStart(Date.parse('2023-03-26T12:00:00Z'), 'day', 'Europe/Paris'))).toBe('2023-03-25T23:00:00.000Z');
    expect(iso(calendarStart(Date.parse('2023-10-29T12:00:00Z'), 'day', 'Europe/Paris'))).toBe('2023-10-28T22:00:00.000Z');
    expect(iso(calendarStart(Date.parse('2023-10-29T12:00:00Z'), 'week', 'Europe/Paris'))).toBe('2023-10-22T22:00:00.000Z');
    expect(iso(calendarStart(Date.parse('2023-11-15T12:00:00Z'), 'month', 'Europe/Paris'))).toBe('2023-10-31T23:00:00.000Z');
    expect(iso(calendarStart(Date.parse('2023-07-01T12:00:00Z'), 'year', 'Europe/Paris'))).toBe('2022-12-31T23:00:00.000Z');
  });

  const ZONES = [
    'UTC',
    'Europe/Paris',
    'America/New_York',
    'America/Santiago',
    'America/Asuncion',
    'America/Havana',
    'Antarctica/Casey',
    'Australia/Lord_Howe',
    'Pacific/Chatham',
    'Pacific/Kiritimati',
    'Pacific/Pago_Pago',
    'Asia/Kolkata',
    'Africa/Cairo',
  ];

  it('property: the start holds the same local date as the instant, the second before it does not, and it is not after the instant', () => {
    fc.assert(
      fc.property(fc.integer({ min: Date.parse('2022-01-01T00:00:00Z') / 1000, max: Date.parse('2027-01-01T00:00:00Z') / 1000 }), fc.constantFrom(...ZONES), (s, zone) => {
        const at = s * 1000;
        const start = calendarStart(at, 'day', zone);
        expect(start).toBeLessThanOrEqual(at);
        expect(localDate(start, zone)).toBe(localDate(at, zone));
        expect(localDate(start - 1000, zone) < localDate(at, zone)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });

  it('every hour of the days around DST changes in those zones (2023 and 2024) starts its day at its first instant', () => {
    for (const zone of ZONES) {
      // Hours where the offset differs from the hour before, and a day either side of each.
      const off = (t: number) => new Date(t).toLocaleString('en-US', { timeZone: zone, timeZoneName: 'longOffset' }).split('GMT')[1];
      for (let t = Date.parse('2023-01-01T00:00:00Z'); t < Date.parse('2025-01-01T00:00:00Z'); t += 6 * 3_600_000) {
        if (off(t) === off(t + 6 * 3_600_000)) continue;
        for (let u = t - 36 * 3_600_000; u < t + 42 * 3_600_000; u += 3_600_000) {
          const start = calendarStart(u, 'day', zone);
          if (localDate(start, zone) !== localDate(u, zone) || !(localDate(start - 1000, zone) < localDate(u, zone)) || start > u) {
            throw new Error(`${zone} ${iso(u)}: day starts ${iso(start)}`);
          }
        }
      }
    }
  }, 120_000);
});
