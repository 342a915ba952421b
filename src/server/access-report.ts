import type { IncomingMessage, ServerResponse } from 'node:http';
import { CharterError, HTTP_STATUS, remoteReason } from '../errors.js';
import type { Home } from '../home/home.js';
import { acceptAccessReport } from '../audit/index.js';
import { homeReportUrl, MAX_REPORT_BYTES } from '../audit/access-report.js';
import { problem } from './reply.js';

/** Largest report body: 100 receipts of a few KiB each. */
const MAX_BODY = MAX_REPORT_BYTES;

export interface AccessReportLimits {
  /** Reports per minute from one address. Default 30. */
  perAddressPerMinute?: number;
  /** Reports per hour from one reporter DID (each report charged once while it is fresh, however often posted). Default 120. */
  perReporterPerHour?: number;
  /** Most fresh reports remembered as charged. Default 100,000. */
  maxChargedReports?: number;
}

/** A token bucket per key: `capacity` tokens, refilled over `windowMs`; oldest keys dropped beyond `maxKeys`. */
function limiter(capacity: number, windowMs: number, maxKeys = 10_000) {
  const buckets = new Map<string, { tokens: number; at: number }>();
  return (key: string, now = Date.now()): number | undefined => {
    const b = buckets.get(key) ?? { tokens: capacity, at: now };
    b.tokens = Math.min(capacity, b.tokens + ((now - b.at) * capacity) / windowMs);
    b.at = now;
    buckets.delete(key);
    if (buckets.size >= maxKeys) buckets.delete(buckets.keys().next().value as string);
    buckets.set(key, b);
    if (b.tokens >= 1) {
      b.tokens -= 1;
      return undefined;
    }
    // Seconds until one token is back.
    return Math.ceil(((1 - b.tokens) * windowMs) / capacity / 1000);
  };
}

/** Most fresh reports remembered as charged (about 100 bytes each: some 10 MB at most). */
const MAX_CHARGED_REPORTS = 100_000;

/**
 * The reports charged to their reporter, by the SHA-256 of their signed payload, until they stop being fresh
 * (24 h after their iat): a report posted again (a replay by whoever saw it on its way, or a retry) is charged
 * once, however often and however concurrently it comes (the check and the mark are one synchronous step).
 * Keyed by the payload's hash, not its `jti`: the reporter chooses its jti, so one jti over many reports
 * would let a reporter post without limit; two reports with one payload are the same report (another JSON
 * spelling of it is another payload, and only its reporter can sign that: a cost to itself, not a replay).
 * Bounded: an entry lives only while its report is fresh (expired ones are dropped from the oldest as new
 * ones come, and when looked up), and at most `maxEntries` are kept, the oldest dropped first. Pushing out
 * a platform's entries takes `maxEntries` reports charged since, each signed, fresh, addressed to this home
 * and let through the per-address limit (30 a minute each): what a replay alone used to do at once.
 */
export function chargedReports(maxEntries = MAX_CHARGED_REPORTS) {
  // Zero or less would never make room (the eviction loop below would not end): a programming error.
  if (!Number.isSafeInteger(maxEntries) || maxEntries < 1) throw new TypeError('maxChargedReports must be a positive integer');
  const until = new Map<string, number>();
  const sweep = (now: number) => {
    for (const [k, t] of until) {
      if (t >= now) break;
      until.delete(k);
    }
  };
  return {
    /**
     * Whether this report was charged and is still fresh. Fresh up to and including `freshUntil`, as
     * acceptAccessReport takes a report while |now - iat| <= 24 h: at exactly iat + 24 h it is still taken,
     * so it must still be known then, or each copy posted in that instant is charged again.
     */
    has(digest: string, now = Date.now()): boolean {
      const t = until.get(digest);
      if (t === undefined) return false;
      if (t >= now) return true;
      until.delete(digest);
      return false;
    },
    /** Remember a report just charged, until `freshUntil` (ms). */
    add(digest: string, freshUntil: number, now = Date.now()): void {
      if (!(freshUntil >= now)) return;
      sweep(now);
      until.delete(digest);
      while (until.size >= maxEntries) until.delete(until.keys().next().value as string);
      until.set(digest, freshUntil);
    },
    get size(): number {
      return until.size;
    },
  };
}

