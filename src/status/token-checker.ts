import { identifierSet } from '../encoding/lists.js';
import { createListWatermark } from './rollback.js';
import { listKey } from './list.js';
import { CharterError, toReason, type Reason, shown } from '../errors.js';
import { canonicalJson } from '../encoding/json.js';
import { assertVerifyUse, importVerificationKey, verifySignature } from '../keys/index.js';
import type { PublicJwk, VerificationKey } from '../keys/types.js';
import { safeFetch } from '../did/index.js';
import type { CharterResolver } from '../did/types.js';
import { decodeJwt, type DecodedJwt } from '../credentials/index.js';
import { isMediaType } from '../credentials/media.js';
import { decodeTokenStatusList, readTokenStatus, isStatusBits, tokenStatusCount, TOKEN_STATUS, type StatusBits } from './token-codec.js';
import { STATUS_LIST_JWT_TYP, STATUS_LIST_MEDIA_TYPE } from './token-issuer.js';
import { cacheEntries, checkerNumbers, DEFAULT_MAX_STALENESS_SECONDS, listCacheBytes, RETRIEVAL, type StatusListSnapshot } from './checker.js';
import { TtlCache } from '../did/cache.js';
import { isHttpUrl } from './entry.js';
import { skewOf } from '../credentials/time.js';

/** Who issued the Referenced Token whose status is checked. */
export interface TokenStatusContext {
  /** The token's `iss`: a DID, or the identifier of a caller-trusted JWK issuer. */
  issuer: string;
  /** For a JWK issuer (not a DID): its trusted public keys; a list signed by one of them is the issuer's. */
  issuerKeys?: readonly PublicJwk[];
  now: Date;
  /**
   * Called with the Status List Token the check read (the signed JWT as
   * fetched, and when), before its bits are read: the list this answer rests
   * on, whatever a refresh caches meanwhile. For evidence.
   */
  usedList?: (list: StatusListSnapshot) => void;
}

/**
 * Checks a Referenced Token's `status` claim (Token Status List §6.2) and
 * returns refusals (empty when the token is VALID). `refresh(url)` drops a
 * cached list and fetches it again; `clear()` drops every cached list.
 */
export interface TokenStatusChecker {
  (status: unknown, ctx: TokenStatusContext): Promise<Reason[]>;
  refresh(url: string): Promise<void>;
  clear(): void;
}

export interface TokenStatusCheckerOptions {
  resolver: CharterResolver;
  allowLoopback?: boolean;
  allowPrivate?: boolean;
  /** Fetch `http:` list URLs on a loopback host (local testing); plain http to any other host is refused. */
  allowHttp?: boolean;
  timeoutMs?: number;
  /** Largest Status List Token accepted, in bytes. Default 1 MiB. */
  maxBytes?: number;
  /** Largest inflated list, in bytes. Default 2 MiB. */
  maxListBytes?: number;
  /** Longest a fetched list is trusted, whatever its `ttl` says. Default 300 s. */
  maxStalenessSeconds?: number;
  /** Clock skew for the list's `iat` and `exp`. Default 60 s, at most 300. */
  skewSeconds?: number;
  /** Most cached lists. Default 1000. */
  cacheMaxEntries?: number;
  /**
   * DIDs trusted to sign status lists for tokens of any issuer (a status
   * provider). Without this, a list must be signed by the token's own issuer.
   */
  trustedListSigners?: readonly string[];
  /** Public keys (not DIDs) trusted the same way, e.g. a third-party provider's. */
  trustedListKeys?: readonly PublicJwk[];
  /** Clock for cache expiry and token times (tests). */
  now?: () => number;
  /**
   * Where Status List Tokens come from instead of the network: an evidence
   * bundle's recorded lists, re-checked offline. The token is verified as if
   * fetched. Default: safeFetch of the URL.
   */
  source?: (url: string) => Promise<string>;
}

