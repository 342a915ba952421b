import { createHash } from 'node:crypto';

/**
 * RFC 8785 (JCS) canonical JSON for the values JSON.parse produces, nested at most MAX_JSON_DEPTH
 * levels (what every reader of Charter's accepts): deeper, the walk would end in a stack overflow.
 */
export function canonicalJson(value: unknown, depth = 0): string {
  if (value === null || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('non-finite number in canonical JSON');
    return JSON.stringify(value);
  }
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'object' && depth >= MAX_JSON_DEPTH) throw new TypeError(`canonical JSON nests at most ${MAX_JSON_DEPTH} levels`);
  if (Array.isArray(value)) return '[' + value.map((v) => canonicalJson(v, depth + 1)).join(',') + ']';
  if (typeof value === 'object') {
    // Only what JSON.parse produces: a Date, Map or URL has no own entries and would collapse to {}.
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) throw new TypeError('canonical JSON takes plain objects and arrays only');
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      // RFC 8785 §3.2.3: sort by UTF-16 code units, which is JS's default string order.
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return '{' + entries.map(([k, v]) => JSON.stringify(k) + ':' + canonicalJson(v, depth + 1)).join(',') + '}';
  }
  throw new TypeError(`cannot canonicalize ${typeof value}`);
}

/** `sha256-<base64url>` of a string's UTF-8 bytes (or of canonical JSON for objects). */
export function sha256Digest(value: string | Uint8Array | object): string {
  const data = typeof value === 'string' || value instanceof Uint8Array ? value : canonicalJson(value);
  return 'sha256-' + createHash('sha256').update(data).digest('base64url');
}

/**
 * The first member name that appears twice in one object of a JSON text
 * (compared after unescaping, so "exp" and "\u0065xp" are the same name), or
 * undefined. Call it on text JSON.parse accepted. JSON.parse keeps the last
 * duplicate while other parsers keep the first, so a token carrying
 * {"exp":1,"exp":"x"} reads differently in each; RFC 7515 §5.2 and RFC 7519
 * §4 allow rejecting it, which is what JWT decoding does with this.
 */
export function findDuplicateKey(text: string): string | undefined {
  return scanJson(text)?.duplicate;
}

/**
 * How deep JSON nests in anything Charter reads (objects and arrays): far
 * beyond any credential, document or receipt, and far below what recursive
 * code (JSON Schema validation, canonical JSON, freezing a cached
 * credential) can walk without running out of stack. A text nested deeper
 * is refused where it is read, with the same answer on every path.
 */
export const MAX_JSON_DEPTH = 64;

/** What scanJson found wrong with a JSON text. */
export type JsonScanProblem =
  | { duplicate: string; tooDeep?: undefined; nonFinite?: undefined }
  | { tooDeep: true; duplicate?: undefined; nonFinite?: undefined }
  | { nonFinite: string; duplicate?: undefined; tooDeep?: undefined };

/**
 * One pass over a JSON text JSON.parse accepted: the first duplicate member
 * name (findDuplicateKey), or `tooDeep` once it nests beyond `maxDepth`, or
 * else the first number literal that is not finite as a double (`nonFinite`,
 * reported only after the whole text is scanned, so a deeper nest or a
 * duplicate further on is still the answer).
 */
export function scanJson(text: string, maxDepth: number = MAX_JSON_DEPTH): JsonScanProblem | undefined {
  const stack: (Set<string> | null)[] = [];
  let expectKey = false;
  let nonFinite: string | undefined;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if ((ch >= '0' && ch <= '9') || ch === '-') {
      // A number token (strings are skipped whole below, so this is outside any).
      const j = numberEnd(text, i);
      if (nonFinite === undefined && !finiteNumber(text, i, j)) nonFinite = text.slice(i, j);
      i = j - 1;
    } else if (ch === '"') {
      const j = stringEnd(text, i);
      const top = stack[stack.length - 1];
      if (top && expectKey) {
        const key = JSON.parse(text.slice(i, j + 1)) as string;
        if (top.has(key)) return { duplicate: key };
        top.add(key);
        expectKey = false;
      }
      i = j;
    } else if (ch === '{') {
      if (stack.length >= maxDepth) return { tooDeep: true };
      stack.push(new Set());
      expectKey = true;
    } else if (ch === '[') {
      if (stack.length >= maxDepth) return { tooDeep: true };
      stack.push(null);
    } else if (ch === '}' || ch === ']') {
      stack.pop();
    } else if (ch === ',') {
      expectKey = stack.length > 0 && stack[stack.length - 1] !== null;
    }
  }
  return nonFinite === undefined ? undefined : { nonFinite };
}

