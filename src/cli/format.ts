/** Plain-text tables and trees for people; JSON is the machine format. */
export function table(headers: string[], rows: string[][]): string {
  if (rows.length === 0) return '(none)';
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (c ?? '').padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(headers), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)].join('\n');
}

export interface TreeNode {
  label: string;
  children?: TreeNode[];
}

export function tree(root: TreeNode): string {
  const out: string[] = [root.label];
  const walk = (nodes: TreeNode[], prefix: string) => {
    nodes.forEach((n, i) => {
      const last = i === nodes.length - 1;
      out.push(prefix + (last ? '└─ ' : '├─ ') + n.label);
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
