import { CharterError, isCharterError, shown } from '../errors.js';
import { deepFreeze, jsonDataProblem } from '../encoding/json.js';
import { TtlCache } from './cache.js';
import { parseDateTime } from '../encoding/time.js';
import { absoluteKid, assertDidSyntax, assertDocumentFor, RELATIONSHIPS, selectKey } from './select.js';
import type { CharterResolver, DIDDocument, ResolvedKey, VerificationRelationship } from './types.js';

export interface DocumentResolverOptions {
  /** Cache lifetime in ms for documents and keys. Default 300_000; 0 disables caching. */
  cacheTtlMs?: number;
  cacheMaxEntries?: number;
  /**
   * How long a DID that could not be resolved is answered with that failure
   * without loading it again, in ms. Default 30_000, never longer than
   * cacheTtlMs (0 disables it). A presentation names any DID it likes: without
   * it, each request naming a failing did:web would fetch its host again.
   */
  failureTtlMs?: number;
  /** Checks a DID before any lookup (method, stricter syntax), after the DID Core syntax check; throws CharterError. */
  check?: (did: string) => void;
  /** The time (ms) verification methods' `expires` is judged at (default the wall clock): a past decision's time, for an offline re-check. */
  now?: () => number;
}

/** The most text the cached DID documents of one resolver may hold (JSON characters: a few thousand ordinary documents, some forty of the largest a fetch takes). */
export const DOCUMENT_CACHE_CHARS = 4 * 1024 * 1024;

/**
 * A CharterResolver over any document source (`load` throws CharterError for
 * a DID it cannot resolve): a bounded TTL cache of documents and of selected
 * keys, so the hot path (resolveKey on a known kid) is a Map lookup, and one
 * set of document and key-selection rules (select.ts) whatever the source: a
 * loaded document whose `id` is not the DID asked for is refused here, so no
 * loader can hand back someone else's document.
 */
