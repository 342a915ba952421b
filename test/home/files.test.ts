import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeFileAtomic } from '../../src/store/atomic-file.js';
import { createHome } from '../../src/home/dir.js';
import { initHome, openHome } from '../../src/home/home.js';
import { openSqliteStore, claimSqliteConfig } from '../../src/store/sqlite/store.js';
import { secondsFlag } from '../../src/cli/args.js';
import { tempDir } from '../helpers.js';

const PASS = 'correct horse battery staple';

describe('writeFileAtomic', () => {
  it('a rename that fails removes its temp file and names the path asked for, not the temp name', () => {
    const dir = tempDir();
    mkdirSync(join(dir, 'did.json'));
    let err: NodeJS.ErrnoException | undefined;
    try {
      writeFileAtomic(join(dir, 'did.json'), '{}');
    } catch (e) {
      err = e as NodeJS.ErrnoException;
    }
    expect(err).toMatchObject({ code: expect.stringMatching(/^E/), path: join(dir, 'did.json'), syscall: 'rename' });
    expect(err!.message).not.toMatch(/\.tmp/);
    expect(readdirSync(dir)).toEqual(['did.json']);
  });
  it('writes the content with the mode asked for', () => {
    const file = join(tempDir(), 'a', 'b.json');
    writeFileAtomic(file, 'hello', 0o644);
    expect(readFileSync(file, 'utf8')).toBe('hello');
    expect(statSync(file).mode & 0o777).toBe(0o644);
  });
});

describe('createHome', () => {
  it('returns the directories it made, deepest first, each 0700; an existing one is neither listed nor chmodded', () => {
    const root = tempDir();
    expect(createHome(join(root, 'a', 'b', 'c'))).toEqual([join(root, 'a', 'b', 'c'), join(root, 'a', 'b'), join(root, 'a')]);
    for (const d of ['a', 'a/b', 'a/b/c']) expect(statSync(join(root, d)).mode & 0o777).toBe(0o700);
    chmodSync(join(root, 'a', 'b', 'c'), 0o750);
    expect(createHome(join(root, 'a', 'b', 'c'))).toEqual([]);
    expect(statSync(join(root, 'a', 'b', 'c')).mode & 0o777).toBe(0o750);
  });
  it('an existing directory other users can write is CONFIG_INVALID', () => {
    const d = join(tempDir(), 'shared');
    mkdirSync(d);
    chmodSync(d, 0o1777);
    expect(() => createHome(d)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(statSync(d).mode & 0o7777).toBe(0o1777);
  });
});

describe('init races and cleanup', () => {
  it('claimSqliteConfig: the first value stays; every caller learns it', async () => {
    const path = join(tempDir(), 's.db');
    const [a, b] = await Promise.all([openSqliteStore(path), openSqliteStore(path)]);
    expect(claimSqliteConfig(a, 'k', 'first')).toBe('first');
    expect(claimSqliteConfig(b, 'k', 'second')).toBe('first');
    expect(await b.getConfig('k')).toBe('first');
    await a.close();
    await b.close();
  });

  it('an init that loses the race to another passphrase is WRONG_PASSPHRASE and removes nothing; with the same passphrase it is created: false', async () => {
    const dir = join(tempDir(), 'home');
    const slow = initHome({ home: dir, env: {}, passphrase: () => new Promise((r) => setTimeout(() => r('another passphrase'), 300)) });
    const fast = await initHome({ home: dir, env: {}, passphrase: async () => PASS });
    expect(fast.created).toBe(true);
    await fast.home.close();
    await expect(slow).rejects.toMatchObject({ code: 'WRONG_PASSPHRASE' });
    expect(existsSync(join(dir, 'charter.db'))).toBe(true);
    const home = await openHome({ home: dir, env: {}, create: false, passphrase: async () => PASS });
    expect(await home.passphrase()).toBe(PASS);
    await home.close();
    const dir2 = join(tempDir(), 'h2');
    const same = initHome({ home: dir2, env: {}, passphrase: () => new Promise((r) => setTimeout(() => r(PASS), 300)) });
    const first = await initHome({ home: dir2, env: {}, passphrase: async () => PASS });
    await first.home.close();
    const second = await same;
    await second.home.close();
    expect([first.created, second.created].sort()).toEqual([false, true]);
  });

  it("a new home's passphrase is asked and checked before anything is created: a refused one leaves nothing, and reports its own cause", async () => {
    const root = tempDir();
    const dir = join(root, 'x', 'y');
    let seen: boolean | undefined;
    const refused = initHome({
      home: dir,
      env: {},
      passphrase: async () => {
        seen = existsSync(join(root, 'x'));
        return 'short';
      },
    });
    await expect(refused).rejects.toMatchObject({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/8 characters/) });
    expect(seen).toBe(false);
    expect(existsSync(join(root, 'x'))).toBe(false);
    await expect(initHome({ home: dir, env: {}, publicUrl: 'ftp://x', passphrase: async () => PASS })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(existsSync(join(root, 'x'))).toBe(false);
  });
});

describe('secondsFlag', () => {
  it('a zero span is 0 (a span may be zero, an expiry may not)', () => {
    expect(secondsFlag('0s', '--older-than')).toBe(0);
    expect(secondsFlag('0', '--older-than')).toBe(0);
    expect(secondsFlag('5m', '--older-than')).toBe(300);
  });
});
