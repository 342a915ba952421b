import { describe, expect, it } from 'vitest';
import { holdSignal, type SpendHold } from '../../src/guard/spend.js';
import { isCharterError } from '../../src/errors.js';

/**
 * holdSignal: what guardTransaction's function, the MCP body and an HTTP
 * handler are told of their hold. It fires once the hold runs out while the
 * spend is only reserved; never without a hold, never once settled, and
 * never early for a hold past what one Node timer can wait (2^31 - 1 ms,
 * about 24.8 days; holdTimeoutSeconds goes up to 366 days).
 */
const fake = (holdUntil: Date | undefined, state: SpendHold['state'] = 'reserved') =>
  ({
    holdUntil,
    get state() {
      return state;
    },
    set: (s: SpendHold['state']) => (state = s),
  }) as unknown as SpendHold & { set(s: SpendHold['state']): void };
const wait = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('holdSignal', () => {
  it('fires with RESERVATION_NOT_FOUND when a short hold runs out, at once for one already past', async () => {
    const h = holdSignal(fake(new Date(Date.now() + 40)));
    expect(h.signal.aborted).toBe(false);
    await wait(120);
    expect(h.signal.aborted).toBe(true);
    expect(isCharterError(h.signal.reason, 'RESERVATION_NOT_FOUND')).toBe(true);
    expect(holdSignal(fake(new Date(Date.now() - 1))).signal.aborted).toBe(true);
  });

  it.each([25, 30, 200, 366])('a hold of %i days does not fire early (no timer overflow)', async (days) => {
    const warnings: string[] = [];
    const onWarning = (w: Error) => warnings.push(w.name);
    process.on('warning', onWarning);
    try {
      const h = holdSignal(fake(new Date(Date.now() + days * 86_400_000)));
      await wait(60);
      expect(h.signal.aborted).toBe(false);
      h.stop();
    } finally {
      process.off('warning', onWarning);
    }
    expect(warnings).not.toContain('TimeoutOverflowWarning');
  });

  it('never fires once the spend is settled, even on the spend itself (not through the context)', async () => {
    for (const settled of ['committed', 'released'] as const) {
      const s = fake(new Date(Date.now() + 40));
      const h = holdSignal(s);
      s.set(settled);
      await wait(100);
      expect([settled, h.signal.aborted]).toEqual([settled, false]);
    }
  });

  it('never fires without a spend or a hold, nor after stop()', async () => {
    expect(holdSignal(undefined).signal.aborted).toBe(false);
    expect(holdSignal(fake(undefined)).signal.aborted).toBe(false);
    const h = holdSignal(fake(new Date(Date.now() + 30)));
    h.stop();
    await wait(80);
    expect(h.signal.aborted).toBe(false);
  });
});
