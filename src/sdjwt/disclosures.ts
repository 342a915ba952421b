import { CharterError } from '../errors.js';
import { jsonTextProblem } from '../encoding/json.js';
import { sdDigest } from './hash.js';
import type { SdHashAlg } from './types.js';

/**
 * RFC 9901 §7.1 step 3, done here rather than with @sd-jwt/decode's unpack:
 * unpack silently ignores a disclosure no digest references, a digest or a
 * disclosure that appears twice, a disclosed `_sd` or `...` claim name, an
 * object disclosure in an array and the other way round, and drops a claim
 * named `__proto__` (test/sdjwt/peer-differences.test.ts shows each). Every
 * one of those is a refusal (DISCLOSURE_INVALID) here.
 */

export interface Disclosure {
  encoded: string;
  digest: string;
  /** Present for an object property (three elements), absent for an array element (two). */
  name?: string;
  value: unknown;
}

const B64U = /^[A-Za-z0-9_-]+$/;
const MAX_DEPTH = 32;
/** RFC 9901 §4.2.1, §7.1 step 3.2.2: never a disclosed claim name. */
const RESERVED_NAMES = new Set(['_sd', '...']);
/**
 * draft-ietf-oauth-sd-jwt-vc "Registered JWT Claims": iss, nbf, exp, cnf, vct,
 * vct#integrity and status "MUST NOT be selectively disclosed". A holder who
 * could withhold `status`, `exp` or `cnf` could hide a revocation, an expiry or
 * the key binding, so a disclosure of one, or a digest anywhere inside one, is
 * refused. (A withheld one looks like a decoy: verifySdJwtVc requires a plain
 * `cnf` and a key binding, `requireStatus` a status, and a grant refuses any
 * digest at its top level.)
 */
const NEVER_DISCLOSED = new Set(['iss', 'nbf', 'exp', 'cnf', 'vct', 'vct#integrity', 'status', '_sd_alg']);

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * RFC 9901 §7.1 step 3.3: "Find all array elements that are objects with one
 * key, that key being `...` and referring to a string." Only those are digests;
 * any other object (`...` beside other members, or naming a non-string) is an
 * ordinary element, kept and processed like any value.
 */
function isDigestElement(el: unknown): el is { '...': string } {
  if (!isObj(el)) return false;
  const keys = Object.keys(el);
  return keys.length === 1 && keys[0] === '...' && typeof el['...'] === 'string';
}
const invalid = (message: string) => new CharterError('DISCLOSURE_INVALID', message);

