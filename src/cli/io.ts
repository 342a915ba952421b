import { closeSync, openSync, readSync, statSync } from 'node:fs';
import type { Command } from 'commander';
import { CharterError, EXIT_CODE, type CharterErrorCode, type Reason } from '../errors.js';
import { initHome, openHome, type Home } from '../home/home.js';
import { verifyTools, type VerifyTools } from '../home/net.js';
import { escapeText, forDisplay, oneLine } from './format.js';

/** Exit codes (README): 0 ok, 1 refused (decision printed), 2 usage, 3 fault. */
export const EXIT = { OK: 0, REFUSED: 1, USAGE: 2, FAULT: 3 } as const;

export interface OpenHomeRequest {
  home?: string;
  allowLoopback?: boolean;
  /** Only `charter init` creates a home; every other command opens an existing one (NOT_INITIALIZED otherwise). */
  create?: boolean;
}

/** What a command may touch: injected so tests run the CLI in-process. */
export interface CliContext {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: NodeJS.ProcessEnv;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  setExitCode: (code: number) => void;
  /** Opens the home named by --home, $CHARTER_HOME or ~/.charter. */
  openHome: (opts: OpenHomeRequest) => Promise<Home>;
  /** `charter init`: creates and initializes the home, removing what it created on failure. Default: openHome with create, then init. */
  initHome?: (opts: OpenHomeRequest & { publicUrl?: string }) => Promise<{ home: Home; created: boolean }>;
}

export function defaultContext(): CliContext {
  return {
    stdout: (s) => process.stdout.write(s.endsWith('\n') ? s : s + '\n'),
    stderr: (s) => process.stderr.write(s.endsWith('\n') ? s : s + '\n'),
    env: process.env,
    stdin: process.stdin,
    setExitCode: (c) => {
      process.exitCode = c;
    },
    openHome: (o) => openHome({ ...o, env: process.env }),
    initHome: (o) => initHome({ ...o, env: process.env }),
  };
}

export interface CommonOptions {
  json?: boolean;
  debug?: boolean;
  home?: string;
  allowLoopback?: boolean;
}

/** The exit code of an error: the one edge table (src/errors.ts EXIT_CODE); anything else is a fault. */
export function exitCodeFor(e: unknown): number {
  return e instanceof CharterError ? EXIT_CODE[e.code] : EXIT.FAULT;
}

/** Adds the options every leaf command has. */
export function leaf(cmd: Command, examples: string[] = []): Command {
  cmd
    .option('--json', 'print one JSON document on stdout')
    .option('--home <dir>', 'Charter home (default: $CHARTER_HOME or ~/.charter)')
    .option('--allow-loopback', 'allow loopback and plain-http DID and status URLs (local testing; or CHARTER_ALLOW_LOOPBACK=1)')
    .option('--debug', 'print stack traces on faults');
  if (examples.length > 0) cmd.addHelpText('after', '\nExamples:\n' + examples.map((e) => `  $ ${e}`).join('\n'));
  return cmd;
}

// ---- the loopback hint ----

const HINTED: ReadonlySet<CharterErrorCode> = new Set(['STATUS_UNAVAILABLE', 'DID_RESOLUTION_FAILED', 'FORBIDDEN_ADDRESS']);
const LOOPBACK_HOST = /(?:\blocalhost\b|\b127\.\d{1,3}\.\d{1,3}\.\d{1,3}\b|\[::1\]|(?<![\w:])::1\b)/;
export const LOOPBACK_HINT = 'for local testing allow loopback and http URLs with --allow-loopback or CHARTER_ALLOW_LOOPBACK=1';

/**
 * A refusal about a loopback or plain-http URL says what allows it. The
 * network layer refuses such URLs without knowing it runs under a CLI; this
 * edge adds the flag and the variable, in human and JSON output alike.
 */
export function withLoopbackHint(code: string, message: string): string {
  if (!HINTED.has(code as CharterErrorCode) || message.includes('--allow-loopback')) return message;
  // Only where the flag can help: plain http to a loopback host (elsewhere it is never allowed).
  const http = /only https is allowed/.test(message) && LOOPBACK_HOST.test(message);
  const loopback = /non-public address/.test(message) && LOOPBACK_HOST.test(message);
  if (!http && !loopback) return message;
  return `${message.replace(/ \(allow it explicitly for local testing\)/, '')} (${LOOPBACK_HINT})`;
}

/** Every `{ code, message }` inside a result, hinted; everything else as it was. */
function hintAll<T>(v: T): T {
  if (Array.isArray(v)) return v.map(hintAll) as T;
  if (v === null || typeof v !== 'object') return v;
  const out: Record<string, unknown> = {};
  // Defined, not assigned: a signed member named "__proto__" stays a member (assigning would make it the prototype,
  // dropping it from the output and showing its members as the object's own).
  for (const [k, x] of Object.entries(v)) Object.defineProperty(out, k, { value: hintAll(x), enumerable: true, writable: true, configurable: true });
  if (typeof out.code === 'string' && typeof out.message === 'string') out.message = withLoopbackHint(out.code, out.message);
  return out as T;
}

