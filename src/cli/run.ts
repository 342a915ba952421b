import { runCli } from './main.js';
import { defaultContext, EXIT } from './io.js';

/** The exit code the command set (0 until it sets one). */
let exitCode: number = EXIT.OK;
let finished = false;

// A reader that stops early (`charter … | head`) must not turn into a crash.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') {
    finished = true;
    process.exit(exitCode);
  }
  throw e;
});

// Until the command has run, the exit code says it did not: a command whose promise never settles
// (a prompt whose input vanished) lets Node end the process with an empty event loop, and that must
// read as a fault, never as success (exit 0).
process.exitCode = EXIT.FAULT;
process.on('exit', () => {
  if (!finished) process.stderr.write('charter: the command stopped before it finished (nothing was left for it to wait on) [INTERNAL]\n');
});
const ctx = defaultContext();
await runCli(process.argv.slice(2), {
  ...ctx,
  setExitCode: (c) => {
    exitCode = c;
    ctx.setExitCode(c);
  },
});
finished = true;
process.exitCode = exitCode;
