import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { charter, freshEnv } from './harness.js';

/** Volatile parts (DIDs, ids, indices) replaced so the transcript is stable. */
export function normalise(s: string): string {
  return s
    .replace(/did:key:z[1-9A-HJ-NP-Za-km-z]+/g, 'did:key:<id>')
    .replace(/did:jwk:[A-Za-z0-9_-]+…?/g, 'did:jwk:<id>')
    .replace(/urn:uuid:[0-9a-f-]{36}/g, 'urn:uuid:<uuid>')
    .replace(/status index \d+/g, 'status index <n>');
}

describe('golden transcript', () => {
  it('charter demo: every walk, its output and exit code', async () => {
    const r = await charter(['demo'], freshEnv());
    const transcript = `$ charter demo\n${normalise(r.stdout)}[exit ${r.code}]\n`;
    expect(transcript).toBe(readFileSync(join(__dirname, 'golden', 'demo.txt'), 'utf8'));
  }, 60_000);
});
