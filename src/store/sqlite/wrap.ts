import { CharterError } from '../../errors.js';

/** SQLite result codes (extended codes share the prefix) of an environment fault: retry later. */
const UNAVAILABLE = /^SQLITE_(BUSY|LOCKED|READONLY|FULL|IOERR|CANTOPEN|PROTOCOL|NOLFS|AUTH|PERM)/;

/**
 * Maps driver errors to Charter codes without echoing values. Every fault
 * becomes STORE_UNAVAILABLE (busy, locked, read-only, full disk, I/O, a
 * closed connection) or STORE_ERROR (anything else, e.g. corruption); both
 * answer 503 with Retry-After over HTTP and exit 3 in the CLI.
 */
export function wrap<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    throw storeFault(e);
  }
}

export function storeFault(e: unknown): Error {
  if (e instanceof CharterError) return e;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string' && code.startsWith('SQLITE_CONSTRAINT')) return new CharterError('ALREADY_EXISTS', 'that record already exists', { cause: e });
  if (typeof code === 'string' && UNAVAILABLE.test(code))
    return new CharterError('STORE_UNAVAILABLE', `the store cannot be written or read now (${code}): try again`, { cause: e });
  // A file cut short, overwritten or not SQLite at all: retrying cannot help, a backup can.
  if (typeof code === 'string' && /^SQLITE_(CORRUPT|NOTADB)/.test(code))
    return new CharterError('STORE_ERROR', `the store file is damaged or is not a Charter store (${code}): keep a copy of it and restore it from a backup`, { cause: e });
  // better-sqlite3 throws a TypeError once the connection is closed.
  if (e instanceof TypeError && /connection is not open/i.test(e.message)) return new CharterError('STORE_UNAVAILABLE', 'the store is closed: try again', { cause: e });
  return new CharterError('STORE_ERROR', `store operation failed (${typeof code === 'string' ? code : 'unknown'})`, { cause: e });
}
