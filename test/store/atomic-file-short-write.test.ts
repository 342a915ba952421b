import type * as nodeFs from 'node:fs';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { tempDir } from '../helpers.js';

/*
 * write(2) may write fewer bytes than asked: on a full disk or quota the
 * kernel writes what fits and says how much. A writer that ignores the count
 * publishes a truncated file as the whole one. No small real file system is
 * at hand in CI, so writeSync is stubbed: each call writes at most `chunk`
 * bytes of what it is given (the rest is the caller's to write again), and
 * after `budget` bytes it writes nothing or fails as the kernel would.
 */
const disk = vi.hoisted(() => ({ chunk: Infinity, budget: Infinity, fail: undefined as string | undefined, calls: 0 }));

vi.mock('node:fs', async (importOriginal) => {
  const fs = await importOriginal<typeof nodeFs>();
  const writeSync = (fd: number, buf: Uint8Array, off = 0, len = buf.length - off): number => {
    disk.calls++;
    const n = Math.min(len, disk.chunk, disk.budget);
    if (n <= 0 && disk.fail) throw Object.assign(new Error(`${disk.fail}: stubbed`), { code: disk.fail, syscall: 'write' });
    disk.budget -= n;
    return n === 0 ? 0 : fs.writeSync(fd, buf, off, n);
  };
  return { ...fs, default: { ...fs, writeSync }, writeSync };
});

const { writeFileAtomic } = await import('../../src/store/atomic-file.js');
const { CharterError } = await import('../../src/errors.js');

afterEach(() => Object.assign(disk, { chunk: Infinity, budget: Infinity, fail: undefined, calls: 0 }));

/** A folder holding `out.json` with the old content. */
function old(): { dir: string; file: string } {
  const dir = tempDir();
  const file = join(dir, 'out.json');
  writeFileSync(file, 'OLD CONTENT\n');
  return { dir, file };
}

const caught = (f: () => void): unknown => {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('did not throw');
};

describe('writeFileAtomic: short writes', () => {
  it('a write that takes a few bytes at a time is finished: the whole file, every byte, in order', () => {
    const { dir, file } = old();
    disk.chunk = 7;
    const data = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
    writeFileAtomic(file, data);
    expect(readFileSync(file).equals(data)).toBe(true);
    expect(disk.calls).toBe(Math.ceil(1000 / 7));
    expect(readdirSync(dir)).toEqual(['out.json']);
  });

  it('a string is written whole too (its UTF-8 bytes, not its length in characters)', () => {
    const { file } = old();
    disk.chunk = 3;
    writeFileAtomic(file, 'é'.repeat(100) + '\n');
    expect(readFileSync(file, 'utf8')).toBe('é'.repeat(100) + '\n');
  });

  it('a disk that fills part-way (write returns 0): STORE_ERROR saying the disk is full, the old file intact, no temp file left', () => {
    const { dir, file } = old();
    disk.chunk = 4096;
    disk.budget = 12 * 1024;
    const e = caught(() => writeFileAtomic(file, Buffer.alloc(40 * 1024, 'x')));
    expect(e).toBeInstanceOf(CharterError);
    expect((e as InstanceType<typeof CharterError>).code).toBe('STORE_ERROR');
    expect((e as Error).message).toMatch(/disk is full/);
    expect((e as Error).message).toContain(file);
    expect((e as Error).message).not.toMatch(/\.tmp/);
    expect(readFileSync(file, 'utf8')).toBe('OLD CONTENT\n');
    expect(readdirSync(dir)).toEqual(['out.json']);
  });

  it('ENOSPC thrown part-way: the same, and nothing at all when there was no old file', () => {
    const { dir, file } = old();
    Object.assign(disk, { chunk: 1000, budget: 2500, fail: 'ENOSPC' });
    const e = caught(() => writeFileAtomic(file, 'y'.repeat(10_000)));
    expect((e as InstanceType<typeof CharterError>).code).toBe('STORE_ERROR');
    expect((e as Error).message).toMatch(/disk is full/);
    expect(readFileSync(file, 'utf8')).toBe('OLD CONTENT\n');
    Object.assign(disk, { budget: 0 });
    caught(() => writeFileAtomic(join(dir, 'new.json'), 'z'));
    expect(readdirSync(dir)).toEqual(['out.json']);
  });

  it('a quota used up (EDQUOT) and an I/O error (EIO) say so', () => {
    for (const [code, says] of [
      ['EDQUOT', /quota/],
      ['EIO', /I\/O error/],
    ] as const) {
      const { dir, file } = old();
      Object.assign(disk, { chunk: 10, budget: 10, fail: code });
      const e = caught(() => writeFileAtomic(file, 'w'.repeat(100)));
      expect((e as InstanceType<typeof CharterError>).code).toBe('STORE_ERROR');
      expect((e as Error).message).toMatch(says);
      expect(readFileSync(file, 'utf8')).toBe('OLD CONTENT\n');
      expect(readdirSync(dir)).toEqual(['out.json']);
    }
  });

  it('an empty file needs no write at all and is written', () => {
    const { file } = old();
    disk.budget = 0;
    writeFileAtomic(file, '');
    expect(readFileSync(file, 'utf8')).toBe('');
  });
});
