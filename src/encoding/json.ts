import { createHash } from 'node:crypto';

/** RFC 8785 (JCS) canonical JSON for the values JSON.parse produces. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new TypeError('non-finite number in canonical JSON');
    return JSON.stringify(value);
  }
  if (typeof value === 'string') return JSON.stringify(value);
  if (Array.isArray(value)) return '[' + value.map(canonicalJson).join(',') + ']';
  if (typeof value === 'object') {
    // Only what JSON.parse produces: a Date, Map or URL has no own entries and would collapse to {}.
    const proto = Object.getPrototypeOf(value) as unknown;
    if (proto !== Object.prototype && proto !== null) throw new TypeError('canonical JSON takes plain objects and arrays only');
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      // RFC 8785 §3.2.3: sort by UTF-16 code units, which is JS's default string order.
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return '{' + entries.map(([k, v]) => JSON.stringify(k) + ':' + canonicalJson(v)).join(',') + '}';
  }
  throw new TypeError(`cannot canonicalize ${typeof value}`);
}

/** `sha256-<base64url>` of a string's UTF-8 bytes (or of canonical JSON for objects). */
export function sha256Digest(value: string | Uint8Array | object): string {
  const data = typeof value === 'string' || value instanceof Uint8Array ? value : canonicalJson(value);
  return 'sha256-' + createHash('sha256').update(data).digest('base64url');
}

/** A plain JSON object (not null, not an array). */
export function isObj(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}
