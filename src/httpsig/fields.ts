import { parseDictionary, type Dictionary } from 'structured-headers';

/**
 * Where header fields come from: a web `Headers`, a plain record (node:http's
 * `IncomingMessage.headers`, any case of names), or a getter. A getter or a
 * record may give several field lines as an array; `Headers` has already
 * combined them with ", " (RFC 9110 §5.3).
 */
export type HeaderSource = Headers | Record<string, string | readonly string[] | number | undefined> | ((name: string) => string | readonly string[] | null | undefined);

/** Field lines by lower-case name; undefined when the field is absent. */
export type FieldGetter = (name: string) => string[] | undefined;

function isHeaders(h: unknown): h is Headers {
  return typeof h === 'object' && h !== null && typeof (h as Headers).get === 'function' && typeof (h as Headers).has === 'function';
}

export function fieldGetter(source: HeaderSource): FieldGetter {
  if (typeof source === 'function') {
    return (name) => {
      const v = source(name);
      if (v === null || v === undefined) return undefined;
      return fieldLines(v, name);
    };
  }
  if (isHeaders(source)) {
    return (name) => {
      const v = source.get(name);
      return v === null ? undefined : [v];
    };
  }
  if (typeof source !== 'object' || source === null) throw new TypeError('headers must be a Headers, a record or a getter');
  const lower = new Map<string, string[]>();
  for (const [k, v] of Object.entries(source)) {
    if (v === undefined) continue;
    const lines = fieldLines(v, k);
    const key = k.toLowerCase();
    lower.set(key, [...(lower.get(key) ?? []), ...lines]);
  }
  return (name) => lower.get(name);
}

/**
 * A field's lines as a header source gave them: a string, or a list of strings (Node's `set-cookie`),
 * or a number (Node's `content-length` once parsed). Anything else is the caller's mistake, named:
 * String() of an object reads its own toString, which may throw or recurse without end.
 */
function fieldLines(v: unknown, name: string): string[] {
  if (typeof v === 'string') return [v];
  if (typeof v === 'number') return [String(v)];
  if (Array.isArray(v) && v.every((line) => typeof line === 'string')) return [...(v as string[])];
  throw new TypeError(`the header ${JSON.stringify(name.slice(0, 64))} must be a string or a list of strings`);
}

/**
 * RFC 9110 §5.5 optional whitespace (SP and HTAB) at either end of a field
 * line; not String.prototype.trim, which also strips U+00A0 (an obs-text byte
 * Node passes through), VT, FF and other Unicode spaces the handler still sees.
 */
export function stripOws(line: string): string {
  // A scan, not /[ \t]+$/: unanchored at its start, that regex retries from every space of a run
  // followed by other text, quadratic in a header an unauthenticated client chooses (a 64 KB
  // Signature-Input held the event loop for seconds).
  let start = 0;
  let end = line.length;
  while (start < end && isOws(line.charCodeAt(start))) start++;
  while (end > start && isOws(line.charCodeAt(end - 1))) end--;
  return start === 0 && end === line.length ? line : line.slice(start, end);
}

const isOws = (c: number) => c === 0x20 || c === 0x09;

/**
 * RFC 9421 §2.1: strip each line (of SP and HTAB), replace obsolete line
 * folding by one space, join the lines with ", ".
 */
export function combinedFieldValue(lines: readonly string[]): string {
  return lines.map((l) => stripOws(l).replace(/\r?\n[ \t]+/g, ' ')).join(', ');
}

export class FieldError extends Error {}

/**
 * Parses a Dictionary field (RFC 9651 §4.2.2) and refuses a key that occurs
 * twice. RFC 9651 lets the last member win, but RFC 9421 §4.1 and §4.2
 * require labels unique across all field lines, and a repeated
 * Signature-Agent key is an ambiguity no signer needs.
 */
export function parseUniqueDictionary(value: string, what: string): Dictionary {
  let dict: Dictionary;
  try {
    dict = parseDictionary(value);
  } catch {
    throw new FieldError(`${what} is not a valid structured-field Dictionary`);
  }
  if (topLevelMemberCount(value) !== dict.size) throw new FieldError(`${what} names the same member twice`);
  return dict;
}

/**
 * Counts the top-level members of a value that already parsed as a
 * Dictionary: commas outside sf-strings (the only place RFC 9651 allows a
 * comma or a quote inside a member) separate members.
 */
function topLevelMemberCount(value: string): number {
  if (value.trim() === '') return 0;
  let n = 1;
  let inString = false;
  for (let i = 0; i < value.length; i++) {
    const c = value[i];
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
    } else if (c === '"') inString = true;
    else if (c === ',') n++;
  }
  return n;
}
