/**
 * A small bounded map with per-entry expiry; oldest entries go first when full. With `maxWeight`, it is
 * also bounded by the total weight its entries were set with (the characters they hold, say): a cache
 * filled from requests must be bounded by what it holds, not only by how many. An infinite `ttlMs`
 * makes a memo that only evicts.
 */
export class TtlCache<K, V> {
  readonly #map = new Map<K, { v: V; exp: number; w: number }>();
  #weight = 0;
  constructor(
    private readonly ttlMs: number,
    private readonly max: number,
    private readonly now: () => number = Date.now,
    private readonly maxWeight: number = Infinity,
  ) {
    // A NaN lifetime would never compare as expired: refused, not cached forever.
    if (typeof ttlMs !== 'number' || Number.isNaN(ttlMs) || ttlMs < 0) throw new TypeError('TtlCache ttlMs must be a non-negative number');
    if (typeof max !== 'number' || Number.isNaN(max) || max < 0) throw new TypeError('TtlCache max must be a non-negative number');
    if (typeof maxWeight !== 'number' || Number.isNaN(maxWeight) || maxWeight < 0) throw new TypeError('TtlCache maxWeight must be a non-negative number');
  }

  get(k: K): V | undefined {
    const e = this.#map.get(k);
    if (!e) return undefined;
    // An entry that never expires needs no clock read (memos on a verification's hot path).
    if (e.exp !== Infinity && e.exp <= this.now()) {
      this.delete(k);
      return undefined;
    }
    return e.v;
  }

  /** Keeps `v` for `ttlMs`; `weight` counts against `maxWeight`, and older entries go until it fits. */
  set(k: K, v: V, ttlMs: number = this.ttlMs, weight = 0): void {
    // Written so that NaN (a ttl computed from a bad clock) caches nothing.
    if (!(ttlMs > 0) || !(this.max > 0) || !(weight >= 0) || weight > this.maxWeight) return;
    this.delete(k);
    while (this.#map.size > 0 && (this.#map.size >= this.max || this.#weight + weight > this.maxWeight)) this.delete(this.#map.keys().next().value as K);
    this.#map.set(k, { v, exp: ttlMs === Infinity ? Infinity : this.now() + ttlMs, w: weight });
    this.#weight += weight;
  }

  /** Milliseconds left before the entry expires; 0 when absent or expired. */
  remainingMs(k: K): number {
    const e = this.#map.get(k);
    return e ? Math.max(0, e.exp - this.now()) : 0;
  }

  delete(k: K): void {
    const e = this.#map.get(k);
    if (!e) return;
    this.#map.delete(k);
    this.#weight -= e.w;
  }

  deleteWhere(pred: (k: K) => boolean): void {
    for (const k of [...this.#map.keys()]) if (pred(k)) this.delete(k);
  }

  clear(): void {
    this.#map.clear();
    this.#weight = 0;
  }

  get size(): number {
    return this.#map.size;
  }

  /** The total weight of the entries held (expired ones included until they are read or evicted). */
  get weight(): number {
    return this.#weight;
  }
}
