import { describe, expect, it } from 'vitest';
import { newReceiptId } from '../../src/audit/receipts.js';

describe('receipt ids: RFC 9562 version 7 UUIDs', () => {
  it('carry the time in their first 48 bits, version 7 and the RFC variant, and sort by time', () => {
    const at = Date.UTC(2026, 11, 2, 10, 0, 0, 123);
    const ids = Array.from({ length: 200 }, (_, i) => newReceiptId(at + i));
    for (const [i, id] of ids.entries()) {
      expect(id).toMatch(/^urn:uuid:[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
      const hex = id.slice(9).replace(/-/g, '');
      expect(parseInt(hex.slice(0, 12), 16)).toBe(at + i);
    }
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids.map((id) => id.slice(24))).size).toBe(200);
  });
  it('ids of one millisecond differ', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newReceiptId(1)));
    expect(ids.size).toBe(1000);
  });
});
