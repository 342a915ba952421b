import { CharterError } from '../errors.js';
import type { Disclosure } from './disclosures.js';

/**
 * Claim paths as Charter's API and CLI name them (`disclosable` at issue,
 * `disclose` at presentation). A path is resolved against the claims
 * themselves into a list of segments (claim names, or decimal indices of
 * array elements), and claims are then chosen by those segments, never by a
 * joined string: a claim named `a.b` and the member `b` of a claim `a` are
 * two claims.
 *
 * - A path starting with `/` is a JSON Pointer (RFC 6901): segments separated
 *   by `/`, with `~1` for `/` and `~0` for `~` inside a name. It names exactly
 *   one claim: `/org.iso.18013.5.1`, `/address/street`, `/nationalities/0`.
 * - Any other path is dotted (`address.street`, `nationalities.0`). A name may
 *   itself contain dots, so the path is read every way its dot-separated parts
 *   can be grouped into names; exactly one reading must name a claim. A path
 *   with two readings (`a.b` when the claims hold both `{"a": {"b": …}}` and
 *   `{"a.b": …}`) is refused as ambiguous (INVALID_ARGUMENT): name it as a
 *   JSON Pointer.
 *
 * An array element is named by its position in the array as issued (a decoy
 * or another withheld element keeps its place), as a verifier reports it.
 */
const INDEX = /^(0|[1-9]\d{0,8})$/;
const MAX_PATH = 512;
/** As deep as a verifier rebuilds claims (disclosures.ts, MAX_DEPTH 32), with room to spare. */
const MAX_DEPTH = 64;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const own = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);
const shown = (path: string) => path.slice(0, 80);

/** One claim of a credential: its members (names, or decimal indices for an array) and the disclosure that carries it, if any. */
export interface ClaimNode {
  segs: readonly string[];
  kind: 'object' | 'array' | 'value';
  children: Map<string, ClaimNode>;
  parent?: ClaimNode;
  /** The encoded disclosure whose value this claim is (RFC 9901 §4.2); absent for a claim in clear. */
  disclosure?: string;
}

function node(value: unknown, segs: readonly string[], parent?: ClaimNode, disclosure?: string): ClaimNode {
  const kind = Array.isArray(value) ? 'array' : isObj(value) ? 'object' : 'value';
  return { segs, kind, children: new Map(), ...(parent ? { parent } : {}), ...(disclosure !== undefined ? { disclosure } : {}) };
}

/** The claim tree of plain JSON claims (the issuer's view, before any packing). */
export function plainClaimTree(claims: Record<string, unknown>): ClaimNode {
  const build = (value: unknown, segs: readonly string[], parent: ClaimNode | undefined, depth: number): ClaimNode => {
    const n = node(value, segs, parent);
    // Deeper than any verifier rebuilds: not addressable by a path (one naming it "names no claim").
    if (depth >= MAX_DEPTH) return n;
    const entries: [string, unknown][] = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : isObj(value) ? Object.entries(value) : [];
    for (const [k, v] of entries) n.children.set(k, build(v, [...segs, k], n, depth + 1));
    return n;
  };
  return build(claims, [], undefined, 0);
}

const isDigestElement = (el: unknown): el is { '...': string } => isObj(el) && Object.keys(el).length === 1 && typeof el['...'] === 'string';

/**
 * The claim tree of an issued SD-JWT as its holder sees it: the issuer-signed
 * payload with every disclosure put in the place its digest holds (RFC 9901
 * §7.1), each claim remembering the disclosure that carries it. Digests with
 * no disclosure (decoys) are skipped; a digest used twice is refused, as a
 * verifier refuses it.
 */
