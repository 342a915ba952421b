import type { Command } from 'commander';
import { CharterError } from '../errors.js';
import { publishHome } from '../server/publish.js';
import { statusPropagation } from '../status/index.js';
import { homeCommand, leaf, type CliContext, type CommonOptions } from './io.js';
import { table } from './format.js';

export function registerStatus(program: Command, ctx: CliContext): void {
  const status = program.command('status').description('Bitstring status lists published by this home');

  leaf(status.command('list').description('status lists, how full they are, and how soon a change reaches verifiers'), [
    'charter status list',
    'charter status list --json',
  ]).action((opts: CommonOptions) =>
    homeCommand(
      ctx,
      opts,
      async (home) =>
        (await home.store.listStatusLists()).map((l) => ({
          id: l.id,
          purpose: l.purpose,
          issuer: l.issuerDid,
          size: l.size,
          allocated: l.allocated,
          url: l.url,
          ttlSeconds: l.ttlSeconds,
          visibleWithinSeconds: statusPropagation(l).visibleWithinSeconds,
          version: l.version,
          signedVersion: l.signedVersion ?? null,
        })),
      (rows) =>
        table(
          ['ID', 'PURPOSE', 'USED', 'TTL', 'URL'],
          rows.map((l) => [l.id, l.purpose, `${l.allocated}/${l.size}`, `${l.ttlSeconds}s`, l.url]),
        ),
    ),
  );

  leaf(
    status
      .command('publish')
      .description('write every status list (as a credential under status/, as a Status List Token under statuslists/) and did:web document as static files for any web host')
      .requiredOption('--out <dir>', 'web root to write into (a folder: several files are written, so - is refused)'),
    ['charter status publish --out ./public && rsync -a ./public/ host:/var/www/'],
  ).action((opts: CommonOptions & { out: string }) =>
    homeCommand(
      ctx,
      opts,
      async (home) => {
        if (opts.out === '-')
          throw new CharterError(
            'INVALID_ARGUMENT',
            '--out -: status publish writes several files (status lists, tokens, did.json documents): give the web root folder to write them into',
          );
        const r = await publishHome(home, opts.out);
        return { out: r.dir, files: r.files };
      },
      (r) => (r.files.length ? r.files.map((f) => `wrote ${f}`).join('\n') : 'nothing to publish'),
    ),
  );
}
