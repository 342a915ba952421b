import { isIP } from 'node:net';
import { CharterError, isCharterError } from '../errors.js';
import { safeFetch } from '../did/fetch.js';
import { isLoopbackHostname } from '../did/address.js';
import { TtlCache } from '../did/cache.js';
import { combinedFieldValue, fieldGetter } from './fields.js';
import { DIRECTORY_MEDIA_TYPE, DIRECTORY_PATH, verifyDirectoryResponse, type VerifiedDirectory } from './directory-verify.js';
import { checkSkewSeconds, nowMsOf } from './clock.js';

export interface DirectoryResolverOptions {
  /** Allow loopback addresses and plain http on them (local testing only). */
  allowLoopback?: boolean;
  /** Wall-clock deadline of one fetch, connect to last byte. Default 5000 ms (as did:web). */
  timeoutMs?: number;
  /** Body cap. Default 64 KiB. */
  maxBytes?: number;
  /** See VerifyDirectoryOptions.requireSignature (default true: Charter's policy). */
  requireSignature?: boolean;
  /** Longest a directory is cached, whatever its Cache-Control says. Default 3600 s. */
  maxCacheSeconds?: number;
  /** Most directories held, and most failed origins remembered. Default 1000. */
  maxEntries?: number;
  /**
   * How long an origin whose directory could not be fetched or verified is
   * answered with that failure without fetching again. Default 30 s. The
   * origin comes from an unsigned request header, so without it every request
   * naming a failing origin would make this verifier fetch it once more.
   */
  failureCacheSeconds?: number;
  /** Default 60, at most 300 (DESIGN.md "Time"). */
  skewSeconds?: number;
}

/** Resolves a Signature-Agent origin to its verified key directory. */
export interface DirectoryResolver {
  /** `now`, when given, must be a valid Date (a rejected TypeError otherwise). */
  resolve(origin: string, now?: Date): Promise<VerifiedDirectory>;
}

/** Cache-Control max-age in seconds (0 for no-store / no-cache), or undefined. */
function maxAgeOf(cacheControl: string | undefined): number | undefined {
  if (cacheControl === undefined) return undefined;
  if (/(?:^|,)\s*(?:no-store|no-cache|private)\b/i.test(cacheControl)) return 0;
  const m = /(?:^|,)\s*(?:s-maxage|max-age)\s*=\s*"?(\d+)"?/i.exec(cacheControl);
  return m ? Number(m[1]) : undefined;
}

function positive(v: number | undefined, dflt: number, name: string, max = Number.MAX_SAFE_INTEGER): number {
  if (v === undefined) return dflt;
  if (typeof v !== 'number' || !Number.isFinite(v) || v <= 0 || v > max) throw new TypeError(`${name} must be a positive number (at most ${max})`);
  return v;
}

/**
 * A Signature-Agent is named by whoever sent the request. A host name refused
 * for the address it resolves to reads as one that could not be reached (the
 * precise error is the cause), or the answer would tell the sender which
 * internal names resolve. An IP literal or a loopback name tells nothing the
 * sender does not know, and keeps its FORBIDDEN_ADDRESS.
 */
function hiddenRefusal(e: unknown, origin: string): unknown {
  const { host, hostname } = new URL(origin);
  if (!isCharterError(e) || e.code !== 'FORBIDDEN_ADDRESS' || isIP(hostname.replace(/^\[|\]$/g, '')) !== 0 || isLoopbackHostname(hostname)) return e;
  return new CharterError('DIRECTORY_UNAVAILABLE', `could not reach ${host}`, { cause: e });
}

/** How far a caller's `now` may be from the real time and still count as "now" for the failure cache. */
const REAL_TIME_MS = 1000;

/**
 * Fetches `/.well-known/http-message-signatures-directory` with Charter's one
 * SSRF-safe fetch (address checks in the socket lookup, no redirects, only a
 * 200, size cap) under a wall-clock deadline, verifies it, and caches it, never
 * past the expiry of its directory signatures (the draft signs directories
 * per request with a short `expires`) nor its Cache-Control. Concurrent
 * requests for one directory share one fetch (draft, "Bounded Directory
 * Fetches"). A failed fetch or verification is remembered for
 * failureCacheSeconds (a bounded number of origins, oldest dropped first):
 * requests naming that origin meanwhile get the same failure, and no fetch.
 */
