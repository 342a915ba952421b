// Renders README's error-code table from the edge tables in src/errors.ts and
// the sentences in scripts/error-meanings.ts, between the markers
// <!-- error-codes --> and <!-- /error-codes -->. Run: npx tsx scripts/readme-tables.ts
// test/docs.test.ts fails when README differs from this rendering.
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ERROR_CODES, EXIT_CODE, HTTP_STATUS } from '../src/errors.js';
import { MEANING } from './error-meanings.js';

export const README = fileURLToPath(new URL('../README.md', import.meta.url));
export const START = '<!-- error-codes -->';
export const END = '<!-- /error-codes -->';

export function errorTable(): string {
  const rows = ERROR_CODES.map((c) => `| \`${c}\` | ${HTTP_STATUS[c]} | ${EXIT_CODE[c]} | ${MEANING[c].replace(/\|/g, '\\|')} |`);
  return ['| code | HTTP | exit | meaning |', '| --- | --- | --- | --- |', ...rows].join('\n');
}

export function render(readme: string): string {
  const a = readme.indexOf(START);
  const b = readme.indexOf(END);
  if (a < 0 || b < a) throw new Error(`README has no ${START} … ${END} block`);
  return `${readme.slice(0, a + START.length)}\n${errorTable()}\n${readme.slice(b)}`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(README, render(readFileSync(README, 'utf8')));
}