/** Sets an own property, so a claim named `__proto__` stays a claim instead of replacing the prototype. */
function put(o: Record<string, unknown>, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

/**
 * RFC 9901 §4.2.1 / §4.2.2: a base64url JSON array [salt, name, value] or [salt, value].
 * `ignoreBOM` keeps a leading byte order mark in the text, where it is refused: the default decoder
 * strips it silently, so bytes a peer refuses (RFC 8259 §8.1: JSON text MUST NOT begin with a BOM)
 * would be read here as the disclosure without it.
 */
const UTF8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export function parseDisclosure(encoded: string, alg: SdHashAlg): Disclosure {
  if (!B64U.test(encoded)) throw invalid('a disclosure is not base64url');
  let arr: unknown;
  let text: string;
  try {
    // Strict UTF-8, as for a JWS payload: a lenient decode would read invalid bytes as U+FFFD, where a peer refuses.
    text = UTF8.decode(Buffer.from(encoded, 'base64url'));
  } catch {
    throw invalid('a disclosure is not JSON in UTF-8');
  }
  if (text.charCodeAt(0) === 0xfeff) throw invalid('a disclosure begins with a byte order mark');
  try {
    arr = JSON.parse(text);
  } catch {
    throw invalid('a disclosure is not JSON in UTF-8');
  }
  // A member named twice is read as its last value here and as its first by some peers: refused, as in a JWS payload.
  const problem = jsonTextProblem(text);
  if (problem !== undefined) throw invalid(`a disclosure ${problem}`);
  if (!Array.isArray(arr) || (arr.length !== 2 && arr.length !== 3)) throw invalid('a disclosure must be a JSON array of two or three elements');
  if (typeof arr[0] !== 'string') throw invalid('a disclosure salt must be a string');
  const digest = sdDigest(alg, encoded);
  if (arr.length === 2) return { encoded, digest, value: arr[1] };
  if (typeof arr[1] !== 'string') throw invalid('a disclosed claim name must be a string');
  if (RESERVED_NAMES.has(arr[1])) throw invalid(`"${arr[1]}" is reserved and cannot be a disclosed claim name`);
  return { encoded, digest, name: arr[1], value: arr[2] };
}

export interface Processed {
  claims: Record<string, unknown>;
  /** Paths of the claims that came from disclosures. */
  disclosed: string[];
  /**
   * Paths of the objects (`_sd`) and arrays (`...` elements) that carry
   * digests, disclosed or not ('' for the top level): where a claim may have
   * been withheld. A withheld disclosure looks like a decoy, so a caller that
   * needs a part of the claims whole (a grant's restrictions) refuses any
   * digest there.
   */
  selective: string[];
  /**
   * The subset of `selective` where at least one digest had no disclosure: a
   * claim withheld by the holder, or a decoy (the two cannot be told apart).
   */
  withheld: string[];
}

/**
 * Replaces each digest the payload (or a disclosed value) references with its
 * disclosure, removes `_sd`, `_sd_alg` and the undisclosed array elements, and
 * refuses anything ambiguous: a digest seen twice, a disclosure given twice or
 * never referenced, a name that collides with a claim at its level, a reserved
 * or never-disclosable name, the wrong disclosure shape for its place.
 */
export function processDisclosures(payload: Record<string, unknown>, disclosures: readonly Disclosure[]): Processed {
  const byDigest = new Map<string, Disclosure>();
  for (const d of disclosures) {
    if (byDigest.has(d.digest)) throw invalid('the same disclosure is given twice');
    byDigest.set(d.digest, d);
  }
  const seen = new Set<string>();
  const disclosed: string[] = [];
  const selective = new Set<string>();
  const withheld = new Set<string>();

  function reference(digest: unknown): Disclosure | undefined {
    if (typeof digest !== 'string') throw invalid('an embedded digest must be a string');
    // §7.1 step 4: a digest value may appear only once in the payload and the disclosures together.
    if (seen.has(digest)) throw invalid('a digest appears more than once');
    seen.add(digest);
    return byDigest.get(digest);
  }

  /** `guarded`: the never-disclosable top-level claim this value sits in (`cnf`, `status`), where no digest may appear. */
  function walk(value: unknown, path: string, depth: number, guarded?: string): unknown {
    if (depth > MAX_DEPTH) throw invalid(`claims nest more than ${MAX_DEPTH} levels deep`);
    if (Array.isArray(value)) {
      const out: unknown[] = [];
      value.forEach((el, i) => {
        const p = path ? `${path}.${i}` : String(i);
        if (isDigestElement(el)) {
          if (guarded) throw invalid(`"${guarded}" must not be selectively disclosable, in whole or in part`);
          selective.add(path);
          const d = reference(el['...']);
          if (d === undefined) {
            withheld.add(path); // a decoy or an element the holder withheld
            return;
          }
          if (d.name !== undefined) throw invalid('an object property disclosure is referenced as an array element');
          disclosed.push(p);
          out.push(walk(d.value, p, depth + 1));
        } else {
          out.push(walk(el, p, depth + 1, guarded));
        }
      });
      return out;
    }
    if (!isObj(value)) return value;
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) {
      if (k === '_sd' || (depth === 0 && k === '_sd_alg')) continue;
      put(out, k, walk(v, path ? `${path}.${k}` : k, depth + 1, depth === 0 && NEVER_DISCLOSED.has(k) ? k : guarded));
    }
    if (value._sd !== undefined) {
      if (!Array.isArray(value._sd)) throw invalid('"_sd" must be an array of digests');
      // A digest inside `cnf` (its `jwk`) or `status` (its `status_list`) lets a holder withhold the part
      // that matters as surely as a digest of the whole claim: refused whether disclosed or not.
      if (value._sd.length > 0 && guarded) throw invalid(`"${guarded}" must not be selectively disclosable, in whole or in part`);
      if (value._sd.length > 0) selective.add(path);
      for (const digest of value._sd) {
        const d = reference(digest);
        if (d === undefined) {
          withheld.add(path);
          continue;
        }
        if (d.name === undefined) throw invalid('an array element disclosure is referenced from "_sd"');
        if (depth === 0 && NEVER_DISCLOSED.has(d.name)) throw invalid(`"${d.name}" must not be selectively disclosable`);
        // §7.1 step 3.2.3: a disclosed name must not already exist at its level.
        if (Object.prototype.hasOwnProperty.call(out, d.name)) throw invalid(`the disclosed claim "${d.name.slice(0, 60)}" already exists at its level`);
        const p = path ? `${path}.${d.name}` : d.name;
        disclosed.push(p);
        put(out, d.name, walk(d.value, p, depth + 1));
      }
    }
    return out;
  }

  const claims = walk(payload, '', 0) as Record<string, unknown>;
  // §7.1 step 5: every disclosure must be referenced from the payload or another disclosure.
  for (const d of disclosures) if (!seen.has(d.digest)) throw invalid('a disclosure is not referenced by any digest');
  return { claims, disclosed: disclosed.sort(), selective: [...selective].sort(), withheld: [...withheld].sort() };
}
