import type { Command } from 'commander';
import { CharterError } from '../errors.js';
import { parseExpiry } from '../encoding/duration.js';
import { issueGrant, listGrants, resumeGrant, revokeGrant, revokeGrantsTo, suspendGrant, verifyGrant } from '../grants/index.js';
import { formatReasons, homeCommand, leaf, readJwtArg, runCommand, withHome, type CliContext, type CommonOptions } from './io.js';
import { shortDid, table } from './format.js';
import { accessReports, type AccessUse } from '../audit/index.js';

interface IssueOptions extends CommonOptions {
  from: string;
  to: string;
  resource: string[];
  action: string[];
  purpose?: string;
  expires: string;
}

const PAST = { revoke: 'revoked', suspend: 'suspended', resume: 'resumed' } as const;
const reportedUses = (u: AccessUse[]) => (u.length === 0 ? '-' : `${u.length}, last ${u[0]!.at.slice(0, 16).replace('T', ' ')} by ${shortDid(u[0]!.verifier)}`);
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
      .requiredOption('--expires <when>', '30d, 12h, P30D or an ISO date'),
    ['charter grant issue --from alice --to did:web:shop.example --resource profile/email --action read --purpose "order updates" --expires 30d'],
  ).action((opts: IssueOptions) =>
    homeCommand(
      ctx,
      opts,
      async (home) => {
        const issuer = await home.issuer(opts.from);
        const baseUrl = await home.requirePublicUrl();
        const g = await issueGrant(home.store, issuer, {
          grantee: opts.to,
          resources: opts.resource,
          actions: opts.action,
          purpose: opts.purpose ?? 'unspecified',
          validUntil: parseExpiry(opts.expires),
          baseUrl,
        });
        return { id: g.id, jwt: g.jwt, statusIndex: g.statusIndex };
      },
      (r) => r.jwt,
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
      () =>
        withHome(ctx, opts, async (home) => {
          const grants = await listGrants(home.store, opts.to ? { grantee: opts.to } : {});
          // The uses platforms reported back (access reports), newest first.
          return Promise.all(grants.map(async (g) => ({ ...g, reported: await accessReports(home.store, g.id, { limit: 50 }) })));
        }),
      (rows) =>
        table(
          ['ID', 'GRANTEE', 'RESOURCES', 'ACTIONS', 'EXPIRES', 'STATE', 'REPORTED USES'],
          rows.map((g) => [g.id, shortDid(g.grantee), g.resources.join(','), g.actions.join(','), g.expires ?? '', g.state, reportedUses(g.reported)]),
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
      .description('check a grant (or a presentation of one) allows an action on a resource, now')
      .argument('<jwt|file|->')
      .requiredOption('--resource <r>', 'the resource requested')
      .requiredOption('--action <a>', 'the action requested')
      .option('--grantee <did>', 'the party asking (must be the grant subject)')
      .option('--owner <did>', 'whose data is asked for: the grant must be theirs (without it, any grantor is accepted and the output says so)')
      .option('--aud <aud>', 'for a presentation: this verifier')
      .option('--nonce <nonce>', 'for a presentation: the challenge sent')
      .option('--allow-loopback', 'allow loopback/http DID and status URLs (local testing)'),
    ['charter grant verify grant.jwt --resource profile/email --action read --grantee did:web:shop.example'],
  ).action((arg: string, opts: CommonOptions & { resource: string; action: string; grantee?: string; owner?: string; aud?: string; nonce?: string }) =>
    runCommand(
      ctx,
      opts,
      async () => {
        const jwt = await readJwtArg(ctx, arg, 'grant');
        return withHome(ctx, opts, async (home) => {
          const d = await verifyGrant(jwt, {
            resolver: home.resolver,
            status: home.status,
            resource: opts.resource,
            action: opts.action,
            ...(opts.grantee ? { grantee: opts.grantee } : {}),
            ...(opts.owner ? { owner: opts.owner } : { anyOwner: true }),
            ...(opts.aud ? { aud: opts.aud } : {}),
            ...(opts.nonce ? { nonce: opts.nonce } : {}),
          });
          return { ok: d.ok, reasons: d.reasons, grantor: d.grantor, grantee: d.grantee, grant: d.grant, ownerChecked: opts.owner !== undefined };
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
