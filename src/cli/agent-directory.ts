import { join } from 'node:path';
import type { Command } from 'commander';
import { CharterError } from '../errors.js';
import { parseExpiry } from '../encoding/duration.js';
import { writeFileAtomic } from '../store/atomic-file.js';
import { assertOutsideHome } from '../home/out-path.js';
import { DIRECTORY_PATH, jwkThumbprint, signDirectory } from '../httpsig/index.js';
import { homeCommand, leaf, type CliContext, type CommonOptions } from './io.js';
import { agentIdentityState } from '../agents/index.js';

interface DirectoryOptions extends CommonOptions {
  as: string;
  out?: string;
  authority?: string;
  expires: string;
}

export interface DirectoryResult {
  /** Where verifiers fetch it. */
  url: string;
  authority: string;
  keys: string[];
  expiresAt: string;
  /** The fields a server must send with the body: the signatures live in them. */
  headers: Record<string, string>;
  body: string;
  files?: string[];
}

/**
 * `charter agent directory --as AGENT`: the agent's Web Bot Auth key
 * directory (a JWKS signed by its key, RFC 9421), for a server other than
 * `charter serve` to publish. The directory signatures are in the response
 * headers, so --out writes both: the body, and the headers to send with it.
 */
export function registerAgentDirectory(program: Command, ctx: CliContext): void {
  const agent = program.commands.find((c) => c.name() === 'agent');
  if (!agent) throw new Error('registerAgentDirectory: register the agent command first');
  leaf(
    agent
      .command('directory')
      .description("write the agent's Web Bot Auth key directory (/.well-known/http-message-signatures-directory), signed")
      .requiredOption('--as <alias|did>', 'the agent whose directory it is: an identity of this home (an Ed25519 or P-256 key)')
      .option('--authority <host>', "host[:port] the directory is served at (default: the home's public URL)")
      .option('--expires <when>', 'how long its signatures stay valid: 5m, 1d, P1D or an ISO date (short: a verifier refuses it once expired)', '1d')
      .option('--out <dir>', 'write DIR/.well-known/http-message-signatures-directory and, beside it, the .headers to serve it with (- prints them, as without --out)'),
    ['charter agent directory --as shopper --out ./public', 'charter agent directory --as shopper --authority agent.example --expires 1h --json'],
  ).action((o: DirectoryOptions) =>
    homeCommand(
      ctx,
      o,
      async (home): Promise<DirectoryResult> => {
        // `-` is standard output, as it is standard input where a command reads: printed, as without --out.
        const file = o.out === undefined || o.out === '-' ? undefined : join(o.out, ...DIRECTORY_PATH.split('/').filter(Boolean));
        if (file !== undefined) for (const f of [file, `${file}.headers`]) assertOutsideHome(f, home.dir);
        const rec = await home.identity(o.as);
        if (rec.keyType !== 'Ed25519' && rec.keyType !== 'P-256')
          throw new CharterError('INVALID_ARGUMENT', `${rec.alias} has a ${rec.keyType} key: RFC 9421 signs with Ed25519 or P-256`);
        // A directory says "this origin's automated traffic": not for a key its operator no longer answers for.
        const identity = await agentIdentityState(home.store, rec.did);
        if (identity.state === 'revoked') throw new CharterError('CREDENTIAL_REVOKED', `${rec.alias}'s agent identity credential is revoked: its key is no one's agent now`);
        if (identity.state === 'expired') throw new CharterError('CREDENTIAL_EXPIRED', `${rec.alias}'s agent identity credential has expired: have its operator issue a new one`);
        const origin = o.authority !== undefined ? `https://${o.authority}` : new URL(await home.requirePublicUrl()).origin;
        const authority = o.authority ?? new URL(origin).host;
        const now = new Date();
        const expiresAt = parseExpiry(o.expires, now);
        const expiresInSeconds = Math.floor((expiresAt.getTime() - now.getTime()) / 1000);
        if (expiresInSeconds <= 0) throw new CharterError('INVALID_ARGUMENT', '--expires must be in the future');
        let dir;
        try {
          dir = await signDirectory({ keys: [{ jwk: rec.publicJwk, signer: (await home.issuer(rec.alias)).signer }], authority, expiresInSeconds, now });
        } catch (e) {
          if (e instanceof TypeError) throw new CharterError('INVALID_ARGUMENT', `--authority: ${e.message}`);
          throw e;
        }
        const result: DirectoryResult = {
          url: `${origin}${DIRECTORY_PATH}`,
          authority,
          keys: [jwkThumbprint(rec.publicJwk)],
          expiresAt: new Date((Math.floor(now.getTime() / 1000) + expiresInSeconds) * 1000).toISOString(),
          headers: dir.headers,
          body: dir.body,
        };
        if (file !== undefined) {
          writeFileAtomic(file, dir.body, 0o644);
          writeFileAtomic(
            `${file}.headers`,
            Object.entries(dir.headers)
              .map(([k, v]) => `${k}: ${v}`)
              .join('\n') + '\n',
            0o644,
          );
          result.files = [file, `${file}.headers`];
        }
        return result;
      },
      (r) =>
        [
          `key directory for ${o.as}: ${r.url}`,
          `signed for ${r.authority} until ${r.expiresAt}`,
          ...r.keys.map((k) => `  key ${k}`),
          ...(r.files
            ? r.files
                .map((f) => `wrote ${f}`)
                .concat(['serve the body with the headers of the .headers file (the signatures are in them); `charter serve` does this itself, re-signed per request'])
            : ['', ...Object.entries(r.headers).map(([k, v]) => `${k}: ${v}`), '', r.body]),
        ].join('\n'),
    ),
  );
}
