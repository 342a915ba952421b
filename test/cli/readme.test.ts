import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';
import { BIN, freePort } from './harness.js';

/**
 * README's tours, run as written: every ```sh block of "A person, from the
 * CLI" and "An agent framework", in order, on a throwaway home, with the
 * built `charter`. A README that stops working fails CI. The only edits: the
 * port 8080 becomes a free one, and each elided id (`urn:uuid:…`) becomes the
 * id printed by the command that issued it (the table below).
 */
const README = readFileSync(resolve(__dirname, '..', '..', 'README.md'), 'utf8');
const TOURS = ['### A person, from the CLI', '### An agent framework'];

/** Where each elided id comes from: the `id:` line of the last command that issued that kind of credential. */
const ELIDED: { uses: RegExp; from: RegExp }[] = [
  { uses: /^charter grant (revoke|suspend|resume)\b/, from: /^charter grant issue\b/ },
  { uses: /^charter agent (delegate|revoke)\b/, from: /^charter agent authorize\b/ },
];

function section(title: string): string {
  const start = README.indexOf(title);
  if (start < 0) throw new Error(`README has no section "${title}"`);
  const rest = README.slice(start + title.length);
  const end = rest.search(/\n##+ /);
  return end < 0 ? rest : rest.slice(0, end);
}

/** The commands of a section's sh blocks: continuation lines joined, blank and comment-only lines dropped. */
function commands(text: string): string[] {
  const out: string[] = [];
  for (const m of text.matchAll(/```sh\n([\s\S]*?)```/g)) {
    let pending = '';
    for (const raw of m[1]!.split('\n')) {
      const line = pending + raw.trim();
      if (line.endsWith('\\')) {
        pending = line.slice(0, -1).trimEnd() + ' ';
        continue;
      }
      pending = '';
      if (line !== '' && !line.startsWith('#')) out.push(line);
    }
  }
  return out;
}

function bash(line: string, env: NodeJS.ProcessEnv, cwd: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((res, rej) => {
    const child = spawn('bash', ['-c', line], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', rej);
    child.on('close', (code) => res({ code: code ?? -1, stdout, stderr }));
  });
}

describe("README's CLI tours run as written", () => {
  const background: ChildProcess[] = [];
  afterAll(() => {
    for (const c of background) c.kill('SIGTERM');
  });

  it('every command of "A person, from the CLI" and "An agent framework" exits 0, in order, on a throwaway home', async () => {
    const tours = TOURS.map((t) => commands(section(t)));
    expect(tours.map((t) => t.length)).toEqual([expect.any(Number), expect.any(Number)]);
    for (const t of tours) expect(t.length).toBeGreaterThan(3);

    const root = tempDir('charter-readme-');
    const bin = join(root, 'bin');
    mkdirSync(bin);
    writeFileSync(join(bin, 'charter'), `#!/bin/sh\nexec "${process.execPath}" "${BIN}" "$@"\n`);
    chmodSync(join(bin, 'charter'), 0o755);
    const cwd = join(root, 'work');
    mkdirSync(cwd);
    // A user's environment: no passphrase and no loopback switch until the README sets them.
    let env: NodeJS.ProcessEnv = { PATH: `${bin}:${process.env.PATH}`, HOME: root, CHARTER_HOME: join(root, '.charter') };
    const port = String(await freePort());
    const printed: { line: string; id: string }[] = [];
    const ran: string[] = [];

    for (const original of tours.flat()) {
      let line = original.replaceAll('8080', port);
      const rule = ELIDED.find((r) => r.uses.test(line));
      if (rule && line.includes('urn:uuid:…')) {
        const source = [...printed].reverse().find((p) => rule.from.test(p.line));
        expect(source, `no earlier command printed the id that "${original}" elides`).toBeDefined();
        line = line.replace('urn:uuid:…', source!.id);
      }
      expect(line, 'an elided value this test cannot fill').not.toMatch(/…/);

      if (line.startsWith('export ')) {
        const r = await bash(`${line}\nenv -0`, env, cwd);
        expect(r.code).toBe(0);
        env = Object.fromEntries(
          r.stdout
            .split('\0')
            .filter(Boolean)
            .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
        );
        ran.push(original);
        continue;
      }
      const bg = /^(.*?)\s+&\s*(#.*)?$/.exec(line);
      if (bg) {
        const child = spawn('bash', ['-c', `exec ${bg[1]}`], { env, cwd, stdio: ['ignore', 'pipe', 'pipe'] });
        background.push(child);
        await new Promise<void>((res, rej) => {
          let out = '';
          child.stdout!.on('data', (d: Buffer) => (out += d.toString()).includes('serving') && res());
          child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
          child.on('exit', (c) => rej(new Error(`"${original}" exited ${c}: ${out}`)));
        });
        ran.push(original);
        continue;
      }
      const r = await bash(line, env, cwd);
      expect({ command: original, code: r.code, stderr: r.stderr }).toEqual({ command: original, code: 0, stderr: '' });
      const id = /^id:\s+(urn:uuid:[0-9a-f-]{36})$/m.exec(r.stdout)?.[1];
      if (id) printed.push({ line, id });
      if (/^charter grant revoke\b/.test(line)) expect(r.stdout).toMatch(/verifiers that check status see this within \d+ s/);
      if (/^charter agent verify\b/.test(line)) expect(r.stdout).toMatch(/^✓ allowed: purchase 20USD/);
      if (/^charter agent revoke\b/.test(line)) expect(r.stdout).toMatch(/verifiers that check status see this within \d+ s/);
      ran.push(original);
    }
    expect(ran).toEqual(tours.flat());
  }, 300_000);
});
