import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, join, basename, relative, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Write a file so a crash leaves either the old or the new content: temp
 * file, fsync, rename. Kept beside the store port (the other durable write)
 * so every layer above it, the home's files and published status lists alike,
 * writes through this one function. A failure removes the temp file and is
 * reported for `path`, the file the caller named, never for the temp name.
 * Folders it creates get `dirMode` (default folderModeFor(mode): 0755 for a
 * file others may read, such as a published status list; 0700 for a private
 * one, such as an export).
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600, dirMode = folderModeFor(mode)): void {
  const dir = dirname(path);
  makeFolders(dir, dirMode);
  const tmp = join(dir, `.${basename(path)}.${randomBytes(6).toString('hex')}.tmp`);
  let fd: number | undefined;
  try {
    fd = openSync(tmp, 'wx', mode);
    try {
      writeSync(fd, typeof data === 'string' ? Buffer.from(data) : data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) rmSync(tmp, { force: true });
    throw forPath(e, path);
  }
  // The rename is durable once the folder's entry is (POSIX: fsync the directory); a platform that cannot
  // open a folder for it (Windows) has done what it can.
  syncFolder(dir);
  removeLeftovers(dir, basename(path));
}

function syncFolder(dir: string): void {
  let fd: number | undefined;
  try {
    fd = openSync(dir, 'r');
    fsyncSync(fd);
  } catch {
    // not supported here (EISDIR/EPERM on Windows): the file itself was synced
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** How old a temp file of this writer must be before a later write of the same file removes it. */
const LEFTOVER_MS = 10 * 60_000;

/**
 * Temp files a killed writer left beside `name` (`.name.<12 hex>.tmp`): removed by the next successful
 * write of the same file once they are old enough that no live writer can still be filling one, so a
 * folder published as it is (status lists, did.json) does not collect them.
 */
function removeLeftovers(dir: string, name: string): void {
  try {
    const prefix = `.${name}.`;
    // Ages on the file system's own clock (the file just written), not this host's: a network file system
    // whose clock runs behind must not make a live writer's temp file look old.
    const now = statSync(join(dir, name)).mtimeMs;
    for (const entry of readdirSync(dir)) {
      if (!entry.startsWith(prefix) || !/^[0-9a-f]{12}\.tmp$/.test(entry.slice(prefix.length))) continue;
      const file = join(dir, entry);
      if (now - statSync(file).mtimeMs > LEFTOVER_MS) rmSync(file, { force: true });
    }
  } catch {
    // best effort: the write itself succeeded
  }
}

/** The mode of a folder holding a file of `mode`: the group, and others, may list it only when they may read the file (0644 → 0755, 0600 → 0700). */
export function folderModeFor(mode: number): number {
  return 0o700 | (mode & 0o040 ? 0o050 : 0) | (mode & 0o004 ? 0o005 : 0);
}

/**
 * Creates `dir` and its missing parents with `mode`, exactly: mkdir's mode is
 * masked by the umask (under `umask 000` the folder a status list is
 * published in would be world-writable, and anyone could swap the list for
 * an older signed one), so each folder this call made is chmodded. A folder
 * that already existed is the caller's and keeps its mode.
 */
function makeFolders(dir: string, mode: number): void {
  const first = mkdirSync(dir, { recursive: true, mode });
  if (first === undefined) return;
  for (let d = resolve(dir); ; d = dirname(d)) {
    chmodSync(d, mode);
    if (relative(d, resolve(first)) === '' || dirname(d) === d) break;
  }
}

/** A file-system error about the temp file, retold about `path` (its code, syscall and errno kept). */
function forPath(e: unknown, path: string): unknown {
  const x = e as NodeJS.ErrnoException;
  if (!(e instanceof Error) || typeof x.code !== 'string') return e;
  const err: NodeJS.ErrnoException = new Error(`${x.code}: cannot write ${path}${x.syscall ? ` (${x.syscall})` : ''}`, { cause: e });
  err.code = x.code;
  if (x.errno !== undefined) err.errno = x.errno;
  if (x.syscall !== undefined) err.syscall = x.syscall;
  err.path = path;
  return err;
}
