import { describe, expect, it } from 'vitest';
import { dateSpan } from '../../src/mandates/dates.js';

describe('dateSpan: the dates mandates name', () => {
  it('a calendar date is the whole day in the time zone, and an instant is itself', () => {
    expect(dateSpan('2026-03-01', 'UTC')).toEqual({ start: Date.UTC(2026, 2, 1), end: Date.UTC(2026, 2, 2) - 1 });
    expect(dateSpan('2026-03-01', 'Europe/Paris')).toEqual({ start: Date.UTC(2026, 1, 28, 23), end: Date.UTC(2026, 2, 1, 23) - 1 });
    const t = Date.UTC(2026, 11, 2, 10, 30);
    expect(dateSpan('2026-12-02T11:30:00+01:00', 'UTC')).toEqual({ start: t, end: t });
    // RFC 3339 §5.6 NOTE: a lower-case t or z, or a space, may stand for T and Z.
    expect(dateSpan('2026-12-02t10:30:00z', 'UTC')).toEqual({ start: t, end: t });
    expect(dateSpan('2026-12-02 10:30:00.000Z', 'UTC')).toEqual({ start: t, end: t });
  });

  it('a day whose midnight a DST change skips starts at the change (America/Santiago, 2026-09-06 00:00 -> 01:00)', () => {
    // Chile moves from -04:00 to -03:00 at the start of the first Sunday of September.
    expect(dateSpan('2026-09-06', 'America/Santiago')!.start).toBe(Date.UTC(2026, 8, 6, 4));
    expect(dateSpan('2026-09-05', 'America/Santiago')!.end).toBe(Date.UTC(2026, 8, 6, 4) - 1);
  });

  it('refuses what Date.parse would roll over or read in local time', () => {
    for (const bad of [
      '2026-02-30',
      '2026-02-30T00:00:00Z',
      '2026-12-02T24:00:00Z',
      '2026-12-02T23:59:60Z',
      '2026-12-02T10:00:00+15:00',
      '2026-12-02T10:00:00',
      '2026-12-02T10:00Z',
      'Dec 2 2026',
      '+002026-12-02T00:00:00Z',
      '2026-12-02Tz',
      '',
    ])
      expect(dateSpan(bad, 'UTC'), bad).toBeUndefined();
    for (const bad of [20261202, null, undefined, ['2026-12-02'], { toString: () => '2026-12-02' }]) expect(dateSpan(bad, 'UTC')).toBeUndefined();
  });

  it('an unknown time zone is INVALID_ARGUMENT, not a RangeError', () => {
    expect(() => dateSpan('2026-12-02', 'Mars/Olympus')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
