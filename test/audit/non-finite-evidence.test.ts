import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';
import { inProcess } from '../cli/harness.js';

/**
 * `evidence verify` on a bundle holding a number beyond the range of a
 * double (JSON.parse reads 1e400 as Infinity; RFC 7493 §2.2): a usage error
 * naming the number, as a bundle naming a member twice is, not a bundle
 * read one way here and another way by the auditor's tool.
 */
const run = inProcess(tempDir('charter-evidence-inf-'), () => 'correct horse battery staple');
const bundle = (over: string) =>
  `{"type":"CharterEvidenceBundle","version":1,"receipt":"a.b.c","settlements":[],"credentials":[],"dids":{},"statusLists":{},"log":{"entries":[],"checkpoint":"a.b.c"}${over}}`;

describe('evidence verify: a bundle holding a number beyond a double', () => {
  it.each([
    ['at the top', bundle(',"n":1e400'), '1e400'],
    ['negative, in a DID document', bundle('').replace('"dids":{}', '"dids":{"did:web:x":{"id":"did:web:x","n":-1e400}}'), '-1e400'],
    ['400 digits', bundle(`,"n":[1${'0'.repeat(400)}]`), '1' + '0'.repeat(39)],
  ])('%s: INVALID_ARGUMENT naming the number, exit 2', async (_name, text, shown) => {
    const file = join(tempDir('charter-inf-'), 'bundle.json');
    writeFileSync(file, text);
    const r = await run(['evidence', 'verify', file]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`holds the number ${shown}`);
    expect(r.err).toMatch(/\[INVALID_ARGUMENT\]$/);
  });
  it('1e-400 (an underflow to 0) is read, and the bundle refused on its merits (exit 1)', async () => {
    const file = join(tempDir('charter-inf-'), 'bundle.json');
    writeFileSync(file, bundle(',"n":1e-400'));
    expect((await run(['evidence', 'verify', file])).code).toBe(1);
  });
});
