import { Command, CommanderError } from 'commander';
import { defaultContext, EXIT, reportError, type CliContext } from './io.js';
import { CharterError } from '../errors.js';
import { registrarsFor } from './nouns.js';

export const VERSION = '0.1.0';

/**
 * Builds the `charter <noun> <verb>` tree; tests run it in-process with their own context. With
 * `argv`, only the noun it names is built (the whole tree when it names none): see nouns.ts.
 */
export async function makeProgram(ctx: CliContext = defaultContext(), argv?: readonly string[]): Promise<Command> {
  const registrars = await registrarsFor(argv);
  const program = new Command('charter')
    .description('Self-sovereign identity and Know Your Agent: DIDs, verifiable credentials, revocable grants, agent authority.')
    .version(VERSION)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.stdout(s.replace(/\n$/, '')),
      // Usage errors are printed by runCli in the one-line form every error has; commander's own text is dropped.
      writeErr: () => undefined,
      outputError: () => undefined,
    });
  for (const register of registrars) register(program, ctx);
  for (const c of allCommands(program)) c.exitOverride().configureOutput(program.configureOutput());
  return program;
}

function allCommands(c: Command): Command[] {
  return c.commands.flatMap((s) => [s, ...allCommands(s)]);
}

/** The command an argv names: the deepest subcommand its words reach. */
function commandOf(program: Command, argv: string[]): Command {
  let cmd = program;
  for (const word of argv) {
    if (word.startsWith('-')) continue;
    const next = cmd.commands.find((c) => c.name() === word || c.aliases().includes(word));
    if (!next) break;
    cmd = next;
  }
  return cmd;
}

function fullName(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

/**
 * A usage error found by commander (unknown option or command, missing
 * argument, a noun without its verb) in the form of every other error:
 * one line on stderr with its code, and the JSON error with --json.
 */
function usageError(program: Command, argv: string[], e: CommanderError): CharterError {
  const cmd = commandOf(program, argv);
  const help = `see \`${fullName(cmd)} --help\``;
  if (e.code === 'commander.help') {
    const verbs = cmd.commands.map((c) => c.name()).join(', ');
    return new CharterError('INVALID_ARGUMENT', `\`${fullName(cmd)}\` needs a command: ${verbs} (${help})`);
  }
  return new CharterError(
    'INVALID_ARGUMENT',
    `${e.message
      .replace(/^error: /, '')
      .replace(/\s*\n\s*/g, ' ')
      .replace(/\.$/, '')}${valueHint(cmd, e)} (${help})`,
  );
}

/**
 * A value that starts with "-" (a base64url hash prefix such as "-3fA9…")
 * reads as an option to commander; when the command takes arguments and the
 * token is not shaped like a long option, say how to pass it as a value.
 */
function valueHint(cmd: Command, e: CommanderError): string {
  const token = /unknown option '(-[^-].*)'/.exec(e.message)?.[1];
  if (e.code !== 'commander.unknownOption' || !token || cmd.registeredArguments.length === 0) return '';
  return `; if ${token} is a value, put it last after \`--\`: \`${fullName(cmd)} [options] -- ${token}\``;
}

/** Parse argv (without node and script), run, and set the exit code. */
export async function runCli(argv: string[], ctx: CliContext = defaultContext()): Promise<void> {
  const program = await makeProgram(ctx, argv);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version exit 0; everything else commander stops on is a usage error.
      if (e.exitCode === 0) return ctx.setExitCode(EXIT.OK);
      // `charter help [noun]` and `charter <noun> help [verb]` asked for the help it printed: success too. (Commander
      // exits them with process.exitCode, which run.ts holds at FAULT until the command finishes.)
      if (
        e.code === 'commander.help' &&
        argv
          .filter((a) => !a.startsWith('-'))
          .slice(0, 2)
          .includes('help')
      )
        return ctx.setExitCode(EXIT.OK);
      return reportError(ctx, { json: argv.includes('--json') }, usageError(program, argv, e));
    }
    reportError(ctx, { json: argv.includes('--json') }, e);
  }
}
