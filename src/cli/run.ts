import { runCli } from './main.js';

// A reader that stops early (`charter … | head`) must not turn into a crash.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});

await runCli(process.argv.slice(2));
