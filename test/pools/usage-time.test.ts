import { randomUUID } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { decodeJwt, issueCredential, schemaIdFor } from '../../src/credentials/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { createResolver } from '../../src/did/index.js';
import { isCharterError } from '../../src/errors.js';
import { issueUsageReport, readUsage, USAGE_TYPE, type Use } from '../../src/pools/index.js';
import { makeIssuer } from '../helpers.js';

/**
 * A use's time is a Date or a strict RFC 3339 date-time with a time zone, on both sides: the platform
 * signs the same instant whatever its host's zone, and a pool counts a report the same way in any zone.
 */
const resolver = createResolver();
const [reporter, pool, member] = [makeIssuer(), makeIssuer(), makeIssuer()];
const GRANT = `urn:uuid:${randomUUID()}`;
const HOST_TZ = process.env.TZ;
afterEach(() => {
  if (HOST_TZ === undefined) delete process.env.TZ;
  else process.env.TZ = HOST_TZ;
});

const report = (...uses: Use[]) => issueUsageReport(reporter, { pool: pool.did, grant: GRANT, uses });
const signedTimes = async (...uses: Use[]) =>
  (decodeJwt((await report(...uses)).jwt).payload.credentialSubject as { usage: { uses: { time: string }[] } }).usage.uses.map((u) => u.time);

/** What issueUsageReport threw (or undefined when it signed). */
async function thrown(time: unknown, at = 0): Promise<unknown> {
  const uses: Use[] = [{ member: member.did, time: '2026-01-01T00:00:00Z' }];
  uses.splice(at, 1, { member: member.did, time: time as string });
  try {
    await report(...uses);
    return undefined;
  } catch (e) {
    return e;
  }
}

const BAD_STRINGS = [
  '2026-12-03T10:00:00', // no zone: the host's local time
  'Dec 3 2026',
  '2026-12-03',
  '2026-02-30T10:00:00Z', // Date.parse rolls it to March 2
  '2025-02-29T10:00:00Z',
  '2026-12-03T24:00:00Z',
  '2016-12-31T23:59:60Z', // a leap second
  '2026-12-03T10:00:00+01', // a two-digit offset
  '2026-12-03T10:00:00+15:00',
  '2026-12-03t10:00:00z',
  '2026-12-03 10:00:00Z',
  'soon',
  '',
  '0000-01-01T00:00:00+01:00', // the year -1 in UTC
];

describe('issueUsageReport: a use time is a Date or strict RFC 3339', () => {
  it('refuses loose, impossible and unreadable strings with INVALID_ARGUMENT (never a RangeError), in any host zone', async () => {
    for (const tz of ['UTC', 'Asia/Tokyo', 'America/Los_Angeles']) {
      process.env.TZ = tz;
      for (const time of BAD_STRINGS) {
        const e = await thrown(time);
        expect([tz, time, isCharterError(e) && e.code]).toEqual([tz, time, 'INVALID_ARGUMENT']);
        expect((e as Error).message).toMatch(/uses\[0\]\.time/);
      }
    }
  });

  it('refuses an Invalid Date, a Date outside 0000-9999, and non-strings: a number, null, an object', async () => {
    const bad: unknown[] = [
      new Date(NaN),
      new Date('10000-01-01T00:00:00Z'),
      new Date(Date.UTC(-1, 0, 1)),
      1_800_000_000_000,
      null,
      undefined,
      { toISOString: () => '2026-01-01T00:00:00Z' },
    ];
    for (const time of bad) {
      const e = await thrown(time);
      expect([String(time), isCharterError(e) && e.code]).toEqual([String(time), 'INVALID_ARGUMENT']);
    }
  });

  it('names the use at fault', async () => {
    expect(((await thrown('Dec 3 2026', 0)) as Error).message).toMatch(/uses\[0\]/);
    const second = await report({ member: member.did, time: '2026-01-01T00:00:00Z' }, { member: member.did, time: '2026-01-01T00:00:00Z' });
    expect(second.jwt).toBeTypeOf('string');
    try {
      await report({ member: member.did, time: '2026-01-01T00:00:00Z' }, { member: member.did, time: '2026-02-30T10:00:00Z' });
      expect.unreachable();
    } catch (e) {
      expect([isCharterError(e) && e.code, (e as Error).message]).toEqual(['INVALID_ARGUMENT', expect.stringMatching(/uses\[1\]\.time/)]);
    }
  });

  it('signs the instant as UTC whatever the host zone: offsets applied, -00:00 read as UTC, a Date as it is', async () => {
    const d = new Date(Date.UTC(2026, 11, 3, 1, 2, 3, 456));
    for (const tz of ['UTC', 'Asia/Tokyo', 'Pacific/Kiritimati']) {
      process.env.TZ = tz;
      expect(
        await signedTimes(
          { member: member.did, time: '2026-12-03T10:00:00+09:00' },
          { member: member.did, time: '2026-12-02T23:00:00-02:00' },
          { member: member.did, time: '2026-12-03T01:00:00-00:00' },
          { member: member.did, time: '2026-12-03T01:00:00.123456789Z' },
          { member: member.did, time: d },
          { member: member.did, time: '9999-12-31T23:59:59Z' },
          { member: member.did, time: '0000-01-01T00:00:00Z' },
        ),
      ).toEqual([
        '2026-12-03T01:00:00.000Z',
        '2026-12-03T01:00:00.000Z',
        '2026-12-03T01:00:00.000Z',
        '2026-12-03T01:00:00.123Z',
        '2026-12-03T01:02:03.456Z',
        '9999-12-31T23:59:59.000Z',
        '0000-01-01T00:00:00.000Z',
      ]);
    }
  });
});

