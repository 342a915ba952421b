import { chmodSync, closeSync, fsyncSync, mkdirSync, openSync, readdirSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { dirname, join, basename, relative, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { CharterError } from '../errors.js';

/**
 * Write a file so a crash leaves either the old or the new content: temp
 * file, fsync, rename. Kept beside the store port (the other durable write)
 * so every layer above it, the home's files and published status lists alike,
 * writes through this one function. A failure removes the temp file, leaves
 * the file at `path` as it was, and is reported for `path`, the file the
 * caller named, never for the temp name: a full disk or quota, a short write
 * or an I/O error as STORE_ERROR saying so, a path that cannot be written as
 * the file-system error (ENOENT, EACCES…) the caller maps.
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
      writeAll(fd, typeof data === 'string' ? Buffer.from(data) : data);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    if (fd !== undefined) rmSync(tmp, { force: true });
    throw diskError(e, path) ?? forPath(e, path);
  }
  // The rename is durable once the folder's entry is (POSIX: fsync the directory); a platform that cannot
  // open a folder for it (Windows) has done what it can.
  syncFolder(dir);
  removeLeftovers(dir, basename(path));
}

/**
 * Every byte of `data`: write(2) may write fewer bytes than asked (a full disk or quota, a signal), and
 * what it did not write is lost unless written again. A write that makes no progress is a full disk.
 */
function writeAll(fd: number, data: Uint8Array): void {
  for (let off = 0; off < data.length;) {
    const n = writeSync(fd, data, off, data.length - off);
    if (!(n > 0)) throw Object.assign(new Error(`short write: ${off} of ${data.length} bytes written`), { code: 'ENOSPC', syscall: 'write', written: off });
    off += n;
  }
}

/** What each fault of the disk, rather than of the path, tells a person to do. */
const DISK_FAULTS: Readonly<Record<string, string>> = {
  ENOSPC: 'the disk is full: free some space and retry',
  EDQUOT: 'your disk quota is used up: free some space (or raise the quota) and retry',
  EFBIG: 'the file is larger than this file system or your limits allow: write it elsewhere',
  EIO: 'the disk reported an I/O error: check the disk, then retry',
};

/** A full disk or quota, a file too large, an I/O error: STORE_ERROR (a fault; exit 3) saying what to do, the old file kept. */
function diskError(e: unknown, path: string): CharterError | undefined {
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code !== 'string' || !Object.hasOwn(DISK_FAULTS, code)) return undefined;
  return new CharterError('STORE_ERROR', `cannot write ${path} (${code}): ${DISK_FAULTS[code]} (${path} was left as it was)`, { cause: e, details: { path, code } });
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
