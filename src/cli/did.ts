import { accessSync, constants, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { Command } from 'commander';
import { CharterError } from '../errors.js';
import { writeFileAtomic } from '../store/atomic-file.js';
import { assertOutsideHome } from '../home/out-path.js';
import { didWebPath } from '../server/did-web-path.js';
import { didWebFromDomain } from '../did/index.js';
import { leaf, runCommand, withHome, withTools, type CliContext, type CommonOptions } from './io.js';
import { oneLine } from './format.js';
import { parseKeyType } from './id.js';

export function registerDid(program: Command, ctx: CliContext): void {
  const did = program.command('did').description('resolve DIDs and publish did:web documents');

  leaf(did.command('resolve').description('resolve a DID to its DID document (did:key, did:jwk, did:web)').argument('<did>'), [
    'charter did resolve did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK',
    'charter did resolve did:web:example.com --json',
  ]).action((d: string, opts: CommonOptions) =>
    runCommand(
      ctx,
      opts,
      () => withTools(ctx, opts, (tools) => tools.resolver.resolve(d)),
      (doc) => JSON.stringify(doc, null, 2),
    ),
  );

  const web = did.command('web').description('did:web identities');
  leaf(
    web
      .command('init')
      .description('create a did:web identity and write the did.json to publish')
      .requiredOption('--domain <domain>', 'example.com, example.com:users:alice, or 127.0.0.1%3A8080')
      .option('--alias <name>', 'local name of the identity (default: the domain)')
      .option('--key <type>', 'ed25519 | p256 | secp256k1', 'ed25519')
      .option(
        '--out <dir>',
        'directory of the web root to write into; - writes the did.json to standard output, as the one document there (with or without --json), and the summary to standard error',
        '.',
      ),
    [
      'charter did web init --domain example.com --out ./public',
      'charter did web init --domain example.com:users:alice --alias alice',
      'charter did web init --domain example.com --out - > did.json',
    ],
  ).action((opts: CommonOptions & { domain: string; alias?: string; key: string; out: string }) =>
    runCommand(
      ctx,
      opts,
      () =>
        withHome(ctx, opts, async (home) => {
          const alias = opts.alias ?? opts.domain.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64);
          // Where the document goes depends on the domain alone: checked before the identity is made,
          // so an --out that cannot take it leaves no identity behind (which a retry would find taken).
          const path = didWebPath(didWebFromDomain(opts.domain));
          const file = opts.out === '-' ? undefined : join(opts.out, ...path.split('/').filter(Boolean));
          if (file !== undefined) {
            assertOutsideHome(file, home.dir);
            assertWritable(file);
          }
          const rec = await home.createIdentity({ alias, keyType: parseKeyType(opts.key), method: 'web', domain: opts.domain });
          if (!rec.document) throw new CharterError('INTERNAL', 'did:web identity has no document');
          const text = JSON.stringify(rec.document, null, 2) + '\n';
          if (file === undefined) {
            ctx.stdout(text);
            // The document is what stdout carries: the summary goes where a person sees it and a pipe does not.
            if (!opts.json) ctx.stderr(`${oneLine(rec.alias)}  ${rec.did}\nwrote its did.json to standard output: publish it at ${path} so that it is served over https`);
            return { alias: rec.alias, did: rec.did, file: '-', publishAt: dirname(path) };
          }
          writeFileAtomic(file, text, 0o644);
          return { alias: rec.alias, did: rec.did, file, publishAt: dirname(file) };
        }),
      (r) => `${r.alias}  ${r.did}\nwrote ${r.file}: publish it so that it is served over https at the did:web URL`,
      (r) => r.file === '-',
    ),
  );
}

/**
 * INVALID_ARGUMENT unless `file` can be written: it is absent or a regular
 * file, and the nearest existing folder on its path is a folder this user
 * can write (the folders below it are created when writing).
 */
function assertWritable(file: string): void {
  const bad = (why: string) => new CharterError('INVALID_ARGUMENT', `--out: cannot write ${file}: ${why}`);
  const existing = statOf(file);
  if (existing && !existing.isFile()) throw bad('it exists and is not a file');
  for (let d = dirname(file); ; d = dirname(d)) {
    const st = statOf(d);
    if (st === undefined && dirname(d) !== d) continue;
    if (!st?.isDirectory()) throw bad(`${d} is not a folder`);
    try {
      accessSync(d, constants.W_OK);
    } catch {
      throw bad(`${d} is not writable`);
    }
    return;
  }
}

/** stat, or undefined when nothing is at `path` (ENOENT, or ENOTDIR: a file on the way, which the walk up then finds). */
function statOf(path: string): ReturnType<typeof statSync> | undefined {
  try {
    return statSync(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw e;
  }
}
