import { CharterError } from '../errors.js';

/**
 * Claim paths as Charter's API and CLI name them: dot-separated segments from
 * the top of the claims, a decimal segment naming an array element
 * (`nationalities.0`). The same keys @sd-jwt/core uses for presentable claims.
 */
const INDEX = /^(0|[1-9]\d{0,8})$/;
const isObj = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const own = (o: object, k: string) => Object.prototype.hasOwnProperty.call(o, k);

/** The own member `k` of a frame node, created as an own property (never reached through the prototype). */
function child(o: Record<string, unknown>, k: string): Record<string, unknown> {
  if (!own(o, k) || !isObj(o[k])) Object.defineProperty(o, k, { value: {}, enumerable: true, writable: true, configurable: true });
  return o[k] as Record<string, unknown>;
}

export function splitPath(path: string): string[] {
  if (typeof path !== 'string' || path.length === 0 || path.length > 512)
    throw new CharterError('INVALID_ARGUMENT', 'a claim path is a non-empty dotted name such as address.street');
  const segs = path.split('.');
  if (segs.some((s) => s.length === 0)) throw new CharterError('INVALID_ARGUMENT', `claim path "${path.slice(0, 80)}" has an empty segment`);
  if (segs.includes('__proto__')) throw new CharterError('INVALID_ARGUMENT', 'a claim path must not name "__proto__"');
  return segs;
}

/** Every claim path in a JSON value (objects by name, arrays by index), as listKeys in @sd-jwt/core. */
export function claimPaths(value: unknown, prefix = ''): string[] {
  const out: string[] = [];
  const entries: [string, unknown][] = Array.isArray(value) ? value.map((v, i) => [String(i), v]) : isObj(value) ? Object.entries(value) : [];
  for (const [k, v] of entries) {
    const p = prefix ? `${prefix}.${k}` : k;
    out.push(p, ...claimPaths(v, p));
  }
  return out;
}

type Frame = { _sd?: (string | number)[]; [k: string]: unknown };

/**
 * The @sd-jwt/core disclosure frame for `paths` over `claims`: `{ _sd: [names] }`
 * per object level, `_sd: [indices]` for array elements, nested by path. A
 * path that names no claim is refused, so a typo never issues a claim in clear.
 */
export function disclosureFrame(claims: Record<string, unknown>, paths: readonly string[]): Frame {
  const frame: Frame = {};
  for (const path of paths) {
    const segs = splitPath(path);
    let node: unknown = claims;
    let f = frame;
    segs.forEach((seg, i) => {
      let key: string | number;
      if (Array.isArray(node)) {
        if (!INDEX.test(seg) || Number(seg) >= node.length) throw new CharterError('INVALID_ARGUMENT', `claim path "${path.slice(0, 80)}" names no element of an array`);
        key = Number(seg);
        node = node[key];
      } else if (isObj(node) && own(node, seg)) {
        key = seg;
        node = node[seg];
      } else {
        throw new CharterError('INVALID_ARGUMENT', `claim path "${path.slice(0, 80)}" names no claim`);
      }
      if (i === segs.length - 1) {
        const sd = (f._sd ??= []);
        if (!sd.includes(key)) sd.push(key);
      } else {
        f = child(f, String(key)) as Frame;
      }
    });
  }
  return frame;
}

/**
 * The presentation frame revealing each requested path and everything below
 * it: the presentable keys (from @sd-jwt/core) equal to or under a requested
 * path, plus their presentable ancestors (a nested disclosure is reachable
 * only through its parent's). A path that names no claim at all is refused.
 */
export function presentationFrame(requested: readonly string[], presentable: readonly string[], allPaths: readonly string[]): Record<string, unknown> {
  const all = new Set(allPaths);
  const keys = new Set<string>();
  for (const path of requested) {
    splitPath(path);
    if (!all.has(path)) throw new CharterError('INVALID_ARGUMENT', `the credential has no claim "${path.slice(0, 80)}" to disclose`);
    for (const k of presentable) if (k === path || k.startsWith(path + '.')) keys.add(k);
  }
  const presentableSet = new Set(presentable);
  for (const k of [...keys]) {
    const segs = k.split('.');
    for (let i = 1; i < segs.length; i++) {
      const prefix = segs.slice(0, i).join('.');
      if (presentableSet.has(prefix)) keys.add(prefix);
    }
  }
  const frame: Record<string, unknown> = {};
  for (const k of [...keys].sort()) {
    let f = frame;
    const segs = k.split('.');
    segs.forEach((seg, i) => {
      if (i === segs.length - 1) {
        if (!own(f, seg)) Object.defineProperty(f, seg, { value: true, enumerable: true, writable: true, configurable: true });
      } else {
        f = child(f, seg);
      }
    });
  }
  return frame;
}
