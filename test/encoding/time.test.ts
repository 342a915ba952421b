import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { describeTime, isDateTime, numericDate, parseDateTime, signedDate } from '../../src/encoding/time.js';
import { isCharterError } from '../../src/errors.js';

describe('strict RFC 3339 date-times (VCDM 2.0 dateTimeStamp)', () => {
  it('reads valid forms to the same instant Date reads them', () => {
    const cases: [string, string][] = [
      ['2024-01-01T00:00:00Z', '2024-01-01T00:00:00.000Z'],
      ['2010-01-01T19:23:24Z', '2010-01-01T19:23:24.000Z'],
      ['2024-02-29T12:00:00Z', '2024-02-29T12:00:00.000Z'],
      ['2000-02-29T00:00:00Z', '2000-02-29T00:00:00.000Z'],
      ['2024-06-01T12:00:00+02:00', '2024-06-01T10:00:00.000Z'],
      ['2024-06-01T12:00:00-05:30', '2024-06-01T17:30:00.000Z'],
      ['2024-06-01T12:00:00-00:00', '2024-06-01T12:00:00.000Z'],
      ['2024-06-01T12:00:00+14:00', '2024-05-31T22:00:00.000Z'],
      ['2024-06-01T12:00:00.5Z', '2024-06-01T12:00:00.500Z'],
      ['2024-06-01T12:00:00.123456789Z', '2024-06-01T12:00:00.123Z'],
      ['2024-06-01T12:00:00.1234567890123Z', '2024-06-01T12:00:00.123Z'], // RFC 3339 time-secfrac: any number of digits
      ['9999-12-31T23:59:59Z', '9999-12-31T23:59:59.000Z'],
    ];
    for (const [input, iso] of cases) expect([input, parseDateTime(input)]).toEqual([input, Date.parse(iso)]);
  });

  it('keeps two-digit years literal (Date.UTC would move year 0050 to 1950)', () => {
    expect(new Date(parseDateTime('0050-03-01T00:00:00Z')!).getUTCFullYear()).toBe(50);
    expect(new Date(parseDateTime('0000-01-01T00:00:00Z')!).getUTCFullYear()).toBe(0);
  });

  it('refuses what Date.parse happens to accept', () => {
    const refused = [
      'Jan 1 2999',
      '2999-01-01', // a bare date
      '2024-01-01T00:00:00', // no zone: Date.parse reads local time
      '2024-01-01T00:00Z', // no seconds
      '2024-02-30T00:00:00Z', // impossible day, Date.parse rolls it to March
      '2023-02-29T00:00:00Z', // not a leap year
      '1900-02-29T00:00:00Z', // century rule
      '2024-04-31T00:00:00Z',
      '2024-13-01T00:00:00Z',
      '2024-00-10T00:00:00Z',
      '2024-01-00T00:00:00Z',
      '2024-01-01T24:00:00Z',
      '2024-01-01T23:60:00Z',
      '2024-12-31T23:59:60Z', // leap second: not a dateTimeStamp
      '2024-01-01t00:00:00Z',
      '2024-01-01T00:00:00z',
      '2024-01-01 00:00:00Z',
      '2024-01-01T00:00:00+0100',
      '2024-01-01T00:00:00+01',
      '2024-01-01T00:00:00+15:00',
      '2024-01-01T00:00:00+01:60',
      '2024-01-01T00:00:00.Z',
      '+002024-01-01T00:00:00Z',
      '-2024-01-01T00:00:00Z',
      '12024-01-01T00:00:00Z',
      ' 2024-01-01T00:00:00Z',
      '2024-01-01T00:00:00Z ',
      '2024-01-01T00:00:00Z\n',
      '２０２４-01-01T00:00:00Z',
      '2024-01-01T00:00:00ZZ',
      '',
      'Z',
    ];
    for (const s of refused) expect([s, parseDateTime(s)]).toEqual([s, undefined]);
  });

  it('refuses every non-string', () => {
    for (const v of [
      undefined,
      null,
      0,
      1704067200,
      1704067200000,
      NaN,
      Infinity,
      true,
      {},
      [],
      ['2024-01-01T00:00:00Z'],
      new Date(0),
      { toString: () => '2024-01-01T00:00:00Z' },
    ]) {
      expect(parseDateTime(v)).toBeUndefined();
      expect(isDateTime(v)).toBe(false);
    }
  });

  it('every formatted instant parses back to itself (property)', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('0001-01-01T00:00:00Z'), max: new Date('9998-12-31T23:59:59.999Z'), noInvalidDate: true }),
        fc.integer({ min: -14 * 60, max: 14 * 60 }),
        (d, offset) => {
          const t = d.getTime();
          expect(parseDateTime(d.toISOString())).toBe(t);
          // The same instant written in another zone.
          const local = new Date(t + offset * 60_000).toISOString().slice(0, 23);
          const sign = offset < 0 ? '-' : '+';
          const a = Math.abs(offset);
          const zone = `${sign}${String(Math.floor(a / 60)).padStart(2, '0')}:${String(a % 60).padStart(2, '0')}`;
          expect(parseDateTime(local + zone)).toBe(t);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('whatever it accepts is a strict date-time that Date agrees on (property over random strings)', () => {
    const digit = fc.constantFrom(...'0123456789');
    const chunk = (n: number) => fc.array(digit, { minLength: n, maxLength: n }).map((a) => a.join(''));
    const noise = fc.oneof(fc.string({ maxLength: 40 }), fc.constantFrom('T', 't', ' ', 'Z', 'z', '+', '-', ':', '.', ''));
    const candidate = fc.oneof(
      fc.string({ maxLength: 40 }),
      fc
        .tuple(
          chunk(4),
          chunk(2),
          chunk(2),
          fc.constantFrom('T', 't', ' '),
          chunk(2),
          chunk(2),
          chunk(2),
          fc.constantFrom('', '.5', '.123', '.'),
          fc.constantFrom('Z', 'z', '', '+01:00', '-14:00', '+14:01', '+1:00'),
          noise,
        )
        .map(([y, mo, d, t, h, mi, s, f, z, n]) => `${y}-${mo}-${d}${t}${h}:${mi}:${s}${f}${z}${n}`),
    );
    fc.assert(
      fc.property(candidate, (s) => {
        const t = parseDateTime(s);
        if (t === undefined) return;
        expect(s).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})$/);
        expect(Number.isFinite(t)).toBe(true);
        // Where Date.parse reads the form at all, it reads the same instant (it rolls impossible days over, which we refuse).
        if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?(Z|[+-]\d{2}:\d{2})$/.test(s) && Number(s.slice(0, 4)) >= 100) expect(Date.parse(s)).toBe(t);
      }),
      { numRuns: 2000 },
    );
  });

  it('describes any number without throwing', () => {
    expect(describeTime(0)).toBe('1970-01-01T00:00:00.000Z');
    expect(describeTime(1e300)).toBe('the far future');
    expect(describeTime(-1e300)).toBe('the far past');
    expect(describeTime(Number.NaN)).toBe('the far past');
  });
});

