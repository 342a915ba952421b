import type { Command } from 'commander';
import { CharterError } from '../errors.js';
import { parseExpiry } from '../encoding/duration.js';
import type { VerifyTools } from '../home/net.js';
import { unlessBoundElsewhere } from '../guard/binding.js';
import { issueStoredSdJwtVc, presentSdJwtVc, revokeSdJwtVc, verifySdJwtVc, type SdJwtVcVerification } from '../sdjwt/index.js';
import { formatReasons, homeCommand, leaf, readSdJwtArg, runCommand, withHome, withTools, type CliContext, type CommonOptions } from './io.js';
import { DEFAULT_MAX_SD_JWT } from '../sdjwt/verify.js';
import { actingAs, asOption, claimsArg, credentialIdArg, encodedSize, partyDid, refuseBlank, renderStatusChange, statusChangeView, commaList } from './args.js';

/** How deep claims may nest: the depth to which the verifier rebuilds the disclosed claims (src/sdjwt/disclosures.ts). */
const MAX_CLAIM_DEPTH = 32;
/**
 * What an SD-JWT adds to its claims, at most: per disclosure a salt, a digest
 * in the payload and the separators; once, the header, the issuer's fields
 * (iss, sub, vct, cnf, status, times) and the signature.
 */
const PER_DISCLOSURE = 128;
const OVERHEAD = 4096;

interface IssueOptions extends CommonOptions {
  subject: string;
  type: string;
  claims: string;
  disclosable?: string[];
  expires?: string;
  status: boolean;
}

interface PresentOptions extends CommonOptions {
  disclose?: string[];
  aud: string;
  nonce: string;
}

interface VerifyOptions extends CommonOptions {
  aud?: string;
  nonce?: string;
  vct?: string;
  allowMissingKeyBinding?: boolean;
  requireStatus?: boolean;
}

async function verifyWith(tools: VerifyTools, token: string, opts: VerifyOptions): Promise<SdJwtVcVerification> {
  // A presentation whose key binding JWT is bound to one HTTP request or MCP call is for that call only.
  return unlessBoundElsewhere(
    await verifySdJwtVc(token, {
      resolver: tools.resolver,
      status: tools.tokenStatus,
      ...(opts.aud !== undefined ? { aud: opts.aud } : {}),
      ...(opts.nonce !== undefined ? { nonce: opts.nonce } : {}),
      ...(opts.vct !== undefined ? { vct: opts.vct } : {}),
      ...(opts.allowMissingKeyBinding ? { allowMissingKeyBinding: true } : {}),
      ...(opts.requireStatus ? { requireStatus: true } : {}),
    }),
    token,
  );
}

/** The decision as printed: without the token echoed back. */
function verificationView(v: SdJwtVcVerification) {
  const { token: _token, ...rest } = v;
  return rest;
}

function renderVerification(v: ReturnType<typeof verificationView>): string {
  const lines = [v.ok ? '✓ valid SD-JWT VC' : '✗ SD-JWT VC refused'];
  if (v.vct) lines.push(`  vct:       ${v.vct}`);
  if (v.id) lines.push(`  id:        ${v.id}`);
  if (v.issuer) lines.push(`  issuer:    ${v.issuer}`);
  if (v.subject) lines.push(`  subject:   ${v.subject}`);
  if (v.validUntil) lines.push(`  until:     ${v.validUntil}`);
  if (v.keyBinding) lines.push(`  bound to:  ${v.keyBinding.aud} (nonce ${v.keyBinding.nonce})`);
  if (v.disclosed) lines.push(`  disclosed: ${v.disclosed.length > 0 ? v.disclosed.join(', ') : '(nothing)'}`);
  if (v.claims) {
    const { iss: _i, sub: _s, vct: _v, jti: _j, iat: _t, nbf: _n, exp: _e, cnf: _c, status: _st, ...rest } = v.claims;
    lines.push(`  claims:    ${JSON.stringify(rest)}`);
  }
  if (!v.ok) lines.push(formatReasons(v.reasons));
  return lines.join('\n');
}