/**
 * Text for a terminal: everything but newline and tab that could hide, reorder or move what is read
 * (C0 and C1 controls, DEL, bidirectional marks, overrides and isolates, zero-width and other format
 * characters, U+2028/U+2029, default-ignorable characters, spaces other than U+0020) written as visible
 * escapes, as strict as the consent page. Human output shows values from credentials, receipts and
 * servers anyone can sign; an ESC sequence in a credential's type could otherwise clear the screen or
 * recolour a refusal as a pass. Values are each made one line where they are printed ({@link oneLine});
 * this is the last pass over the whole document. (JSON output escapes control characters already.)
 */
export function visible(text: string): string {
  return escapeText(text);
}

/**
 * A refused decision exits 1, unless every reason is a fault (a status list or DID document that could
 * not be fetched, the store down): then it was not decided, and it exits 3 as that error would (retry).
 */
function refusalExit(reasons: unknown): number {
  if (!Array.isArray(reasons) || reasons.length === 0) return EXIT.REFUSED;
  const faults = reasons.every((r) => {
    const code = (r as { code?: unknown } | null)?.code;
    return typeof code === 'string' && Object.hasOwn(EXIT_CODE, code) && EXIT_CODE[code as CharterErrorCode] === EXIT.FAULT;
  });
  return faults ? EXIT.FAULT : EXIT.REFUSED;
}

/**
 * Runs a command body: collects the result, prints it (JSON or human), sets
 * the exit code (1 when the result is a refused decision), and turns errors
 * into one stderr line with their code.
 */
export async function runCommand<T>(
  ctx: CliContext,
  opts: CommonOptions,
  collect: () => Promise<T>,
  render: (result: T) => string,
  /** The command already wrote its output (JSON Lines on stdout): no result document after it, even with --json. */
  streamed?: (result: T) => boolean,
): Promise<void> {
  try {
    const result = hintAll(await collect());
    if (streamed?.(result)) {
      // printed as it went
    } else if (opts.json) ctx.stdout(JSON.stringify(result, null, 2));
    else {
      // Every value in the result one line of visible text (a credential's type, a bundle's key, a tool
      // name): only the renderer's own text breaks lines.
      const text = render(forDisplay(result));
      if (text) ctx.stdout(visible(text));
    }
    const ok = (result as { ok?: unknown } | null)?.ok;
    ctx.setExitCode(ok === false ? refusalExit((result as { reasons?: unknown }).reasons) : EXIT.OK);
  } catch (e) {
    reportError(ctx, opts, e);
  }
}

/** One line on stderr (`charter: <what to do> [CODE]`) and, with --json, `{ ok: false, error }` on stdout. */
export function reportError(ctx: CliContext, opts: CommonOptions, err: unknown): void {
  const e = pathError(err) ?? networkError(err) ?? err;
  const code = e instanceof CharterError ? e.code : 'INTERNAL';
  const message = withLoopbackHint(code, e instanceof Error ? e.message : String(e));
  if (opts.json) ctx.stdout(JSON.stringify({ ok: false, error: { code, message } }, null, 2));
  ctx.stderr(`charter: ${oneLine(message)} [${code}]`);
  if (opts.debug && e instanceof Error && e.stack) ctx.stderr(e.stack);
  ctx.setExitCode(exitCodeFor(e));
}

/** File-system errors a caller's path causes (a missing or read-only directory, a file where a directory is wanted). */
const PATH_ERRORS = new Set(['ENOENT', 'ENOTDIR', 'EISDIR', 'EACCES', 'EPERM', 'EROFS', 'EEXIST', 'ENAMETOOLONG']);

/** A path the caller named that cannot be read or written: a usage error (exit 2) naming the path, not an internal fault. */
function pathError(e: unknown): CharterError | undefined {
  const x = e as NodeJS.ErrnoException | undefined;
  if (!(e instanceof Error) || e instanceof CharterError || typeof x?.code !== 'string' || !PATH_ERRORS.has(x.code) || typeof x.path !== 'string') return undefined;
  return new CharterError('INVALID_ARGUMENT', `cannot ${x.syscall ?? 'use'} ${x.path} (${x.code}): check the path and its permissions`, { cause: e });
}

/**
 * fetch's own failure to reach a server (a TypeError "fetch failed" whose
 * cause is the socket's error): UNREACHABLE (exit 3, retry), naming where
 * and why, not INTERNAL, which says "a bug".
 */
