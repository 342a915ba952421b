import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { makeProgram } from '../../src/cli/main.js';
import { tempDir } from '../helpers.js';
import { inProcess } from './harness.js';

const program = await makeProgram({
  stdout: () => undefined,
  stderr: () => undefined,
  env: {},
  stdin: process.stdin,
  setExitCode: () => undefined,
  openHome: () => Promise.reject(new Error('not opened')),
});

function leaves(c: Command, path: string[] = []): [string, Command][] {
  return c.commands.flatMap((s) => (s.commands.length ? leaves(s, [...path, s.name()]) : [[[...path, s.name()].join(' '), s] as [string, Command]]));
}
const find = (path: string) => leaves(program).find(([p]) => p === path)![1];
const flags = (c: Command) => c.options.map((o) => o.long);

/** Every signing verb and the spellings of its acting identity that still work for one release (README "Upgrading from 0.1"). */
const SIGNING: Record<string, string[]> = {
  'vc issue': ['--issuer'],
  'vp create': ['--holder'],
  'grant issue': ['--from'],
  'agent create': ['--operator'],
  'agent authorize': ['--principal'],
  'agent delegate': ['--from'],
  'agent present': ['--agent'],
  'rep receipt': ['--agent'],
  'rep attest': ['--from'],
  'sd-jwt issue': ['--issuer'],
  'sd-jwt present': ['--holder'],
  'http get': [],
  'http post': [],
  'agent directory': [],
  'pool vote': [],
  'pool admit': [],
  'pool accept': [],
  'pool leave': [],
  'pool report': [],
  'audit checkpoint': [],
  'audit report': [],
  'evidence export': [],
};

describe('the CLI surface', () => {
  it.each(leaves(program).map(([p, c]) => [p, c] as const))('charter %s takes the common options (--json, --home, --debug, --allow-loopback)', (_p, c) => {
    expect(flags(c)).toEqual(expect.arrayContaining(['--json', '--home', '--debug', '--allow-loopback']));
  });

  it.each(Object.entries(SIGNING))('charter %s names its acting identity with --as; the old spellings are hidden', (path, old) => {
    const c = find(path);
    expect(flags(c)).toContain('--as');
    for (const o of old) {
      expect(flags(c)).toContain(o);
      expect(c.options.find((x) => x.long === o)!.hidden).toBe(true);
    }
    expect(c.helpInformation()).toMatch(/--as <alias\|did>/);
  });

  it('no other command has --as, and no command uses a deprecated spelling visibly', () => {
    for (const [p, c] of leaves(program)) {
      if (!(p in SIGNING)) expect([p, flags(c)]).not.toEqual([p, expect.arrayContaining(['--as'])]);
      const visible = c.options.filter((o) => !o.hidden).map((o) => o.long);
      for (const o of SIGNING[p] ?? []) expect(visible).not.toContain(o);
    }
  });
});

describe('usage errors, including those commander finds, are one line with a code (and a JSON error with --json)', () => {
  const run = inProcess(tempDir('charter-usage-'), () => 'x');
  it.each([
    [['grant', 'list', '--bogus'], /^charter: unknown option '--bogus' \(see `charter grant list --help`\) \[INVALID_ARGUMENT\]$/],
    [['id', 'show'], /^charter: missing required argument 'name-or-did' \(see `charter id show --help`\) \[INVALID_ARGUMENT\]$/],
    [['grant', 'isue'], /^charter: unknown command 'isue' \(Did you mean issue\?\) \(see `charter grant --help`\) \[INVALID_ARGUMENT\]$/],
    [['grant'], /^charter: `charter grant` needs a command: issue, list, revoke, suspend, resume, verify \(see `charter grant --help`\) \[INVALID_ARGUMENT\]$/],
    [['nosuch'], /^charter: unknown command 'nosuch' \(see `charter --help`\) \[INVALID_ARGUMENT\]$/],
    [
      ['pool', 'vote', '-3fA9xQ', '--as', 'ana', '--approve'],
      /^charter: unknown option '-3fA9xQ'; if -3fA9xQ is a value, put it last after `--`: `charter pool vote \[options\] -- -3fA9xQ` \(see `charter pool vote --help`\) \[INVALID_ARGUMENT\]$/,
    ],
    [['agent', 'verify', 'x'], /^charter: required option '--aud <did>' not specified \(see `charter agent verify --help`\) \[INVALID_ARGUMENT\]$/],
  ])('charter %s', async (args, line) => {
    const r = await run(args as string[]);
    expect([r.code, r.out]).toEqual([2, '']);
    expect(r.err).toMatch(line as RegExp);
    const j = await run([...(args as string[]), '--json']);
    expect(j.code).toBe(2);
    expect(JSON.parse(j.out)).toEqual({ ok: false, error: { code: 'INVALID_ARGUMENT', message: expect.any(String) } });
    expect(j.err.split('\n')).toHaveLength(1);
  });

  it('--help and --version still print and exit 0', async () => {
    const h = await run(['grant', 'issue', '--help']);
    expect(h.code).toBe(0);
    expect(h.out).toMatch(/Examples:\n\s+\$ charter grant issue --as alice/);
    expect((await run(['--version'])).out).toMatch(/^\d+\.\d+\.\d+$/);
  });
});
