import type { Command } from 'commander';
import { CharterError } from '../errors.js';
import { parseExpiry } from '../encoding/duration.js';
import { issueCredential, recordCredential, verifyCredential, schemaIdFor } from '../credentials/index.js';
import type { CredentialFormat, CredentialVerification } from '../credentials/types.js';
import type { VerifyTools } from '../home/net.js';
import { DEFAULT_MAX_JWT } from '../credentials/jws.js';
import { MAX_JSON_DEPTH } from '../encoding/json.js';
import { formatReasons, homeCommand, leaf, readJwtArg, runCommand, withTools, type CliContext, type CommonOptions } from './io.js';
import { actingAs, asOption, claimsArg, encodedSize, partyDid, refuseBlank } from './args.js';
import { oneLine } from './format.js';

interface IssueOptions extends CommonOptions {
  subject: string;
  type: string;
  claims: string;
  validUntil?: string;
  validFrom?: string;
  format?: string;
}

/**
 * The levels a format wraps the claims in, below the verifier's MAX_JSON_DEPTH
 * for the whole payload: vc+jwt puts them in the payload's credentialSubject,
 * vc-jwt-1.1 in its vc's credentialSubject.
 */
const CLAIMS_WRAP: Record<CredentialFormat, number> = { 'vc+jwt': 1, 'vc-jwt-1.1': 2 };

/** INPUT_TOO_LARGE for a credential JWT larger than verifiers read (decodeJwt's default). */
function tooLarge(size: number): CharterError {
  return new CharterError(
    'INPUT_TOO_LARGE',
    `the credential would be about ${size} bytes, over the ${DEFAULT_MAX_JWT} its verifiers read: none was issued (use fewer or smaller claims)`,
  );
}

export function parseFormat(s: string | undefined): CredentialFormat {
  if (s === undefined || s === 'vc+jwt') return 'vc+jwt';
  if (s === 'vc-jwt-1.1') return 'vc-jwt-1.1';
  throw new CharterError('INVALID_ARGUMENT', `unknown format "${s}" (use vc+jwt or vc-jwt-1.1)`);
}

export function renderVerification(v: CredentialVerification): string {
  const head = v.ok ? '✓ valid credential' : '✗ credential refused';
  const lines = [head];
  // Every value is the issuer's word (or the presenter's): each on its one line (oneLine), so a type or an
  // issuer holding "\n✓ valid credential" cannot forge a line.
  if (v.id) lines.push(`  id:      ${oneLine(v.id)}`);
  const types = v.credential?.type.filter((t) => t !== 'VerifiableCredential').map((t) => oneLine(t));
  if (types) lines.push(`  type:    ${types.join(', ')}`);
  if (v.issuer) lines.push(`  issuer:  ${oneLine(v.issuer)}`);
  if (v.subject) lines.push(`  subject: ${oneLine(v.subject)}`);
  if (v.credential?.validUntil) lines.push(`  until:   ${oneLine(v.credential.validUntil)}`);
  if (!v.ok) lines.push(formatReasons(v.reasons));
  return lines.join('\n');
}

/** The verification result as printed: without the JWT echoed back. */
export function verificationView(v: CredentialVerification) {
  const { jwt: _jwt, ...rest } = v;
  return rest;
}

export async function verifyWith(tools: VerifyTools, jwt: string, aud?: string): Promise<CredentialVerification> {
  return verifyCredential(jwt, { resolver: tools.resolver, status: tools.status, ...(aud !== undefined ? { aud } : {}) });
}

export function registerVc(program: Command, ctx: CliContext): void {
  const vc = program.command('vc').description('issue and verify W3C Verifiable Credentials (VC-JOSE-COSE vc+jwt)');

  leaf(
    asOption(vc.command('issue').description('sign a credential about a subject'), 'the issuer', ['--issuer'])
      .requiredOption('--subject <did|alias>', 'who the credential is about: a DID, or an identity of this home')
      .requiredOption('--type <type>', 'credential type, e.g. EmailCredential')
      .requiredOption('--claims <file|->', 'JSON object of claims for credentialSubject (file, inline JSON, or - for stdin)')
      .option('--valid-until <when>', 'expiry: 30d, 12h, P30D or an ISO date')
      .option('--valid-from <when>', 'start of validity: ISO date (default now)')
      .option('--format <format>', 'vc+jwt (VCDM 2.0, default) | vc-jwt-1.1 (did-jwt-vc / Veramo)'),
    [
      `echo '{"email":"alice@example.com"}' | charter vc issue --as alice --subject did:key:z6Mk... --type EmailCredential --claims - --valid-until 30d`,
      'charter vc issue --as alice --subject bob --type EmailCredential --claims claims.json --format vc-jwt-1.1',
    ],
  ).action((opts: IssueOptions) =>
    homeCommand(
      ctx,
      opts,
      async (home) => {
        const format = parseFormat(opts.format);
        const claims = await claimsArg(ctx, opts.claims, MAX_JSON_DEPTH - CLAIMS_WRAP[format]);
        if (encodedSize(claims) > DEFAULT_MAX_JWT) throw tooLarge(encodedSize(claims));
        const issuer = await home.issuer(actingAs(ctx, opts, ['--issuer']));
        const subject = await partyDid(home, opts.subject, '--subject');
        const schemaId = schemaIdFor(opts.type);
        const issued = await issueCredential({
          issuer,
          subject,
          type: opts.type,
          claims,
          format,
          ...(opts.validUntil !== undefined ? { validUntil: parseExpiry(opts.validUntil) } : {}),
          ...(opts.validFrom !== undefined ? { validFrom: parseExpiry(opts.validFrom) } : {}),
          ...(schemaId !== undefined ? { credentialSchema: { id: schemaId, type: 'JsonSchema' as const } } : {}),
        });
        // The exact size once signed: a JWT its verifiers would not read is neither recorded nor printed.
        if (issued.jwt.length > DEFAULT_MAX_JWT) throw tooLarge(issued.jwt.length);
        await recordCredential(home.store, issued, { direction: 'issued' });
        return { id: issued.id, jwt: issued.jwt };
      },
      (r) => r.jwt,
    ),
  );

  leaf(
    vc
      .command('verify')
      .description('verify a credential: signature, issuer key, validity, schema and status')
      .argument('<jwt|file|->', 'the credential JWT, a file holding it, or - for stdin')
      .option('--aud <did|url>', 'who is verifying: a credential whose JWT names an audience (aud) is accepted only by it'),
    ['charter vc verify cred.jwt', 'charter vc issue ... --json | jq -r .jwt | charter vc verify - --json', 'charter vc verify cred.jwt --aud did:web:shop.example'],
  ).action((arg: string, opts: CommonOptions & { aud?: string }) =>
    runCommand(
      ctx,
      opts,
      async () => {
        refuseBlank(opts, ['--aud']);
        const jwt = await readJwtArg(ctx, arg, 'credential');
        return withTools(ctx, opts, async (tools) => verificationView(await verifyWith(tools, jwt, opts.aud)));
      },
      (v) => renderVerification({ ...v, jwt: '' }),
    ),
  );
}
