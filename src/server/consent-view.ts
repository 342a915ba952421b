import type { GrantState, GrantSummary } from '../grants/index.js';
import type { IdentityRecord } from '../store/types.js';

/** A grant as the consent page shows it: the summary plus when it was given. */
export interface ConsentGrant extends GrantSummary {
  issued?: string;
}

/** How a DID reads on the page: a name where one is known, and the full DID for hover and copying. */
export interface PartyName {
  label: string;
  full: string;
  /** Where the label came from: this home's alias, a did:web host, or a shortened DID. */
  kind: 'alias' | 'web' | 'short';
}

/** Longest did:web path shown as it is; a longer one is a sentence, not a name, and is shortened. */
const MAX_WEB_PATH = 48;
/** A host as did:web names it (§3.1): DNS labels, and a port. */
const WEB_HOST = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,251}[A-Za-z0-9])?(?::\d{1,5})?$/;
/** A did:web path segment shown as it reads: letters, digits and `. _ ~ -`, no space, no symbol, no format character. */
const PLAIN_SEGMENT = /^[\p{L}\p{M}\p{N}._~-]{1,64}$/u;
/** Characters that must never reach the page as they are: controls, bidi overrides and isolates, invisible and format characters, separators. */
const INVISIBLE = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\s]|\p{Default_Ignorable_Code_Point}|\p{Bidi_Control}/u;

/** Percent-encodes what is not plain (as RFC 3986 §2.3 leaves unreserved), so a segment reads as a path, never as a sentence. */
const encodeSegment = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * A did:web path segment as the page shows it: decoded when it is a plain
 * name ("bob", "café"), percent-encoded otherwise. A DID's path is the word
 * of whoever chose it (any did:web can sign a receipt and report it), so
 * "Your grant was leaked! Call …" reads as `Your%20grant%20was%20leaked%21…`
 * and a right-to-left override never reorders what the person reads.
 */
function shownSegment(decoded: string): string {
  const s = decoded.normalize('NFC');
  return PLAIN_SEGMENT.test(s) && s !== '.' && s !== '..' && !INVISIBLE.test(s) ? s : encodeSegment(s);
}

/**
 * Text a grant carries (its purpose, resources, actions, terms), as the page shows it: controls, bidi
 * overrides and isolates, format characters and line separators show as U+FFFD (an RLO in a pool
 * member's purpose would reverse the expiry date printed after it), other white space as one space.
 * The joiners emoji and scripts need (ZWJ, ZWNJ) stay: they reorder and hide nothing.
 */
export const readable = (s: string): string =>
  s.replace(/(?![\u200C\u200D])[\p{Cc}\p{Cf}\p{Zl}\p{Zp}]|\p{Bidi_Control}/gu, (c) => (c === '\t' || c === '\n' || c === '\r' ? ' ' : '\uFFFD')).replace(/\s/gu, ' ');

/** "did:exam…" with nothing invisible or reordering in it: each such character shows as U+FFFD. */
const visible = (s: string) => s.replace(new RegExp(INVISIBLE.source, 'gu'), '\uFFFD');

/**
 * Names for DIDs: an identity of this home reads as its alias ("alice"); a
 * did:web as its host and path (did:web spec §3.2: `:` separates path parts,
 * `%3A` is a port), each path part decoded only when it is a plain name
 * (percent-encoded otherwise) and a long path shortened; any other DID as its
 * method and the ends of its id. No label carries a control, bidi or other
 * invisible character, whoever chose the DID.
 */
export function namer(identities: readonly Pick<IdentityRecord, 'alias' | 'did'>[]): (did: string) => PartyName {
  const aliases = new Map(identities.map((i) => [i.did, i.alias]));
  return (did) => {
    const alias = aliases.get(did);
    if (alias !== undefined) return { label: alias, full: did, kind: 'alias' };
    const web = /^did:web:([^:#?]+)((?::[^:#?]+)*)$/.exec(did);
    if (web) {
      try {
        const host = decodeURIComponent(web[1]!);
        const path = web[2]!.split(':').slice(1).map(decodeURIComponent).map(shownSegment).join('/');
        if (WEB_HOST.test(host)) {
          // Shortened by whole characters and whole escapes ("%20"), never half of one.
          const cp = path.match(/%[0-9A-F]{2}|[^]/gu) ?? [];
          const shortPath = cp.length > MAX_WEB_PATH ? `${cp.slice(0, 20).join('')}…${cp.slice(-12).join('')}` : path;
          return { label: path ? `${host}/${shortPath}` : host, full: did, kind: 'web' };
        }
      } catch {
        // A malformed percent-escape: fall through to the short form.
      }
    }
    const m = /^(did:[a-z0-9]+:)(.+)$/.exec(did);
    const label = m && [...m[2]!].length > 14 ? `${m[1]}${[...m[2]!].slice(0, 6).join('')}…${[...m[2]!].slice(-4).join('')}` : did;
    return { label: visible(label), full: did, kind: 'short' };
  };
}

/**
 * The person's locale from Accept-Language (RFC 9110 §12.5.4): the tag with
 * the highest q that this Node's Intl knows; English otherwise. Dates are
 * formatted here rather than in the browser so the page needs no script
 * (its CSP allows none), and the time zone is this process's: the page is
 * served by the person's own machine, on loopback unless they chose otherwise.
 */
export function pickLocale(acceptLanguage: string | undefined): string {
  const ranked = (acceptLanguage ?? '')
    .slice(0, 512)
    .split(',')
    .map((part, i) => {
      const [tag = '', ...params] = part.trim().split(';');
      const q = params.map((p) => /^\s*q=([01](?:\.\d{0,3})?)\s*$/.exec(p)?.[1]).find((v) => v !== undefined);
      return { tag: tag.trim(), q: q === undefined ? 1 : Number(q), i };
    })
    .filter((c) => c.tag !== '' && c.tag !== '*' && c.q > 0)
    .sort((a, b) => b.q - a.q || a.i - b.i);
  for (const { tag } of ranked) {
    try {
      const [supported] = Intl.DateTimeFormat.supportedLocalesOf([tag]);
      if (supported) return supported;
    } catch {
      // Not a well-formed language tag: try the next one.
    }
  }
  return 'en';
}

const DATE_TIME: Intl.DateTimeFormatOptions = { year: 'numeric', month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' };

/** "2 Dec 2026, 14:05 CET" in the person's locale; the ISO form goes in `<time datetime>`. */
export function dateFormatter(locale: string, timeZone?: string): (iso: string) => string {
  const f = new Intl.DateTimeFormat(locale, timeZone ? { ...DATE_TIME, timeZone } : DATE_TIME);
  return (iso) => {
    const t = Date.parse(iso);
    return Number.isNaN(t) ? iso : f.format(t);
  };
}

export const FILTERS = ['all', 'active', 'suspended', 'expired', 'revoked'] as const;
export type ConsentFilter = (typeof FILTERS)[number];

export function parseFilter(v: string | null): ConsentFilter {
  return (FILTERS as readonly string[]).includes(v ?? '') ? (v as ConsentFilter) : 'all';
}

const ORDER: Record<GrantState, number> = { active: 0, suspended: 1, expired: 2, revoked: 3 };

/** What needs the person's attention first: live grants, newest first; then the ones that ended. */
export function sortGrants<T extends ConsentGrant>(grants: readonly T[]): T[] {
  return [...grants].sort((a, b) => ORDER[a.state] - ORDER[b.state] || (b.issued ?? '').localeCompare(a.issued ?? '') || a.id.localeCompare(b.id));
}
