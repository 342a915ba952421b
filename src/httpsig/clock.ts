import { DEFAULT_SKEW_SECONDS, MAX_SKEW_SECONDS, nowOf } from '../credentials/time.js';

/**
 * The clock options every HTTP message signature entry point takes, checked
 * the same way (TypeError for misuse). A time check that compares against
 * NaN is always false, and an infinite or huge skew makes every expiry
 * pass: either would accept signatures that expired long ago, so a bad
 * value is refused, never clamped or ignored.
 */

/** `now` in ms since the epoch: the current time when absent, else a valid Date. */
export function nowMsOf(now: unknown, who: string): number {
  return nowOf(now, who).getTime();
}

/** DESIGN.md "Time": the skew, in seconds, is a finite number from 0 to 300 (default 60). */
export function checkSkewSeconds(skewSeconds: unknown): void {
  if (skewSeconds === undefined) return;
  if (typeof skewSeconds !== 'number' || !Number.isFinite(skewSeconds) || skewSeconds < 0 || skewSeconds > MAX_SKEW_SECONDS)
    throw new TypeError(`skewSeconds must be in [0, ${MAX_SKEW_SECONDS}]`);
}

/** The skew in ms, after checkSkewSeconds. */
export function skewMsOf(skewSeconds: unknown): number {
  checkSkewSeconds(skewSeconds);
  return ((skewSeconds as number | undefined) ?? DEFAULT_SKEW_SECONDS) * 1000;
}
