import {
  isInnerList,
  parseItem,
  parseList,
  serializeDictionary,
  serializeInnerList,
  serializeItem,
  serializeList,
  type BareItem,
  type InnerList,
  type Item,
  type Parameters,
} from 'structured-headers';
import { combinedFieldValue, FieldError, parseUniqueDictionary, stripOws, type FieldGetter } from './fields.js';

/** The message a signature base is built from (RFC 9421 §2: its "signature context"). */
export interface MessageContext {
  kind: 'request' | 'response';
  /** Requests: the method as sent (RFC 9421 §2.2.1: case kept). */
  method?: string;
  /** Requests: the absolute target URI. */
  url?: URL;
  /** Responses: the status code. */
  status?: number;
  field: FieldGetter;
  /** Responses: the request that caused it, for the `req` flag (RFC 9421 §2.4). */
  request?: MessageContext;
}

/** One covered component: its name and parameters, kept as parsed so it serialises back unchanged. */
export interface Component {
  name: string;
  params: Parameters;
}

/** Structured-field types Charter knows, for the `sf` flag (RFC 9421 §2.1.1). */
export type StructuredType = 'dictionary' | 'list' | 'item';

export const KNOWN_STRUCTURED_FIELDS: Readonly<Record<string, StructuredType>> = Object.freeze({
  'signature-agent': 'dictionary',
  'signature-input': 'dictionary',
  signature: 'dictionary',
  'accept-signature': 'dictionary',
  'content-digest': 'dictionary',
  'repr-digest': 'dictionary',
  'want-content-digest': 'dictionary',
  'want-repr-digest': 'dictionary',
  priority: 'dictionary',
  'cache-status': 'list',
  'proxy-status': 'list',
});

