import { existsSync, readFileSync, statSync } from 'node:fs';
import { Command } from 'commander';
import { CharterError, type CharterErrorCode, type Reason } from '../errors.js';
import { openHome, type Home } from '../home/home.js';

/** Exit codes (README): 0 ok, 1 refused (decision printed), 2 usage, 3 fault. */
export const EXIT = { OK: 0, REFUSED: 1, USAGE: 2, FAULT: 3 } as const;

/** What a command may touch: injected so tests run the CLI in-process. */
export interface CliContext {
  stdout: (s: string) => void;
  stderr: (s: string) => void;
  env: NodeJS.ProcessEnv;
  stdin: NodeJS.ReadableStream & { isTTY?: boolean };
  setExitCode: (code: number) => void;
  /** Opens the home named by --home, $CHARTER_HOME or ~/.charter. */
  openHome: (opts: { home?: string; allowLoopback?: boolean }) => Promise<Home>;
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
  };
}

export interface CommonOptions {
  json?: boolean;
  debug?: boolean;
  home?: string;
  allowLoopback?: boolean;
}

/** Codes that mean the caller asked wrongly, not that something broke. */
const USAGE_CODES: ReadonlySet<CharterErrorCode> = new Set(['INVALID_ARGUMENT', 'INPUT_TOO_LARGE', 'AUTHORITY_WIDENED', 'SCHEMA_INVALID']);

export function exitCodeFor(e: unknown): number {
  if (e instanceof CharterError) return USAGE_CODES.has(e.code) ? EXIT.USAGE : EXIT.FAULT;
  return EXIT.FAULT;
}

/** Adds the options every leaf command has. */
export function leaf(cmd: Command, examples: string[] = []): Command {
  cmd
    .option('--json', 'print one JSON document on stdout')
    .option('--home <dir>', 'Charter home (default: $CHARTER_HOME or ~/.charter)')
    .option('--debug', 'print stack traces on faults');
  if (examples.length > 0) cmd.addHelpText('after', '\nExamples:\n' + examples.map((e) => `  $ ${e}`).join('\n'));
  return cmd;
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
): Promise<void> {
  try {
    const result = await collect();
    if (opts.json) ctx.stdout(JSON.stringify(result, null, 2));
    else {
      const text = render(result);
      if (text) ctx.stdout(text);
    }
    const ok = (result as { ok?: unknown } | null)?.ok;
    ctx.setExitCode(ok === false ? EXIT.REFUSED : EXIT.OK);
  } catch (e) {
    reportError(ctx, opts, e);
  }
}

export function reportError(ctx: CliContext, opts: CommonOptions, e: unknown): void {
  const code = e instanceof CharterError ? e.code : 'INTERNAL';
  const message = e instanceof Error ? e.message : String(e);
  if (opts.json) ctx.stdout(JSON.stringify({ ok: false, error: { code, message } }, null, 2));
  ctx.stderr(`charter: ${message} [${code}]`);
  if (opts.debug && e instanceof Error && e.stack) ctx.stderr(e.stack);
  ctx.setExitCode(exitCodeFor(e));
}

/** Opens the home for one command and always closes it. */
export async function withHome<T>(ctx: CliContext, opts: CommonOptions, fn: (home: Home) => Promise<T>): Promise<T> {
  const home = await ctx.openHome({
    ...(opts.home !== undefined ? { home: opts.home } : {}),
    ...(opts.allowLoopback ? { allowLoopback: true } : {}),
  });
  try {
    return await fn(home);
  } finally {
    await home.close();
  }
}

const MAX_INPUT = 1024 * 1024;
const JWT_SHAPE = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*$/;

async function readStdin(ctx: CliContext): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of ctx.stdin) {
    const b = typeof c === 'string' ? Buffer.from(c) : (c as Buffer);
    size += b.length;
    if (size > MAX_INPUT) throw new CharterError('INPUT_TOO_LARGE', 'standard input is larger than 1 MiB');
    chunks.push(b);
  }
  return Buffer.concat(chunks).toString('utf8');
}

/** A text argument that may be given inline, as a file path, or `-` for stdin. */
export async function readTextArg(ctx: CliContext, arg: string, what: string): Promise<string> {
  if (arg === '-') return (await readStdin(ctx)).trim();
  if (existsSync(arg) && statSync(arg).isFile()) {
    if (statSync(arg).size > MAX_INPUT) throw new CharterError('INPUT_TOO_LARGE', `${what} file ${arg} is larger than 1 MiB`);
    return readFileSync(arg, 'utf8').trim();
  }
  return arg;
}

/** A JWT given inline, as a file, or `-`. */
export async function readJwtArg(ctx: CliContext, arg: string, what = 'JWT'): Promise<string> {
  const text = await readTextArg(ctx, arg, what);
  if (!JWT_SHAPE.test(text)) {
    throw new CharterError('INVALID_ARGUMENT', `${what} argument is neither a compact JWT, a readable file, nor "-" for stdin`);
  }
  return text;
}

export function parseJsonArg(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new CharterError('INVALID_ARGUMENT', `${what} is not valid JSON`);
  }
}

export function formatReasons(reasons: Reason[]): string {
  return reasons.map((r) => `  ✗ ${r.code}: ${r.message}${r.ref ? ` (${r.ref})` : ''}`).join('\n');
}

/** runCommand over an opened home: the common shape of a command that reads or writes the keystore. */
export function homeCommand<T>(ctx: CliContext, opts: CommonOptions, collect: (home: Home) => Promise<T>, render: (result: T) => string): Promise<void> {
  return runCommand(ctx, opts, () => withHome(ctx, opts, collect), render);
}