export function disclosedClaimTree(payload: Record<string, unknown>, disclosures: readonly Disclosure[]): ClaimNode {
  const byDigest = new Map<string, Disclosure>();
  for (const d of disclosures) if (!byDigest.has(d.digest)) byDigest.set(d.digest, d);
  const seen = new Set<string>();
  const take = (digest: unknown): Disclosure | undefined => {
    if (typeof digest !== 'string') return undefined;
    if (seen.has(digest)) throw new CharterError('DISCLOSURE_INVALID', 'a digest appears more than once');
    seen.add(digest);
    return byDigest.get(digest);
  };
  const build = (value: unknown, segs: readonly string[], parent: ClaimNode | undefined, depth: number, disclosure?: string): ClaimNode => {
    if (depth > MAX_DEPTH) throw new CharterError('DISCLOSURE_INVALID', `claims nest more than ${MAX_DEPTH} levels deep`);
    const n = node(value, segs, parent, disclosure);
    if (Array.isArray(value)) {
      value.forEach((el, i) => {
        const k = String(i);
        if (!isDigestElement(el)) n.children.set(k, build(el, [...segs, k], n, depth + 1));
        else {
          const d = take(el['...']);
          if (d !== undefined && d.name === undefined) n.children.set(k, build(d.value, [...segs, k], n, depth + 1, d.encoded));
        }
      });
    } else if (isObj(value)) {
      for (const [k, v] of Object.entries(value)) {
        if (k === '_sd' || (depth === 0 && k === '_sd_alg')) continue;
        n.children.set(k, build(v, [...segs, k], n, depth + 1));
      }
      if (Array.isArray(value._sd)) {
        for (const digest of value._sd) {
          const d = take(digest);
          // A disclosed name that collides with a claim at its level is refused by any verifier: never chosen.
          if (d?.name !== undefined && !n.children.has(d.name)) n.children.set(d.name, build(d.value, [...segs, d.name], n, depth + 1, d.encoded));
        }
      }
    }
    return n;
  };
  return build(payload, [], undefined, 0);
}

/** RFC 6901 §3/§4: `/`-separated, `~1` is `/`, `~0` is `~`; any other `~` is an error. */
function pointerSegments(path: string): string[] {
  return path
    .slice(1)
    .split('/')
    .map((s) => {
      if (/~(?![01])/.test(s)) throw new CharterError('INVALID_ARGUMENT', `claim path "${shown(path)}" is not a JSON Pointer: "~" must be followed by 0 or 1`);
      return s.replace(/~1/g, '/').replace(/~0/g, '~');
    });
}