const DERIVED = new Set(['@method', '@target-uri', '@authority', '@scheme', '@request-target', '@path', '@query', '@query-param', '@status']);
/** RFC 9110 §5.1 field-name (token), lower case as RFC 9421 §2.1 requires of component names. */
const FIELD_NAME = /^[a-z0-9!#$%&'*+\-.^_`|~]+$/;

export class ComponentError extends Error {}

/** Serialises a component identifier as RFC 9421 §2.5 wants it: an sf-string with its parameters. */
export function componentId(c: Component): string {
  return serializeItem([c.name, c.params]);
}

/** Parses a textual identifier such as `"signature-agent";key="sig1"` or a bare `@authority`. */
export function parseComponentId(text: string): Component {
  const semi = text.indexOf(';');
  const src = text.startsWith('"') ? text : `"${semi < 0 ? text : text.slice(0, semi)}"${semi < 0 ? '' : text.slice(semi)}`;
  let item: Item;
  try {
    item = parseItem(src);
  } catch {
    throw new ComponentError(`not a component identifier: ${text.slice(0, 60)}`);
  }
  return checkComponent(item);
}

/** Checks one member of a covered-components Inner List (RFC 9421 §2, §2.5 step 2). */
export function checkComponent(item: Item): Component {
  const [name, params] = item;
  if (typeof name !== 'string') throw new ComponentError('a component identifier must be an sf-string');
  if (name === '@signature-params') throw new ComponentError('"@signature-params" must not be listed as a covered component (RFC 9421 §2.3)');
  if (name.startsWith('@')) {
    if (!DERIVED.has(name)) throw new ComponentError(`unknown derived component ${name.slice(0, 40)}`);
    for (const [k, v] of params) {
      if (k === 'req') flag(k, v);
      else if (k === 'name' && name === '@query-param') {
        if (typeof v !== 'string') throw new ComponentError('the name of @query-param must be an sf-string');
      } else throw new ComponentError(`parameter ${k} does not apply to ${name}`);
    }
    if (name === '@query-param' && !params.has('name')) throw new ComponentError('@query-param needs a name parameter (RFC 9421 §2.2.8)');
  } else {
    if (!FIELD_NAME.test(name)) throw new ComponentError('a field component name must be a lower-case field name');
    for (const [k, v] of params) {
      if (k === 'sf' || k === 'bs' || k === 'req' || k === 'tr') flag(k, v);
      else if (k === 'key') {
        if (typeof v !== 'string') throw new ComponentError('the key parameter must be an sf-string');
      } else throw new ComponentError(`unknown component parameter ${k.slice(0, 20)}`);
    }
    // RFC 9421 §2.1: bs needs the raw lines, sf and key the parsed structure.
    if (params.has('bs') && (params.has('sf') || params.has('key'))) throw new ComponentError('bs cannot be combined with sf or key');
  }
  return { name, params };
}

function flag(k: string, v: BareItem): void {
  if (v !== true) throw new ComponentError(`${k} is a flag and must be true`);
}

/** Two identifiers are the same component when name and parameters match, in any parameter order (RFC 9421 §2). */
export function sameComponent(a: Component, b: Component): boolean {
  if (a.name !== b.name || a.params.size !== b.params.size) return false;
  for (const [k, v] of a.params) {
    const w = b.params.get(k);
    // checkComponent allows only booleans and strings as component parameter values.
    if (w !== v) return false;
  }
  return true;
}

/** The canonical component value (RFC 9421 §2.1, §2.2); throws ComponentError when it cannot be derived. */
export function componentValue(c: Component, msg: MessageContext, structured: Readonly<Record<string, StructuredType>> = KNOWN_STRUCTURED_FIELDS): string {
  let ctx = msg;
  if (c.params.has('req')) {
    // RFC 9421 §2.4: req names the request of a response, and never appears in a request's own signature.
    if (msg.kind === 'request' || !msg.request) throw new ComponentError('req is only allowed on a response signature with its request at hand');
    ctx = msg.request;
  }
  const value = c.name.startsWith('@') ? derived(c, ctx) : fieldValue(c, ctx, structured);
  if (/[\r\n]/.test(value)) throw new ComponentError(`the value of ${c.name} contains a line break`);
  return value;
}

function derived(c: Component, m: MessageContext): string {
  if (c.name === '@status') {
    if (m.kind !== 'response' || m.status === undefined) throw new ComponentError('@status is only defined for responses');
    return String(m.status).padStart(3, '0');
  }
  if (m.kind !== 'request') throw new ComponentError(`${c.name} is only defined for requests`);
  if (c.name === '@method') {
    if (!m.method) throw new ComponentError('the request has no method');
    return m.method;
  }
  const u = m.url;
  if (!u) throw new ComponentError('the request has no target URI');
  switch (c.name) {
    case '@target-uri':
      return u.href.replace(/#.*$/, '');
    case '@authority':
      // RFC 9421 §2.2.3 and RFC 9110 §4.2.3: lower-case host, default port left out (WHATWG URL does both).
      return u.host.toLowerCase();
    case '@scheme':
      return u.protocol.slice(0, -1).toLowerCase();
    case '@request-target':
      return `${u.pathname || '/'}${u.search}`;
    case '@path':
      return u.pathname || '/';
    case '@query':
      // RFC 9421 §2.2.7: an absent (or empty) query is the lone "?".
      return u.search === '' ? '?' : u.search;
    case '@query-param':
      return queryParam(u, c.params.get('name') as string);
    default:
      throw new ComponentError(`unknown derived component ${c.name}`);
  }
}

/**
 * RFC 9421 §2.2.8: form-urlencoded parsing (WHATWG URL), then each name and
 * value re-encoded with the application/x-www-form-urlencoded percent-encode
 * set, spaces as %20 (the RFC's own examples: "with+plus" -> "with%20plus").
 */
export function formEncode(s: string): string {
  let out = '';
  for (const b of Buffer.from(s, 'utf8')) {
    const ch = String.fromCharCode(b);
    out += /[A-Za-z0-9*\-._]/.test(ch) ? ch : `%${b.toString(16).toUpperCase().padStart(2, '0')}`;
  }
  return out;
}

/** A query's parameters by encoded name, parsed once per URL (a signature may cover many of them). */
const parsedQueries = new WeakMap<URL, { search: string; byName: Map<string, string[]> }>();

function queryParams(u: URL): Map<string, string[]> {
  const hit = parsedQueries.get(u);
  if (hit !== undefined && hit.search === u.search) return hit.byName;
  const byName = new Map<string, string[]>();
  for (const [n, v] of new URLSearchParams(u.search)) {
    const k = formEncode(n);
    const list = byName.get(k);
    if (list === undefined) byName.set(k, [v]);
    else list.push(v);
  }
  parsedQueries.set(u, { search: u.search, byName });
  return byName;
}

function queryParam(u: URL, name: string): string {
  const values = queryParams(u).get(name) ?? [];
  if (values.length === 0) throw new ComponentError('a covered query parameter is absent');
  // RFC 9421 §2.2.8: a repeated parameter must not be covered by name.
  if (values.length > 1) throw new ComponentError('a covered query parameter occurs more than once');
  return formEncode(values[0]!);
}

/** A field's known structured type: an own entry only (a field named `constructor` or `__proto__` has none). */
function structuredType(structured: Readonly<Record<string, StructuredType>>, name: string): StructuredType | undefined {
  return Object.hasOwn(structured, name) ? structured[name] : undefined;
}

function fieldValue(c: Component, m: MessageContext, structured: Readonly<Record<string, StructuredType>>): string {
  if (c.params.has('tr')) throw new ComponentError('trailer fields are not available to this verifier');
  const lines = m.field(c.name);
  if (lines === undefined) throw new ComponentError(`the covered field ${c.name} is absent`);
  const key = c.params.get('key');
  if (typeof key === 'string') {
    // RFC 9421 §2.1.2: the member's value and parameters, strictly serialised, without its key.
    const type = structuredType(structured, c.name);
    if (type !== undefined && type !== 'dictionary') throw new ComponentError(`${c.name} is not a Dictionary field`);
    const dict = parseOrThrow(() => parseUniqueDictionary(combinedFieldValue(lines), c.name));
    const member = dict.get(key);
    if (member === undefined) throw new ComponentError(`${c.name} has no member named by the signature`);
    return isInnerList(member) ? serializeInnerList(member as InnerList) : serializeItem(member as Item);
  }
  if (c.params.has('sf')) {
    // RFC 9421 §2.1.1: only a field whose type the application knows can be re-serialised.
    const type = structuredType(structured, c.name);
    if (!type) throw new ComponentError(`the structured type of ${c.name} is not known`);
    const value = combinedFieldValue(lines);
    if (type === 'dictionary') return serializeDictionary(parseOrThrow(() => parseUniqueDictionary(value, c.name)));
    if (type === 'list') return serializeList(parseOrThrow(() => parseList(value)));
    return serializeItem(parseOrThrow(() => parseItem(value)));
  }
  if (c.params.has('bs')) {
    // RFC 9421 §2.1.3: each line wrapped as a Byte Sequence, then a strict List.
    return serializeList(lines.map((l) => [Buffer.from(stripOws(l).replace(/\r?\n[ \t]+/g, ' '), 'utf8'), new Map()] as Item));
  }
  return combinedFieldValue(lines);
}

function parseOrThrow<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw new ComponentError(e instanceof FieldError ? e.message : 'a covered structured field is malformed');
  }
}