describe('signedDate: a date a caller asks Charter to sign', () => {
  it('cuts to whole seconds (what a NumericDate and validFrom carry) and keeps undefined', () => {
    expect(signedDate(new Date('2026-12-03T10:00:00.999Z'), 'validFrom')!.toISOString()).toBe('2026-12-03T10:00:00.000Z');
    expect(numericDate(new Date('1970-01-01T00:00:01.999Z'))).toBe(1);
    expect(signedDate(undefined, 'validFrom')).toBeUndefined();
    // The last second of 9999 is fine; its milliseconds are cut, not rounded up into 10000.
    expect(signedDate(new Date('9999-12-31T23:59:59.999Z'), 'x')!.toISOString()).toBe('9999-12-31T23:59:59.000Z');
    expect(signedDate(new Date('0000-01-01T00:00:00Z'), 'x')!.toISOString()).toBe('0000-01-01T00:00:00.000Z');
  });

  it.each([
    ['an Invalid Date', new Date(NaN)],
    ['a string', '2026-12-03T10:00:00Z'],
    ['a number', 1_800_000_000],
    ['null', null],
    ['an object', { getTime: (): number => 0 }],
    ['the year 10000', new Date(Date.UTC(10000, 0, 1))],
    ['the year -1', new Date(Date.UTC(-1, 11, 31, 23, 59, 59))],
    ['the largest Date', new Date(8.64e15)],
  ])('refuses %s with INVALID_ARGUMENT naming the field', (_, d) => {
    let e: unknown;
    try {
      signedDate(d, 'validUntil');
    } catch (x) {
      e = x;
    }
    expect(isCharterError(e) && e.code === 'INVALID_ARGUMENT' && e.message.startsWith('validUntil must')).toBe(true);
  });
});
