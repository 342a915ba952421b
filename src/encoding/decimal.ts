import { CharterError, shown } from '../errors.js';

/**
 * Exact decimal amounts as strings ("49.99"), compared and summed as scaled
 * BigInts so that no float ever touches money.
 */
const DECIMAL = /^(0|[1-9]\d{0,17})(?:\.(\d{1,18}))?$/;
/** Fixed internal scale: 18 fractional digits covers every ISO 4217 currency and most tokens. */
export const DECIMAL_SCALE = 18;
const FACTOR = 10n ** BigInt(DECIMAL_SCALE);

export function isDecimal(s: unknown): s is string {
  return typeof s === 'string' && DECIMAL.test(s);
}

/** "49.99" -> 49990000000000000000n (scaled by 10^18). Throws INVALID_ARGUMENT. */
export function parseDecimal(s: string): bigint {
  const m = typeof s === 'string' ? DECIMAL.exec(s) : null;
  if (!m) {
    throw new CharterError('INVALID_ARGUMENT', `"${shown(s, 40)}" is not a non-negative decimal amount such as "49.99"`);
  }
  const frac = (m[2] ?? '').padEnd(DECIMAL_SCALE, '0');
  return BigInt(m[1]!) * FACTOR + BigInt(frac);
}

/** Scaled BigInt -> canonical decimal string (no trailing zeros, no trailing dot). */
export function formatDecimal(v: bigint): string {
  const neg = v < 0n;
  const a = neg ? -v : v;
  const int = a / FACTOR;
  const frac = (a % FACTOR).toString().padStart(DECIMAL_SCALE, '0').replace(/0+$/, '');
  return (neg ? '-' : '') + int.toString() + (frac ? '.' + frac : '');
}

export function compareDecimal(a: string, b: string): -1 | 0 | 1 {
  const x = parseDecimal(a);
  const y = parseDecimal(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

export function addDecimal(a: string, b: string): string {
  return formatDecimal(parseDecimal(a) + parseDecimal(b));
}

/** a - b, may be negative. */
export function subDecimal(a: string, b: string): string {
  return formatDecimal(parseDecimal(a) - parseDecimal(b));
}
