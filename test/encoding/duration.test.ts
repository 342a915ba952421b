import { describe, expect, it } from 'vitest';
import { isCharterError } from '../../src/errors.js';
import { parseDuration, parseExpiry, parseInstant } from '../../src/encoding/duration.js';

const codeOf = (f: () => unknown) => {
  try {
    f();
    return undefined;
  } catch (e) {
    return isCharterError(e) ? e.code : 'THREW';
  }
};

describe('parseExpiry', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  it('reads shorthand, ISO durations and dates', () => {
    expect(parseExpiry('30d', now).toISOString()).toBe('2026-01-31T00:00:00.000Z');
    expect(parseExpiry('2w', now).toISOString()).toBe('2026-01-15T00:00:00.000Z');
    expect(parseExpiry('PT1H', now).toISOString()).toBe('2026-01-01T01:00:00.000Z');
    expect(parseExpiry('2027-06-01T00:00:00Z', now).toISOString()).toBe('2027-06-01T00:00:00.000Z');
  });
  it('an expiry past what a date-time can write is refused by name, never read as no expiry', () => {
    for (const s of ['99999999d', '9999999999999999999w', '3000000w', 'P9000Y'])
      expect([
        s,
        codeOf(() => parseExpiry(s, now)),
        (() => {
          try {
            parseExpiry(s, now);
            return '';
          } catch (e) {
            return (e as Error).message;
          }
        })(),
      ]).toEqual([s, 'INVALID_ARGUMENT', expect.stringMatching(/too far in the future/)]);
    expect(parseExpiry('2900000d', now).getUTCFullYear()).toBeLessThan(10000);
  });
  it('junk is INVALID_ARGUMENT', () => {
    for (const s of ['', 'soon', '30x', '-5d', 'P', 'PT', '2026-13-01']) expect([s, codeOf(() => parseExpiry(s, now))]).toEqual([s, 'INVALID_ARGUMENT']);
    expect(codeOf(() => parseDuration('P0D'))).toBe('INVALID_ARGUMENT');
  });
});

describe('times on the command line (parseExpiry, parseInstant)', () => {
  const now = new Date('2026-01-01T00:00:00Z');
  it('a date-time needs its time zone; a bare date must be a real day and reads as midnight UTC', () => {
    expect(parseExpiry('2030-02-28', now).toISOString()).toBe('2030-02-28T00:00:00.000Z');
    expect(parseExpiry('2028-02-29', now).toISOString()).toBe('2028-02-29T00:00:00.000Z');
    expect(parseExpiry('2030-01-31T09:00:00+01:00', now).toISOString()).toBe('2030-01-31T08:00:00.000Z');
    expect(parseInstant('2030-03-01').toISOString()).toBe('2030-03-01T00:00:00.000Z');
    for (const s of [
      '2030-02-30',
      '2029-02-29',
      '2030-04-31',
      '2030-00-10',
      '2030-02-28T12:00:00',
      '2030-02-28T12:00',
      '2030-02-28 12:00:00Z',
      '2030-02-28t12:00:00z',
      'March 1 2030',
      '2030-02-28T24:00:00Z',
      '20300228',
    ]) {
      expect([s, codeOf(() => parseExpiry(s, now))]).toEqual([s, 'INVALID_ARGUMENT']);
      expect([s, codeOf(() => parseInstant(s, '--from'))]).toEqual([s, 'INVALID_ARGUMENT']);
    }
  });
  it('a zero duration is refused as an expiry, in every spelling', () => {
    for (const s of ['0s', '0m', '0h', '0d', '0w', '00d', 'P0D', 'PT0S']) expect([s, codeOf(() => parseExpiry(s, now))]).toEqual([s, 'INVALID_ARGUMENT']);
  });
});
