import { identifierSet } from '../encoding/lists.js';
import { randomUUID } from 'node:crypto';
import { CharterError, type Reason, shown } from '../errors.js';
import { isObj } from '../encoding/json.js';
import { parseDateTime } from '../encoding/time.js';
import { decodeJwt, issueCredential, schemaIdFor, soleSubject, verifyCredential } from '../credentials/index.js';
import type { Issuer } from '../credentials/types.js';
import type { CharterResolver } from '../did/types.js';
import { USAGE_TYPE } from './records.js';
import { normalizeResource } from '../grants/index.js';

/**
 * Usage under a pool grant, as the payouts count it. Today: signed usage
 * reports (PoolUsageReport) from the platform that holds the grant, or from
 * a reporter the pool trusts (e.g. the API serving the data). The input is a
 * list of JWTs read by type, so decision receipts can be accepted here later
 * without changing the callers.
 */

export interface Use {
  /** The member whose data was used. */
  member: string;
  /** When: a Date, or an RFC 3339 date-time with a time zone (signed as UTC, e.g. 2026-12-03T10:00:00.000Z). */
  time: string | Date;
  /** How many uses this entry stands for. Default 1. */
  count?: number;
  resource?: string;
}

export interface UsageReportInput {
  pool: string;
  grant: string;
  uses: Use[];
}

/**
 * A use's time in ms, as issueCredential takes its dates: a valid Date, or a
 * strict RFC 3339 date-time with a time zone (encoding/time.ts), within the
 * years 0000-9999 (a date-time outside them is no dateTimeStamp).
 * `Date.parse` would sign a zone-less time in the host's zone, take
 * "Dec 3 2026" and roll February 30 over to March: INVALID_ARGUMENT instead.
 */
function useTime(time: unknown, i: number): string {
  const ms = time instanceof Date ? time.getTime() : parseDateTime(time);
  const year = ms === undefined ? NaN : new Date(ms).getUTCFullYear();
  if (!(year >= 0 && year <= 9999)) {
    throw new CharterError('INVALID_ARGUMENT', `uses[${i}].time must be a valid Date or an RFC 3339 date-time with a time zone (years 0000-9999), such as 2026-12-03T10:00:00Z`);
  }
  return new Date(ms!).toISOString();
}

/** The platform signs what it used under a pool grant (a PoolUsageReport about the pool). */
export async function issueUsageReport(reporter: Issuer, input: UsageReportInput): Promise<{ id: string; jwt: string }> {
  if (!Array.isArray(input.uses) || input.uses.length === 0) throw new CharterError('INVALID_ARGUMENT', 'a usage report lists at least one use');
  const uses = input.uses.map((u, i) => ({
    member: u.member,
    time: useTime(u.time, i),
    ...(u.count !== undefined ? { count: u.count } : {}),
    ...(u.resource !== undefined ? { resource: u.resource } : {}),
  }));
  const issued = await issueCredential({
    issuer: reporter,
    id: `urn:uuid:${randomUUID()}`,
    subject: input.pool,
    type: USAGE_TYPE,
    claims: { usage: { grant: input.grant, uses } },
    credentialSchema: { id: schemaIdFor(USAGE_TYPE)!, type: 'JsonSchema' },
  });
  return { id: issued.id, jwt: issued.jwt };
}

/** One counted use, with where it came from. */
export interface UsageRecord {
  report: string;
  reporter: string;
  grant: string;
  member: string;
  time: string;
  count: number;
}

export interface ReadUsageOptions {
  resolver: CharterResolver;
  pool: string;
  /** The pool's grants by id, with their grantee (who may report). */
  grants: ReadonlyMap<string, { grantee: string }>;
  /** Other DIDs whose reports count (e.g. the data host's verifier). */
  trustedReporters?: readonly string[];
  now?: Date;
}

/**
 * The trusted reporters as a Set, or TypeError unless a list of non-empty
 * strings: a string given for the list would otherwise match its substrings
 * (`"did:web:acme.com.au".includes("did:web:acme.com")`).
 */
export function trustedReporterSet(who: string, list: unknown): ReadonlySet<string> {
  return identifierSet(`${who}: trustedReporters`, list) ?? new Set();
}

/** A reported resource as grants compare it (normalizeResource), or as written when it is no path they would take. */
function resourceKey(resource: unknown): unknown {
  try {
    return normalizeResource(resource);
  } catch {
    return resource;
  }
}

/**
 * Verifies each report and returns its uses; a report counts once (by id),
 * only when signed by the grant's grantee or a trusted reporter, about this
 * pool and one of its grants. A use is (grant, member, instant, resource when
 * given): one reported by several reports (the grantee's and a trusted
 * reporter's) counts once, at the highest count a report gives it; entries
 * of one report for the same use add up. Everything else is listed as
 * ignored, with why.
 */
