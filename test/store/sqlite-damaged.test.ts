import { closeSync, copyFileSync, openSync, readdirSync, readFileSync, readlinkSync, realpathSync, truncateSync, writeSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { tempDir } from '../helpers.js';

/**
 * A home's charter.db damaged on disk (a copy cut short, a page lost, the
 * header overwritten, another file put in its place): the store says the file
 * is damaged and to restore it, never the bare "store operation failed"; an
 * open that fails leaves the file as it found it and keeps no handle on it.
 */
let dir: string;
let base: string;

beforeAll(async () => {
  dir = tempDir('charter-damaged-');
  base = join(dir, 'base.db');
  const s = await openSqliteStore(base);
  for (let i = 0; i < 2000; i++) await s.setConfig(`k${i}`, 'x'.repeat(100));
  await s.close();
});

const overwrite = (path: string, at: number, bytes: Buffer) => {
  const fd = openSync(path, 'r+');
  writeSync(fd, bytes, 0, bytes.length, at);
  closeSync(fd);
};
const sha = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const handlesOn = (path: string) => {
  const real = realpathSync(path);
  return readdirSync('/proc/self/fd').filter((fd) => {
    try {
      return readlinkSync(`/proc/self/fd/${fd}`) === real;
    } catch {
      return false;
    }
  }).length;
};
const DAMAGED = /^the store file is damaged or is not a Charter store \(SQLITE_(CORRUPT|NOTADB)[A-Z_]*\): keep a copy of it and restore it from a backup$/;

describe('a damaged store file', () => {
  const damage: [string, (p: string) => void][] = [
    ['cut short mid-copy (half its pages)', (p) => truncateSync(p, 40960)],
    ['cut short inside its header', (p) => truncateSync(p, 50)],
    ['its header overwritten (another file put in its place)', (p) => overwrite(p, 0, Buffer.alloc(100, 7))],
    ['a page of its table zeroed', (p) => overwrite(p, 8192, Buffer.alloc(4096))],
  ];

  it.each(damage)('%s: STORE_ERROR saying the file is damaged and to restore it; a failed open leaves it as it was, with no handle kept', async (what, harm) => {
    const path = join(dir, `${what.replace(/\W+/g, '-')}.db`);
    copyFileSync(base, path);
    harm(path);
    const before = sha(path);
    let store;
    try {
      store = await openSqliteStore(path);
    } catch (e) {
      expect(e).toMatchObject({ name: 'CharterError', code: 'STORE_ERROR', message: expect.stringMatching(DAMAGED) });
      expect(sha(path)).toBe(before);
      expect(handlesOn(path)).toBe(0);
      return;
    }
    // Opened (the damage is past the pages an open reads): the first read that reaches it says so.
    try {
      const reads = await Promise.allSettled(Array.from({ length: 2000 }, (_, i) => store.getConfig(`k${i}`)));
      const failed = reads.filter((r) => r.status === 'rejected');
      expect(failed.length).toBeGreaterThan(0);
      for (const r of failed) expect(r.reason).toMatchObject({ name: 'CharterError', code: 'STORE_ERROR', message: expect.stringMatching(DAMAGED) });
    } finally {
      await store.close();
    }
  });
});
