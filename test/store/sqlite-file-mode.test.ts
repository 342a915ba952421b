import { chmodSync, chownSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openSqliteStore } from '../../src/store/sqlite/store.js';
import { CharterError } from '../../src/errors.js';
import { tempDir } from '../helpers.js';

/*
 * A store file other users can write is refused, as a home directory they
 * can write is: another local user could rewrite the ledger, the nonces, the
 * status bits and the audit log. Its -wal, -shm and -journal files likewise
 * (SQLite replays a -wal into the store). The file is not chmodded: its mode
 * is its owner's, and the message says what to run.
 */
const mode = (p: string) => statSync(p).mode & 0o7777;
const opened: { close(): Promise<void> }[] = [];
afterEach(async () => {
  for (const s of opened.splice(0)) await s.close();
});

/** A store file made and closed, then given `m`. */
async function storeFile(m = 0o600): Promise<string> {
  const file = join(tempDir(), 'charter.db');
  await (await openSqliteStore(file)).close();
  chmodSync(file, m);
  return file;
}

async function refusal(file: string): Promise<CharterError> {
  try {
    opened.push(await openSqliteStore(file));
  } catch (e) {
    expect(e).toBeInstanceOf(CharterError);
    return e as CharterError;
  }
  throw new Error(`${file} was opened`);
}

describe('a store file other users can write is refused', () => {
  it.each(['666', '660', '620', '602', '622', '646'])('mode %s: CONFIG_INVALID saying `chmod 600 <file>`, the file left as it was', async (octal) => {
    const m = parseInt(octal, 8);
    const file = await storeFile(m);
    const before = readFileSync(file);
    const e = await refusal(file);
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toContain(`chmod 600 ${file}`);
    expect(e.message).toContain(m.toString(8));
    expect(mode(file)).toBe(m);
    expect(readFileSync(file).equals(before)).toBe(true);
    // Not opened: SQLite made no -wal beside it.
    expect(existsSync(`${file}-wal`)).toBe(false);
  });

  it.each(['-wal', '-shm', '-journal'])('a %s file others can write beside a 0600 store: refused, naming it', async (suffix) => {
    const file = await storeFile();
    writeFileSync(`${file}${suffix}`, '');
    chmodSync(`${file}${suffix}`, 0o666);
    const e = await refusal(file);
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toContain(`chmod 600 ${file}${suffix}`);
  });

  it.skipIf(process.getuid?.() !== 0)('a store file another user owns (as root, chowned): refused, naming the owner', async () => {
    const file = await storeFile();
    chownSync(file, 4321, 4321);
    const e = await refusal(file);
    expect(e.code).toBe('CONFIG_INVALID');
    expect(e.message).toMatch(/belongs to another user \(uid 4321\)/);
  });
});

describe('the modes a store file normally has still open', () => {
  it.each(['600', '640', '644', '604'])('mode %s opens', async (octal) => {
    const file = await storeFile(parseInt(octal, 8));
    opened.push(await openSqliteStore(file));
  });

  it('under umask 000 a new store is 0600, and a second connection opens it while the first holds its -wal and -shm', async () => {
    const saved = process.umask(0o000);
    try {
      const file = join(tempDir(), 'charter.db');
      const a = await openSqliteStore(file);
      opened.push(a);
      await a.setConfig('k', 'v');
      expect(mode(file)).toBe(0o600);
      for (const s of ['-wal', '-shm']) if (existsSync(`${file}${s}`)) expect(mode(`${file}${s}`) & 0o022).toBe(0);
      const b = await openSqliteStore(file);
      opened.push(b);
      expect(await b.getConfig('k')).toBe('v');
    } finally {
      process.umask(saved);
    }
  });
});
