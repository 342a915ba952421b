import { CharterError, toReason, type Reason } from '../errors.js';
import { safeFetch } from '../did/index.js';
import type { CharterResolver } from '../did/types.js';
import { verifyCredential } from '../credentials/index.js';
import type { Credential, CredentialStatusEntry, StatusChecker } from '../credentials/types.js';
import { decodeBitstring, getBit } from './codec.js';

export interface StatusCheckerOptions {
  resolver: CharterResolver;
  allowLoopback?: boolean;
  allowPrivate?: boolean;
  allowHttp?: boolean;
  timeoutMs?: number;
  /** Largest list credential accepted, in bytes. Default 1 MiB. */
  maxBytes?: number;
  /** Largest inflated bitstring, in bytes. Default 2 MiB. */
  maxBitsBytes?: number;
  /** Cache lifetime when the list gives no `ttl`. Default 300 s. */
  defaultTtlMs?: number;
  /** Most cached lists. Default 1000. */
  cacheMaxEntries?: number;
  /** Clock for cache expiry (tests). */
  now?: () => number;
}

interface CachedList {
  issuer: string;
  purpose: string;
  bits: Uint8Array;
  expires: number;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The verifier side of Bitstring Status List v1.0 §3.2 "Validate Algorithm":
 * fetch, verify and cache each list; a cache hit is a Map lookup and a bit test.
 * Unreachable or invalid lists fail closed with STATUS_UNAVAILABLE.
 */
export function createStatusChecker(options: StatusCheckerOptions): StatusChecker {
  const cache = new Map<string, CachedList>();
  const inflight = new Map<string, Promise<CachedList>>();
  const now = options.now ?? Date.now;
  const max = options.cacheMaxEntries ?? 1000;

  async function load(url: string): Promise<CachedList> {
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
    const jwt = res.body.toString('utf8').trim();
    const v = await verifyCredential(jwt, { resolver: options.resolver, requireType: 'BitstringStatusListCredential' });
    if (!v.ok || !v.credential || !v.issuer) {
      throw new CharterError('STATUS_UNAVAILABLE', `the status list at ${new URL(url).host} does not verify (${v.reasons[0]?.code ?? 'invalid'})`);
    }
    const c = v.credential;
    const subject = c.credentialSubject as Record<string, unknown>;
    if (c.id !== undefined && c.id !== url) throw new CharterError('STATUS_UNAVAILABLE', 'the status list credential names another URL');
    if (subject.type !== 'BitstringStatusList' || typeof subject.statusPurpose !== 'string') {
      throw new CharterError('STATUS_UNAVAILABLE', 'not a BitstringStatusList credential');
    }
    let bits: Uint8Array;
    try {
      bits = decodeBitstring(String(subject.encodedList), { maxBytes: options.maxBitsBytes ?? 2 * 1024 * 1024 });
    } catch (e) {
      throw new CharterError('STATUS_UNAVAILABLE', e instanceof Error ? e.message : 'invalid encodedList', { cause: e });
    }
    // §2.2: ttl in milliseconds; never cache past validUntil.
    const ttl = typeof subject.ttl === 'number' && subject.ttl >= 0 ? subject.ttl : options.defaultTtlMs ?? 300_000;
    let expires = now() + ttl;
    if (c.validUntil !== undefined) expires = Math.min(expires, Date.parse(c.validUntil));
    return { issuer: v.issuer, purpose: subject.statusPurpose, bits, expires };
  }

  function get(url: string): Promise<CachedList> {
    const hit = cache.get(url);
    if (hit && hit.expires > now()) return Promise.resolve(hit);
    let p = inflight.get(url);
    if (!p) {
      p = load(url)
        .then((l) => {
          if (cache.size >= max) cache.delete(cache.keys().next().value as string);
          cache.set(url, l);
          return l;
        })
        .finally(() => inflight.delete(url));
      inflight.set(url, p);
    }
    return p;
  }

  async function checkEntry(entry: unknown, credential: Credential, issuer: string): Promise<Reason | undefined> {
    if (!isObj(entry) || entry.type !== 'BitstringStatusListEntry') {
      return { code: 'STATUS_UNAVAILABLE', message: 'unsupported credentialStatus type (only BitstringStatusListEntry)' };
    }
    const e = entry as unknown as CredentialStatusEntry;
    if (typeof e.statusListCredential !== 'string' || typeof e.statusListIndex !== 'string' || !/^(0|[1-9]\d{0,9})$/.test(e.statusListIndex)) {
      return { code: 'STATUS_INVALID', message: 'credentialStatus needs statusListCredential and a decimal statusListIndex' };
    }
    if (e.statusPurpose !== 'revocation' && e.statusPurpose !== 'suspension') {
      return undefined; // refresh/message purposes carry no validity meaning (§2.1)
    }
    let list: CachedList;
    try {
      list = await get(e.statusListCredential);
    } catch (err) {
      const r = toReason(err, 'STATUS_UNAVAILABLE');
      return { code: 'STATUS_UNAVAILABLE', message: r.message };
    }
    // §3.2 step 6: the list must come from the credential's issuer.
    if (list.issuer !== issuer) return { code: 'STATUS_INVALID', message: 'the status list was issued by someone other than the credential issuer' };
    if (list.purpose !== e.statusPurpose) return { code: 'STATUS_INVALID', message: `the status list's purpose is ${list.purpose}, the entry's ${e.statusPurpose}` };
    const index = Number(e.statusListIndex);
    // §3.2 step 8: an index beyond the list is an error (STATUS_VERIFICATION_ERROR in the spec).
    if (index >= list.bits.length * 8) return { code: 'STATUS_INVALID', message: 'statusListIndex is beyond the end of the list' };
    if (!getBit(list.bits, index)) return undefined;
    return e.statusPurpose === 'revocation'
      ? { code: 'CREDENTIAL_REVOKED', message: `the credential ${credential.id ?? ''} was revoked by its issuer`.replace('  ', ' ') }
      : { code: 'CREDENTIAL_SUSPENDED', message: `the credential ${credential.id ?? ''} is suspended by its issuer`.replace('  ', ' ') };
  }

  return async (credential, ctx) => {
    const entries = Array.isArray(credential.credentialStatus) ? credential.credentialStatus : [credential.credentialStatus];
    const results = await Promise.all(entries.map((e) => checkEntry(e, credential, ctx.issuer)));
    return results.filter((r): r is Reason => r !== undefined);
  };
}
