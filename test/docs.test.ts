import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../src/errors.js';
import { END, START, errorTable } from '../scripts/readme-tables.js';

/*
 * README is part of the interface: these tests hold it to the code, both ways.
 * The error-code table is rendered from src/errors.ts (`npx tsx scripts/readme-tables.ts`
 * rewrites it); the Library table must name every call each entry exports, and
 * nothing an entry does not export.
 */
const README = readFileSync(join(__dirname, '..', 'README.md'), 'utf8');

/** The `### Library` table: for each package entry, the names its rows document. */
function documentedByEntry(): Map<string, Set<string>> {
  const start = README.indexOf('### Library', README.indexOf('\n## Reference'));
  const end = README.indexOf('\n### ', start + 1);
  const rows = README.slice(start, end)
    .split('\n')
    .filter((l) => l.startsWith('| `'));
  const out = new Map<string, Set<string>>();
  for (const row of rows) {
    const call = row.split(' | ')[0]!.slice(2);
    // A row lists names, in segments separated by ";", each from `charter` unless it says "from `charter/x`".
    for (const segment of call.split(';')) {
      const entry = /from `(charter\/[a-z-]+)`/.exec(segment)?.[1] ?? 'charter';
      // A name opens its code span: `name` or `name(…)`; `charter/x` (an entry) is not a name.
      const names = [...segment.matchAll(/`([A-Za-z_][A-Za-z0-9_]*)(?:[(`])/g)].map((m) => m[1]!);
      const set = out.get(entry) ?? new Set<string>();
      for (const n of names) set.add(n);
      out.set(entry, set);
    }
  }
  return out;
}

describe('README', () => {
  it('the error-code table is what src/errors.ts says (npx tsx scripts/readme-tables.ts renders it)', () => {
    const a = README.indexOf(START);
    const b = README.indexOf(END);
    expect(a, `README lacks ${START}`).toBeGreaterThan(0);
    expect(README.slice(a + START.length, b).trim()).toBe(errorTable());
    for (const code of ERROR_CODES) expect(README).toContain(`| \`${code}\` |`);
  });

  const documented = documentedByEntry();
  it.each([...documented.keys()])('every name the Library table shows from %s is exported there', async (entry) => {
    const mod = (await import(entry)) as Record<string, unknown>;
    expect([...documented.get(entry)!].filter((n) => !(n in mod))).toEqual([]);
  });

  const ENTRIES = [
    'charter',
    'charter/sqlite',
    'charter/postgres',
    'charter/home',
    'charter/server',
    'charter/express',
    'charter/fastify',
    'charter/hono',
    'charter/mcp',
    'charter/veramo',
    'charter/sdjwt',
    'charter/mandates',
  ];
  it.each(ENTRIES)('every call %s exports is documented in the Library table', async (entry) => {
    const mod = (await import(entry)) as Record<string, unknown>;
    // Anything callable or a constant users read; every one has a row (here or, for re-exports, under charter).
    const all = new Set([...documented.values()].flatMap((s) => [...s]));
    const undocumented = Object.keys(mod).filter((n) => !all.has(n));
    expect(undocumented).toEqual([]);
  });
});
