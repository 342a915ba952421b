import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { makeProgram, runCli, VERSION } from '../../src/cli/main.js';
import { NOUNS } from '../../src/cli/nouns.js';
import type { CliContext } from '../../src/cli/io.js';

/*
 * A command builds only its own noun (src/cli/nouns.ts). That must never change what the command
 * is: the table names every top-level command of the whole tree, in order, and a noun built alone
 * has the same verbs, arguments and options as in the whole tree.
 */
function quiet(out: string[] = []): CliContext {
  return {
    stdout: (s) => out.push(s),
    stderr: () => undefined,
    env: {},
    stdin: process.stdin,
    setExitCode: () => undefined,
    openHome: () => Promise.reject(new Error('not opened')),
  };
}

/** A command's shape: its name, arguments, options and, recursively, its subcommands. */
function shape(c: Command): unknown {
  return {
    name: c.name(),
    aliases: c.aliases(),
    description: c.description(),
    args: c.registeredArguments.map((a) => [a.name(), a.required, a.variadic]),
    options: c.options.map((o) => [o.flags, o.description, o.defaultValue]),
    commands: c.commands.map(shape),
  };
}

describe('the CLI builds one noun per command', () => {
  it('the table lists every top-level command of the whole tree, in the order help shows them', async () => {
    const whole = await makeProgram(quiet());
    expect(whole.commands.map((c) => c.name())).toEqual(NOUNS.flatMap((n) => n.names));
  });

  it('each noun built alone has exactly its own commands, the same as in the whole tree', async () => {
    const whole = await makeProgram(quiet());
    for (const noun of NOUNS) {
      for (const name of noun.names) {
        const alone = await makeProgram(quiet(), [name, '--help']);
        expect(alone.commands.map((c) => c.name())).toEqual(noun.names);
        for (const n of noun.names) {
          expect(shape(alone.commands.find((c) => c.name() === n)!)).toEqual(shape(whole.commands.find((c) => c.name() === n)!));
        }
      }
    }
  });

  it('no noun, help, an option first or a mistyped noun build the whole tree', async () => {
    const all = NOUNS.flatMap((n) => n.names);
    for (const argv of [[], ['help'], ['--help'], ['--json', 'vc'], ['vcc', 'issue'], ['VC'], ['constructor'], ['__proto__'], ['toString']]) {
      expect((await makeProgram(quiet(), argv)).commands.map((c) => c.name())).toEqual(all);
    }
  });

  it('--version prints the version and builds no noun; a mistyped noun is still a usage error naming it', async () => {
    const out: string[] = [];
    let code = -1;
    await runCli(['--version'], { ...quiet(out), setExitCode: (c) => (code = c) });
    expect({ out, code }).toEqual({ out: [VERSION], code: 0 });
    const err: string[] = [];
    await runCli(['vcc', 'issue', '--json'], { ...quiet(err), setExitCode: (c) => (code = c) });
    expect(code).toBe(2);
    expect(err.join('\n')).toMatch(/vcc/);
  });
});