async function readBody(req: IncomingMessage): Promise<string> {
  let size = 0;
  const chunks: Buffer[] = [];
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) throw new CharterError('INPUT_TOO_LARGE', 'the report is too large');
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8').trim();
}

/**
 * `POST /access-reports` on `charter serve`: a platform sends the receipts
 * of its uses of a grant back to the person who issued it (voluntary; see
 * README "Accountability"). Body: one signed report (application/jwt).
 * Rate-limited per address and per reporter (429 with Retry-After); a report
 * naming another home (`aud`) is 401 AUDIENCE_MISMATCH, charged to no
 * reporter; 202 with what was accepted and what was refused.
 */
export function createAccessReportHandler(home: Home, limits: AccessReportLimits = {}) {
  const byAddress = limiter(limits.perAddressPerMinute ?? 30, 60_000);
  const byReporter = limiter(limits.perReporterPerHour ?? 120, 3_600_000);
  const charged = chargedReports(limits.maxChargedReports);
  const tooMany = (res: ServerResponse, after: number) => problem(res, 'TOO_MANY_REQUESTS', 'too many access reports: try again later', 429, { 'retry-after': String(after) });

  return async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    if (req.method !== 'POST') return problem(res, 'INVALID_ARGUMENT', 'send a report with POST', 405, { allow: 'POST' });
    // Platforms report from servers, never from a web page: a request a browser made for some page the
    // person visits (it names that page's Origin, or says it is cross-site) must not write onto their
    // consent page, even though `charter serve` on loopback is reachable from their browser.
    const site = req.headers['sec-fetch-site'];
    if (req.headers.origin !== undefined || site === 'cross-site' || site === 'same-site') {
      return problem(res, 'INVALID_ARGUMENT', 'access reports are sent by servers, not from web pages', 403);
    }
    const wait = byAddress(req.socket.remoteAddress ?? '?');
    if (wait !== undefined) return tooMany(res, wait);
    // application/jwt only: text/plain is a type a page may post without a CORS preflight.
    const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type !== 'application/jwt') return problem(res, 'INVALID_ARGUMENT', 'a report is sent as application/jwt', 415);
    const report = await readBody(req);
    // A report names the home it is for (its `aud`): this one's report URL, from its public URL (read now:
    // `charter config set public-url` may change it while serving). With none, no report is for this home.
    const publicUrl = await home.publicUrl();
    if (publicUrl === undefined) return problem(res, 'AUDIENCE_MISMATCH', 'this home has no public URL, so no report is addressed to it', HTTP_STATUS.AUDIENCE_MISMATCH);
    // Per reporter, counted only once the report's signature verified and it is fresh and well formed: a name
    // written into junk, or a platform's old report replayed, must not use up its allowance (the per-address
    // limit bounds those).
    const r = await acceptAccessReport(home.store, report, {
      resolver: home.resolver,
      aud: homeReportUrl(publicUrl),
      admit: (reporter, { digest, freshUntil }) => {
        // A report already charged (posted before, and still fresh) is taken again uncharged: its receipts
        // are kept once, and whoever replays it cannot use up its reporter's allowance here.
        if (charged.has(digest)) return undefined;
        const wait = byReporter(reporter);
        if (wait !== undefined) return { retryAfter: wait };
        charged.add(digest, freshUntil.getTime());
        return undefined;
      },
    });
    if (r.retryAfter !== undefined) return tooMany(res, r.retryAfter);
    if (r.reasons.length > 0) {
      // Told to whoever posted: a reporter DID refused for its address reads as one that could not be resolved.
      const first = remoteReason(r.reasons[0]!);
      // A report that is not a compact JWS is a malformed request here (400), not a failed authentication.
      return problem(res, first.code, first.message, first.code === 'MALFORMED_JWT' ? 400 : HTTP_STATUS[first.code]);
    }
    res.writeHead(202, { 'content-type': 'application/json', 'cache-control': 'no-store' });
    res.end(JSON.stringify({ grant: r.grant, accepted: r.accepted, refused: r.refused }));
  };
}
