import type { Command } from 'commander';
import { CharterError } from '../errors.js';
import type { Home } from '../home/home.js';
import { homeCommand, leaf, runCommand, type CliContext, type CommonOptions, type OpenHomeRequest } from './io.js';

interface InitOptions extends CommonOptions {
  publicUrl?: string;
}

/** `charter init` is the one command that creates a home; a failed init removes what it created. */
async function initialize(ctx: CliContext, req: OpenHomeRequest, publicUrl: string | undefined): Promise<{ home: Home; created: boolean }> {
  if (ctx.initHome) return ctx.initHome({ ...req, ...(publicUrl !== undefined ? { publicUrl } : {}) });
  const home = await ctx.openHome({ ...req, create: true });
  try {
    return { home, created: (await home.init(publicUrl)).created };
  } catch (e) {
    await home.close();
    throw e;
  }
}

export function registerInit(program: Command, ctx: CliContext): void {
  leaf(
    program
      .command('init')
      .description('create the Charter home (encrypted keystore); safe to run again')
      .option('--public-url <url>', 'base URL under which this home publishes status lists'),
    ['CHARTER_PASSPHRASE=... charter init', 'charter init --public-url https://id.example.com'],
  ).action((opts: InitOptions) =>
    runCommand(
      ctx,
      opts,
      async () => {
        const { home, created } = await initialize(ctx, { ...(opts.home !== undefined ? { home: opts.home } : {}) }, opts.publicUrl);
        try {
          return { home: home.dir, created, publicUrl: (await home.publicUrl()) ?? null };
        } finally {
          await home.close();
        }
      },
      (r) => `${r.created ? 'Created' : 'Already initialized:'} Charter home at ${r.home}` + (r.publicUrl ? `\npublic URL: ${r.publicUrl}` : ''),
    ),
  );

  const config = program.command('config').description('read and change settings of the home');
  leaf(config.command('set').description('set a setting (public-url)').argument('<key>').argument('<value>'), ['charter config set public-url https://id.example.com']).action(
    (key: string, value: string, opts: CommonOptions) =>
      homeCommand(
        ctx,
        opts,
        async (home) => {
          if (key !== 'public-url') throw new CharterError('INVALID_ARGUMENT', `unknown setting "${key.slice(0, 40)}" (known: public-url)`);
          await home.passphrase();
          await home.setPublicUrl(value);
          return { [key]: await home.publicUrl() };
        },
        (r) =>
          Object.entries(r)
            .map(([k, v]) => `${k} = ${v}`)
            .join('\n'),
      ),
  );
  leaf(config.command('get').description('show settings'), ['charter config get --json']).action((opts: CommonOptions) =>
    homeCommand(
      ctx,
      opts,
      async (home) => ({ home: home.dir, 'public-url': (await home.publicUrl()) ?? null }),
      (r) =>
        Object.entries(r)
          .map(([k, v]) => `${k} = ${v ?? '(unset)'}`)
          .join('\n'),
    ),
  );
}
