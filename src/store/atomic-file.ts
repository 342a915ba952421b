import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, rmSync, writeSync } from 'node:fs';
import { dirname, join, basename } from 'node:path';
import { randomBytes } from 'node:crypto';

/**
 * Write a file so a crash leaves either the old or the new content: temp
 * file, fsync, rename. Kept beside the store port (the other durable write)
 * so every layer above it, the home's files and published status lists alike,
 * writes through this one function. A failure removes the temp file and is
 * reported for `path`, the file the caller named, never for the temp name.
 */
export function writeFileAtomic(path: string, data: string | Uint8Array, mode = 0o600): void {
  const dir = dirname(path);
  mkdirSync(dir, { recursive: true });
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
