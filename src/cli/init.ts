import type { Command } from 'commander';
import { CharterError } from '../errors.js';
import { homeCommand, leaf, runCommand, withHome, type CliContext, type CommonOptions } from './io.js';

interface InitOptions extends CommonOptions {
  publicUrl?: string;
}

export function registerInit(program: Command, ctx: CliContext): void {
  leaf(
    program
      .command('init')
      .description('create the Charter home (encrypted keystore); safe to run again')
      .option('--public-url <url>', 'base URL under which this home publishes status lists'),
    ['CHARTER_PASSPHRASE=... charter init', 'charter init --public-url https://id.example.com'],
  ).action((opts: InitOptions) =>
    homeCommand(
      ctx,
      opts,
      async (home) => {
        const { created } = await home.init(opts.publicUrl);
        return { home: home.dir, created, publicUrl: (await home.publicUrl()) ?? null };
      },
      (r) => `${r.created ? 'Created' : 'Already initialized:'} Charter home at ${r.home}` + (r.publicUrl ? `\npublic URL: ${r.publicUrl}` : ''),
    ),
  );

  const config = program.command('config').description('read and change settings of the home');
  leaf(config.command('set').description('set a setting (public-url)').argument('<key>').argument('<value>'), [
    'charter config set public-url https://id.example.com',
  ]).action((key: string, value: string, opts: CommonOptions) =>
    homeCommand(
      ctx,
      opts,
      async (home) => {
        await home.passphrase();
        if (key !== 'public-url') throw new CharterError('INVALID_ARGUMENT', `unknown setting "${key}" (known: public-url)`);
        await home.setPublicUrl(value);
        return { [key]: await home.publicUrl() };
      },
      (r) => Object.entries(r).map(([k, v]) => `${k} = ${v}`).join('\n'),
    ),
  );
  leaf(config.command('get').description('show settings'), ['charter config get --json']).action((opts: CommonOptions) =>
    runCommand(
      ctx,
      opts,
      () => withHome(ctx, opts, async (home) => ({ home: home.dir, 'public-url': (await home.publicUrl()) ?? null })),
      (r) => Object.entries(r).map(([k, v]) => `${k} = ${v ?? '(unset)'}`).join('\n'),
    ),
  );
}
