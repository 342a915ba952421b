import { CharterError, isCharterError, toReason, type CharterErrorCode, type Reason } from '../errors.js';
import { safeFetch } from '../did/index.js';
import type { CharterResolver } from '../did/types.js';
import { decodeJwt, verifyCredential } from '../credentials/index.js';
import type { Credential, StatusChecker, StatusContext } from '../credentials/types.js';
import { DEFAULT_MAX_BITS_BYTES, MIN_LIST_SIZE, readStatus } from './codec.js';
import { readEntry, type StatusEntry } from './entry.js';
import { listKey, readStatusList, type StatusList } from './list.js';
import { createListWatermark } from './rollback.js';
import { parseDateTime } from '../encoding/time.js';
import { skewOf } from '../credentials/time.js';
import { pureKeyOf, signingKeysOf } from '../did/parties.js';
import { TtlCache } from '../did/cache.js';
import { notingKeys, soleKey } from '../did/noting.js';

export interface StatusCheckerOptions {
  resolver: CharterResolver;
  allowLoopback?: boolean;
  allowPrivate?: boolean;
  /** Fetch `http:` list URLs on a loopback host (local testing); plain http to any other host is refused. */
  allowHttp?: boolean;
  timeoutMs?: number;
  /** Largest list credential accepted, in bytes. Default 1 MiB. */
  maxBytes?: number;
  /** Largest inflated bitstring, in bytes. Default 2 MiB. */
  maxBitsBytes?: number;
  /**
   * The longest any fetched list is trusted, in seconds, whatever `ttl` it
   * claims: a list saying "cache me for a year" would hide a revocation for
   * a year. Default 300.
   */
  maxStalenessSeconds?: number;
  /** Cache lifetime when the list gives no `ttl`. Default: maxStalenessSeconds. */
  defaultTtlMs?: number;
  /** Clock skew applied to the list credential's own validity. Default 60 s, at most 300. */
  skewSeconds?: number;
  /** Most cached lists. Default 1000; whatever the count, they hold at most LIST_CACHE_BYTES. */
  cacheMaxEntries?: number;
  /** Clock for cache expiry and list validity (tests). */
  now?: () => number;
  /**
   * Where list credentials come from instead of the network: an evidence
   * bundle's recorded lists, re-checked offline. The list is verified as if
   * fetched. Default: safeFetch of the URL.
   */
  source?: (url: string) => Promise<string>;
}

/** A list credential as this checker last fetched it: the signed JWT and when. */
export interface StatusListSnapshot {
  url: string;
  jwt: string;
  fetchedAt: number;
  /** The DID that signed the list, as the checker read it (Token Status Lists; a plain key: absent). */
  signer?: string;
}

/**
 * A status context that also wants the list each check read: `usedList` is
 * called with the very list credential (signed JWT, as fetched) an entry was
 * read from, before its bits are read. A refresh racing the check cannot
 * change what is reported, unlike a later `snapshot(url)`. Evidence (the
 * audit capture) is recorded from it.
 */
export type StatusListUseContext = StatusContext & { usedList?: (list: StatusListSnapshot) => void };

/**
 * A StatusChecker (pass it as `status` to verifyCredential and the layers
 * above) with control over its cache: `refresh(url)` fetches a list again now
 * (after a revocation the verifier was told about) and rejects with the
 * CharterError when the list cannot be had; `clear()` forgets every list.
 */
export type StatusListChecker = StatusChecker & {
  refresh(url: string): Promise<void>;
  clear(): void;
  /**
   * The list credential cached for `url` now (the signed JWT as fetched). Not
   * necessarily the one a finished check read (a refresh may have replaced
   * it since): for evidence of a check, pass `usedList` in its context.
   */
  snapshot(url: string): StatusListSnapshot | undefined;
};

/**
 * How long a verifier trusts a fetched list at most, whatever `ttl` it claims
 * (the default of `maxStalenessSeconds` here and in the Token Status List checker).
 */
export const DEFAULT_MAX_STALENESS_SECONDS = 300;

