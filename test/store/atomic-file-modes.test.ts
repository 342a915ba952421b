import { chmodSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { folderModeFor, writeFileAtomic } from '../../src/store/atomic-file.js';
import { tempDir } from '../helpers.js';

/*
 * Under a permissive umask (000), the folders writeFileAtomic creates must
 * still be what the file calls for: 0755 for a published file (a status
 * list others read but must not replace), 0700 for an export.
 */

const mode = (p: string) => statSync(p).mode & 0o7777;

describe('writeFileAtomic: the folders it creates, under umask 000', () => {
  let saved: number;
  beforeEach(() => {
    saved = process.umask(0o000);
  });
  afterEach(() => {
    process.umask(saved);
  });

  it('a public file (0644): every folder made is 0755, none writable by others', () => {
    const root = tempDir();
    const file = join(root, 'out', 'a', 'b', 'status', '1');
    writeFileAtomic(file, 'jwt', 0o644);
    for (const d of ['out', 'out/a', 'out/a/b', 'out/a/b/status']) expect(mode(join(root, d)).toString(8), d).toBe('755');
    expect(mode(file).toString(8)).toBe('644');
    expect(readFileSync(file, 'utf8')).toBe('jwt');
  });

  it('a private file (the default 0600, an export): every folder made is 0700', () => {
    const root = tempDir();
    writeFileAtomic(join(root, 'ev', 'x', 'audit.jsonl'), 'line\n');
    writeFileAtomic(join(root, 'ev2', 'bundle.json'), '{}', 0o600);
    for (const d of ['ev', 'ev/x', 'ev2']) expect(mode(join(root, d)).toString(8), d).toBe('700');
  });

  it('an explicit folder mode wins', () => {
    const root = tempDir();
    writeFileAtomic(join(root, 'k', 'f'), 'x', 0o644, 0o750);
    expect(mode(join(root, 'k')).toString(8)).toBe('750');
  });

  it('folders that existed keep their mode (they are the caller’s); only the ones made below are set', () => {
    const root = tempDir();
    mkdirSync(join(root, 'mine'));
    chmodSync(join(root, 'mine'), 0o777);
    chmodSync(root, 0o711);
    writeFileAtomic(join(root, 'mine', 'new', 'f.json'), '{}', 0o644);
    expect(mode(join(root, 'mine')).toString(8)).toBe('777');
    expect(mode(root).toString(8)).toBe('711');
    expect(mode(join(root, 'mine', 'new')).toString(8)).toBe('755');
    // A write into a folder that exists creates none and changes none.
    writeFileAtomic(join(root, 'mine', 'g.json'), '{}', 0o600);
    expect(mode(join(root, 'mine')).toString(8)).toBe('777');
  });

  it('folderModeFor: listable by whom may read the file (0644 → 0755, 0640 → 0750, 0600 → 0700)', () => {
    expect(folderModeFor(0o644)).toBe(0o755);
    expect(folderModeFor(0o640)).toBe(0o750);
    expect(folderModeFor(0o604)).toBe(0o705);
    expect(folderModeFor(0o600)).toBe(0o700);
    expect(folderModeFor(0o400)).toBe(0o700);
  });
});