/** A usage report signed with `time` as given: issueCredential checks the schema only, whose date-time format is lenient. */
const handSigned = (by: Issuer, time: string) =>
  issueCredential({
    issuer: by,
    subject: pool.did,
    type: USAGE_TYPE,
    claims: { usage: { grant: GRANT, uses: [{ member: member.did, time }] } },
    credentialSchema: { id: schemaIdFor(USAGE_TYPE)!, type: 'JsonSchema' },
  }).then((c) => c.jwt);

const read = (jwts: string[]) => readUsage(jwts, { resolver, pool: pool.did, grants: new Map([[GRANT, { grantee: reporter.did }]]) });

describe('readUsage: a use is counted only with a strict RFC 3339 time', () => {
  it('a leap second or a two-digit offset (the schema lets them through) is refused as undated, not as "later than the report", in any host zone', async () => {
    for (const tz of ['UTC', 'Asia/Tokyo']) {
      process.env.TZ = tz;
      for (const time of ['2016-12-31T23:59:60Z', '2020-01-01T10:00:00+01', '2020-01-01T10:00:00-05']) {
        const r = await read([await handSigned(reporter, time)]);
        expect([tz, time, r.uses.length, r.ignored.map((i) => i.code)]).toEqual([tz, time, 0, ['INVALID_CREDENTIAL']]);
        expect(r.ignored[0]!.message).toMatch(/RFC 3339/);
      }
    }
  });

  it('a zone-less use time never reaches a count: the schema refuses it when signed', async () => {
    await expect(handSigned(reporter, new Date(Date.now() - 3_600_000).toISOString().slice(0, 19))).rejects.toMatchObject({ code: 'SCHEMA_INVALID' });
  });

  it('strict times count (offsets applied), and a use later than the report is still ISSUED_IN_FUTURE', async () => {
    const past = new Date(Date.now() - 3_600_000);
    const ok = await read([
      await handSigned(reporter, past.toISOString()),
      await handSigned(reporter, `${new Date(past.getTime() + 9 * 3_600_000).toISOString().slice(0, 19)}+09:00`),
    ]);
    expect([ok.uses.length, ok.ignored]).toEqual([2, []]);
    const later = await read([await handSigned(reporter, new Date(Date.now() + 3_600_000).toISOString())]);
    expect(later.ignored.map((i) => i.code)).toEqual(['ISSUED_IN_FUTURE']);
    // +14:00 puts a wall clock 13 h ahead one hour in the past: counted.
    const east = await read([await handSigned(reporter, `${new Date(Date.now() + 13 * 3_600_000).toISOString().slice(0, 19)}+14:00`)]);
    expect(east.uses.length).toBe(1);
  });
});
