import { CharterError } from '../errors.js';
import { MAX_STATUS_SIZE } from './codec.js';

/** A BitstringStatusListEntry (Bitstring Status List v1.0 §2.1), checked. */
export interface StatusEntry {
  purpose: string;
  statusListCredential: string;
  index: number;
  statusSize: number;
  /** Message per status value, from `statusMessage` when present. */
  messages?: Map<number, string>;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const invalid = (message: string) => new CharterError('STATUS_INVALID', message);
/** RFC 3986 §3.1: a scheme, then ":" (what `URL.canParse` alone does not ask of "x:"-less strings it resolves). */
const ABSOLUTE_URL = /^[A-Za-z][A-Za-z0-9+.-]*:/;

/** An absolute http: or https: URL: the only status lists a checker fetches (Bitstring and Token Status List alike). */
export function isHttpUrl(v: string): boolean {
  if (!URL.canParse(v)) return false;
  const { protocol } = new URL(v);
  return protocol === 'https:' || protocol === 'http:';
}

/** `statusSize` of an entry or a list: absent means 1 (§2.1); otherwise an integer > 0, at most MAX_STATUS_SIZE. */
export function readStatusSize(v: unknown, what: string): number | undefined {
  if (v === undefined) return undefined;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 1 || v > MAX_STATUS_SIZE) {
    throw invalid(`${what} statusSize must be an integer from 1 to ${MAX_STATUS_SIZE}`);
  }
  return v;
}

/**
 * §2.1 statusMessage: an array of exactly 2^statusSize objects, each with a
 * `status` ("0x" + hex) and a `message` string; Charter also requires each
 * value once, so every value the list can hold has its one message.
 */
function readMessages(v: unknown, statusSize: number): Map<number, string> {
  const count = 2 ** statusSize;
  if (!Array.isArray(v) || v.length !== count) throw invalid(`statusMessage must list ${count} messages for a statusSize of ${statusSize}`);
  const out = new Map<number, string>();
  for (const m of v) {
    if (!isObj(m) || typeof m.status !== 'string' || !/^0x[0-9a-fA-F]{1,8}$/.test(m.status) || typeof m.message !== 'string') {
      throw invalid('each statusMessage needs a "status" such as "0x1" and a "message" string');
    }
    const value = Number.parseInt(m.status.slice(2), 16);
    if (value >= count || out.has(value)) throw invalid(`statusMessage values must be distinct and below ${count}`);
    out.set(value, m.message);
  }
  return out;
}

/** Reads one `credentialStatus` entry of type BitstringStatusListEntry; throws STATUS_INVALID when malformed. */
export function readEntry(entry: Record<string, unknown>): StatusEntry {
  const { statusPurpose, statusListCredential, statusListIndex } = entry;
  if (typeof statusPurpose !== 'string' || statusPurpose.length === 0) throw invalid('statusPurpose must be a string');
  // §2.1: "revocation" and "suspension" are the purposes that carry validity; a set bit under any other is only
  // reported. A spelling of either that is not exact ("Revocation", " revocation", a zero-width character)
  // would have a revoked credential read as valid: refused, not taken for a purpose of its own.
  const folded = statusPurpose
    .normalize('NFKC')
    .replace(/[\s\p{Cf}]/gu, '')
    .toLowerCase();
  if ((folded === 'revocation' || folded === 'suspension') && statusPurpose !== folded) {
    throw invalid(`statusPurpose "${statusPurpose.slice(0, 40)}" is not spelt "${folded}"`);
  }
  // §2.1: a URL of the list credential, fetched over HTTP(S): anything else (no URL, file:, data:, ftp:) is
  // refused for good, not retried as a list that could not be had.
  if (typeof statusListCredential !== 'string' || !isHttpUrl(statusListCredential)) throw invalid('statusListCredential must be an http(s) URL');
  // §2.1: the entry id, when present, is a URL (VCDM 2.0 §4.4 identifiers) and MUST NOT be the URL of the status
  // list. Compared as URLs (a spelling of the same URL, e.g. upper-case host or :443, is the same list), fragment kept.
  if (entry.id !== undefined && (typeof entry.id !== 'string' || !ABSOLUTE_URL.test(entry.id) || !URL.canParse(entry.id) || sameUrl(entry.id, statusListCredential)))
    throw invalid('the entry id must be a URL other than the status list');
  // §2.1: an integer >= 0 as a base-10 string; ten digits bound any list that fits in memory.
  if (typeof statusListIndex !== 'string' || !/^(0|[1-9]\d{0,9})$/.test(statusListIndex)) throw invalid('statusListIndex must be a decimal string');
  const statusSize = readStatusSize(entry.statusSize, 'the entry') ?? 1;
  // §2.1: statusMessage MUST be present when statusSize > 1, MAY be when it is 1.
  if (statusSize > 1 && entry.statusMessage === undefined) throw invalid('an entry with statusSize above 1 needs statusMessage');
  const messages = entry.statusMessage === undefined ? undefined : readMessages(entry.statusMessage, statusSize);
  return { purpose: statusPurpose, statusListCredential, index: Number(statusListIndex), statusSize, ...(messages ? { messages } : {}) };
}

/** `a` and `b` name the same URL once parsed (WHATWG URL: case of scheme and host, default port, dot segments). */
function sameUrl(a: string, b: string): boolean {
  if (a === b) return true;
  try {
    return new URL(a).href === new URL(b).href;
  } catch {
    return false;
  }
}
