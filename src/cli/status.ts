import { join } from 'node:path';
import type { Command } from 'commander';
import { currentStatusListJwt } from '../status/index.js';
import { publishTokenStatusLists } from '../status/token-publish.js';
import { writeFileAtomic } from '../home/atomic.js';
import { didWebPath } from '../server/did-web-path.js';
import { homeCommand, leaf, runCommand, withHome, type CliContext, type CommonOptions } from './io.js';
import { table } from './format.js';

export function registerStatus(program: Command, ctx: CliContext): void {
  const status = program.command('status').description('Bitstring status lists published by this home');

  leaf(status.command('list').description('status lists and how full they are'), ['charter status list']).action((opts: CommonOptions) =>
    runCommand(
      ctx,
      opts,
      () =>
        withHome(ctx, opts, async (home) =>
          (await home.store.listStatusLists()).map((l) => ({
            id: l.id,
            purpose: l.purpose,
            issuer: l.issuerDid,
            size: l.size,
            allocated: l.allocated,
            url: l.url,
            version: l.version,
            signedVersion: l.signedVersion ?? null,
          })),
        ),
      (rows) => table(['ID', 'PURPOSE', 'USED', 'URL'], rows.map((l) => [l.id, l.purpose, `${l.allocated}/${l.size}`, l.url])),
    ),
  );

  leaf(
    status
      .command('publish')
      .description('write every status list (as a credential under status/, as a Status List Token under statuslists/) and did:web document as static files for any web host')
      .requiredOption('--out <dir>', 'web root to write into'),
    ['charter status publish --out ./public && rsync -a ./public/ host:/var/www/'],
  ).action((opts: CommonOptions & { out: string }) =>
    homeCommand(
      ctx,
      opts,
      async (home) => {
        const files: string[] = [];
        for (const list of await home.store.listStatusLists()) {
          const jwt = await currentStatusListJwt(home.store, list.id, (did) => home.issuer(did));
          const file = join(opts.out, 'status', list.id);
          writeFileAtomic(file, jwt, 0o644);
          files.push(file);
        }
        // The revocation lists again as IETF Status List Tokens, where SD-JWT VCs point (statuslists/<id>).
        files.push(...(await publishTokenStatusLists(home.store, opts.out, (did) => home.issuer(did))));
        for (const rec of await home.store.listIdentities()) {
          if (rec.method !== 'web' || !rec.document) continue;
          const file = join(opts.out, ...didWebPath(rec.did).split('/').filter(Boolean));
          writeFileAtomic(file, JSON.stringify(rec.document, null, 2) + '\n', 0o644);
          files.push(file);
        }
        return { out: opts.out, files };
      },
      (r) => (r.files.length ? r.files.map((f) => `wrote ${f}`).join('\n') : 'nothing to publish'),
    ),
  );
}