export async function readUsage(
  jwts: readonly string[],
  o: ReadUsageOptions,
): Promise<{ uses: UsageRecord[]; ignored: { index: number; code: Reason['code']; message: string }[] }> {
  const reporters = trustedReporterSet('readUsage', o?.trustedReporters);
  const byUse = new Map<string, { record: UsageRecord; index: number }>();
  const ignored: { index: number; code: Reason['code']; message: string }[] = [];
  const seen = new Set<string>();
  for (const [index, jwt] of jwts.entries()) {
    const skip = (code: Reason['code'], message: string) => ignored.push({ index, code, message });
    let typ: unknown;
    try {
      typ = decodeJwt(jwt).header.typ;
    } catch {
      skip('MALFORMED_JWT', 'not a compact JWT');
      continue;
    }
    if (typ === 'charter-receipt+jwt') {
      skip('INVALID_CREDENTIAL', 'decision receipts are not read by this version yet: send a PoolUsageReport');
      continue;
    }
    const v = await verifyCredential(jwt, { resolver: o.resolver, requireType: USAGE_TYPE, ...(o.now ? { now: o.now } : {}) });
    if (!v.ok || !v.credential || !v.issuer || !v.id) {
      skip(v.reasons[0]?.code ?? 'INVALID_CREDENTIAL', v.reasons[0]?.message ?? 'the report does not verify');
      continue;
    }
    const usage = soleSubject(v.credential)?.usage;
    if (!isObj(usage) || typeof usage.grant !== 'string' || !Array.isArray(usage.uses)) {
      skip('INVALID_CREDENTIAL', 'not a usage report');
      continue;
    }
    const grant = o.grants.get(usage.grant);
    if (v.subject !== o.pool || !grant) {
      skip('NOT_FOUND', 'the report is about another pool or a grant this pool did not issue');
      continue;
    }
    if (v.issuer !== grant.grantee && !reporters.has(v.issuer)) {
      skip('UNTRUSTED_ISSUER', "the report is signed by neither the grant's grantee nor a trusted reporter");
      continue;
    }
    if (seen.has(v.id)) {
      skip('RECEIPT_REUSED', 'the same report was given twice: counted once');
      continue;
    }
    seen.add(v.id);
    // A report speaks of what happened before it was signed (with the usual clock skew).
    const signedAt = (parseDateTime(v.credential.validFrom) ?? NaN) + 60_000;
    const mine = new Map<string, UsageRecord>();
    for (const u of usage.uses as { member: string; time: string; count?: number; resource?: string }[]) {
      // Read strictly (encoding/time.ts), as the report's own validFrom is: the schema's date-time format
      // takes a leap second or a two-digit offset, which no clock reads, so the use is undated, not "later".
      const at = parseDateTime(u.time);
      if (at === undefined) {
        skip('INVALID_CREDENTIAL', `a use at ${shown(u.time, 40)} is not dated by an RFC 3339 date-time with a time zone`);
        continue;
      }
      if (!(at <= signedAt)) {
        skip('ISSUED_IN_FUTURE', `a use at ${u.time.slice(0, 40)} is later than the report`);
        continue;
      }
      // One use is (grant, member, instant, resource): entries of one report for the same use add up. The
      // resource in the form grants compare it in ("/sleep/ana/", "sleep//ana" and "sleep/ana" name one path),
      // so the same use spelt apart by two reporters is still counted once.
      const key = JSON.stringify([usage.grant, u.member, at, u.resource === undefined ? null : resourceKey(u.resource)]);
      const same = mine.get(key);
      if (same) same.count += u.count ?? 1;
      else mine.set(key, { report: v.id, reporter: v.issuer, grant: usage.grant, member: u.member, time: u.time, count: u.count ?? 1 });
    }
    // Across reports, the same use told by two reporters (the grantee and the data API) is counted once,
    // at the highest count one report gives it (the first report on a tie): never the sum.
    for (const [key, record] of mine) {
      const best = byUse.get(key);
      if (best === undefined) byUse.set(key, { record, index });
      else {
        const [kept, dropped] = record.count > best.record.count ? [{ record, index }, best] : [best, { record, index }];
        byUse.set(key, kept);
        ignored.push({
          index: dropped.index,
          code: 'RECEIPT_REUSED',
          message: `a use at ${shown(record.time, 40)} was also reported by ${shown(kept.record.reporter, 80)}: counted once, at the highest count reported`,
        });
      }
    }
  }
  return { uses: [...byUse.values()].map((x) => x.record), ignored };
}
