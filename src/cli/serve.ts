import type { Command } from 'commander';
import { CharterError } from '../errors.js';
import type { Home } from '../home/home.js';
import { serveHome } from '../server/serve.js';
import { leaf, reportError, type CliContext, type CommonOptions } from './io.js';

export function registerServe(program: Command, ctx: CliContext): void {
  leaf(
    program
      .command('serve')
      .description('serve status lists, did:web documents and (on loopback) the consent page')
      .option('--port <port>', 'TCP port', '8080')
      .option('--host <host>', 'address to listen on', '127.0.0.1')
      .option('--expose-consent', 'also serve the consent page on a non-loopback host (it can revoke grants)')
      .option('--status-max-age <seconds>', 'longest HTTP caches may keep a status list (the list ttl when shorter); verifiers still follow the list ttl (60 s)', '60'),
    [
      'charter serve --port 8080',
      'charter init --public-url http://127.0.0.1:8080 && charter serve --port 8080',
      'charter serve --status-max-age 10   # HTTP caches keep a list at most 10 s (verifiers: its ttl)',
    ],
  ).action(async (opts: CommonOptions & { port: string; host: string; exposeConsent?: boolean; statusMaxAge: string }) => {
    const port = Number(opts.port);
    if (!/^\d+$/.test(opts.port) || port > 65535) return reportError(ctx, opts, new CharterError('INVALID_ARGUMENT', `--port must be 0-65535`));
    const statusMaxAgeSeconds = Number(opts.statusMaxAge);
    if (!/^\d{1,7}$/.test(opts.statusMaxAge)) return reportError(ctx, opts, new CharterError('INVALID_ARGUMENT', '--status-max-age must be a whole number of seconds'));
    let home: Home | undefined;
    try {
      home = await ctx.openHome({ ...(opts.home !== undefined ? { home: opts.home } : {}), ...(opts.allowLoopback ? { allowLoopback: true } : {}), create: false });
      const running = await serveHome(home, { port, host: opts.host, exposeConsent: opts.exposeConsent === true, statusMaxAgeSeconds });
      // What the server decided from the address it bound (a host name is judged by what it resolved to).
      const consent = running.consent;
      if (opts.json) ctx.stdout(JSON.stringify({ url: running.url, consent }));
      else ctx.stdout(`serving ${home.dir} at ${running.url}${consent ? `\nconsent page: ${consent}` : ''}\n(Ctrl-C to stop)`);
      const opened = home;
      const stop = async () => {
        await running.close();
        await opened.close();
      };
      process.once('SIGINT', () => void stop());
      process.once('SIGTERM', () => void stop());
    } catch (e) {
      await home?.close();
      reportError(ctx, opts, e);
    }
  });
}
