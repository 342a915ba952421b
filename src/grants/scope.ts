import { CharterError } from '../errors.js';

/**
 * Grant scope on normalised resource paths. A requested resource (usually
 * built from a route's parameters) and every resource a grant names are
 * normalised the same way before they are compared: empty and "." segments
 * dropped (repeated, leading and trailing slashes collapse), and refused
 * outright (RESOURCE_INVALID) when a ".." segment, a backslash, a control
 * character or a "%" is in it, or it is not in Unicode NFC: such a path means different things to
 * different servers, so it never matches anything.
 *
 * A resource is a decoded path: Express, Fastify and Hono hand a route its
 * parameters decoded once already, so a "%" in one is a literal "%" of the
 * name the handler serves. Decoding it again (as 0.1 did) let
 * `/photos/%2561` reach the handler as object "%61" under a grant for
 * "photos/a", and `/photos/public%252Fx` as "public%2Fx" under
 * "photos/public/*". Since whether a "%" is encoding or data cannot be
 * told from the string, none is accepted: pass route parameters as they
 * come, and decode a raw path (`req.path`) yourself, once, before naming it.
 * A grant resource ending in "/*" covers every path strictly below its
 * prefix ("photos/*" covers "photos/2024/a.jpg", not "photos"); no other
 * wildcard exists.
 */
const MAX_RESOURCE = 2048;
// C0 and C1 controls, DEL, line separators, a backslash, and every default-ignorable or bidi-control code
// point (soft hyphen, joiners, isolates, variation selectors, tags...): invisible, so two resources that
// look alike would differ.
// eslint-disable-next-line no-control-regex -- control characters are what this refuses
const FORBIDDEN = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\\]|\p{Default_Ignorable_Code_Point}|\p{Bidi_Control}/u;

function invalid(why: string): CharterError {
  return new CharterError('RESOURCE_INVALID', `the resource path ${why}`);
}

/**
 * Paths already normalised, by their exact input: a guarded route asks for
 * the same few resources on every request, and normalisation (the NFKC look-alike
 * checks per segment, the refusals) is a pure function of
 * the string. Only successes are kept; bounded (oldest out first).
 */
const normalized = new Map<string, string>();
const NORMALIZED_MAX = 1024;

/** The canonical form of a resource path (no leading or trailing slash). Throws RESOURCE_INVALID. */
export function normalizeResource(resource: unknown): string {
  if (typeof resource !== 'string') throw invalid('must be a string');
  const hit = normalized.get(resource);
  if (hit !== undefined) return hit;
  const r = normalize(resource);
  if (normalized.size >= NORMALIZED_MAX) normalized.delete(normalized.keys().next().value as string);
  normalized.set(resource, r);
  return r;
}

function normalize(resource: string): string {
  if (resource.length === 0 || resource.length > MAX_RESOURCE) throw invalid(`must have 1 to ${MAX_RESOURCE} characters`);
  // A "%" is encoding to a raw path and data to a decoded route parameter: never guess which (see above).
  if (resource.includes('%')) throw invalid('holds a "%": name the decoded path (route parameters arrive decoded; decode a raw path once yourself)');
  // Not NFC-normalised but refused when not NFC: "cafe\u0301" and "caf\u00e9" look alike yet name two
  // objects wherever names are compared as code points (most file systems and stores).
  if (resource.normalize('NFC') !== resource) throw invalid('is not in Unicode NFC: name it as the store spells it, composed');
  if (FORBIDDEN.test(resource)) throw invalid('contains a backslash or a control character');
  const segments: string[] = [];
  for (const s of resource.split('/')) {
    if (s === '' || s === '.') continue;
    if (s === '..') throw invalid('contains a ".." segment');
    // Fullwidth or other compatibility forms of ".", "/" and "\\" (U+FF0E, U+FF0F, U+FF3C...) become dot
    // segments and separators on servers that NFKC paths: "..／secret" is "../secret" there.
    const k = s.normalize('NFKC');
    if (k === '.' || k === '..') throw invalid('contains a look-alike of a dot segment');
    if (k.includes('/') || k.includes('%') || FORBIDDEN.test(k)) throw invalid('contains a look-alike of a separator, a control character or a percent sign');
    segments.push(s);
  }
  if (segments.length === 0) throw invalid('names nothing');
  return segments.join('/');
}

/** A grant's resource: a normalised path, optionally ending in "/*". Throws RESOURCE_INVALID. */
export function normalizeGrantResource(resource: unknown): string {
  if (typeof resource === 'string' && resource.endsWith('/*')) return `${normalizeResource(resource.slice(0, -2))}/*`;
  const r = normalizeResource(resource);
  if (r.split('/').includes('*')) throw invalid('may use "*" only as its last segment ("photos/*")');
  return r;
}

/** Is `requested` (normalised) covered by one of `granted` (normalised grant resources)? */
export function resourceCovered(granted: readonly string[], requested: string): boolean {
  return granted.some((g) => g === requested || (g.endsWith('/*') && requested.startsWith(g.slice(0, -1)) && requested.length > g.length - 1));
}

export function actionCovered(granted: readonly string[], requested: string): boolean {
  return granted.includes(requested);
}
