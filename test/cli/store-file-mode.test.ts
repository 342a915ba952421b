import { chmodSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inProcess } from './harness.js';
import { tempDir } from '../helpers.js';

/* A home whose charter.db others can write: every command refuses it (CONFIG_INVALID, exit 2) and says what to run. */
describe('a world- or group-writable charter.db', () => {
  it('is refused by the CLI with exit 2 and `chmod 600 <file>`; once chmodded, the home works again', async () => {
    const dir = join(tempDir(), 'home');
    const run = inProcess(dir, () => 'correct horse battery staple');
    expect((await run(['init'])).code).toBe(0);
    const db = join(dir, 'charter.db');
    for (const m of [0o666, 0o660, 0o620]) {
      chmodSync(db, m);
      const r = await run(['id', 'list', '--json']);
      expect(r.code).toBe(2);
      const error = (JSON.parse(r.out) as { error: { code: string; message: string } }).error;
      expect(error.code).toBe('CONFIG_INVALID');
      expect(error.message).toContain(`chmod 600 ${db}`);
    }
    chmodSync(db, 0o600);
    expect((await run(['id', 'list'])).code).toBe(0);
  });
});