export function documentResolver(load: (did: string) => Promise<DIDDocument>, options: DocumentResolverOptions = {}): CharterResolver {
  if (typeof load !== 'function') throw new TypeError('documentResolver needs a load function: (did) => Promise<DIDDocument>');
  if (typeof options !== 'object' || options === null) throw new TypeError('documentResolver: options must be an object');
  const ttl = options.cacheTtlMs ?? 300_000;
  const max = options.cacheMaxEntries ?? 10_000;
  // Checked here, once (TypeError): NaN would make every entry live forever.
  if (typeof ttl !== 'number' || !Number.isFinite(ttl) || ttl < 0) throw new TypeError('cacheTtlMs must be a non-negative number of milliseconds (0 disables caching)');
  if (!Number.isSafeInteger(max) || max < 0) throw new TypeError('cacheMaxEntries must be a non-negative whole number');
  const failureTtl = options.failureTtlMs ?? 30_000;
  if (typeof failureTtl !== 'number' || !Number.isFinite(failureTtl) || failureTtl < 0)
    throw new TypeError('failureTtlMs must be a non-negative number of milliseconds (0 disables it)');
  if (options.check !== undefined && typeof options.check !== 'function') throw new TypeError('check must be a function');
  const check = options.check ?? (() => undefined);
  if (options.now !== undefined && typeof options.now !== 'function') throw new TypeError('now must be a function returning milliseconds');
  const now = options.now;
  // Documents are also bounded by their size (DOCUMENT_CACHE_CHARS): a presentation names DIDs anyone can mint
  // (did:web paths on one host), each up to 100 KiB, so a count alone would let refused requests fill the heap.
  const docs = new TtlCache<string, Promise<DIDDocument>>(ttl, max, undefined, DOCUMENT_CACHE_CHARS);
  const keys = new TtlCache<string, ResolvedKey>(ttl, max);
  // Failed loads, kept apart from the documents so failures never push a good document out.
  const failures = new TtlCache<string, Promise<DIDDocument>>(Math.min(ttl, failureTtl), max);

  function checked(did: string): void {
    assertDidSyntax(did);
    check(did);
  }

  function resolve(did: string): Promise<DIDDocument> {
    try {
      checked(did);
    } catch (e) {
      return Promise.reject(e);
    }
    const hit = docs.get(did) ?? failures.get(did);
    if (hit) return hit;
    const p: Promise<DIDDocument> = Promise.resolve()
      .then(() => load(did))
      .then((doc) => {
        assertDocumentFor(doc, did);
        // The cached document is handed to every caller: a frozen copy, so no caller can add a key
        // another caller's resolveKey would then select (the loader's own object stays its own).
        // Only what JSON carries (DID Core §6.2), nested no deeper than did:web's reader takes (MAX_JSON_DEPTH):
        // a function, a big int, a cycle, a Date, NaN, or deeper nesting is no document, and receipts, which keep
        // each by its RFC 8785 form, would fail every decision touching it (a 503 for as long as it stays so).
        // Read on the copy: a class instance the loader's library made is copied as the plain object it holds.
        let copy: DIDDocument | undefined;
        try {
          copy = structuredClone(doc);
        } catch {
          // a function, or a value no copy can be made of
        }
        const problem = copy === undefined ? 'a value that cannot be copied' : jsonDataProblem(copy);
        if (problem !== undefined) throw new CharterError('DID_RESOLUTION_FAILED', `the document loaded for ${did.slice(0, 80)} is not JSON data: it holds ${problem}`);
        const frozen = deepFreeze(copy!);
        const bytes = JSON.stringify(frozen).length;
        // Weighed once loaded (a pending load holds at most one fetch's bytes): kept for the rest of its
        // lifetime, or dropped at once when it alone is over the budget.
        if (docs.get(did) === p) {
          const left = docs.remainingMs(did);
          docs.delete(did);
          docs.set(did, p, left, bytes);
        }
        return frozen;
      });
    docs.set(did, p);
    p.catch(() => {
      // Only the load still current is remembered as failed (not one a clear(did) dropped meanwhile).
      if (docs.get(did) !== p) return;
      docs.delete(did);
      failures.set(did, p);
    });
    return p;
  }

  async function resolveKey(did: string, kid: string | undefined, relationship: VerificationRelationship): Promise<ResolvedKey> {
    if (!RELATIONSHIPS.includes(relationship)) throw new CharterError('INVALID_ARGUMENT', `unknown verification relationship ${shown(relationship, 40)}`);
    // Syntax and kid first: a mismatched kid costs no lookup.
    checked(did);
    const absolute = kid === undefined ? undefined : absoluteKid(did, kid);
    const cacheKey = JSON.stringify([relationship, did, absolute ?? null]);
    const hit = keys.get(cacheKey);
    if (hit) return hit;
    const pending = resolve(did);
    const doc = await pending;
    let key: ResolvedKey;
    try {
      key = selectKey(doc, did, absolute, relationship, now?.());
    } catch (e) {
      throw isCharterError(e) ? e : new CharterError('DID_RESOLUTION_FAILED', `could not read the document of ${did.slice(0, 80)}`, { cause: e });
    }
    // A key lives no longer than the document it was read from: cached for a full ttl of its own, a
    // key removed from the document (rotated out after a compromise) would verify for up to two. And
    // only while that document is the cached one: after clear(did) (a rotation notice) a load begun
    // before it returns the old document, whose key must not be cached under the new one's lifetime.
    // Nor past the method's own `expires` (selectKey judged it at this lookup; a cache hit does not).
    if (docs.get(did) === pending) keys.set(cacheKey, key, Math.min(docs.remainingMs(did), methodExpires(doc, did, key.id) - (now?.() ?? Date.now())));
    return key;
  }

  return {
    resolve,
    resolveKey,
    ...(now !== undefined ? { now } : {}),
    clear(did?: string) {
      if (did === undefined) {
        docs.clear();
        keys.clear();
        failures.clear();
      } else {
        docs.delete(did);
        failures.delete(did);
        keys.deleteWhere((k) => (JSON.parse(k) as unknown[])[1] === did);
      }
    },
  };
}

/**
 * When the method `id` of `did`'s document expires (ms; Infinity without
 * `expires`): wherever it is listed, in `verificationMethod` or embedded in a
 * relationship, by its absolute or relative id. selectKey refused an expired
 * or unreadable one; this only bounds how long a cache may keep it.
 */
function methodExpires(doc: DIDDocument, did: string, id: string): number {
  const lists = [doc.verificationMethod, ...RELATIONSHIPS.map((r) => (doc as Record<string, unknown>)[r])];
  for (const list of lists) {
    if (!Array.isArray(list)) continue;
    for (const vm of list) {
      if (typeof vm !== 'object' || vm === null) continue;
      const m = vm as Record<string, unknown>;
      if (typeof m.id !== 'string' || (m.id !== id && `${did}${m.id}` !== id)) continue;
      if (m.expires === undefined) return Infinity;
      return parseDateTime(m.expires) ?? 0;
    }
  }
  return Infinity;
}
