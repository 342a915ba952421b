import type { CharterErrorCode } from '../errors.js';

/** What one constraint evaluation found; shared by the VI and AP2 evaluators. */
export interface ConstraintViolation {
  type: string;
  code: CharterErrorCode;
  message: string;
  /** The constraint itself is malformed (not the fulfillment): refused even with nothing to evaluate. */
  malformed?: true;
}

export interface ConstraintCheck {
  satisfied: boolean;
  violations: ConstraintViolation[];
  /** Types evaluated (or accepted as network-enforced). */
  checked: string[];
  /** Unknown types skipped (permissive mode on a closed mandate only). */
  skipped: string[];
  /** Stateful constraints a payment network enforces: reported, never evaluated here. */
  network: Record<string, unknown>[];
}

export type StrictnessMode = 'strict' | 'permissive';

export function newCheck(): ConstraintCheck {
  return { satisfied: true, violations: [], checked: [], skipped: [], network: [] };
}

export function violate(r: ConstraintCheck, type: string, code: CharterErrorCode, message: string, malformed = false): void {
  r.satisfied = false;
  r.violations.push(malformed ? { type, code, message, malformed } : { type, code, message });
}

export const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
export const isInt = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v);
export const nonEmptyObj = (v: unknown): v is Record<string, unknown> => isObj(v) && Object.keys(v).length > 0;

/** Fields of a known constraint outside its schema: a newer issuer's rule this verifier would silently ignore. */
export function extraFields(c: Record<string, unknown>, known: readonly string[]): string[] {
  return Object.keys(c).filter((k) => k !== 'type' && !known.includes(k));
}

/** Short, body-free rendering of an untrusted value for a message. */
export function show(v: unknown): string {
  const s = typeof v === 'string' ? v : (JSON.stringify(v) ?? String(v));
  return s.length > 64 ? s.slice(0, 64) + '…' : s;
}