export function registerSdJwt(program: Command, ctx: CliContext): void {
  const sdjwt = program.command('sd-jwt').description('SD-JWT VCs: selective disclosure, key binding, Token Status List revocation');

  leaf(
    asOption(sdjwt.command('issue').description('issue an SD-JWT VC whose holder chooses which claims to reveal'), 'the issuer', ['--issuer'])
      .requiredOption('--subject <did|alias>', 'the holder: its DID authentication key is bound into the credential (cnf)')
      .requiredOption('--type <vct>', 'credential type (vct), e.g. https://example.com/vct/Email')
      .requiredOption('--claims <file|json|->', 'JSON object of claims (a file, inline JSON, or - for stdin)')
      .option(
        '--disclosable <paths>',
        'claims the holder may withhold, comma-separated; nested paths with dots (address.street, tags.0), or JSON Pointers for names with dots (/org.iso.18013.5.1)',
        commaList,
      )
      .option('--expires <when>', 'expiry: 30d, 12h, P30D or an ISO date')
      .option('--no-status', 'no revocation entry (by default one is allocated when a public URL is set)'),
    [
      `charter sd-jwt issue --as alice --subject did:key:zDna... --type https://example.com/vct/Email --claims '{"email":"bob@example.com","name":"Bob"}' --disclosable email,name --expires 30d`,
      'charter sd-jwt issue --as alice --subject did:key:zDna... --type https://example.com/vct/Address --claims address.json --disclosable address,address.street --json',
    ],
  ).action((opts: IssueOptions) =>
    homeCommand(
      ctx,
      opts,
      async (home) => {
        const claims = await claimsArg(ctx, opts.claims, MAX_CLAIM_DEPTH);
        // Refused before signing (the token is stored as it is issued): an SD-JWT its verifiers would not read.
        const size = encodedSize(claims) + PER_DISCLOSURE * (opts.disclosable?.length ?? 0) + OVERHEAD;
        if (size > DEFAULT_MAX_SD_JWT) {
          throw new CharterError(
            'INPUT_TOO_LARGE',
            `the SD-JWT would be about ${size} bytes, over the ${DEFAULT_MAX_SD_JWT} its verifiers read: none was issued (use fewer or smaller claims)`,
          );
        }
        const issuer = await home.issuer(actingAs(ctx, opts, ['--issuer']));
        const baseUrl = opts.status ? await home.publicUrl() : undefined;
        const issued = await issueStoredSdJwtVc(home.store, issuer, {
          subject: await partyDid(home, opts.subject, '--subject'),
          vct: opts.type,
          claims,
          disclosable: opts.disclosable ?? [],
          resolver: home.resolver,
          ...(opts.expires !== undefined ? { validUntil: parseExpiry(opts.expires) } : {}),
          ...(baseUrl !== undefined ? { baseUrl } : {}),
        });
        return { id: issued.id, token: issued.token };
      },
      (r) => r.token,
    ),
  );

  leaf(
    asOption(
      sdjwt
        .command('present')
        .description('reveal some claims of an SD-JWT VC to one verifier, bound to its nonce (KB-JWT)')
        .argument('<token|file|->', 'the issued SD-JWT, a file holding it, or - for stdin'),
      'you, the holder: the key the credential is bound to',
      ['--holder'],
    )
      .option('--disclose <paths>', 'claims to reveal, comma-separated: dotted paths or JSON Pointers (/a.b); a path reveals everything under it', commaList)
      .requiredOption('--aud <aud>', 'the verifier this presentation is for')
      .requiredOption('--nonce <nonce>', "the verifier's challenge"),
    ['charter sd-jwt present email.sdjwt --as bob --disclose email --aud did:web:shop.example --nonce 4f1c > presentation.txt'],
  ).action((arg: string, opts: PresentOptions) =>
    runCommand(
      ctx,
      opts,
      async () => {
        refuseBlank(opts, ['--aud', '--nonce']);
        const token = await readSdJwtArg(ctx, arg, 'SD-JWT');
        return withHome(ctx, opts, async (home) => ({
          presentation: await presentSdJwtVc(token, {
            holder: await home.issuer(actingAs(ctx, opts, ['--holder'])),
            disclose: opts.disclose ?? [],
            aud: opts.aud,
            nonce: opts.nonce,
          }),
        }));
      },
      (r) => r.presentation,
    ),
  );

  leaf(
    sdjwt
      .command('verify')
      .description('verify an SD-JWT VC or a presentation: issuer, disclosures, key binding, validity, status')
      .argument('<token|file|->', 'the SD-JWT or presentation, a file holding it, or - for stdin')
      .option('--aud <aud>', "this verifier (checked against the key binding, and against a credential's own aud)")
      .option('--nonce <nonce>', 'the challenge sent (checked against the key binding)')
      .option('--vct <vct>', 'require this credential type')
      .option('--allow-missing-key-binding', 'accept a credential without a KB-JWT (a holder checking what it received); never with --nonce: only a KB-JWT answers one')
      .option('--require-status', 'refuse a credential that carries no revocation status'),
    ['charter sd-jwt verify presentation.txt --aud did:web:shop.example --nonce 4f1c', 'charter sd-jwt verify email.sdjwt --allow-missing-key-binding --json'],
  ).action((arg: string, opts: VerifyOptions) =>
    runCommand(
      ctx,
      opts,
      async () => {
        refuseBlank(opts, ['--aud', '--nonce', '--vct']);
        const token = await readSdJwtArg(ctx, arg, 'SD-JWT');
        return withTools(ctx, opts, async (tools) => verificationView(await verifyWith(tools, token, opts)));
      },
      renderVerification,
    ),
  );

  leaf(
    sdjwt
      .command('revoke')
      .description('revoke an SD-JWT VC issued from this home, for good')
      .argument('<credential>', 'its id (jti, printed by `sd-jwt issue --json`), the SD-JWT, or a file holding it'),
    ['charter sd-jwt revoke urn:uuid:...', 'charter sd-jwt revoke email.sdjwt --json'],
  ).action((arg: string, opts: CommonOptions) =>
    runCommand(
      ctx,
      opts,
      async () => {
        const id = await credentialIdArg(ctx, arg, 'SD-JWT VC');
        return withHome(ctx, opts, async (home) => statusChangeView('revoked', [await revokeSdJwtVc(home.store, id, (did) => home.issuer(did))]));
      },
      (r) => renderStatusChange('revoked', 'revoke', r),
    ),
  );
}