export function createDirectoryResolver(options: DirectoryResolverOptions = {}): DirectoryResolver {
  const timeoutMs = positive(options.timeoutMs, 5000, 'timeoutMs', 60_000);
  const maxBytes = positive(options.maxBytes, 64 * 1024, 'maxBytes', 1024 * 1024);
  const maxCacheMs = positive(options.maxCacheSeconds, 3600, 'maxCacheSeconds') * 1000;
  const maxEntries = positive(options.maxEntries, 1000, 'maxEntries');
  const failureMs = positive(options.failureCacheSeconds, 30, 'failureCacheSeconds', 3600) * 1000;
  // Checked here, when the resolver is built, not at the first fetch: a NaN or huge skew would accept expired directories.
  checkSkewSeconds(options.skewSeconds);
  // Verified directories by origin, each until its own `until` (real time), the oldest dropped first when full.
  const cache = new TtlCache<string, { dir: VerifiedDirectory; until: number }>(maxCacheMs, maxEntries, () => Date.now());
  const inflight = new Map<string, Promise<VerifiedDirectory>>();
  // Failures by origin, on real time: the same rejection for every request within failureMs.
  const failed = new TtlCache<string, { error: unknown }>(failureMs, maxEntries, () => Date.now());

  async function fetchDirectory(origin: string, now: number): Promise<VerifiedDirectory> {
    const url = `${origin}${DIRECTORY_PATH}`;
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new CharterError('DIRECTORY_UNAVAILABLE', `the directory at ${new URL(origin).host} did not answer within ${timeoutMs} ms`)), timeoutMs);
    });
    try {
      const res = await Promise.race([
        safeFetch(url, {
          allowLoopback: options.allowLoopback === true,
          allowHttp: options.allowLoopback === true,
          timeoutMs,
          maxBytes,
          accept: DIRECTORY_MEDIA_TYPE,
          failCode: 'DIRECTORY_UNAVAILABLE',
          tooLargeCode: 'DIRECTORY_INVALID',
        }).catch((e: unknown) => {
          throw hiddenRefusal(e, origin);
        }),
        deadline,
      ]);
      // The response is judged at the time it arrived (never before `now`): a directory signed while
      // the fetch ran is not "created in the future", even with no clock skew allowed.
      const real = Date.now();
      const at = Math.max(now, real);
      const dir = verifyDirectoryResponse(
        { url, status: res.status, headers: res.headers, body: res.body },
        { now: new Date(at), skewSeconds: options.skewSeconds, requireSignature: options.requireSignature },
      );
      const cc = maxAgeOf(res.headers['cache-control'] === undefined ? undefined : combinedFieldValue(fieldGetter(res.headers)('cache-control')!));
      // Its cache life runs on real time (a caller's now in the future does not stretch it past
      // maxCacheSeconds), and it is kept only if it still holds at the time it was judged by. Only a
      // directory judged at the real time is kept: one judged at a caller's future now may hold then and
      // not yet now (signed or keyed "not before" a time to come), and every other caller of this resolver
      // (the one verifyRequestSignature shares per option set) would take it as valid now.
      const until = Math.min(real + Math.min((cc ?? 300) * 1000, maxCacheMs), dir.expiresAt ?? Infinity);
      if (until > at && at === real) cache.set(origin, { dir, until }, until - real);
      return dir;
    } finally {
      clearTimeout(timer);
    }
  }

  return {
    resolve(origin, when) {
      let now: number;
      try {
        now = nowMsOf(when, 'DirectoryResolver.resolve');
      } catch (e) {
        return Promise.reject(e as Error);
      }
      const hit = cache.get(origin);
      // An entry lives until `until`, in real time: a caller whose now is in the past never keeps it longer
      // (the later of the two clocks, as fetchDirectory judges a response), one whose now is past it fetches again.
      if (hit && hit.until > Math.max(now, Date.now())) return Promise.resolve(hit.dir);
      // Dropped once past in real time only: a caller's future now must not evict what holds for the others.
      if (hit && hit.until <= Date.now()) cache.delete(origin);
      // A fetch is judged at the later of the caller's now and the real time: callers whose now is not
      // in the future share one (the same judgement); a caller with a future now fetches alone, so its
      // verdict (a key valid only then) never answers a real-time caller, nor theirs (a key expired by
      // then) answers it.
      const future = now > Date.now();
      const pending = future ? undefined : inflight.get(origin);
      if (pending) return pending;
      if (future) return fetchDirectory(origin, now);
      // Failures are remembered, and served, on real time only: a directory judged at a caller's own clock
      // (a re-check, a test) may fail there (not yet valid, expired) and hold at the real time, so that
      // failure must never answer real-time callers (nor one judged now answer a caller's other time).
      const realTime = Math.abs(now - Date.now()) <= REAL_TIME_MS;
      const miss = realTime ? failed.get(origin) : undefined;
      if (miss) return Promise.reject(miss.error as Error);
      const p = fetchDirectory(origin, now)
        .catch((e: unknown) => {
          if (realTime) failed.set(origin, { error: e });
          throw e;
        })
        .finally(() => inflight.delete(origin));
      inflight.set(origin, p);
      return p;
    },
  };
}
