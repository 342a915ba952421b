import { CharterError } from '../errors.js';
import { formatDecimal, isDecimal, parseDecimal, DECIMAL_SCALE } from '../encoding/decimal.js';
import type { Money } from '../agents/types.js';

/**
 * VI and AP2 carry amounts as integers in the currency's minor unit
 * (VI credential-format §4.4.2, AP2 types/amount.json: 27999 USD = 279.99).
 * Charter carries decimal strings; this is the one place that converts,
 * exactly, through scaled BigInts.
 */
const CURRENCY = /^[A-Z]{3}$/;

/** ISO 4217 minor units that are not 2 (table A.1). Anything else listed there has 2. */
const EXPONENT: Record<string, number> = {
  BIF: 0,
  CLP: 0,
  DJF: 0,
  GNF: 0,
  ISK: 0,
  JPY: 0,
  KMF: 0,
  KRW: 0,
  PYG: 0,
  RWF: 0,
  UGX: 0,
  UYI: 0,
  VND: 0,
  VUV: 0,
  XAF: 0,
  XOF: 0,
  XPF: 0,
  BHD: 3,
  IQD: 3,
  JOD: 3,
  KWD: 3,
  LYD: 3,
  OMR: 3,
  TND: 3,
  CLF: 4,
  UYW: 4,
};

export function isCurrency(c: unknown): c is string {
  return typeof c === 'string' && CURRENCY.test(c);
}

export function minorExponent(currency: string): number {
  return Object.hasOwn(EXPONENT, currency) ? EXPONENT[currency]! : 2;
}

/** 27999, "USD" -> { amount: "279.99", currency: "USD" }. Throws INVALID_ARGUMENT on a non-integer or negative amount. */
export function fromMinorUnits(minor: unknown, currency: string): Money {
  if (!isCurrency(currency)) throw new CharterError('INVALID_ARGUMENT', 'currency must be an ISO 4217 code such as USD');
  if (typeof minor !== 'number' || !Number.isSafeInteger(minor) || minor < 0) {
    throw new CharterError('INVALID_ARGUMENT', 'an amount must be a non-negative integer in minor units');
  }
  const scaled = BigInt(minor) * 10n ** BigInt(DECIMAL_SCALE - minorExponent(currency));
  return { amount: formatDecimal(scaled), currency };
}

/** { amount: "279.99", currency: "USD" } -> 27999. Throws INVALID_ARGUMENT when the amount has more digits than the currency's minor unit. */
export function toMinorUnits(m: Money): number {
  const scaled = parseDecimal(m.amount);
  const unit = 10n ** BigInt(DECIMAL_SCALE - minorExponent(m.currency));
  if (scaled % unit !== 0n) throw new CharterError('INVALID_ARGUMENT', `${m.amount} ${m.currency} has more decimals than ${m.currency} allows`);
  const v = scaled / unit;
  if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw new CharterError('INVALID_ARGUMENT', 'amount too large');
  return Number(v);
}

/**
 * AP2 `payment.budget.max` is a JSON number in major units (AP2 payment
 * mandate §Budget, example 1000.00). Read through its shortest decimal
 * spelling; exponent forms and negatives are refused.
 */
export function fromMajorNumber(v: unknown, currency: string): Money {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < 0) throw new CharterError('INVALID_ARGUMENT', 'a budget must be a non-negative number');
  const s = String(v);
  if (!isDecimal(s)) throw new CharterError('INVALID_ARGUMENT', 'a budget must be a plain decimal number');
  if (!isCurrency(currency)) throw new CharterError('INVALID_ARGUMENT', 'currency must be an ISO 4217 code such as USD');
  return { amount: formatDecimal(parseDecimal(s)), currency };
}
