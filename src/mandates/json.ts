import { CharterError, type CharterErrorCode } from '../errors.js';
import { MAX_JSON_DEPTH, canonicalJson, jsonTextProblem } from '../encoding/json.js';

/**
 * JSON text read from outside (a chain input, a trust anchor file), parsed
 * as JWT payloads are (credentials/jws.ts): a member named twice is refused,
 * since JSON.parse keeps the last and other parsers the first (a detached
 * checkout would be signature-checked with one currency while another
 * reader sees the other; RFC 8259 §4: names "SHOULD be unique"), and
 * nesting beyond MAX_JSON_DEPTH is refused before recursive code
 * (canonicalJson) walks it out of stack. Throws CharterError `code`.
 */
export function parseJsonText(text: string, what: string, code: CharterErrorCode = 'INVALID_ARGUMENT'): unknown {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new CharterError(code, `${what} is not valid JSON`);
  }
  const problem = jsonTextProblem(text);
  if (problem !== undefined) throw new CharterError(code, `${what} ${problem}`);
  return v;
}

/**
 * Why a value handed over as JSON data (a programmatic `checkout_object`)
 * is not what JSON.parse of a text within MAX_JSON_DEPTH could produce, or
 * undefined: plain objects and arrays, strings, finite numbers, booleans
 * and null. RFC 8785 (canonicalJson) defines the signed form of JSON data
 * only: a Date, Map or BigInt has none, and a cycle or a deep nest would
 * exhaust the stack. Members whose value is undefined are left out, as
 * JSON.stringify and canonicalJson leave them out; in an array they are not.
 */
export function jsonDataProblem(value: unknown, depth = 0): string | undefined {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return undefined;
  if (typeof value === 'number') return Number.isFinite(value) ? undefined : 'a number that is not finite';
  if (typeof value !== 'object') return `a value of type ${typeof value}`;
  // The same bound scanJson puts on text: at most MAX_JSON_DEPTH objects and arrays, one inside the other.
  if (depth >= MAX_JSON_DEPTH) return `objects or arrays nested deeper than ${MAX_JSON_DEPTH} levels`;
  if (Array.isArray(value)) return firstProblem(Array.from(value), depth);
  const proto = Object.getPrototypeOf(value) as unknown;
  if (proto !== Object.prototype && proto !== null) return `an object that is not plain JSON (${nameOf(value)})`;
  return firstProblem(
    Object.values(value).filter((v) => v !== undefined),
    depth,
  );
}

/**
 * Whether two values are the same JSON data (equal RFC 8785 forms). A value
 * that is not JSON data (Infinity, a BigInt, a Date: possible in what a
 * library caller hands over as objects) is the same as nothing, so the
 * comparison is a refusal where it is used, never canonicalJson's TypeError.
 */
export function sameJsonData(a: unknown, b: unknown): boolean {
  return jsonDataProblem(a) === undefined && jsonDataProblem(b) === undefined && canonicalJson(a) === canonicalJson(b);
}

function firstProblem(values: unknown[], depth: number): string | undefined {
  for (const v of values) {
    const p = jsonDataProblem(v, depth + 1);
    if (p !== undefined) return p;
  }
  return undefined;
}

function nameOf(value: object): string {
  const c = (value as { constructor?: { name?: unknown } }).constructor;
  return typeof c?.name === 'string' && c.name !== '' ? c.name.slice(0, 40) : 'no plain prototype';
}
