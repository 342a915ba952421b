import type { Command } from 'commander';
import { createPresentation, verifyPresentation } from '../credentials/index.js';
import type { PresentationVerification } from '../credentials/types.js';
import type { Home } from '../home/home.js';
import { unlessBoundElsewhere } from '../guard/binding.js';
import { formatReasons, homeCommand, leaf, readJwtArg, runCommand, withTools, type CliContext, type CommonOptions } from './io.js';
import { renderVerification } from './vc.js';
import { actingAs, asOption, refuseBlank, wholeNumberFlag } from './args.js';
import { oneLine } from './format.js';

/** `vp create --expires-in`: the longest lifetime, in seconds (one day; README). */
export const MAX_EXPIRES_IN = 86_400;

/** A credential argument: a JWT, a file, or the id of a credential in the store. */
export async function credentialArg(ctx: CliContext, home: Home, arg: string): Promise<string> {
  const rec = arg.includes('.') ? undefined : await home.store.getCredential(arg);
  return rec ? rec.jwt : readJwtArg(ctx, arg, 'credential');
}

export function presentationView(v: PresentationVerification) {
  return {
    ok: v.ok,
    reasons: v.reasons,
    holder: v.holder,
    credentials: v.credentials.map(({ jwt: _j, ...rest }) => rest),
  };
}

export function renderPresentation(v: ReturnType<typeof presentationView>): string {
  const lines = [v.ok ? '✓ valid presentation' : '✗ presentation refused'];
  if (v.holder) lines.push(`  holder: ${oneLine(v.holder)}`);
  if (!v.ok && v.reasons.length) lines.push(formatReasons(v.reasons));
  for (const c of v.credentials) lines.push(renderVerification({ ...c, jwt: '' }).replace(/^/gm, '  '));
  return lines.join('\n');
}

export function registerVp(program: Command, ctx: CliContext): void {
  const vp = program.command('vp').description('presentations: credentials wrapped and signed by their holder (vp+jwt)');

  leaf(
    asOption(vp.command('create').description('present credentials to one audience, bound to a nonce'), 'the holder, who presents', ['--holder'])
      .requiredOption('--aud <aud>', 'the verifier (DID or URL)')
      .requiredOption('--nonce <nonce>', "the verifier's challenge")
      .option('--expires-in <seconds>', 'seconds the presentation is valid', '300')
      .argument('<credential...>', 'credential JWTs, files, or ids of credentials in this home'),
    ['charter vp create --as bob --aud did:web:shop.example --nonce 8f2c cred.jwt > vp.jwt'],
  ).action((creds: string[], opts: CommonOptions & { aud: string; nonce: string; expiresIn: string }) =>
    homeCommand(
      ctx,
      opts,
      async (home) => {
        refuseBlank(opts, ['--aud', '--nonce']);
        // At most a day: verifiers refuse a presentation issued longer ago than that (300 s by default) anyway.
        const expiresInSeconds = wholeNumberFlag(opts.expiresIn, '--expires-in', 1, MAX_EXPIRES_IN);
        const holder = await home.issuer(actingAs(ctx, opts, ['--holder']));
        const credentials = await Promise.all(creds.map((c) => credentialArg(ctx, home, c)));
        const jwt = await createPresentation({ holder, credentials, aud: opts.aud, nonce: opts.nonce, expiresInSeconds });
        return { holder: holder.did, jwt };
      },
      (r) => r.jwt,
    ),
  );

  leaf(
    vp
      .command('verify')
      .description('verify a presentation: holder signature, audience, nonce, holder binding and every credential')
      .argument('<jwt|file|->')
      .requiredOption('--aud <aud>', "this verifier (must match the presentation's aud)")
      .requiredOption('--nonce <nonce>', 'the challenge that was sent')
      .option('--allow-holder-mismatch', 'accept credentials whose subject is not the holder'),
    ['charter vp verify vp.jwt --aud did:web:shop.example --nonce 8f2c'],
  ).action((arg: string, opts: CommonOptions & { aud: string; nonce: string; allowHolderMismatch?: boolean }) =>
    runCommand(
      ctx,
      opts,
      async () => {
        refuseBlank(opts, ['--aud', '--nonce']);
        const jwt = await readJwtArg(ctx, arg, 'presentation');
        return withTools(ctx, opts, async (tools) =>
          presentationView(
            // A presentation bound to one HTTP request or MCP call is for that call only (as agent and grant verify).
            unlessBoundElsewhere(
              await verifyPresentation(jwt, {
                resolver: tools.resolver,
                status: tools.status,
                aud: opts.aud,
                nonce: opts.nonce,
                allowHolderMismatch: opts.allowHolderMismatch === true,
              }),
              jwt,
            ),
          ),
        );
      },
      renderPresentation,
    ),
  );
}
