/** A small bounded map with per-entry expiry; oldest entries go first when full. */
export class TtlCache<K, V> {
  readonly #map = new Map<K, { v: V; exp: number }>();
  constructor(
    private readonly ttlMs: number,
    private readonly max: number,
    private readonly now: () => number = Date.now,
  ) {
    // A NaN lifetime would never compare as expired: refused, not cached forever.
    if (typeof ttlMs !== 'number' || Number.isNaN(ttlMs) || ttlMs < 0) throw new TypeError('TtlCache ttlMs must be a non-negative number');
    if (typeof max !== 'number' || Number.isNaN(max) || max < 0) throw new TypeError('TtlCache max must be a non-negative number');
  }

  get(k: K): V | undefined {
    const e = this.#map.get(k);
    if (!e) return undefined;
    if (e.exp <= this.now()) {
      this.#map.delete(k);
      return undefined;
    }
    return e.v;
  }

  set(k: K, v: V, ttlMs: number = this.ttlMs): void {
    // Written so that NaN (a ttl computed from a bad clock) caches nothing.
    if (!(ttlMs > 0) || !(this.max > 0)) return;
    this.#map.delete(k);
    if (this.#map.size >= this.max) this.#map.delete(this.#map.keys().next().value as K);
    this.#map.set(k, { v, exp: this.now() + ttlMs });
  }

  /** Milliseconds left before the entry expires; 0 when absent or expired. */
  remainingMs(k: K): number {
    const e = this.#map.get(k);
    return e ? Math.max(0, e.exp - this.now()) : 0;
  }

  delete(k: K): void {
    this.#map.delete(k);
  }

  deleteWhere(pred: (k: K) => boolean): void {
    for (const k of [...this.#map.keys()]) if (pred(k)) this.#map.delete(k);
  }

  clear(): void {
    this.#map.clear();
  }

  get size(): number {
    return this.#map.size;
  }
}