function networkError(e: unknown): CharterError | undefined {
  if (!(e instanceof TypeError) || e.message !== 'fetch failed') return undefined;
  const c = (e as { cause?: { code?: unknown; address?: unknown; port?: unknown; hostname?: unknown; message?: unknown } }).cause;
  const code = typeof c?.code === 'string' ? c.code : undefined;
  const where = typeof c?.hostname === 'string' ? c.hostname : typeof c?.address === 'string' ? `${c.address}${typeof c.port === 'number' ? `:${c.port}` : ''}` : undefined;
  const why = [code, where].filter(Boolean).join(' ') || (typeof c?.message === 'string' ? c.message.slice(0, 80) : 'network error');
  return new CharterError('UNREACHABLE', `the server could not be reached (${why}): check the URL and that the server is up, then retry`, { cause: e });
}

/** A deprecated spelling still works for one release, with a notice on stderr. */
export function deprecated(ctx: CliContext, old: string, now: string): void {
  ctx.stderr(`charter: ${old} is deprecated, use ${now}`);
}

function homeRequest(opts: CommonOptions): OpenHomeRequest {
  return { ...(opts.home !== undefined ? { home: opts.home } : {}), ...(opts.allowLoopback ? { allowLoopback: true } : {}) };
}

/** Opens the existing home for one command and always closes it; NOT_INITIALIZED (and nothing created) when there is none. */
export async function withHome<T>(ctx: CliContext, opts: CommonOptions, fn: (home: Home) => Promise<T>): Promise<T> {
  const home = await ctx.openHome({ ...homeRequest(opts), create: false });
  try {
    return await fn(home);
  } finally {
    await home.close();
  }
}

/**
 * For verification, which needs no keystore: the home's tools when there is a
 * home (its own loopback origin allowed), else bare ones. A home named with
 * --home must exist: a mistyped one is NOT_INITIALIZED, not silently ignored.
 */
export async function withTools<T>(ctx: CliContext, opts: CommonOptions, fn: (tools: VerifyTools, home: Home | undefined) => Promise<T>): Promise<T> {
  let home: Home;
  try {
    home = await ctx.openHome({ ...homeRequest(opts), create: false });
  } catch (e) {
    if (!(e instanceof CharterError && e.code === 'NOT_INITIALIZED') || opts.home !== undefined) throw e;
    return fn(verifyTools({ allowLoopback: opts.allowLoopback === true || ctx.env.CHARTER_ALLOW_LOOPBACK === '1' }), undefined);
  }
  try {
    return await fn(home, home);
  } finally {
    await home.close();
  }
}

/** runCommand over an opened home: the common shape of a command that reads or writes the keystore. */
export function homeCommand<T>(ctx: CliContext, opts: CommonOptions, collect: (home: Home) => Promise<T>, render: (result: T) => string): Promise<void> {
  return runCommand(ctx, opts, () => withHome(ctx, opts, collect), render);
}

// ---- reading arguments ----

const MAX_INPUT = 1024 * 1024;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;

