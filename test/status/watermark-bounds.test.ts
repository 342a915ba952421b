import { describe, expect, it } from 'vitest';
import { createListWatermark } from '../../src/status/rollback.js';

/**
 * The rollback watermark's bounds at their edges: it tracks at most `limit`
 * URLs (the next one forgets the least recently used), and once full a site
 * holding a tenth of the limit gives up its own least recently used list,
 * not another site's. An older copy is refused only while its URL is tracked.
 */
const older = 50;
const newer = 100;

describe('createListWatermark bounds', () => {
  it('holds exactly `limit` URLs: the next one forgets the least recently used', () => {
    const w = createListWatermark(20);
    const url = (i: number) => `https://l.s${i}.example/list`;
    for (let i = 0; i < 20; i++) expect(w.admit(url(i), newer)).toBeUndefined();
    // Still full, nothing forgotten: an older copy of the first is a rollback.
    expect(w.admit(url(0), older)).toBeDefined();
    // A refused copy is no use: url(0) is still the least recently used, and the 21st URL forgets it.
    expect(w.admit(url(20), newer)).toBeUndefined();
    expect(w.admit(url(0), older)).toBeUndefined();
    expect(w.admit(url(2), older)).toBeDefined();
  });

  it("once full, a site holding a tenth of the limit gives up its own oldest list, not another site's", () => {
    const w = createListWatermark(20); // a tenth: 2 per site
    const other = (i: number) => `https://l.s${i}.example/list`;
    const mine = (i: number) => `https://a${i}.x.example/list`;
    expect(w.admit(other(0), newer)).toBeUndefined(); // the least recently used overall
    expect(w.admit(mine(1), newer)).toBeUndefined();
    expect(w.admit(mine(2), newer)).toBeUndefined();
    for (let i = 1; i < 18; i++) expect(w.admit(other(i), newer)).toBeUndefined();
    // Full (20). A third list of x.example forgets x.example's oldest, mine(1), and keeps other(0).
    expect(w.admit(mine(3), newer)).toBeUndefined();
    expect(w.admit(other(0), older)).toBeDefined();
    expect(w.admit(mine(1), older)).toBeUndefined();
  });
});
