import { describe, expect, it } from 'vitest';
import { TtlCache } from '../../src/did/cache.js';

/*
 * The weight budget TtlCache gives the caches filled from requests (the did:key memo, the parse cache,
 * describeCredential): bounded by what they hold, not only by how many entries.
 */
describe('TtlCache with a weight budget', () => {
  it('refuses a NaN, negative or non-number maxWeight', () => {
    for (const w of [Number.NaN, -1, '10'] as unknown[]) expect(() => new TtlCache(1000, 10, Date.now, w as number), String(w)).toThrow(TypeError);
  });

  it('evicts the oldest entries until a new one fits, and counts what it holds', () => {
    const c = new TtlCache<string, string>(Infinity, 100, Date.now, 10);
    c.set('a', 'x', Infinity, 4);
    c.set('b', 'x', Infinity, 4);
    expect({ size: c.size, weight: c.weight }).toEqual({ size: 2, weight: 8 });
    c.set('c', 'x', Infinity, 4);
    expect([c.get('a'), c.get('b'), c.get('c')]).toEqual([undefined, 'x', 'x']);
    expect(c.weight).toBe(8);
    c.set('d', 'x', Infinity, 10);
    expect({ size: c.size, weight: c.weight, d: c.get('d') }).toEqual({ size: 1, weight: 10, d: 'x' });
  });

  it('an entry heavier than the whole budget, or of a NaN or negative weight, is not kept and evicts nothing', () => {
    const c = new TtlCache<string, string>(Infinity, 100, Date.now, 10);
    c.set('a', 'x', Infinity, 5);
    for (const w of [11, Number.NaN, -1, Infinity]) c.set(`w${w}`, 'x', Infinity, w);
    expect({ size: c.size, weight: c.weight, a: c.get('a') }).toEqual({ size: 1, weight: 5, a: 'x' });
  });

  it('replacing, deleting, expiring and clearing give their weight back', () => {
    let t = 0;
    const c = new TtlCache<string, string>(1000, 100, () => t, 100);
    c.set('a', 'x', 1000, 30);
    c.set('a', 'y', 1000, 20);
    expect(c.weight).toBe(20);
    c.set('b', 'x', 1000, 30);
    c.delete('b');
    c.deleteWhere(() => false);
    expect(c.weight).toBe(20);
    t = 1000;
    expect(c.get('a')).toBeUndefined();
    expect(c.weight).toBe(0);
    c.set('c', 'x', 1000, 7);
    c.deleteWhere((k) => k === 'c');
    expect(c.weight).toBe(0);
    c.set('d', 'x', 1000, 7);
    c.clear();
    expect({ size: c.size, weight: c.weight }).toEqual({ size: 0, weight: 0 });
  });

  it('an infinite lifetime never expires, whatever the clock says', () => {
    let t = 0;
    const c = new TtlCache<string, string>(Infinity, 10, () => t);
    c.set('k', 'v');
    t = Number.MAX_SAFE_INTEGER;
    expect(c.get('k')).toBe('v');
  });

  it('without a budget, entries alone bound it as before (the oldest goes when full)', () => {
    const c = new TtlCache<number, number>(1000, 3);
    for (let i = 0; i < 5; i++) c.set(i, i);
    expect([0, 1, 2, 3, 4].map((i) => c.get(i))).toEqual([undefined, undefined, 2, 3, 4]);
    expect(c.weight).toBe(0);
  });
});