interface CachedList {
  bits: StatusBits;
  bytes: Uint8Array;
  /** When the cache entry lapses, by the checker's own clock. */
  expires: number;
  /** The token's own times (seconds), judged at each check against the caller's `now`. */
  times: { iat: number; exp?: number; nbf?: number };
  /** Set when the token names a DID key (`kid` a DID URL): checked at load. */
  signerDid?: string;
  /** Otherwise the signature is checked against the caller's keys at use, remembered per key. */
  decoded?: DecodedJwt;
  verifiedWith: Set<string>;
  /** The Status List Token as fetched, and when: what a check hands to `usedList`. */
  jwt: string;
  fetchedAt: number;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const num = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);
const unavailable = (message: string) => new CharterError('STATUS_UNAVAILABLE', message);
/** A list that arrived but is wrong (not a token, malformed, forged, for another URL): refused, not retried. */
const invalid = (message: string) => new CharterError('STATUS_INVALID', message);

/** A Status List Token's DID signer: named by a DID URL kid, or by a DID iss with no kid (its single assertion key). */
function signerDidOf(d: DecodedJwt): string | undefined {
  const kid = d.header.kid;
  const iss = d.payload.iss;
  const didIss = typeof iss === 'string' && iss.startsWith('did:') ? iss : undefined;
  if (typeof kid === 'string' && kid.startsWith('did:')) return kid.split('#')[0]!;
  // A relative DID URL (`#key-1`) is a key of the DID in `iss` (DID Core §3.2.2).
  if (typeof kid === 'string' && kid.startsWith('#')) return didIss;
  return kid === undefined ? didIss : undefined;
}

/** The DID that signed a Status List Token, as the checker reads it; undefined when a plain key (or nothing readable) signed it. */
export function statusListSignerDid(jwt: string): string | undefined {
  try {
    return signerDidOf(decodeJwt(jwt, { maxBytes: 1024 * 1024 }));
  } catch {
    return undefined;
  }
}

/** A key's identity for the per-key memo: its canonical JWK. */
const keyId = (k: VerificationKey) => canonicalJson(k.publicJwk);

/**
 * The verifier side of the IETF Token Status List (draft-ietf-oauth-status-list
 * §8.3 "Validation Rules"), with the fail-closed rules of the Bitstring
 * checker: SSRF-safe fetch with size and inflate caps, lists that cannot be
 * fetched or verified are STATUS_UNAVAILABLE, and a list counts only when
 * signed by the token's issuer or a signer the caller trusts by name. A cache
 * hit is a Map lookup and a bit read; an entry lives until the first of the
 * token's `exp`, its `ttl` and `maxStalenessSeconds`.
 */
