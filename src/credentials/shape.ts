import { VC_CONTEXT_V1, VC_CONTEXT_V2 } from './types.js';

/*
 * Property shapes that VCDM 2.0 fixes and that credentials and presentations
 * share: identifiers, @context, and the typed objects beside the subject.
 * Each check returns the problem as a sentence (undefined when the value is
 * well formed); the caller decides the error code.
 */

export const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** RFC 3986 §4.3 absolute-URI: a scheme, a colon and something after it; no whitespace or control characters. */
const ABSOLUTE_URL = /^[A-Za-z][A-Za-z0-9+.-]*:[^\s\p{Cc}]+$/u;

/** VCDM 2.0 §4.4 "Identifiers": an `id` is one URL, absolute (a DID, urn:uuid:…, https://…). */
export const isUrl = (v: unknown): v is string => typeof v === 'string' && ABSOLUTE_URL.test(v) && URL.canParse(v);

/**
 * VCDM 2.0 §4.3 "Contexts": an ordered set whose first item is the base
 * context of the document's version; every item a URL or a context object.
 * A URL listed twice, or the base context of the other version (VCDM 2.0
 * §4.3 and Appendix "Differences from 1.1": the v1 and v2 contexts define
 * the same terms differently), makes two readers expand one document two ways.
 */
export function contextProblem(ctx: unknown, base: typeof VC_CONTEXT_V1 | typeof VC_CONTEXT_V2): string | undefined {
  if (!Array.isArray(ctx) || ctx[0] !== base) return `@context must be an array whose first item is ${base}`;
  const seen = new Set<string>();
  for (const item of ctx) {
    if (isObj(item)) continue;
    if (!isUrl(item)) return '@context entries must be absolute URLs or context objects';
    if (seen.has(item)) return '@context lists the same URL twice';
    seen.add(item);
  }
  const other = base === VC_CONTEXT_V2 ? VC_CONTEXT_V1 : VC_CONTEXT_V2;
  if (seen.has(other)) return `@context must not mix ${base} with ${other}`;
  return undefined;
}

/** One object or a non-empty array of them (VCDM 2.0 "one or more objects"). */
const objects = (v: unknown): Record<string, unknown>[] | undefined => {
  const list = Array.isArray(v) ? v : [v];
  return list.length > 0 && list.every(isObj) ? list : undefined;
};

/** A `type`: one non-empty string or a non-empty array of them. */
export const isTypeValue = (t: unknown): boolean =>
  (typeof t === 'string' && t.length > 0) || (Array.isArray(t) && t.length > 0 && t.every((x) => typeof x === 'string' && x.length > 0));

/** JSON-LD 1.1 §4.2.4 value object as VCDM 2.0 §11.1 uses it for text: @value, and optionally @language and @direction. */
function isLanguageValue(v: unknown): boolean {
  if (!isObj(v) || typeof v['@value'] !== 'string') return false;
  if (v['@language'] !== undefined && typeof v['@language'] !== 'string') return false;
  if (v['@direction'] !== undefined && v['@direction'] !== 'ltr' && v['@direction'] !== 'rtl') return false;
  return Object.keys(v).every((k) => k === '@value' || k === '@language' || k === '@direction');
}

/** VCDM 2.0 §4.6 "Names and Descriptions": a string, a language value object, or several of those objects. */
function textProblem(obj: Record<string, unknown>, where: string): string | undefined {
  for (const k of ['name', 'description']) {
    const v = obj[k];
    if (v === undefined || typeof v === 'string' || isLanguageValue(v)) continue;
    if (Array.isArray(v) && v.length > 0 && v.every(isLanguageValue)) continue;
    return `${where}${k} must be a string or language value objects ({ "@value": "…", "@language": "en" })`;
  }
  return undefined;
}

/**
 * The properties beside the subject whose shape VCDM fixes:
 * - evidence, termsOfUse, refreshService (VCDM 2.0 §5.4-5.6; VCDM 1.1 §5.4,
 *   §5.6, §5.7 alike): one object or several, each with a `type`;
 * - relatedResource (VCDM 2.0 §5.3): objects with a unique URL `id` and a
 *   digestSRI or digestMultibase;
 * - name and description, of the credential and of an issuer object (§4.6).
 * The last two are VCDM 2.0 terms: in a 1.1 credential they are extensions.
 */
export function extensionProblem(c: Record<string, unknown>, v2: boolean): string | undefined {
  for (const k of ['evidence', 'termsOfUse', 'refreshService']) {
    if (c[k] === undefined) continue;
    const list = objects(c[k]);
    if (!list || !list.every((o) => isTypeValue(o.type))) return `${k} must be an object or a non-empty array of objects, each with a type`;
    if (list.some((o) => o.id !== undefined && !isUrl(o.id))) return `the id of each ${k} entry must be an absolute URL`;
  }
  if (!v2) return undefined;
  if (c.relatedResource !== undefined) {
    const list = objects(c.relatedResource);
    const digest = (o: Record<string, unknown>) =>
      (typeof o.digestSRI === 'string' && o.digestSRI.length > 0) || (typeof o.digestMultibase === 'string' && o.digestMultibase.length > 0);
    if (!list || !list.every((o) => isUrl(o.id) && digest(o))) return 'relatedResource entries need an absolute URL id and a digestSRI or digestMultibase';
    if (new Set(list.map((o) => o.id)).size !== list.length) return 'relatedResource lists the same id twice';
  }
  return textProblem(c, '') ?? (isObj(c.issuer) ? textProblem(c.issuer, 'issuer.') : undefined);
}
