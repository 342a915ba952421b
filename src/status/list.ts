import { CharterError } from '../errors.js';
import { parseDateTime } from '../encoding/time.js';
import { soleSubject } from '../credentials/index.js';
import type { CredentialVerification } from '../credentials/types.js';
import { decodeBitstring } from './codec.js';
import { readStatusSize } from './entry.js';

/** A verified BitstringStatusListCredential, reduced to what checking an entry needs. */
export interface StatusList {
  url: string;
  issuer: string;
  /** §2.2: one or more purposes. */
  purposes: string[];
  /** The list's statusSize when it states one (the entry's governs otherwise, §3.2). */
  statusSize?: number;
  bits: Uint8Array;
  /** The list's own validUntil (ms), when it has one. */
  validUntil?: number;
  /** §2.2: the ttl the list claims (ms), when it has one. */
  ttl?: number;
}

const invalid = (message: string) => new CharterError('STATUS_INVALID', message);
const hasType = (t: unknown, name: string) => t === name || (Array.isArray(t) && t.includes(name));

/**
 * Reads a status list credential that verified (signature, validity,
 * BitstringStatusListCredential type) into a StatusList; throws
 * STATUS_INVALID for anything §2.2 does not allow. The minimum length is
 * checked per entry, since it depends on the entry's statusSize (§3.2 step 9).
 */
/**
 * One key per list whatever the spelling of its URL: the WHATWG parse (case
 * of scheme and host, default port, dot segments) without the fragment,
 * which HTTP never sends, or an empty query. Two spellings of one list share a cache entry and
 * a refresh, and a list whose `id` is spelt otherwise is still that list.
 */
export function listKey(url: string): string {
  try {
    const u = new URL(url);
    u.hash = '';
    // An empty query ("…/a?") is the same request as none.
    if (u.search === '') u.search = '';
    return u.href;
  } catch {
    return url;
  }
}

export function readStatusList(url: string, v: CredentialVerification, maxBitsBytes: number): StatusList {
  const c = v.credential!;
  // §2.2 lets the list credential express an id matching the statusListCredential URL (a MAY). Charter
  // requires it, deliberately: without one a signed list could be served under any of its issuer's list
  // URLs (an empty one clearing a revoked credential), and nothing signed would tell.
  if (c.id === undefined) throw invalid('the status list credential has no id (it must name the URL it is published at)');
  if (typeof c.id !== 'string' || listKey(c.id) !== listKey(url)) throw invalid('the status list credential names another URL');
  const subject = soleSubject(c);
  if (subject === undefined || !hasType(subject.type, 'BitstringStatusList')) throw invalid('not a BitstringStatusList credential');
  const p = subject.statusPurpose;
  const purposes = typeof p === 'string' ? [p] : p;
  if (!Array.isArray(purposes) || purposes.length === 0 || purposes.some((x) => typeof x !== 'string' || x.length === 0)) {
    throw invalid('statusPurpose must be one or more strings');
  }
  // A list may state its width (earlier drafts asked message lists to); the Recommendation puts
  // statusSize on the entry only (§2.1), and §3.2 reads the entry's.
  const statusSize = readStatusSize(subject.statusSize, 'the list');
  const ttl = subject.ttl;
  if (ttl !== undefined && (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 0)) throw invalid('ttl must be a number of milliseconds');
  const bits = decodeBitstring(subject.encodedList as string, { maxBytes: maxBitsBytes });
  const validUntil = c.validUntil === undefined ? undefined : parseDateTime(c.validUntil);
  return {
    url,
    issuer: v.issuer!,
    purposes: purposes as string[],
    ...(statusSize !== undefined ? { statusSize } : {}),
    bits,
    ...(validUntil !== undefined ? { validUntil } : {}),
    ...(ttl !== undefined ? { ttl } : {}),
  };
}
