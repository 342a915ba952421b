import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { tempDir } from '../helpers.js';

export const BIN = resolve(__dirname, '..', '..', 'bin', 'charter');

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** A fresh CHARTER_HOME and the environment a user would have. */
export function freshEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const home = tempDir('charter-cli-');
  return { PATH: process.env.PATH, HOME: home, CHARTER_HOME: join(home, '.charter'), CHARTER_PASSPHRASE: 'correct horse battery staple', ...extra };
}

/** Runs the built `bin/charter` as a user would (no TTY on stdin). */
export function charter(args: string[], env: NodeJS.ProcessEnv, stdin?: string): Promise<RunResult> {
  return new Promise((res, rej) => {
    const child = spawn(process.execPath, [BIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', rej);
    child.on('close', (code) => res({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(stdin ?? '');
  });
}

/** Parses the one JSON document a `--json` command prints. */
export function json<T = Record<string, unknown>>(r: RunResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
}

/** A TCP port free on 127.0.0.1 right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

/** Starts `charter serve --port PORT` as a real process and waits until it listens. */
export async function startServe(env: NodeJS.ProcessEnv, port: number): Promise<ChildProcess> {
  const server = spawn(process.execPath, [BIN, 'serve', '--port', String(port)], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    server.stdout!.on('data', (d: Buffer) => d.toString().includes('serving') && resolve());
    server.on('exit', (c) => reject(new Error(`charter serve exited ${c}`)));
  });
  return server;
}

/** One in-process run of the CLI (the runCli + injected context pattern of test/http/cli.test.ts). */
export interface InProcess {
  code: number;
  out: string;
  err: string;
}

/**
 * The CLI in process on the home `dir`, as a user with `passphrase` runs it:
 * the real openHome and initHome (so `create: false` and init's cleanup are
 * what is tested), the passphrase supplied as CHARTER_PASSPHRASE would be.
 */
export function inProcess(dir: string, passphrase: () => string, env: NodeJS.ProcessEnv = {}) {
  return async (args: string[], stdin = ''): Promise<InProcess> => {
    const { runCli } = await import('../../src/cli/main.js');
    const { openHome, initHome } = await import('../../src/home/home.js');
    const { Readable } = await import('node:stream');
    let out = '';
    let err = '';
    let code = 0;
    const pass = passphrase();
    await runCli(args, {
      stdout: (s) => (out += s + '\n'),
      stderr: (s) => (err += s + '\n'),
      env,
      stdin: Readable.from(stdin ? [Buffer.from(stdin)] : []),
      setExitCode: (c) => (code = c),
      openHome: (o) => openHome({ ...o, home: o.home ?? dir, env, passphrase: async () => pass }),
      initHome: (o) => initHome({ ...o, home: o.home ?? dir, env, passphrase: async () => pass }),
    });
    return { code, out: out.trim(), err: err.trim() };
  };
}