export function createTokenStatusChecker(options: TokenStatusCheckerOptions): TokenStatusChecker {
  if (!options || typeof options.resolver?.resolveKey !== 'function') throw new TypeError('createTokenStatusChecker needs options.resolver');
  if (options.source !== undefined && typeof options.source !== 'function') throw new TypeError('createTokenStatusChecker: source must be a function');
  const staleness = options.maxStalenessSeconds ?? DEFAULT_MAX_STALENESS_SECONDS;
  if (!num(staleness) || staleness < 0) throw new TypeError('maxStalenessSeconds must be a non-negative number');
  // A TypeError for a non-number ('60' included), not a value coerced; capped at 300 s as credentials are.
  const skew = skewOf(options.skewSeconds);
  const { trustedListSigners: signers, trustedListKeys: keys } = options;
  const trustedSigners = identifierSet('createTokenStatusChecker: trustedListSigners', signers, 'DIDs or key ids') ?? new Set<string>();
  if (keys !== undefined && !Array.isArray(keys)) throw new TypeError('createTokenStatusChecker: trustedListKeys must be a list of public JWKs');
  // Parsed once, through the keys layer, so every key rule (curve, small-order points) applies; and, as for
  // any key Charter verifies with (keys/jwk.ts assertVerifyUse, RFC 7517 §4.2-4.3), one marked for
  // encryption is refused here, where it is configured, rather than verifying a list's signature.
  const trustedKeys = (options.trustedListKeys ?? []).map((k) => {
    assertVerifyUse(k, 'a key of trustedListKeys');
    return importVerificationKey(k);
  });
  const max = cacheEntries(options.cacheMaxEntries, 'createTokenStatusChecker');
  checkerNumbers('createTokenStatusChecker', options, ['maxBytes', 'maxListBytes', 'timeoutMs']);
  // Bounded by bytes as well as by count (as the Bitstring checker's): lists named by tokens anyone can issue.
  const cache = new TtlCache<string, CachedList>(Infinity, max, undefined, listCacheBytes(options.maxBytes, options.maxListBytes));
  const inflight = new Map<string, Promise<CachedList>>();
  const now = options.now ?? Date.now;
  const watermark = createListWatermark(Math.max(max * 10, 10_000));

  const fetchText = async (url: string): Promise<string> => {
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
      accept: STATUS_LIST_MEDIA_TYPE,
      failCode: 'STATUS_UNAVAILABLE',
      tooLargeCode: 'STATUS_UNAVAILABLE',
    });
    return res.body.toString('utf8');
  };

  async function load(url: string): Promise<CachedList> {
    let d: DecodedJwt;
    const jwt = (await fetchText(url)).trim();
    try {
      d = decodeJwt(jwt, { maxBytes: options.maxBytes ?? 1024 * 1024 });
    } catch (e) {
      throw invalid(`the status list at ${new URL(url).host} is not a valid JWT (${toReason(e).code})`);
    }
    // §5.1: typ statuslist+jwt, sub the URL it was fetched from, iat, optional exp and ttl.
    // RFC 7515 §4.1.9: "statuslist+jwt" and "application/statuslist+jwt" name the same media type.
    if (!isMediaType(d.header.typ, STATUS_LIST_JWT_TYP)) throw invalid(`the document at ${new URL(url).host} is not a Status List Token (typ ${shown(d.header.typ, 30)})`);
    const p = d.payload;
    if (p.sub !== url) throw invalid('the Status List Token names another URL in "sub"');
    if (!num(p.iat)) throw invalid('the Status List Token has no numeric "iat"');
    if (p.exp !== undefined && !num(p.exp)) throw invalid('the Status List Token "exp" is not a number');
    if (p.nbf !== undefined && !num(p.nbf)) throw invalid('the Status List Token "nbf" is not a number');
    if (p.ttl !== undefined && (!num(p.ttl) || p.ttl <= 0)) throw invalid('the Status List Token "ttl" is not a positive number');
    const t = now();
    const sl = p.status_list;
    if (!isObj(sl) || !isStatusBits(sl.bits) || typeof sl.lst !== 'string') throw invalid('status_list must carry bits (1, 2, 4 or 8) and lst');
    let bytes: Uint8Array;
    try {
      bytes = decodeTokenStatusList(sl.lst, { maxBytes: options.maxListBytes ?? 2 * 1024 * 1024 });
    } catch (e) {
      throw invalid(e instanceof Error ? e.message : 'invalid lst');
    }
    const kid = d.header.kid;
    const signerDid = signerDidOf(d);
    if (signerDid !== undefined) {
      if (p.iss !== undefined && p.iss !== signerDid) throw invalid('the Status List Token "iss" and its key disagree');
      let key;
      try {
        key = await options.resolver.resolveKey(signerDid, kid, 'assertionMethod');
      } catch (e) {
        // Only a DID that could not be had is retried; a key the document does not hold (or not for assertions) is wrong.
        const code = toReason(e).code;
        throw (RETRIEVAL.has(code) ? unavailable : invalid)(`the status list signer's key does not resolve (${code})`);
      }
      if (key.alg !== d.header.alg || !verifySignature(key, d.header.alg, d.signingInput, d.signature)) {
        throw invalid(`the status list at ${new URL(url).host} does not verify`);
      }
    }
    // §8.3 step 4.4: cache at most ttl (the verifier's own bound wins when shorter), never past exp.
    let expires = t + Math.min(num(p.ttl) ? p.ttl : Infinity, staleness) * 1000;
    if (num(p.exp)) expires = Math.min(expires, p.exp * 1000);
    return {
      bits: sl.bits,
      bytes,
      expires,
      times: { iat: p.iat, ...(num(p.exp) ? { exp: p.exp } : {}), ...(num(p.nbf) ? { nbf: p.nbf } : {}) },
      ...(signerDid !== undefined ? { signerDid } : { decoded: d }),
      verifiedWith: new Set(),
      jwt,
      fetchedAt: t,
    };
  }

  /**
   * One fetch per URL at a time, unless `force` (refresh): then a new fetch starts, and only the newest
   * fetch may fill the cache, so a fetch begun before a revocation can neither answer a refresh nor
   * refill the cache after refresh() or clear().
   */
  function fetchList(url: string, force = false): Promise<CachedList> {
    let p = force ? undefined : inflight.get(url);
    if (!p) {
      const mine: Promise<CachedList> = load(url)
        .then((l) => {
          if (inflight.get(url) === mine) {
            cache.delete(url);
            // A list signed by a plain key keeps its decoded form too (checked per issuer key): about the JWT's size again.
            cache.set(url, l, Infinity, l.jwt.length * (l.decoded ? 2 : 1) + l.bytes.length);
          }
          return l;
        })
        .finally(() => {
          if (inflight.get(url) === mine) inflight.delete(url);
        });
      inflight.set(url, mine);
      p = mine;
    }
    return p;
  }

  function get(url: string): Promise<CachedList> {
    const hit = cache.get(url);
    if (hit && hit.expires > now()) return Promise.resolve(hit);
    return fetchList(url);
  }

  /**
   * The Status List Token's `exp`, `iat` and `nbf` at the verification time: the caller's `ctx.now` (the time
   * the credential itself is judged at, e.g. a decision being re-checked from its evidence), else this
   * checker's clock. The cache lifetime stays on this checker's clock: it is about when the list was fetched.
   */
  function timeReason(list: CachedList, ctx: TokenStatusContext): Reason | undefined {
    let at: number;
    if (ctx.now === undefined) at = now();
    else if (ctx.now instanceof Date && Number.isFinite(ctx.now.getTime())) at = ctx.now.getTime();
    else throw new TypeError('the token status context needs "now" as a valid Date');
    const { iat, exp, nbf } = list.times;
    const s = skew * 1000;
    if (exp !== undefined && at - s >= exp * 1000) return { code: 'STATUS_INVALID', message: 'the Status List Token has expired' };
    if (at + s < iat * 1000) return { code: 'STATUS_INVALID', message: 'the Status List Token claims to be issued in the future' };
    // RFC 7519 §4.1.5: not accepted before nbf (a list signed ahead of time, e.g. with a suspension already lifted).
    if (nbf !== undefined && at + s < nbf * 1000) return { code: 'STATUS_INVALID', message: 'the Status List Token is not valid yet ("nbf")' };
    return undefined;
  }

  /** Is the list the issuer's, or signed by someone the caller trusts? Returns a refusal otherwise. */
  function signerReason(list: CachedList, ctx: TokenStatusContext): Reason | undefined {
    if (list.signerDid !== undefined) {
      if (list.signerDid === ctx.issuer || trustedSigners.has(list.signerDid)) return undefined;
      return { code: 'STATUS_INVALID', message: 'the status list is signed by someone other than the credential issuer (trust a status provider with trustedListSigners)' };
    }
    const d = list.decoded!;
    let issuerKeys: VerificationKey[];
    try {
      issuerKeys = (ctx.issuerKeys ?? []).map((k) => {
        assertVerifyUse(k, "a key of the credential issuer's");
        return importVerificationKey(k);
      });
    } catch (e) {
      return toReason(e, 'INVALID_KEY');
    }
    for (const key of [...issuerKeys, ...trustedKeys]) {
      if (key.alg !== d.header.alg) continue;
      const id = keyId(key);
      if (list.verifiedWith.has(id) || verifySignature(key, d.header.alg, d.signingInput, d.signature)) {
        list.verifiedWith.add(id);
        return undefined;
      }
    }
    return { code: 'STATUS_INVALID', message: 'the status list is not signed by the credential issuer or a trusted status provider' };
  }

  async function check(status: unknown, ctx: TokenStatusContext): Promise<Reason[]> {
    // §6.2: status.status_list = { idx: a non-negative integer, uri: a URI }.
    // A mechanism Charter cannot check is refused, not retried: asking again will not change it.
    if (!isObj(status) || !Object.hasOwn(status, 'status_list') || !isObj(status.status_list)) {
      return [{ code: 'STATUS_INVALID', message: 'unsupported status mechanism (only status_list, the Token Status List)' }];
    }
    // §6.1: each member of the status claim is one status mechanism (an extension point with its own IANA registry),
    // and any of them may be how the issuer revoked the token. A token is valid only if all of them say so, and
    // Charter reads only status_list: a second mechanism beside it is refused, as it is alone, never skipped.
    const others = Object.getOwnPropertyNames(status).filter((k) => k !== 'status_list');
    if (others.length > 0) {
      return [{ code: 'STATUS_INVALID', message: `unsupported status mechanism "${shown(others[0], 40)}" beside status_list (Charter checks only status_list)` }];
    }
    const { idx, uri } = status.status_list;
    // The uri is fetched over HTTP(S) (§8.1): any other (file:, data:, ftp:, not a URL) is refused, not retried.
    if (!Number.isSafeInteger(idx) || (idx as number) < 0 || typeof uri !== 'string' || !isHttpUrl(uri)) {
      return [{ code: 'STATUS_INVALID', message: 'status.status_list needs a non-negative integer idx and an http(s) uri' }];
    }
    let list: CachedList;
    try {
      list = await get(uri);
    } catch (e) {
      // A list that arrived but is wrong is STATUS_INVALID (refused); one that could not be had, STATUS_UNAVAILABLE (retry).
      const r = toReason(e, 'STATUS_UNAVAILABLE');
      return [{ code: r.code === 'STATUS_INVALID' ? 'STATUS_INVALID' : 'STATUS_UNAVAILABLE', message: r.message }];
    }
    const stale = timeReason(list, ctx);
    if (stale) return [stale];
    ctx.usedList?.({ url: uri, jwt: list.jwt, fetchedAt: list.fetchedAt, ...(list.signerDid !== undefined ? { signer: list.signerDid } : {}) });
    const signer = signerReason(list, ctx);
    if (signer) return [signer];
    // An older copy than one accepted before would undo a revocation this verifier has seen (rollback.ts).
    const rolledBack = watermark.admit(listKey(uri), list.times.iat * 1000);
    if (rolledBack !== undefined) return [{ code: 'STATUS_UNAVAILABLE', message: rolledBack }];
    // §8.3 step 6: an index beyond the list is an error.
    if ((idx as number) >= tokenStatusCount(list.bytes, list.bits)) return [{ code: 'STATUS_INVALID', message: 'status_list.idx is beyond the end of the list' }];
    const value = readTokenStatus(list.bytes, list.bits, idx as number);
    if (value === TOKEN_STATUS.VALID) return [];
    if (value === TOKEN_STATUS.INVALID) return [{ code: 'CREDENTIAL_REVOKED', message: 'the credential was revoked by its issuer' }];
    if (value === TOKEN_STATUS.SUSPENDED) return [{ code: 'CREDENTIAL_SUSPENDED', message: 'the credential is suspended by its issuer' }];
    // §7.1: 0x03 and up are application-specific; a value Charter cannot interpret is not a VALID one.
    return [{ code: 'STATUS_INVALID', message: `the credential has status 0x${value.toString(16).padStart(2, '0')}, which Charter does not interpret` }];
  }

  return Object.assign(check, {
    refresh: async (url: string) => {
      cache.delete(url);
      await fetchList(url, true);
    },
    clear: () => {
      cache.clear();
      inflight.clear();
    },
  });
}
