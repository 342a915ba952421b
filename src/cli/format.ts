/** Plain-text tables and trees for people; JSON is the machine format. */
import { escapeUnprintable, escapeUnprintableText } from '../encoding/printable.js';

/** A whole document the CLI wrote: newlines and tabs kept, every unprintable character (encoding/printable.ts) escaped. */
export function escapeText(text: string): string {
  return escapeUnprintableText(text);
}

/**
 * A value the CLI did not write (a credential's type, a DID, a bundle's key, a reason's message, an id)
 * as it is printed: on one line, with every unprintable character (encoding/printable.ts) a visible `\uXXXX` escape, so it
 * can neither forge a line of output (`\n✓ valid credential`) nor hide or reorder what is read. With
 * `max`, at most that many characters, then `…`. Never throws (an object whose toString throws shows
 * as `[object]`).
 */
export function oneLine(v: unknown, max?: number): string {
  let s: string;
  if (typeof v === 'string') s = v;
  else {
    try {
      s = String(v);
    } catch {
      s = Array.isArray(v) ? '[array]' : `[${typeof v}]`;
    }
  }
  const out = escapeUnprintable(s);
  return max !== undefined && out.length > max ? `${out.slice(0, max)}…` : out;
}

/**
 * A result as human renderers get it: every string in it, and every member name, {@link oneLine}, so
 * whatever a renderer interpolates is one line of visible text. Arrays and plain objects are copied;
 * anything else is kept. (JSON output is printed from the result itself, with the exact values.)
 */
export function forDisplay<T>(v: T): T {
  if (typeof v === 'string') return oneLine(v) as T;
  if (Array.isArray(v)) return v.map(forDisplay) as T;
  if (v === null || typeof v !== 'object') return v;
  const proto = Object.getPrototypeOf(v) as unknown;
  if (proto !== Object.prototype && proto !== null) return v;
  const out: Record<string, unknown> = {};
  // Defined, not assigned: a member named "__proto__" stays a member.
  for (const [k, x] of Object.entries(v)) Object.defineProperty(out, oneLine(k), { value: forDisplay(x), enumerable: true, writable: true, configurable: true });
  return out as T;
}

export function table(headers: string[], rows: string[][]): string {
  if (rows.length === 0) return '(none)';
  // Each cell one line: a cell holding a newline would print a row of its own (a forged "allow" in the audit list).
  const cells = rows.map((r) => r.map((c) => oneLine(c ?? '')));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => (r[i] ?? '').length)));
  const line = (cs: string[]) =>
    cs
      .map((c, i) => (c ?? '').padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

export interface TreeNode {
  label: string;
  children?: TreeNode[];
}

/** Each label is one line ({@link oneLine}): a label holding a newline would draw branches of its own. */
export function tree(root: TreeNode): string {
  const out: string[] = [oneLine(root.label)];
  const walk = (nodes: TreeNode[], prefix: string) => {
    nodes.forEach((n, i) => {
      const last = i === nodes.length - 1;
      out.push(prefix + (last ? '└─ ' : '├─ ') + oneLine(n.label));
      if (n.children) walk(n.children, prefix + (last ? '   ' : '│  '));
    });
  };
  walk(root.children ?? [], '');
  return out.join('\n');
}

/** Shorten a DID for tables: did:key:z6Mkabc…xyz. */
export function shortDid(did: string | undefined, keep = 12): string {
  if (!did) return '';
  const i = did.lastIndexOf(':');
  const id = did.slice(i + 1);
  return id.length <= keep * 2 + 1 ? did : `${did.slice(0, i + 1)}${id.slice(0, keep)}…${id.slice(-4)}`;
}

export function mark(ok: boolean): string {
  return ok ? '✓' : '✗';
}