/** A claim's segments as a JSON Pointer (RFC 6901), the one spelling that names it whatever its names contain. */
export function toPointer(segs: readonly string[]): string {
  return segs.map((s) => '/' + s.replace(/~/g, '~0').replace(/\//g, '~1')).join('');
}

function checkPath(path: unknown): asserts path is string {
  if (typeof path !== 'string' || path.length === 0 || path.length > MAX_PATH)
    throw new CharterError('INVALID_ARGUMENT', 'a claim path is a non-empty dotted name such as address.street, or a JSON Pointer such as /address/street');
}

/** Up to two readings of a dotted path over the tree: each a claim its dot-separated parts, grouped into names, reach. */
function dottedReadings(root: ClaimNode, parts: readonly string[]): ClaimNode[] {
  // How many readings (0, 1, or 2 meaning "more than one") from `n` at part `i`: memoised, so
  // a path of many dots over claims named with many dots stays polynomial.
  const memo = new Map<ClaimNode, Map<number, number>>();
  const count = (n: ClaimNode, i: number): number => {
    if (i === parts.length) return 1;
    let m = memo.get(n);
    if (m === undefined) memo.set(n, (m = new Map()));
    const known = m.get(i);
    if (known !== undefined) return known;
    let c = 0;
    for (let j = i + 1; j <= parts.length && c < 2; j++) {
      const child = n.children.get(parts.slice(i, j).join('.'));
      if (child !== undefined) c += count(child, j);
    }
    m.set(i, Math.min(c, 2));
    return Math.min(c, 2);
  };
  const out: ClaimNode[] = [];
  const collect = (n: ClaimNode, i: number): void => {
    if (out.length >= 2) return;
    if (i === parts.length) {
      out.push(n);
      return;
    }
    for (let j = i + 1; j <= parts.length && out.length < 2; j++) {
      const child = n.children.get(parts.slice(i, j).join('.'));
      if (child !== undefined && count(child, j) > 0) collect(child, j);
    }
  };
  if (count(root, 0) > 0) collect(root, 0);
  return out;
}

/**
 * The one claim `path` names in the tree, or INVALID_ARGUMENT: a path that
 * names no claim (`missing` says so in the caller's words), or a dotted path
 * that names two.
 */
export function resolveClaimPath(root: ClaimNode, path: string, missing: (path: string) => string): ClaimNode {
  checkPath(path);
  let segs: string[] | undefined;
  if (path.startsWith('/')) segs = pointerSegments(path);
  else {
    const parts = path.split('.');
    if (parts.some((s) => s.length === 0))
      throw new CharterError('INVALID_ARGUMENT', `claim path "${shown(path)}" has an empty segment (name such a claim with a JSON Pointer, e.g. "/a./b")`);
    if (parts.includes('__proto__')) throw new CharterError('INVALID_ARGUMENT', 'a claim path must not name "__proto__"');
    const found = dottedReadings(root, parts);
    if (found.length === 0) throw new CharterError('INVALID_ARGUMENT', missing(path));
    if (found.length > 1)
      throw new CharterError(
        'INVALID_ARGUMENT',
        `claim path "${shown(path)}" is ambiguous: it names both ${toPointer(found[0]!.segs).slice(0, 80)} and ${toPointer(found[1]!.segs).slice(0, 80)}; name the claim with a JSON Pointer`,
      );
    return found[0]!;
  }
  if (segs.includes('__proto__')) throw new CharterError('INVALID_ARGUMENT', 'a claim path must not name "__proto__"');
  let n = root;
  for (const s of segs) {
    const next = n.kind === 'array' && !INDEX.test(s) ? undefined : n.children.get(s);
    if (next === undefined) throw new CharterError('INVALID_ARGUMENT', missing(path));
    n = next;
  }
  return n;
}

/** How Charter spells a claim's path: dotted when that reads back as this claim alone, else its JSON Pointer. */
export function pathName(root: ClaimNode, segs: readonly string[]): string {
  const dotted = segs.join('.');
  const parts = dotted.split('.');
  if (segs.length > 0 && !dotted.startsWith('/') && parts.every((s) => s.length > 0 && s !== '__proto__')) {
    const found = dottedReadings(root, parts);
    if (found.length === 1 && found[0]!.segs.length === segs.length && found[0]!.segs.every((s, i) => s === segs[i])) return dotted;
  }
  return toPointer(segs);
}

/** Every claim of the tree, depth first in claim order (the root excluded). */
export function claimNodes(root: ClaimNode): ClaimNode[] {
  const out: ClaimNode[] = [];
  const walk = (n: ClaimNode) => {
    for (const c of n.children.values()) {
      out.push(c);
      walk(c);
    }
  };
  walk(root);
  return out;
}

/** The own member `k` of a frame node, created as an own property (never reached through the prototype). */
function child(o: Record<string, unknown>, k: string): Record<string, unknown> {
  if (!own(o, k) || !isObj(o[k])) Object.defineProperty(o, k, { value: {}, enumerable: true, writable: true, configurable: true });
  return o[k] as Record<string, unknown>;
}

type Frame = { _sd?: (string | number)[]; [k: string]: unknown };

/**
 * The @sd-jwt/core disclosure frame for `paths` over `claims`: `{ _sd: [names] }`
 * per object level, `_sd: [indices]` for array elements, nested by segment
 * (so a top-level claim named `a.b` and `b` under `a` get frames of their
 * own). A path that names no claim, or a dotted path naming two, is refused,
 * so a typo never issues a claim in clear. Returns the frame and the
 * segments of the claims it makes disclosable, in claim order.
 */
export function disclosureFrame(claims: Record<string, unknown>, paths: readonly string[]): { frame: Frame; chosen: (readonly string[])[] } {
  const root = plainClaimTree(claims);
  const chosen = new Set<ClaimNode>();
  for (const path of paths) chosen.add(resolveClaimPath(root, path, (p) => `claim path "${shown(p)}" names no claim`));
  const frame: Frame = {};
  for (const n of chosen) {
    let f = frame;
    let at: unknown = claims;
    n.segs.forEach((seg, i) => {
      const key: string | number = Array.isArray(at) ? Number(seg) : seg;
      at = (at as Record<string | number, unknown>)[key];
      if (i === n.segs.length - 1) {
        const sd = (f._sd ??= []);
        if (!sd.includes(key)) sd.push(key);
      } else {
        f = child(f, seg) as Frame;
      }
    });
  }
  return {
    frame,
    chosen: claimNodes(root)
      .filter((n) => chosen.has(n))
      .map((n) => n.segs),
  };
}

/**
 * The disclosures a presentation of `requested` carries (RFC 9901 §5): for
 * each requested claim, its own disclosure and every disclosure under it,
 * and the disclosures of its ancestors (a nested disclosure is reachable only
 * through its parent's, §7.1). Nothing else: a claim the holder did not name,
 * nor reach through a named one, stays withheld. A path that names no claim
 * at all, or a dotted path naming two, is refused.
 */
export function chooseDisclosures(root: ClaimNode, requested: readonly string[]): Set<string> {
  const out = new Set<string>();
  const below = (n: ClaimNode) => {
    if (n.disclosure !== undefined) out.add(n.disclosure);
    for (const c of n.children.values()) below(c);
  };
  for (const path of requested) {
    const n = resolveClaimPath(root, path, (p) => `the credential has no claim "${shown(p)}" to disclose`);
    below(n);
    for (let a = n.parent; a !== undefined; a = a.parent) if (a.disclosure !== undefined) out.add(a.disclosure);
  }
  return out;
}
