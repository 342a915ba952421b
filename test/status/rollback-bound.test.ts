import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createListWatermark } from '../../src/status/rollback.js';

/**
 * The rollback watermark is bounded, and what it forgets must not be chosen
 * by an attacker: a verifier checks the lists of any credential presented to
 * it, so anyone can make it admit many list URLs (its own signed lists). A
 * list the verifier keeps using stays tracked, and one origin's lists never
 * push out another origin's.
 */
const T1 = Date.parse('2026-12-01T00:00:00Z');
const T2 = T1 + 60_000;
const VICTIM = 'https://issuer.example/status/1';

describe('the rollback watermark forgets by use, and per origin', () => {
  it('a list checked now and then stays tracked however many other lists come and go between (10x the bound)', () => {
    const w = createListWatermark(100);
    expect(w.admit(VICTIM, T2)).toBeUndefined();
    for (let i = 0; i < 1000; i++) {
      expect(w.admit(`https://lists${i % 200}.example/l/${i}`, T1)).toBeUndefined();
      // The victim's list is checked again (the same copy) every 40 admissions: a use, as a cache hit is;
      // halfway between, a stale mirror serves its older copy.
      if (i % 40 === 39) expect(w.admit(VICTIM, T2)).toBeUndefined();
      if (i % 40 === 20) expect([i, w.admit(VICTIM, T1)]).toEqual([i, expect.stringMatching(/older/)]);
    }
    expect(w.admit(VICTIM, T1)).toMatch(/older than a copy this verifier accepted/);
  });

  it("a flood of lists from one origin (even the victim list host) evicts only that origin's least recently used", () => {
    const w = createListWatermark(100);
    const other = 'https://other-issuer.example/s/9';
    expect(w.admit(other, T2)).toBeUndefined();
    expect(w.admit(VICTIM, T2)).toBeUndefined();
    for (let i = 0; i < 10_000; i++) w.admit(`https://attacker.example/flood/${i}`, T1);
    expect(w.admit(other, T1)).toMatch(/older/);
    expect(w.admit(VICTIM, T1)).toMatch(/older/);
    // On the victim's own host the attacker's lists displace each other, and the victim's list while it is used.
    for (let i = 0; i < 10_000; i++) {
      w.admit(`https://issuer.example/flood/${i}`, T1);
      if (i % 5 === 0) w.admit(VICTIM, T2);
    }
    expect(w.admit(VICTIM, T1)).toMatch(/older/);
  });

  it('one site is one group whatever the spelling: case, port, subdomain or a query cannot make a flood look like many sites', () => {
    const w = createListWatermark(100);
    const other = 'https://other-issuer.example/s/9';
    expect(w.admit(other, T2)).toBeUndefined();
    const spellings = (i: number) =>
      [
        `https://EVIL.example/l/${i}`,
        `https://eVil.example:8443/l/${i}`,
        `https://a${i % 50}.evil.example/l/${i}`,
        `https://evil.example?${i}/l`,
        `https://evil.example./l/${i}`,
        `https://user@evil.example/l/${i}`,
      ][i % 6]!;
    for (let i = 0; i < 10_000; i++) w.admit(spellings(i), T1);
    expect(w.admit(other, T1)).toMatch(/older/);
  });

  it('an issuer with more lists than a site may hold keeps every mark while the map has room', () => {
    const w = createListWatermark(1000);
    const lists = Array.from({ length: 500 }, (_, i) => `https://issuer.example/status/${i}`);
    for (const u of lists) expect(w.admit(u, T2)).toBeUndefined();
    for (const u of lists) expect(w.admit(u, T1)).toMatch(/older/);
  });

  it('a newer copy raises the mark, the same copy keeps it, an older one is refused; a list with no issuance time is not tracked', () => {
    const w = createListWatermark(10);
    expect(w.admit(VICTIM, T1)).toBeUndefined();
    expect(w.admit(VICTIM, T2)).toBeUndefined();
    expect(w.admit(VICTIM, T2)).toBeUndefined();
    expect(w.admit(VICTIM, T1)).toMatch(/older/);
    expect(w.admit(VICTIM, undefined)).toBeUndefined();
    expect(w.admit(VICTIM, Number.NaN)).toBeUndefined();
    expect(w.admit(VICTIM, T1)).toMatch(/older/);
  });

  it('property: whatever the order of admissions, a list admitted at least once in the last `limit / 10` admissions of its origin and `limit` overall is never rolled back', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 60 })), { maxLength: 400 }), (steps) => {
        const limit = 50;
        const w = createListWatermark(limit);
        const history: string[] = [];
        for (const [host, path] of steps) {
          const url = `https://h${host}.example/${path}`;
          expect(w.admit(url, T2)).toBeUndefined();
          history.push(url);
        }
        // The last few admitted URLs, all within both bounds, refuse an older copy.
        const recent = [...new Set(history.slice(-5))];
        for (const url of recent) expect(w.admit(url, T1)).toMatch(/older/);
      }),
      { numRuns: 300 },
    );
  });
});
