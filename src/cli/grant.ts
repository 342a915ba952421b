import type { Command } from 'commander';
import { CharterError } from '../errors.js';
import { unlessBoundElsewhere } from '../guard/binding.js';
import { parseExpiry } from '../encoding/duration.js';
import { issueGrant, listGrants, resumeGrant, revokeGrant, revokeGrantsTo, suspendGrant, verifyGrant } from '../grants/index.js';
import { soleSubject } from '../credentials/index.js';
import { isPresentation } from '../grants/verify.js';
import { issueSdJwtGrant, verifySdJwtGrant } from '../sdjwt/grant.js';
import { formatReasons, homeCommand, leaf, readJwtArg, readTextArg, runCommand, withHome, withTools, type CliContext, type CommonOptions } from './io.js';
import { actingAs, asOption, credentialIdArg, partyDid, refuseBlank, renderStatusChange, statusChangeView, collect, commaList } from './args.js';
import { shortDid, table } from './format.js';
import { checkUseFlags, termsFromFlags, type TermFlags } from './terms.js';
import { accessReports, MAX_KEPT_PER_GRANT, type AccessUse } from '../audit/index.js';

interface IssueOptions extends CommonOptions, TermFlags {
  to: string;
  resource: string[];
  action: string[];
  purpose?: string;
  expires: string;
  termsPurpose?: string[];
  format: string;
  disclosable?: string[];
}

const FORMATS = ['vc+jwt', 'sd-jwt'];

const PAST = { revoke: 'revoked', suspend: 'suspended', resume: 'resumed' } as const;
const reportedUses = (u: AccessUse[]) => {
  if (u.length === 0) return '-';
  const outside = u.filter((x) => x.outsideGrant).length;
  return `${u.length}, last ${u[0]!.at.slice(0, 16).replace('T', ' ')} by ${shortDid(u[0]!.verifier)}${outside > 0 ? `; ${outside} outside the grant` : ''}`;
};

