import type { Command } from 'commander';
import { CharterError } from '../errors.js';
import type { KeyType } from '../keys/types.js';
import type { IdentityRecord } from '../store/types.js';
import { homeCommand, leaf, parseJsonArg, readTextSource, runCommand, withHome, type CliContext, type CommonOptions } from './io.js';
import { multibaseToPrivateJwk } from '../keys/index.js';
import { table } from './format.js';
import { promptLine } from './prompt.js';

const KEY_TYPES: Record<string, KeyType> = { ed25519: 'Ed25519', p256: 'P-256', secp256k1: 'secp256k1' };

interface CreateOptions extends CommonOptions {
  alias: string;
  key: string;
  method: string;
  domain?: string;
}

export function parseKeyType(s: string): KeyType {
  const t = Object.hasOwn(KEY_TYPES, s.toLowerCase()) ? KEY_TYPES[s.toLowerCase()] : undefined;
  if (!t) throw new CharterError('INVALID_ARGUMENT', `unknown key type "${s}" (use ed25519, p256 or secp256k1)`);
  return t;
}

/**
 * A private key from a file or standard input, never from the command line
 * itself: argv is readable by every user of the machine (ps, /proc/PID/cmdline)
 * and stays in shell history. The refusal does not repeat the argument.
 */
async function keyText(ctx: CliContext, arg: string, flag: string): Promise<string> {
  const { text, source } = await readTextSource(ctx, arg, flag === '--jwk' ? 'JWK' : 'multibase key');
  if (source === 'inline') {
    throw new CharterError(
      'INVALID_ARGUMENT',
      `${flag} takes a file or - for standard input, not the key itself (a command line is visible to other users of this machine and kept in shell history): e.g. charter id import --alias NAME ${flag} - < key`,
    );
  }
  return text;
}

export function parseMethod(s: string): 'key' | 'jwk' | 'web' {
  if (s === 'key' || s === 'jwk' || s === 'web') return s;
  throw new CharterError('INVALID_ARGUMENT', `unknown DID method "${s}" (use key, jwk or web)`);
}

function publicView(r: IdentityRecord) {
  return { alias: r.alias, did: r.did, kid: r.kid, keyType: r.keyType, method: r.method, createdAt: r.createdAt, ...(r.meta ? { meta: r.meta } : {}) };
}

export function registerId(program: Command, ctx: CliContext): void {
  const id = program.command('id').description('identities (DIDs with keys) kept in this home');

  leaf(
    id
      .command('create')
      .description('generate a key and a DID for it')
      .requiredOption('--alias <name>', 'local name of the identity')
      .option('--key <type>', 'ed25519 | p256 | secp256k1', 'ed25519')
      .option('--method <method>', 'key | jwk | web', 'key')
      .option('--domain <domain>', 'for did:web: example.com or example.com:users:alice'),
    ['charter id create --alias alice', 'charter id create --alias shop --key p256 --method web --domain shop.example'],
  ).action((opts: CreateOptions) =>
    homeCommand(
      ctx,
      opts,
      async (home) => {
        const rec = await home.createIdentity({
          alias: opts.alias,
          keyType: parseKeyType(opts.key),
          method: parseMethod(opts.method),
          ...(opts.domain !== undefined ? { domain: opts.domain } : {}),
        });
        return { alias: rec.alias, did: rec.did };
      },
      (r) => `${r.alias}  ${r.did}`,
    ),
  );

  leaf(
    id
      .command('import')
      .description('import an existing private key (JWK or multibase) as a new identity')
      .requiredOption('--alias <name>', 'local name of the identity')
      .option('--jwk <file|->', 'private JWK (Ed25519, P-256 or secp256k1), a file or - for stdin')
      .option('--multibase <file|->', 'multicodec private key in base58btc multibase (z…), a file or - for stdin')
      .option('--method <method>', 'key | jwk | web', 'key')
      .option('--domain <domain>', 'for did:web'),
    ['charter id import --alias alice --jwk alice.key.jwk', 'charter id import --alias bob --multibase - < bob.key'],
  ).action((opts: CommonOptions & { alias: string; jwk?: string; multibase?: string; method: string; domain?: string }) =>
    runCommand(
      ctx,
      opts,
      async () => {
        if (!opts.jwk === !opts.multibase) throw new CharterError('INVALID_ARGUMENT', 'give exactly one of --jwk or --multibase');
        const privateJwk = opts.jwk ? parseJsonArg(await keyText(ctx, opts.jwk, '--jwk'), 'the JWK') : multibaseToPrivateJwk(await keyText(ctx, opts.multibase!, '--multibase'));
        return withHome(ctx, opts, async (home) => {
          const rec = await home.importIdentity({ alias: opts.alias, privateJwk, method: parseMethod(opts.method), ...(opts.domain ? { domain: opts.domain } : {}) });
          return { alias: rec.alias, did: rec.did };
        });
      },
      (r) => `${r.alias}  ${r.did}`,
    ),
  );

  leaf(id.command('list').description('list identities'), ['charter id list', 'charter id list --json']).action((opts: CommonOptions) =>
    runCommand(
      ctx,
      opts,
      () => withHome(ctx, opts, async (home) => (await home.store.listIdentities()).map(publicView)),
      (rows) =>
        table(
          ['ALIAS', 'METHOD', 'KEY', 'DID'],
          rows.map((r) => [r.alias, r.method, r.keyType, r.did]),
        ),
    ),
  );

  leaf(id.command('show').description('show one identity and its DID document').argument('<name-or-did>'), ['charter id show alice']).action((name: string, opts: CommonOptions) =>
    homeCommand(
      ctx,
      opts,
      async (home) => {
        const rec = await home.identity(name);
        return { ...publicView(rec), document: rec.document ?? (await home.resolver.resolve(rec.did)) };
      },
      (r) => `alias:   ${r.alias}\ndid:     ${r.did}\nkid:     ${r.kid}\nkey:     ${r.keyType}\nmethod:  did:${r.method}\n\n${JSON.stringify(r.document, null, 2)}`,
    ),
  );

  leaf(
    id
      .command('export')
      .description('print the public DID document (or, with --private and a confirmation, the private JWK)')
      .argument('<name>')
      .option('--private', 'export the PRIVATE key (asks for confirmation)')
      .option('--confirm <alias>', 'confirm a --private export without a prompt by repeating the alias'),
    ['charter id export alice > alice.did.json', 'charter id export alice --private --confirm alice > alice.key.jwk'],
  ).action((name: string, opts: CommonOptions & { private?: boolean; confirm?: string }) =>
    homeCommand(
      ctx,
      opts,
      async (home) => {
        const rec = await home.identity(name);
        if (!opts.private) return rec.document ?? (await home.resolver.resolve(rec.did));
        let confirmed = opts.confirm === rec.alias;
        if (!confirmed && ctx.stdin.isTTY) {
          confirmed = (await promptLine(`Type "${rec.alias}" to print its PRIVATE key: `)) === rec.alias;
        }
        if (!confirmed) {
          throw new CharterError('INVALID_ARGUMENT', `exporting a private key needs confirmation: add --confirm ${rec.alias}`);
        }
        return { alias: rec.alias, did: rec.did, kid: rec.kid, privateJwk: await home.privateKey(rec) };
      },
      (r) => JSON.stringify(r, null, 2),
    ),
  );
}