/** When a list copy was issued: its validFrom (VCDM 2.0), else the JWT's iat or nbf (a VCDM 1.1 list), in ms. */
function issuedAt(validFrom: unknown, payload: Record<string, unknown>): number | undefined {
  const from = parseDateTime(validFrom);
  if (from !== undefined) return from;
  for (const k of ['iat', 'nbf'] as const) {
    const v = payload[k];
    if (typeof v === 'number' && Number.isFinite(v)) return v * 1000;
  }
  return undefined;
}

interface Cached {
  list: StatusList;
  expires: number;
  jwt: string;
  fetchedAt: number;
  /** The key that signed the list (keyString). */
  signer: string;
  /** When the copy was issued (issuedAt), if it says. */
  issued?: number;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
/** The most the cached lists of one checker may hold, signed text and bits together (about 1,600 lists of the 16 KiB minimum). */
export const LIST_CACHE_BYTES = 64 * 1024 * 1024;
/** The cache budget: LIST_CACHE_BYTES, or room for a few of the largest lists this checker accepts, whichever is more. */
export function listCacheBytes(maxBytes: number | undefined, maxBitsBytes: number | undefined): number {
  return Math.max(LIST_CACHE_BYTES, 4 * ((maxBytes ?? 1024 * 1024) + (maxBitsBytes ?? DEFAULT_MAX_BITS_BYTES)));
}
/** cacheMaxEntries, checked when a checker is built (a TypeError naming the option). Default 1000; 0 caches nothing. */
export function cacheEntries(v: unknown, who: string): number {
  if (v === undefined) return 1000;
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new TypeError(`${who}: cacheMaxEntries must be a whole number >= 0`);
  return v;
}
/**
 * A checker's sizes and times, checked when it is built (a TypeError naming the option): the cache
 * budget adds them, and an object there would throw from inside a status check instead. And `now`.
 */
export function checkerNumbers<O extends { now?: unknown }>(who: string, options: O, keys: ReadonlyArray<keyof O & string>): void {
  for (const k of keys) {
    const v = options[k];
    if (v !== undefined && !(typeof v === 'number' && Number.isSafeInteger(v) && v >= (k === 'defaultTtlMs' ? 0 : 1))) throw new TypeError(`${who}: ${k} must be a whole number`);
  }
  if (options.now !== undefined && typeof options.now !== 'function') throw new TypeError(`${who}: now must be a function returning milliseconds`);
}
/** Most status entries read per credential: each may cost a fetch. */
const MAX_ENTRIES = 16;
/** Failures of the list's signature check that mean "could not reach", not "is wrong" (the Token Status List checker's too). */
export const RETRIEVAL: ReadonlySet<CharterErrorCode> = new Set(['DID_RESOLUTION_FAILED', 'DID_NOT_FOUND', 'STATUS_UNAVAILABLE']);
const SELF_STATUS = 'carries a credentialStatus of its own, which Charter does not check (a status list whose own status cannot be checked)';

/**
 * The verifier side of Bitstring Status List v1.0 §3.2 "Validate Algorithm":
 * fetch, verify and cache each list; a cache hit is a Map lookup and a read
 * of statusSize bits. A list that cannot be fetched is STATUS_UNAVAILABLE; a
 * list or entry that is wrong (bad signature, expired, short, other issuer or
 * purpose, malformed statusSize) is STATUS_INVALID. Both fail closed.
 */
export function createStatusChecker(options: StatusCheckerOptions): StatusListChecker {
  // A list's signature is always checked, so a resolver is always needed (as createTokenStatusChecker says too).
  if (!options || typeof options.resolver?.resolveKey !== 'function') throw new TypeError('createStatusChecker needs options.resolver');
  const max = cacheEntries(options.cacheMaxEntries, 'createStatusChecker');
  checkerNumbers('createStatusChecker', options, ['maxBytes', 'maxBitsBytes', 'timeoutMs', 'defaultTtlMs']);
  // Bounded by what the lists hold too: anyone can issue a credential naming lists of their own (up to 1 MiB
  // signed, 2 MiB of bits each), so a count alone would let a few refused requests fill gigabytes.
  // Freshness is each entry's own `expires`; the cache only evicts, oldest first.
  const cache = new TtlCache<string, Cached>(Infinity, max, undefined, listCacheBytes(options.maxBytes, options.maxBitsBytes));
  const inflight = new Map<string, Promise<Cached>>();
  const now = options.now ?? Date.now;
  const watermark = createListWatermark(Math.max(max * 10, 10_000));
  // Checked here: a bad skew would otherwise fail every list check later, as if no list could be had.
  skewOf(options.skewSeconds);
  const maxStaleMs = (options.maxStalenessSeconds ?? DEFAULT_MAX_STALENESS_SECONDS) * 1000;
  if (!Number.isFinite(maxStaleMs) || maxStaleMs < 0) throw new TypeError('maxStalenessSeconds must be a non-negative number');
  const defaultTtlMs = options.defaultTtlMs ?? maxStaleMs;
  const maxBitsBytes = options.maxBitsBytes ?? DEFAULT_MAX_BITS_BYTES;

  const fetchList = async (url: string): Promise<string> => {
    if (options.source) {
      // A caller's source: anything but a string is no list (STATUS_UNAVAILABLE), never a TypeError from .trim().
      const text: unknown = await options.source(url);
      if (typeof text !== 'string') throw new CharterError('STATUS_UNAVAILABLE', `the status list source gave no text for ${new URL(url).host}`);
      return text;
    }
    const res = await safeFetch(url, {
      allowLoopback: options.allowLoopback === true,
      allowPrivate: options.allowPrivate === true,
      allowHttp: options.allowHttp === true,
      timeoutMs: options.timeoutMs ?? 5000,
      maxBytes: options.maxBytes ?? 1024 * 1024,
      accept: 'application/vc+jwt, application/jwt',
      failCode: 'STATUS_UNAVAILABLE',
      tooLargeCode: 'STATUS_UNAVAILABLE',
    });
    return res.body.toString('utf8');
  };

  async function load(url: string): Promise<Cached> {
    const jwt = (await fetchList(url)).trim();
    const fetched = now();
    // The key the list's signature verifies with, noted as it is resolved: see signedByIssuer.
    const noted = notingKeys(options.resolver, 'assertionMethod');
    // §2.2: the list is itself a credential and must be valid now, by the same rules as any other.
    const v = await verifyCredential(jwt, {
      resolver: noted.resolver,
      requireType: 'BitstringStatusListCredential',
      // The bound the fetch applied: a list of many entries can pass a single credential's 64 KiB.
      maxBytes: options.maxBytes ?? 1024 * 1024,
      now: new Date(fetched),
      ...(options.skewSeconds !== undefined ? { skewSeconds: options.skewSeconds } : {}),
      // Reached only for an otherwise valid list. Its own status would need another list checked first (a chain
      // with no end guaranteed): refused for good, as a list that is wrong, not one that could not be fetched.
      status: async () => [{ code: 'STATUS_INVALID', message: SELF_STATUS }],
    });
    if (!v.ok || !v.credential || !v.issuer) {
      const first = v.reasons[0]?.code ?? 'INVALID_CREDENTIAL';
      if (v.reasons[0]?.message === SELF_STATUS) throw new CharterError('STATUS_INVALID', `the status list at ${new URL(url).host} ${SELF_STATUS}`);
      throw new CharterError(RETRIEVAL.has(first) ? 'STATUS_UNAVAILABLE' : 'STATUS_INVALID', `the status list at ${new URL(url).host} does not verify (${first})`);
    }
    const list = readStatusList(url, v, maxBitsBytes);
    // §2.2: ttl is advice and never outlives the list's validity; maxStaleness caps it for this verifier.
    const d = decodeJwt(jwt, { maxBytes: options.maxBytes ?? 1024 * 1024 });
    const issued = issuedAt(v.credential.validFrom, d.payload);
    const exp = d.payload.exp;
    const expires = Math.min(fetched + Math.min(list.ttl ?? defaultTtlMs, maxStaleMs), list.validUntil ?? Infinity, typeof exp === 'number' ? exp * 1000 : Infinity);
    // The key that signed it: the one its signature verified with, never a second lookup of the DID, which
    // a document changed (or a cache entry dropped) while the check awaited could answer with another key.
    const signer = soleKey(noted.keys, v.issuer);
    if (signer === undefined) throw new CharterError('STATUS_INVALID', `the key that signed the status list at ${new URL(url).host} cannot be told`);
    return { list, expires, jwt, fetchedAt: fetched, signer, ...(issued !== undefined ? { issued } : {}) };
  }

  /** Fetches `url` unless a fresh copy is cached; concurrent callers share one fetch. */
  function get(spelt: string, force = false): Promise<Cached> {
    const url = listKey(spelt);
    // A refresh (told of a revocation) drops the copy it replaces at once: a check made meanwhile waits for the
    // new list, and a failed refresh leaves none, so the list is unavailable (§3.2), never the stale "valid".
    if (force) cache.delete(url);
    const hit = cache.get(url);
    if (!force && hit && hit.expires > now()) return Promise.resolve(hit);
    let p = force ? undefined : inflight.get(url);
    if (!p) {
      const mine: Promise<Cached> = load(url)
        .then((c) => {
          // A slower, older fetch never overwrites what a later refresh stored.
          if (inflight.get(url) === mine) {
            cache.delete(url);
            cache.set(url, c, Infinity, c.jwt.length + c.list.bits.length);
          }
          return c;
        })
        .finally(() => {
          if (inflight.get(url) === mine) inflight.delete(url);
        });
      inflight.set(url, mine);
      p = mine;
    }
    return p;
  }

  /**
   * Was the list signed by the credential's issuer? Its own DID; the other pure-key DID of its key (the did:jwk of
   * its did:key); or a key the issuer's own document lists for assertions. The direction matters: a document
   * listing a key claims it (DID Core §5.3) without proving it is held, so a list signer whose did:web lists the
   * issuer's key is not the issuer (it signed with its own key); the issuer's document naming the key that
   * signed is the issuer's word. Only a document that was read and does not name the key says "someone else":
   * a lookup that failed (an outage, a resolver that threw) is a refusal for now (STATUS_UNAVAILABLE, retry),
   * never the decided STATUS_INVALID, and never a pass.
   */
  async function signedByIssuer(listIssuer: string, signer: string, issuer: string): Promise<Reason | undefined> {
    if (listIssuer === issuer) return undefined;
    const pure = pureKeyOf(issuer);
    let same: boolean;
    if (pure !== undefined) same = pure === signer;
    else {
      try {
        same = (await signingKeysOf(options.resolver, issuer, ['assertionMethod'])).has(signer);
      } catch (e) {
        const code = toReason(e).code;
        return { code: 'STATUS_UNAVAILABLE', message: `could not resolve the credential issuer to match the status list's signer (${code})` };
      }
    }
    return same ? undefined : { code: 'STATUS_INVALID', message: 'the status list was issued by someone other than the credential issuer' };
  }

  async function checkEntry(raw: unknown, credential: Credential, ctx: StatusListUseContext): Promise<Reason | undefined> {
    if (!isObj(raw) || raw.type !== 'BitstringStatusListEntry') {
      // Refused, not retried: asking again will not make Charter understand it.
      return { code: 'STATUS_INVALID', message: 'unsupported credentialStatus type (only BitstringStatusListEntry)' };
    }
    let entry: StatusEntry;
    let list: StatusList;
    let signer: string;
    let issued: number | undefined;
    try {
      entry = readEntry(raw);
      const c = await get(entry.statusListCredential);
      list = c.list;
      signer = c.signer;
      issued = c.issued;
      ctx.usedList?.({ url: entry.statusListCredential, jwt: c.jwt, fetchedAt: c.fetchedAt });
    } catch (e) {
      const r = toReason(e, 'STATUS_UNAVAILABLE');
      return { code: isCharterError(e) && e.code === 'STATUS_INVALID' ? 'STATUS_INVALID' : 'STATUS_UNAVAILABLE', message: r.message };
    }
    // §2.2 lets another party publish the list (issuer MAY differ); Charter requires the credential's own issuer.
    const notIssuer = await signedByIssuer(list.issuer, signer, ctx.issuer);
    if (notIssuer) return notIssuer;
    // An older copy than one accepted before would undo a revocation this verifier has seen (rollback.ts).
    const rolledBack = watermark.admit(listKey(entry.statusListCredential), issued);
    if (rolledBack !== undefined) return { code: 'STATUS_UNAVAILABLE', message: rolledBack };
    // §3.2 step 5: the entry's purpose is one of the list's.
    if (!list.purposes.includes(entry.purpose))
      return { code: 'STATUS_INVALID', message: `the status list's purpose is ${list.purposes.join(', ')}, the entry's ${entry.purpose}` };
    // §3.2 reads entries of the entry's statusSize (§2.1). A list stating its own width must agree,
    // or the index lands on another credential's bits.
    if (list.statusSize !== undefined && list.statusSize !== entry.statusSize)
      return { code: 'STATUS_INVALID', message: `the entry's statusSize (${entry.statusSize}) differs from the list's (${list.statusSize})` };
    const entries = Math.floor((list.bits.length * 8) / entry.statusSize);
    // §3.2 step 9: STATUS_LIST_LENGTH_ERROR below the herd-privacy minimum.
    if (entries < MIN_LIST_SIZE) return { code: 'STATUS_INVALID', message: `the status list holds ${entries} entries, fewer than the ${MIN_LIST_SIZE} required` };
    // §3.2 step 10: RANGE_ERROR beyond the list.
    if (entry.index >= entries) return { code: 'STATUS_INVALID', message: 'statusListIndex is beyond the end of the list' };
    const status = readStatus(list.bits, entry.index, entry.statusSize);
    // §2.1: without statusMessage, a 1-bit value reads "set" or "unset".
    const message = entry.messages ? entry.messages.get(status) : entry.statusSize === 1 ? (status === 1 ? 'set' : 'unset') : undefined;
    ctx.report?.({
      purpose: entry.purpose,
      statusListCredential: entry.statusListCredential,
      index: entry.index,
      statusSize: entry.statusSize,
      status,
      valid: status === 0,
      ...(message !== undefined ? { message } : {}),
    });
    if (status === 0) return undefined;
    const which = credential.id ? ` ${credential.id.slice(0, 120)}` : '';
    if (entry.purpose === 'revocation') return { code: 'CREDENTIAL_REVOKED', message: `the credential${which} was revoked by its issuer` };
    if (entry.purpose === 'suspension') return { code: 'CREDENTIAL_SUSPENDED', message: `the credential${which} is suspended by its issuer` };
    // refresh, message and other purposes carry no validity meaning (§2.1): reported, not refused.
    return undefined;
  }

  const check: StatusChecker = async (credential, ctx: StatusListUseContext) => {
    const entries = Array.isArray(credential.credentialStatus) ? credential.credentialStatus : [credential.credentialStatus];
    if (entries.length === 0 || entries.length > MAX_ENTRIES) {
      return [{ code: 'STATUS_INVALID', message: `credentialStatus must hold 1 to ${MAX_ENTRIES} entries` }];
    }
    const results = await Promise.all(entries.map((e) => checkEntry(e, credential, ctx)));
    // One reason once: a revocation and a suspension entry on one unreachable list fail alike.
    const seen = new Set<string>();
    const reasons: Reason[] = [];
    for (const r of results) {
      if (r === undefined) continue;
      const key = `${r.code}\n${r.message}`;
      if (seen.has(key)) continue;
      seen.add(key);
      reasons.push(r);
    }
    return reasons;
  };

  return Object.assign(check, {
    async refresh(url: string): Promise<void> {
      if (typeof url !== 'string') throw new TypeError('refresh needs a status list URL');
      await get(url, true);
    },
    clear(): void {
      cache.clear();
      inflight.clear();
    },
    snapshot(url: string): StatusListSnapshot | undefined {
      const c = cache.get(listKey(url));
      return c ? { url, jwt: c.jwt, fetchedAt: c.fetchedAt } : undefined;
    },
  });
}