export function registerGrant(program: Command, ctx: CliContext): void {
  const grant = program.command('grant').description('revocable data grants: scoped, time-boxed access to your data');

  leaf(
    asOption(grant.command('issue').description('grant a platform access to some of your data'), 'you, the data owner', ['--from'])
      .requiredOption('--to <did|alias>', 'the grantee (platform): its DID, or an identity of this home')
      .requiredOption('--resource <r>', 'a resource, e.g. profile/email or photos/* (repeatable)', collect)
      .requiredOption('--action <a>', 'an action, e.g. read (repeatable)', collect)
      .option('--purpose <text>', 'why the platform may use it', 'unspecified')
      .requiredOption('--expires <when>', '30d, 12h, P30D or an ISO date')
      // ---- terms of use (data pools issue): added options, passed through as `terms` ----
      .option(
        '--terms-purpose <code>',
        'allowed uses: service-delivery, analytics, inference, model-training, research, marketing or x-NAME (repeatable; verifiers must declare one)',
        collect,
      )
      .option('--retention <duration>', 'the platform deletes what it obtained within this ISO 8601 duration, e.g. P90D')
      .option('--onward-sharing <none|did>', 'none, or a DID the platform may pass the data on to (repeatable)', collect)
      .option('--processing <where>', 'any | on-device | trusted-execution')
      .option('--compensation <money/per>', 'what each use or period earns you, e.g. 0.05EUR/use or 10EUR/P1M')
      // ---- end of terms ----
      .option('--format <format>', 'vc+jwt (revocable and suspendable) or sd-jwt (an SD-JWT VC: the platform shows only the permissions a request needs; revocable)', 'vc+jwt')
      .option('--disclosable <lists>', 'sd-jwt: which lists the platform may disclose item by item: resources, actions (default both) or none', commaList),
    [
      'charter grant issue --as alice --to did:web:shop.example --resource profile/email --action read --purpose "order updates" --expires 30d',
      'charter grant issue --as alice --to shop --resource photos/* --action read --expires 7d --json',
      'charter grant issue --as alice --to shop --resource profile/email --resource photos/* --action read --expires 30d --format sd-jwt',
      'charter grant issue --as alice --to did:web:lab.example --resource health/steps --action read --purpose "step research" --terms-purpose research --retention P90D --processing trusted-execution --compensation 0.01EUR/use --expires 90d',
    ],
  ).action((opts: IssueOptions) =>
    homeCommand(
      ctx,
      opts,
      async (home) => {
        if (!FORMATS.includes(opts.format)) throw new CharterError('INVALID_ARGUMENT', `--format must be ${FORMATS.join(' or ')}`);
        if (opts.disclosable !== undefined && opts.format !== 'sd-jwt') throw new CharterError('INVALID_ARGUMENT', '--disclosable applies to --format sd-jwt');
        const issuer = await home.issuer(actingAs(ctx, opts, ['--from']));
        const baseUrl = await home.requirePublicUrl();
        const terms = termsFromFlags(opts.termsPurpose, opts);
        const grantee = await partyDid(home, opts.to, '--to');
        const input = {
          grantee,
          resources: opts.resource,
          actions: opts.action,
          purpose: opts.purpose ?? 'unspecified',
          validUntil: parseExpiry(opts.expires),
          baseUrl,
          ...(terms ? { terms } : {}),
        };
        if (opts.format === 'sd-jwt') {
          const chosen = opts.disclosable?.includes('none') ? [] : ((opts.disclosable ?? ['resources', 'actions']) as ('resources' | 'actions')[]);
          const g = await issueSdJwtGrant(home.store, issuer, { ...input, disclosable: chosen, resolver: home.resolver });
          return { id: g.id, format: 'sd-jwt' as const, token: g.token, statusIndex: g.statusIndex, grantee, expires: input.validUntil.toISOString(), disclosable: g.disclosable };
        }
        const g = await issueGrant(home.store, issuer, input);
        return { id: g.id, jwt: g.jwt, statusIndex: g.statusIndex, grantee: soleSubject(g.credential)?.id ?? '', expires: g.credential.validUntil ?? null };
      },
      (r) => `id:    ${r.id}\ntoken: ${'jwt' in r ? r.jwt : r.token}\n(give the token to ${shortDid(r.grantee)}; take it back with \`charter grant revoke ${r.id}\`)`,
    ),
  );

  leaf(grant.command('list').description('every grant issued from this home, with its state').option('--to <did|alias>', 'only grants to this grantee'), [
    'charter grant list',
    'charter grant list --json',
  ]).action((opts: CommonOptions & { to?: string }) =>
    homeCommand(
      ctx,
      opts,
      async (home) => {
        const grants = await listGrants(home.store, opts.to ? { grantee: await partyDid(home, opts.to, '--to') } : {});
        // The uses platforms reported back (access reports), newest first.
        return Promise.all(grants.map(async (g) => ({ ...g, reported: await accessReports(home.store, g.id, { limit: MAX_KEPT_PER_GRANT }) })));
      },
      (rows) =>
        table(
          ['ID', 'GRANTEE', 'RESOURCES', 'ACTIONS', 'EXPIRES', 'STATE', 'FORMAT', 'REPORTED USES'],
          rows.map((g) => [g.id, shortDid(g.grantee), g.resources.join(','), g.actions.join(','), g.expires ?? '', g.state, g.format, reportedUses(g.reported)]),
        ),
    ),
  );

  const change = (verb: 'revoke' | 'suspend' | 'resume', fn: typeof revokeGrant, help: string) => {
    const cmd = grant
      .command(verb)
      .description(help)
      .argument(verb === 'revoke' ? '[grant]' : '<grant>', 'the grant: its id (see `charter grant list`), its token, or a file holding it');
    if (verb === 'revoke') cmd.option('--to <did|alias>', 'revoke every grant to this grantee');
    leaf(cmd, [
      `charter grant ${verb} urn:uuid:...`,
      `charter grant ${verb} grant.jwt --json`,
      ...(verb === 'revoke' ? ['charter grant revoke --to did:web:shop.example'] : []),
    ]).action((arg: string | undefined, opts: CommonOptions & { to?: string }) =>
      runCommand(
        ctx,
        opts,
        async () => {
          if (opts.to !== undefined && arg !== undefined) throw new CharterError('INVALID_ARGUMENT', 'give either a grant or --to, not both');
          if (opts.to === undefined && arg === undefined) throw new CharterError('INVALID_ARGUMENT', 'name the grant to revoke, or --to DID (see `charter grant list`)');
          const id = arg === undefined ? undefined : await credentialIdArg(ctx, arg, 'grant');
          return withHome(ctx, opts, async (home) => {
            const issuerFor = (did: string) => home.issuer(did);
            const changes = id === undefined ? await revokeGrantsTo(home.store, await partyDid(home, opts.to!, '--to'), issuerFor) : [await fn(home.store, id, issuerFor)];
            return statusChangeView(PAST[verb], changes);
          });
        },
        (r) => renderStatusChange(PAST[verb], verb, r),
      ),
    );
  };
  change('revoke', revokeGrant, 'revoke a grant for good (or every grant to one grantee with --to)');
  change('suspend', suspendGrant, 'suspend a grant until resumed');
  change('resume', resumeGrant, 'resume a suspended grant');

  leaf(
    grant
      .command('verify')
      .description('check a grant (or a presentation of one; vc+jwt or SD-JWT) allows an action on a resource, now')
      .argument('<grant|file|->')
      .requiredOption('--resource <r>', 'the resource requested')
      .requiredOption('--action <a>', 'the action requested')
      .option('--grantee <did|alias>', 'the party asking (must be the grant subject)')
      .option('--owner <did|alias>', 'whose data is asked for: the grant must be theirs (without it, any grantor is accepted and the output says so)')
      .option('--aud <aud>', 'for a presentation: this verifier')
      .option('--nonce <nonce>', 'for a presentation: the challenge sent')
      // ---- terms of use (data pools issue): the use declared, checked against the grant's terms ----
      .option('--for <purpose>', 'the purpose of this use, e.g. model-training (a grant whose terms limit purposes requires it)')
      .option('--processing <where>', 'where the data is processed: on-device | trusted-execution'),
    // ---- end of terms ----
    [
      'charter grant verify grant.jwt --resource profile/email --action read --grantee did:web:shop.example --owner alice',
      'charter grant verify shown.txt --resource profile/email --action read --owner did:key:z6Mk... --aud did:web:shop.example --nonce 4f1c',
    ],
  ).action(
    (
      arg: string,
      opts: CommonOptions & {
        resource: string;
        action: string;
        grantee?: string;
        owner?: string;
        aud?: string;
        nonce?: string;
        for?: string;
        processing?: 'on-device' | 'trusted-execution';
      },
    ) =>
      runCommand(
        ctx,
        opts,
        async () => {
          // Before either verifier runs, so both formats refuse a bad flag alike.
          refuseBlank(opts, ['--aud', '--nonce']);
          checkUseFlags(opts);
          // An SD-JWT grant (or a presentation of one) is told from a vc+jwt by its "~".
          const text = await readTextArg(ctx, arg, 'grant');
          const jwt = text.includes('~') ? text.trim() : await readJwtArg(ctx, text, 'grant');
          // A presentation proves who presents the grant only for an audience and a nonce: say so (exit 2), as vp verify does.
          // An SD-JWT presentation is one with its key binding JWT after the last "~" (RFC 9901 §4); the issued token
          // ends with "~" and its holder checks it without either flag.
          const presentation = jwt.includes('~') ? !jwt.endsWith('~') : isPresentation(jwt);
          if (presentation && (opts.aud === undefined || opts.nonce === undefined)) {
            throw new CharterError('INVALID_ARGUMENT', 'this is a presentation of a grant: give --aud (who verifies) and --nonce (the challenge it answers)');
          }
          return withTools(ctx, opts, async (tools, home) => {
            const grantee = opts.grantee === undefined ? undefined : await partyDid(home, opts.grantee, '--grantee');
            const owner = opts.owner === undefined ? undefined : await partyDid(home, opts.owner, '--owner');
            const common = {
              resource: opts.resource,
              action: opts.action,
              ...(grantee ? { grantee } : {}),
              ...(owner ? { owner } : { anyOwner: true }),
              ...(opts.aud ? { aud: opts.aud } : {}),
              ...(opts.nonce ? { nonce: opts.nonce } : {}),
              ...(opts.for ? { purpose: opts.for } : {}),
              ...(opts.processing ? { processing: opts.processing } : {}),
            };
            const sd = jwt.includes('~');
            // A presentation bound to one HTTP request or MCP call (a vp+jwt's claims, an SD-JWT's key binding
            // JWT's) is for that call only: here there is none.
            const d = unlessBoundElsewhere(
              sd
                ? await verifySdJwtGrant(jwt, {
                    ...common,
                    resolver: tools.resolver,
                    status: tools.tokenStatus,
                    // The issued token itself (no key binding) is what its holder checks; a presentation names aud and nonce.
                    ...(opts.aud === undefined && opts.nonce === undefined ? { allowMissingKeyBinding: true } : {}),
                  })
                : await verifyGrant(jwt, { ...common, resolver: tools.resolver, status: tools.status }),
              jwt,
            );
            return { ok: d.ok, reasons: d.reasons, grantor: d.grantor, grantee: d.grantee, grant: d.grant, format: sd ? 'dc+sd-jwt' : 'vc+jwt', ownerChecked: owner !== undefined };
          });
        },
        (d) =>
          [
            d.ok ? `✓ allowed: ${opts.action} ${opts.resource}` : `✗ refused: ${opts.action} ${opts.resource}`,
            d.grantor ? `  grantor: ${d.grantor}${d.ownerChecked ? ' (the owner)' : ' (not checked against an owner: add --owner DID)'}` : '',
            d.grantee ? `  grantee: ${d.grantee}` : '',
            d.ok ? '' : formatReasons(d.reasons),
          ]
            .filter(Boolean)
            .join('\n'),
      ),
  );
}