/** At most `limit` bytes (default 1 MiB) of standard input: INPUT_TOO_LARGE past it. */
export async function readStdin(ctx: CliContext, limit = MAX_INPUT): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of ctx.stdin) {
    const b = typeof c === 'string' ? Buffer.from(c) : (c as Buffer);
    size += b.length;
    if (size > limit) throw new CharterError('INPUT_TOO_LARGE', `standard input is larger than ${sizeText(limit)}`);
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A path to read a text argument from: a regular file, or a pipe or device (`<(…)`, /dev/stdin). */
function isFile(path: string): boolean {
  try {
    const st = statSync(path);
    return st.isFile() || st.isFIFO() || st.isCharacterDevice();
  } catch {
    return false;
  }
}

/** The size of a limit for a message: 1 MiB, 32 MiB, 512 KiB. */
function sizeText(bytes: number): string {
  return bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${Math.ceil(bytes / 1024)} KiB`;
}

/**
 * At most `limit` bytes (default 1 MiB) of a file, a pipe or a device, whose size stat cannot tell (a
 * FIFO or /dev/zero is size 0 and never ends): INPUT_TOO_LARGE past it, with no more than the limit and
 * one chunk read.
 */
export function readBounded(path: string, what: string, limit = MAX_INPUT): string {
  const fd = openSync(path, 'r');
  try {
    const chunks: Buffer[] = [];
    let size = 0;
    for (;;) {
      const b = Buffer.alloc(64 * 1024);
      const n = readSync(fd, b, 0, b.length, null);
      if (n === 0) break;
      size += n;
      if (size > limit) throw new CharterError('INPUT_TOO_LARGE', `${what} file ${path} is larger than ${sizeText(limit)}`);
      chunks.push(b.subarray(0, n));
    }
    return Buffer.concat(chunks).toString('utf8');
  } finally {
    closeSync(fd);
  }
}

/** Where an argument's text came from, for messages that say what was wrong with it. */
export type TextSource = 'inline' | 'file' | 'stdin';

/** A text argument given inline, as a file path, or `-` for stdin, with where it came from. */
export async function readTextSource(ctx: CliContext, arg: string, what: string): Promise<{ text: string; source: TextSource }> {
  if (arg === '-') return { text: (await readStdin(ctx)).trim(), source: 'stdin' };
  if (isFile(arg)) {
    if (statSync(arg).size > MAX_INPUT) throw new CharterError('INPUT_TOO_LARGE', `${what} file ${arg} is larger than 1 MiB`);
    try {
      return { text: readBounded(arg, what).trim(), source: 'file' };
    } catch (e) {
      if (e instanceof CharterError) throw e;
      throw new CharterError('INVALID_ARGUMENT', `${what} file ${arg} cannot be read`);
    }
  }
  return { text: arg, source: 'inline' };
}

/** A text argument that may be given inline, as a file path, or `-` for stdin. */
export async function readTextArg(ctx: CliContext, arg: string, what: string): Promise<string> {
  return (await readTextSource(ctx, arg, what)).text;
}

/** What a token argument that is not one is called: the file or stdin that does not hold it, or the argument itself. */
export function notA(source: TextSource, arg: string, what: string, kind: string, example: string): CharterError {
  if (source === 'file') return new CharterError('INVALID_ARGUMENT', `file ${arg.slice(0, 200)} does not hold ${kind} (${what})`);
  if (source === 'stdin') return new CharterError('INVALID_ARGUMENT', `standard input does not hold ${kind} (${what})`);
  return new CharterError('INVALID_ARGUMENT', `${what} argument is neither ${example}, an existing file, nor "-" for stdin`);
}

/** A JWT given inline, as a file, or `-`. */
export async function readJwtArg(ctx: CliContext, arg: string, what = 'JWT'): Promise<string> {
  const { text, source } = await readTextSource(ctx, arg, what);
  if (!JWT_SHAPE.test(text)) throw notA(source, arg, what, 'a JWT', 'a compact JWT');
  return text;
}

// The signature part may be empty (an unsecured alg "none" JWT): the verifier refuses it for its alg (exit 1), not the CLI for its shape.
const SD_JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*~[A-Za-z0-9_.~-]*$/;

/** An SD-JWT given inline, as a file, or `-` for stdin. */
export async function readSdJwtArg(ctx: CliContext, arg: string, what: string): Promise<string> {
  const { text, source } = await readTextSource(ctx, arg, what);
  if (!SD_JWT_SHAPE.test(text)) throw notA(source, arg, what, 'an SD-JWT', 'an SD-JWT (issuer JWT~disclosures~)');
  return text;
}

/** A grant in either format (a vc+jwt, or an SD-JWT VC as issued or presented), inline, as a file, or `-`. */
export async function readGrantArg(ctx: CliContext, arg: string, what = 'grant'): Promise<string> {
  const { text, source } = await readTextSource(ctx, arg, what);
  if (!JWT_SHAPE.test(text) && !SD_JWT_SHAPE.test(text)) throw notA(source, arg, what, 'a grant', 'a vc+jwt or an SD-JWT grant');
  return text;
}

/**
 * JWTs separated by whitespace (one per line) from a file or `-`, or given
 * inline. An inline argument that is no JWT is a path that does not exist,
 * and input holding nothing is a mistake: both INVALID_ARGUMENT (exit 2),
 * not an import of nothing that exits 0.
 */
export async function readJwtList(ctx: CliContext, arg: string, what: string): Promise<string[]> {
  const { text, source } = await readTextSource(ctx, arg, what);
  const jwts = text.split(/\s+/).filter(Boolean);
  if (source === 'inline' && !(jwts.length > 0 && jwts.every((t) => JWT_SHAPE.test(t)))) {
    throw new CharterError('INVALID_ARGUMENT', `no file ${arg.slice(0, 200)}: give files of ${what} (one JWT per line), or - for stdin`);
  }
  if (jwts.length === 0) throw new CharterError('INVALID_ARGUMENT', `${source === 'stdin' ? 'standard input' : `file ${arg.slice(0, 200)}`} holds no ${what}`);
  return jwts;
}

export function parseJsonArg(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new CharterError('INVALID_ARGUMENT', `${what} is not valid JSON`);
  }
}

/** One line per reason: its code, message and ref are each {@link oneLine}, whoever wrote them. */
export function formatReasons(reasons: Reason[]): string {
  return reasons.map((r) => `  ✗ ${oneLine(r.code)}: ${oneLine(r.message)}${r.ref ? ` (${oneLine(r.ref)})` : ''}`).join('\n');
}
