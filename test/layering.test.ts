import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, dirname, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

/**
 * Layers point one way (DESIGN.md): a folder may import only folders of a
 * lower or equal rank. Equal rank is allowed only within the same folder,
 * except the rank-5 domain folders, which stay independent of each other
 * save for agents <- reputation (reputation scores agents).
 */
const RANK: Record<string, number> = {
  'errors.ts': -1,
  encoding: 0,
  keys: 1,
  did: 2,
  store: 2,
  credentials: 3,
  status: 4,
  grants: 5,
  agents: 5,
  httpsig: 5,
  // SD-JWT VC mechanics sit on credentials, its grant profile on grants and the Token Status List.
  sdjwt: 5.5,
  // Data pools stand on grants (the verifier side of a collective grant is grants/collective.ts).
  pools: 5.5,
  reputation: 6,
  mandates: 6,
  // Beside the guard (DESIGN.md), one step below it: the pipeline calls the receipts hook.
  audit: 6.5,
  guard: 7,
  home: 8,
  http: 9,
  server: 9,
  integrations: 10,
  cli: 11,
  'index.ts': 12,
};

const SRC = resolve(__dirname, '..', 'src');

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

function top(path: string): string {
  return relative(SRC, path).split('/')[0]!.replace(/\.js$/, '.ts');
}

describe('layering', () => {
  it('no folder under src/ imports a higher layer', () => {
    const violations: string[] = [];
    for (const file of files(SRC)) {
      const from = top(file);
      const text = readFileSync(file, 'utf8');
      for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.[^']+)'/g)) {
        const target = top(resolve(dirname(file), m[1]!));
        const rf = RANK[from];
        const rt = RANK[target];
        if (rf === undefined || rt === undefined) {
          violations.push(`${relative(SRC, file)}: unranked folder ${rf === undefined ? from : target}`);
        } else if (rt > rf || (rt === rf && target !== from)) {
          violations.push(`${relative(SRC, file)} imports ${m[1]} (${from} -> ${target})`);
        }
      }
    }
    expect(violations).toEqual([]);
  });
});
