import type { Command } from 'commander';
import { CharterError } from '../errors.js';
import { parseExpiry } from '../encoding/duration.js';
import { issueGrant, listGrants, resumeGrant, revokeGrant, revokeGrantsTo, suspendGrant, verifyGrant } from '../grants/index.js';
import { issueSdJwtGrant, verifySdJwtGrant } from '../sdjwt/grant.js';
import { createTokenStatusChecker } from '../status/token-checker.js';
import { formatReasons, homeCommand, leaf, readJwtArg, readTextArg, runCommand, withHome, type CliContext, type CommonOptions } from './io.js';
import { shortDid, table } from './format.js';

interface IssueOptions extends CommonOptions {
  from: string;
  to: string;
  resource: string[];
  action: string[];
  purpose?: string;
  expires: string;
  format: string;
  disclosable?: string[];
}

const FORMATS = ['vc+jwt', 'sd-jwt'];
/** `--disclosable resources,actions` (or `none`): which lists of an SD-JWT grant the holder may disclose item by item. */
const lists = (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((x) => x.trim()).filter(Boolean)];

const PAST = { revoke: 'revoked', suspend: 'suspended', resume: 'resumed' } as const;
const collect = (v: string, prev: string[] = []) => [...prev, v];

export function registerGrant(program: Command, ctx: CliContext): void {
  const grant = program.command('grant').description('revocable data grants: scoped, time-boxed access to your data');

  leaf(
    grant
      .command('issue')
      .description('grant a platform access to some of your data')
      .requiredOption('--from <name>', 'your identity (the data owner)')
      .requiredOption('--to <did>', 'the grantee (platform) DID')
      .requiredOption('--resource <r>', 'a resource, e.g. profile/email or photos/* (repeatable)', collect)
      .requiredOption('--action <a>', 'an action, e.g. read (repeatable)', collect)
      .option('--purpose <text>', 'why the platform may use it', 'unspecified')
      .requiredOption('--expires <when>', '30d, 12h, P30D or an ISO date')
      .option('--format <format>', 'vc+jwt (revocable and suspendable) or sd-jwt (an SD-JWT VC: the platform shows only the permissions a request needs; revocable)', 'vc+jwt')
      .option('--disclosable <lists>', 'sd-jwt: which lists the platform may disclose item by item: resources, actions (default both) or none', lists),
    [
      'charter grant issue --from alice --to did:web:shop.example --resource profile/email --action read --purpose "order updates" --expires 30d',
      'charter grant issue --from alice --to did:key:z6Mk... --resource profile/email --resource photos/* --action read --expires 30d --format sd-jwt',
    ],
  ).action((opts: IssueOptions) =>
    homeCommand(
      ctx,
      opts,
      async (home) => {
        if (!FORMATS.includes(opts.format)) throw new CharterError('INVALID_ARGUMENT', `--format must be ${FORMATS.join(' or ')}`);
        if (opts.disclosable !== undefined && opts.format !== 'sd-jwt') throw new CharterError('INVALID_ARGUMENT', '--disclosable applies to --format sd-jwt');
        const issuer = await home.issuer(opts.from);
        const baseUrl = await home.requirePublicUrl();
        const input = {
          grantee: opts.to,
          resources: opts.resource,
          actions: opts.action,
          purpose: opts.purpose ?? 'unspecified',
          validUntil: parseExpiry(opts.expires),
          baseUrl,
        };
        if (opts.format === 'sd-jwt') {
          const chosen = opts.disclosable?.includes('none') ? [] : ((opts.disclosable ?? ['resources', 'actions']) as ('resources' | 'actions')[]);
          const g = await issueSdJwtGrant(home.store, issuer, { ...input, disclosable: chosen, resolver: home.resolver });
          return { id: g.id, format: 'sd-jwt' as const, token: g.token, statusIndex: g.statusIndex, disclosable: g.disclosable };
        }
        const g = await issueGrant(home.store, issuer, input);
        return { id: g.id, jwt: g.jwt, statusIndex: g.statusIndex };
      },
      (r) => r.jwt ?? r.token ?? '',
    ),
  );

  leaf(
    grant
      .command('list')
      .description('every grant issued from this home, with its state')
      .option('--to <did>', 'only grants to this grantee'),
    ['charter grant list', 'charter grant list --json'],
  ).action((opts: CommonOptions & { to?: string }) =>
    runCommand(
      ctx,
      opts,
      () => withHome(ctx, opts, (home) => listGrants(home.store, opts.to ? { grantee: opts.to } : {})),
      (rows) =>
        table(
          ['ID', 'GRANTEE', 'RESOURCES', 'ACTIONS', 'EXPIRES', 'STATE', 'FORMAT'],
          rows.map((g) => [g.id, shortDid(g.grantee), g.resources.join(','), g.actions.join(','), g.expires ?? '', g.state, g.format]),
        ),
    ),
  );

  const change = (verb: 'revoke' | 'suspend' | 'resume', fn: typeof revokeGrant, help: string) => {
    const cmd = grant.command(verb).description(help).argument(verb === 'revoke' ? '[id]' : '<id>', 'grant id (see `charter grant list`)');
    if (verb === 'revoke') cmd.option('--to <did>', 'revoke every grant to this grantee');
    leaf(cmd, [`charter grant ${verb} urn:uuid:...`, ...(verb === 'revoke' ? ['charter grant revoke --to did:web:shop.example'] : [])]).action(
      (id: string | undefined, opts: CommonOptions & { to?: string }) =>
        homeCommand(
          ctx,
          opts,
          async (home) => {
            const issuerFor = (did: string) => home.issuer(did);
            if (opts.to) {
              if (id) throw new CharterError('INVALID_ARGUMENT', 'give either a grant id or --to, not both');
              return { revoked: await revokeGrantsTo(home.store, opts.to, issuerFor) };
            }
            if (!id) throw new CharterError('INVALID_ARGUMENT', 'name the grant to revoke, or --to DID (see `charter grant list`)');
            await fn(home.store, id, issuerFor);
            return { [PAST[verb]]: [id] };
          },
          (r) => Object.entries(r).map(([k, ids]) => (ids.length ? ids.map((i) => `${k} ${i}`).join('\n') : `nothing to ${verb}`)).join('\n'),
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
      .option('--grantee <did>', 'the party asking (must be the grant subject)')
      .option('--owner <did>', 'whose data is asked for: the grant must be theirs (without it, any grantor is accepted and the output says so)')
      .option('--aud <aud>', 'for a presentation: this verifier')
      .option('--nonce <nonce>', 'for a presentation: the challenge sent')
      .option('--allow-loopback', 'allow loopback/http DID and status URLs (local testing)'),
    ['charter grant verify grant.jwt --resource profile/email --action read --grantee did:web:shop.example', 'charter grant verify shown.txt --resource profile/email --action read --owner did:key:z6Mk... --aud did:web:shop.example --nonce 4f1c'],
  ).action((arg: string, opts: CommonOptions & { resource: string; action: string; grantee?: string; owner?: string; aud?: string; nonce?: string }) =>
    runCommand(
      ctx,
      opts,
      async () => {
        // An SD-JWT grant (or a presentation of one) is told from a vc+jwt by its "~".
        const text = await readTextArg(ctx, arg, 'grant');
        const jwt = text.includes('~') ? text : await readJwtArg(ctx, text, 'grant');
        return withHome(ctx, opts, async (home) => {
          const sd = jwt.includes('~');
          const d = sd
            ? await verifySdJwtGrant(jwt, {
                resolver: home.resolver,
                status: createTokenStatusChecker({ resolver: home.resolver, allowLoopback: home.allowLoopback, allowHttp: home.allowLoopback }),
                resource: opts.resource,
                action: opts.action,
                ...(opts.grantee ? { grantee: opts.grantee } : {}),
                ...(opts.owner ? { owner: opts.owner } : { anyOwner: true }),
                ...(opts.aud ? { aud: opts.aud } : {}),
                ...(opts.nonce ? { nonce: opts.nonce } : {}),
                // The issued token itself (no key binding) is what its holder checks; a presentation names aud and nonce.
                ...(opts.aud === undefined && opts.nonce === undefined ? { allowMissingKeyBinding: true } : {}),
              })
            : await verifyGrant(jwt, {
                resolver: home.resolver,
                status: home.status,
                resource: opts.resource,
                action: opts.action,
                ...(opts.grantee ? { grantee: opts.grantee } : {}),
                ...(opts.owner ? { owner: opts.owner } : { anyOwner: true }),
                ...(opts.aud ? { aud: opts.aud } : {}),
                ...(opts.nonce ? { nonce: opts.nonce } : {}),
              });
          return { ok: d.ok, reasons: d.reasons, grantor: d.grantor, grantee: d.grantee, grant: d.grant, format: sd ? 'dc+sd-jwt' : 'vc+jwt', ownerChecked: opts.owner !== undefined };
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
