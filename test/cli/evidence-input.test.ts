import { spawn, spawnSync } from 'node:child_process';
import { closeSync, openSync, ftruncateSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, json, type RunResult } from './harness.js';
import { tempDir } from '../helpers.js';

/*
 * `evidence verify FILE` reads at most its 32 MiB cap whatever FILE is: a
 * pipe or a device has no size to check first (stat says 0), and /dev/zero
 * never ends (it once read until the process aborted with bad_alloc). The
 * built CLI runs under a 1.5 GB address-space limit where prlimit exists, so
 * a reader that is not bounded fails here rather than swapping the machine.
 */
const MiB = 1024 * 1024;
const prlimit = spawnSync('prlimit', ['--version'], { stdio: 'ignore' }).status === 0;
const mkfifo = spawnSync('mkfifo', ['--version'], { stdio: 'ignore' }).status === 0;

/** `charter evidence verify FILE --json` under the address-space limit; `feed`: a shell command piped into it. */
function verify(file: string, feed?: string): Promise<RunResult> {
  const argv = [process.execPath, BIN, 'evidence', 'verify', file, '--json'];
  const [cmd, ...args] = prlimit ? ['prlimit', '--as=1500000000', ...argv] : argv;
  const [bin, ...rest] = feed === undefined ? [cmd!, ...args] : ['sh', '-c', `${feed} | "$@"`, 'sh', cmd!, ...args];
  return new Promise((res, rej) => {
    const child = spawn(bin!, rest, { env: { PATH: process.env.PATH }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', rej);
    child.on('close', (code) => res({ code: code ?? -1, stdout, stderr }));
  });
}

/** A FIFO fed `bytes` bytes of `fill` by another process (which gets SIGPIPE when the reader stops early). */
function fifo(bytes: number, fill = '/dev/zero'): string {
  const path = join(tempDir(), 'bundle.fifo');
  expect(spawnSync('mkfifo', [path]).status).toBe(0);
  spawn('sh', ['-c', `head -c ${bytes} ${fill} > '${path}'`], { stdio: 'ignore' }).unref();
  return path;
}

const errorOf = (r: RunResult) => json<{ ok: false; error: { code: string; message: string } }>(r).error;

describe('evidence verify reads at most 32 MiB of a bundle', () => {
  it('/dev/zero: INPUT_TOO_LARGE (exit 2), not a crash', async () => {
    const r = await verify('/dev/zero');
    expect(r.code, r.stderr).toBe(2);
    expect(errorOf(r).code).toBe('INPUT_TOO_LARGE');
    expect(errorOf(r).message).toMatch(/32 MiB/);
  }, 60_000);

  it.skipIf(!mkfifo)(
    'a FIFO longer than 32 MiB: INPUT_TOO_LARGE; one of 32 MiB exactly is read (and is not JSON)',
    async () => {
      const over = await verify(fifo(32 * MiB + 1));
      expect(over.code, over.stderr).toBe(2);
      expect(errorOf(over).code).toBe('INPUT_TOO_LARGE');
      const at = await verify(fifo(32 * MiB));
      expect(at.code, at.stderr).toBe(2);
      expect(errorOf(at).code).toBe('INVALID_ARGUMENT');
      expect(errorOf(at).message).toMatch(/is not JSON/);
    },
    60_000,
  );

  it.skipIf(!mkfifo)(
    'a small bundle through a FIFO is still read (a pipe is a fine input)',
    async () => {
      const src = join(tempDir(), 'small.json');
      writeFileSync(src, '{"not":"a bundle"}');
      const r = await verify(fifo(1000, src));
      // Read and parsed: what is refused is the content, not the input.
      expect(r.code).toBe(2);
      expect(errorOf(r).message).toMatch(/not a Charter evidence bundle/);
    },
    60_000,
  );

  it('`-` reads standard input under the same cap: /dev/zero piped in is INPUT_TOO_LARGE; JSON with two meanings, or none, is refused', async () => {
    const run = (feed: string) => verify('-', feed);
    const zero = await run('cat /dev/zero');
    expect(zero.code, zero.stderr).toBe(2);
    expect(errorOf(zero)).toMatchObject({ code: 'INPUT_TOO_LARGE', message: expect.stringMatching(/standard input .*32 MiB/) });
    const over = await run(`head -c ${32 * MiB + 1} /dev/zero`);
    expect(errorOf(over).code).toBe('INPUT_TOO_LARGE');
    const notJson = await run("printf 'not json'");
    expect([notJson.code, errorOf(notJson)]).toEqual([2, expect.objectContaining({ code: 'INVALID_ARGUMENT', message: expect.stringMatching(/standard input is not JSON/) })]);
    const twoMeanings = await run(`printf '{"receipt":"a","receipt":"b"}'`);
    expect([twoMeanings.code, errorOf(twoMeanings).code]).toEqual([2, 'INVALID_ARGUMENT']);
    const empty = await run('true');
    expect([empty.code, errorOf(empty).code]).toEqual([2, 'INVALID_ARGUMENT']);
  }, 60_000);

  it('a regular file past 32 MiB (sparse, nothing read): INPUT_TOO_LARGE', async () => {
    const path = join(tempDir(), 'big.json');
    const fd = openSync(path, 'w');
    ftruncateSync(fd, 32 * MiB + 1);
    closeSync(fd);
    const r = await verify(path);
    expect(r.code).toBe(2);
    expect(errorOf(r).code).toBe('INPUT_TOO_LARGE');
  }, 60_000);
});
