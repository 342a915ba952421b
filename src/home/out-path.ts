import { lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { basename, dirname, isAbsolute, join, relative, resolve, sep } from 'node:path';
import { CharterError } from '../errors.js';

/**
 * INVALID_ARGUMENT when a file Charter is asked to write (an export's --out,
 * a published file under a web root) would land inside the home directory:
 * onto charter.db, its -wal, -shm or -journal file, or anything beside them.
 * An export written over the store replaces every sealed key with a log; the
 * home is Charter's own, and nothing a user names belongs in it. The target is
 * compared as the file system would reach it: the parent folder's real path
 * (symbolic links and `..` resolved) plus the name, and a target that is
 * itself a symbolic link is followed (replacing a link is harmless, but a link
 * into the home says the path is not what the user meant). Any other file,
 * existing or not, may be written (atomically) as most CLIs allow.
 */
export function assertOutsideHome(target: string, homeDir: string, flag = '--out'): void {
  const home = realPathOf(homeDir);
  const where = realPathOf(target);
  const rel = relative(home, where);
  if (rel === '' || (!isAbsolute(rel) && rel.split(sep)[0] !== '..')) {
    throw new CharterError(
      'INVALID_ARGUMENT',
      `${flag} ${target} is inside the Charter home ${homeDir}, which holds the store (charter.db) and its sealed keys: write it somewhere outside the home`,
    );
  }
}

/** Links followed at most this many times (as ELOOP would stop the kernel). */
const MAX_LINKS = 40;

/**
 * Where `path` is, with every symbolic link on the way resolved, whether or not it exists: the real path
 * of the deepest folder that exists, then the names below it; a name that is a link (dangling or not) is
 * followed.
 */
function realPathOf(path: string, depth = 0): string {
  const abs = resolve(path);
  try {
    return realpathSync.native(abs);
  } catch {
    // absent, or a dangling link: resolved below
  }
  const parent = dirname(abs);
  const dir = parent === abs ? abs : realPathOf(parent, depth);
  const full = join(dir, basename(abs));
  if (depth < MAX_LINKS) {
    try {
      if (lstatSync(full).isSymbolicLink()) return realPathOf(resolve(dir, readlinkSync(full)), depth + 1);
    } catch {
      // nothing there
    }
  }
  return full;
}
