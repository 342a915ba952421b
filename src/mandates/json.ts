import { CharterError, type CharterErrorCode } from '../errors.js';
import { canonicalJson, jsonDataProblem, jsonTextProblem } from '../encoding/json.js';

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
 * Whether two values are the same JSON data (equal RFC 8785 forms). A value
 * that is not JSON data (Infinity, a BigInt, a Date: possible in what a
 * library caller hands over as objects) is the same as nothing, so the
 * comparison is a refusal where it is used, never canonicalJson's TypeError.
 */
export function sameJsonData(a: unknown, b: unknown): boolean {
  return jsonDataProblem(a) === undefined && jsonDataProblem(b) === undefined && canonicalJson(a) === canonicalJson(b);
}
