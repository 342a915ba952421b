import { Command, CommanderError } from 'commander';
import { defaultContext, EXIT, type CliContext } from './io.js';
import { registerInit } from './init.js';
import { registerId } from './id.js';
import { registerDid } from './did.js';
import { registerVc } from './vc.js';
import { registerVp } from './vp.js';
import { registerGrant } from './grant.js';
import { registerStatus } from './status.js';
import { registerServe } from './serve.js';
import { registerAgent } from './agent.js';
import { registerRep } from './rep.js';
import { registerDemo } from './demo.js';
import { registerHttp } from './http.js';
import { registerSdJwt } from './sdjwt.js';
import { registerMandate } from './mandate.js';
import { registerAudit } from './audit.js';
import { registerEvidence } from './evidence.js';

export const VERSION = '0.1.0';

/** Builds the `charter <noun> <verb>` tree; tests run it in-process with their own context. */
export function makeProgram(ctx: CliContext = defaultContext()): Command {
  const program = new Command('charter')
    .description('Self-sovereign identity and Know Your Agent: DIDs, verifiable credentials, revocable grants, agent authority.')
    .version(VERSION)
    .showHelpAfterError('(add --help for usage and examples)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.stdout(s.replace(/\n$/, '')),
      writeErr: (s) => ctx.stderr(s.replace(/\n$/, '')),
    });
  registerInit(program, ctx);
  registerId(program, ctx);
  registerDid(program, ctx);
  registerVc(program, ctx);
  registerVp(program, ctx);
  registerGrant(program, ctx);
  registerStatus(program, ctx);
  registerServe(program, ctx);
  registerAgent(program, ctx);
  registerRep(program, ctx);
  registerDemo(program, ctx);
  registerHttp(program, ctx);
  registerSdJwt(program, ctx);
  registerMandate(program, ctx);
  registerAudit(program, ctx);
  registerEvidence(program, ctx);
  for (const c of allCommands(program)) c.exitOverride().configureOutput(program.configureOutput());
  return program;
}

function allCommands(c: Command): Command[] {
  return c.commands.flatMap((s) => [s, ...allCommands(s)]);
}

/** Parse argv (without node and script), run, and set the exit code. */
export async function runCli(argv: string[], ctx: CliContext = defaultContext()): Promise<void> {
  const program = makeProgram(ctx);
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (e) {
    if (e instanceof CommanderError) {
      // --help and --version exit 0; a noun without its verb shows help and is a usage error.
      ctx.setExitCode(e.exitCode === 0 ? EXIT.OK : EXIT.USAGE);
      return;
    }
    ctx.stderr(`charter: ${e instanceof Error ? e.message : String(e)} [INTERNAL]`);
    ctx.setExitCode(EXIT.FAULT);
  }
}