/** The index just past the number token that starts at `start`. */
function numberEnd(text: string, start: number): number {
  let j = start + 1;
  for (; j < text.length; j++) {
    const c = text.charCodeAt(j);
    // 0-9 . e E + -
    if (!((c >= 48 && c <= 57) || c === 46 || c === 101 || c === 69 || c === 43 || c === 45)) break;
  }
  return j;
}

/**
 * Whether the number literal text[start, end) is a finite double, as
 * JSON.parse reads it. Without an exponent, fewer than 309 characters hold
 * fewer than 309 integer digits, below Number.MAX_VALUE (~1.8e308): finite
 * with no parse. Otherwise Number() rounds as JSON.parse does.
 */
function finiteNumber(text: string, start: number, end: number): boolean {
  if (end - start < 309) {
    let exponent = false;
    for (let k = start; k < end; k++) {
      const c = text.charCodeAt(k);
      if (c === 101 || c === 69) {
        exponent = true;
        break;
      }
    }
    if (!exponent) return true;
  }
  return Number.isFinite(Number(text.slice(start, end)));
}

/**
 * The index of the quote closing the string that opens at `start`: found
 * with indexOf (long strings, such as JWTs carried inside a credential, are
 * skipped natively), a quote counting only after an even run of backslashes.
 */
function stringEnd(text: string, start: number): number {
  let from = start + 1;
  for (;;) {
    const q = text.indexOf('"', from);
    if (q < 0) return text.length;
    let b = q - 1;
    while (b > start && text.charCodeAt(b) === 92) b--;
    if ((q - 1 - b) % 2 === 0) return q;
    from = q + 1;
  }
}

/**
 * Why a text JSON.parse accepted is still refused, or undefined: a member
 * named twice in one object (JSON.parse keeps the last, other readers the
 * first, so one text says two things; RFC 8259 §4, RFC 7515 §5.2, RFC 7517
 * §4), nesting beyond MAX_JSON_DEPTH, or a number beyond the range of an
 * IEEE 754 double (1e400: JSON.parse reads Infinity, which no JSON text
 * can carry again and canonical JSON cannot encode; RFC 7493 §2.2, RFC 8259
 * §6). Worded to follow what the caller names: `${what} ${problem}`, so
 * every reader refuses alike.
 */
export function jsonTextProblem(text: string): string | undefined {
  const scan = scanJson(text);
  if (scan === undefined) return undefined;
  if (scan.tooDeep) return `nests JSON deeper than ${MAX_JSON_DEPTH} levels`;
  if (scan.nonFinite !== undefined) return `holds the number ${scan.nonFinite.slice(0, 40)}, beyond the range of a double (RFC 7493 §2.2)`;
  return `names "${scan.duplicate.slice(0, 40)}" twice`;
}

/** A plain JSON object (not null, not an array). */
export function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/**
 * Freezes a value and everything it holds, in place, and returns it: a cached
 * credential, chain or DID document that every caller shares cannot be changed
 * by one of them. Byte arrays are left as they are (a typed array with
 * elements cannot be frozen).
 */
export function deepFreeze<T>(v: T): T {
  if (typeof v === 'object' && v !== null && !ArrayBuffer.isView(v) && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v as Record<string, unknown>)) deepFreeze(x);
  }
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
