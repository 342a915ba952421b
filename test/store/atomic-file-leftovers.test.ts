import { readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../src/store/atomic-file.js';
import { tempDir } from '../helpers.js';

/**
 * A writer killed between creating its temp file and the rename leaves
 * `.name.<12 hex>.tmp` beside the file. The next successful write of the
 * same file removes such leftovers once they are old enough that no live
 * writer can still be filling them; nothing else in the folder is touched.
 */
describe('writeFileAtomic: temp files a killed writer left behind', () => {
  const old = (file: string) => {
    const t = new Date(Date.now() - 3600_000);
    utimesSync(file, t, t);
  };

  it('removes its own stale leftovers on the next write, keeps fresh ones and everything else', () => {
    const dir = tempDir();
    const target = join(dir, 'status-1');
    const stale = ['.status-1.0123456789ab.tmp', '.status-1.ffffffffffff.tmp'];
    const fresh = '.status-1.aaaaaaaaaaaa.tmp';
    // Not this writer's temp files for this name: another file's, other shapes, a user's own file.
    const others = ['.status-10.0123456789ab.tmp', '.status-1.0123456789AB.tmp', '.status-1.0123.tmp', '.status-1.0123456789ab.tmp.bak', 'status-1.0123456789ab.tmp', 'did.json'];
    for (const f of [...stale, fresh, ...others]) writeFileSync(join(dir, f), 'x');
    for (const f of [...stale, ...others]) old(join(dir, f));

    writeFileAtomic(target, 'jwt-2', 0o644);

    expect(readFileSync(target, 'utf8')).toBe('jwt-2');
    expect(readdirSync(dir).sort()).toEqual(['status-1', fresh, ...others].sort());
  });

  it('a write that fails leaves no temp file of its own and removes nothing', () => {
    const dir = tempDir();
    const stale = join(dir, '.x.0123456789ab.tmp');
    writeFileSync(stale, 'x');
    old(stale);
    // The target is a folder: the rename fails.
    const target = join(dir, 'x');
    writeFileAtomic(join(target, 'inner'), 'y');
    expect(() => writeFileAtomic(target, 'z')).toThrow(/cannot write/);
    expect(readdirSync(dir).sort()).toEqual(['.x.0123456789ab.tmp', 'x']);
  });
});
