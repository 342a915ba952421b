import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, relative, resolve } from 'node:path';
import { CharterError } from '../errors.js';

/** $CHARTER_HOME, else ~/.charter. */
export function resolveHome(env: NodeJS.ProcessEnv = process.env): string {
  const h = env.CHARTER_HOME;
  return h && h.length > 0 ? resolve(h) : join(env.HOME && env.HOME.length > 0 ? env.HOME : homedir(), '.charter');
}

/**
 * Creates the home directory readable by its owner only (0700) and returns
 * the directories this call created, deepest first (empty when `dir` existed).
 * Only a directory made here is chmodded: an existing one is the caller's,
 * and one that other users can write (a shared `/tmp`-like 1777 folder, a
 * group-writable one, one another user owns) is refused, since whoever can
 * write it can swap the store file for a link or delete it.
 */
export function createHome(dir: string): string[] {
  const first = mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (first === undefined) {
    checkHome(dir);
    return [];
  }
  const made: string[] = [];
  for (let d = resolve(dir); ; d = dirname(d)) {
    made.push(d);
    // umask may have removed bits; a directory made here is ours to set.
    chmodSync(d, 0o700);
    if (relative(d, resolve(first)) === '' || dirname(d) === d) break;
  }
  return made;
}

/** ensureHome without what it created: the directory, made (0700) or checked. */
export function ensureHome(dir: string): string {
  createHome(dir);
  return dir;
}

/** An existing home directory: a directory that no other user can write (CONFIG_INVALID otherwise); its mode is left as it is. */
export function checkHome(dir: string): void {
  const st = statSync(dir);
  if (!st.isDirectory()) throw new CharterError('CONFIG_INVALID', `the Charter home ${dir} is not a directory: check --home and CHARTER_HOME`);
  if ((st.mode & 0o022) !== 0) {
    throw new CharterError(
      'CONFIG_INVALID',
      `the Charter home ${dir} can be written by other users (mode ${(st.mode & 0o7777).toString(8)}): use a directory only you can write (\`chmod go-w ${dir}\`, or another --home)`,
    );
  }
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid && st.uid !== 0) {
    throw new CharterError('CONFIG_INVALID', `the Charter home ${dir} belongs to another user (uid ${st.uid}): use a directory of your own (check --home and CHARTER_HOME)`);
  }
}
