import type { Command } from 'commander';
import { CharterError } from '../errors.js';
import { decodeJwt } from '../credentials/index.js';
import { describeTerms, joinStatusEntry, listGrants, type Proposal } from '../grants/index.js';
import {
  acceptedStatus,
  admitMember,
  castVote,
  createPool,
  currentEpoch,
  findProposal,
  issuePoolGrant,
  issueUsageReport,
  joinerOf,
  leavePool,
  listPools,
  proposalOverview,
  revocationProposal,
  membershipOf,
  poolPayouts,
  propose,
  receiveProposal,
  receiveVote,
  revokePoolGrant,
  signAcceptance,
  signLeave,
  tally,
  type Execution,
  type PayoutStatement,
  type StoredProposal,
} from '../pools/index.js';
import type { CreateIdentityInput, Home } from '../home/home.js';
import { checkDistinctKeys, checkFounding, poolEpochs } from '../pools/membership.js';
import { didKeyRef } from '../did/index.js';
import type { Issuer } from '../credentials/types.js';
import type { KeyType } from '../keys/types.js';
import { formatReasons, homeCommand, leaf, readJwtList, readTextArg, type CliContext, type CommonOptions } from './io.js';
import { shortDid, table } from './format.js';
import { termsFromFlags, type TermFlags } from './terms.js';
import { collect, partyDid, partyDids } from './args.js';
import { checkedPartyDid } from '../did/parties.js';
import { parseInstant } from '../encoding/duration.js';

const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/** The pool a command acts for: --pool (alias or DID), or the only pool this home runs. */
async function poolDid(home: Home, name: string | undefined): Promise<string> {
  if (name) return (await home.store.getIdentity(name))?.did ?? name;
  const pools = await listPools(home.store);
  if (pools.length === 1) return pools[0]!.pool;
  throw new CharterError('INVALID_ARGUMENT', pools.length === 0 ? 'this home runs no pool (charter pool create)' : 'this home runs several pools: name one with --pool');
}

const KEY_TYPES = { ed25519: 'Ed25519', p256: 'P-256', secp256k1: 'secp256k1' } as const;

/**
 * The pool's identity: created, or the one an interrupted `pool create` left
 * (made as a pool, killed before its epoch 0), so the retry finishes the
 * founding. Any other identity of that name, or one made with another key
 * or DID method than asked for, is ALREADY_EXISTS.
 */
async function poolIdentity(home: Home, input: CreateIdentityInput & { keyType: KeyType; method: 'key' | 'web' }): Promise<Issuer> {
  const rec = await home.store.getIdentity(input.alias);
  if (rec?.alias !== input.alias) {
    await home.createIdentity({ ...input, meta: { role: 'pool' } });
    return home.issuer(input.alias);
  }
  if (rec.meta?.role !== 'pool' || (await poolEpochs(home.store, rec.did)).length > 0)
    throw new CharterError('ALREADY_EXISTS', `an identity named "${input.alias}" already exists`);
  if (rec.keyType !== input.keyType || didKeyRef(input.method, rec.publicJwk, input.domain).did !== rec.did) {
    throw new CharterError(
      'ALREADY_EXISTS',
      `"${input.alias}" is a pool whose founding did not finish, as ${rec.did.slice(0, 80)} (${rec.keyType}): run it again with that key and DID, or choose another alias`,
    );
  }
  return home.issuer(input.alias);
}

/** A proposal by id, hash (prefix) or, as a member who received it, its JWT or a file holding it. */
async function proposalArg(ctx: CliContext, home: Home, arg: string): Promise<StoredProposal> {
  const text = await readTextArg(ctx, arg, 'proposal');
  return JWT.test(text) ? receiveProposal(home.store, text, home.resolver) : findProposal(home.store, text);
}

function renderExecution(e: Execution): string {
  const count = `${e.approvals.length} of ${e.threshold} approvals${e.rejections.length ? `, ${e.rejections.length} against` : ''}`;
  if (!e.ok) return [`✗ refused: ${e.action} (${count})`, formatReasons(e.reasons)].join('\n');
  // A grant prints as `grant issue` does: the JWT alone, ready for a file (--json has the rest).
  if (e.jwt) return e.jwt;
  return `✓ ${e.action === 'admit' ? 'admitted' : 'revoked'} (${count}): ${e.result}`;
}

function describeProposal(p: Proposal): string {
  if (p.action === 'admit') return `admit ${p.member}`;
  if (p.action === 'revoke') return `revoke ${p.target}`;
  const g = p.grant!;
  return `grant ${g.actions.join(',')} on ${g.resources.join(',')} to ${shortDid(g.grantee)} for ${g.duration}`;
}

function renderPayouts(s: PayoutStatement & { jwt: string }): string {
  const lines = [`payouts of ${s.pool}, ${s.period.from} → ${s.period.until}`];
  for (const c of s.currencies) {
    lines.push(
      '',
      `${c.currency}: total ${c.total} (exact ${c.exact})`,
      table(
        ['MEMBER', 'OWED'],
        c.shares.map((x) => [x.member, `${x.amount} ${c.currency}`]),
      ),
    );
  }
  lines.push(
    '',
    table(
      ['GRANT', 'GRANTEE', 'USES', 'PERIODS', 'EARNED'],
      s.grants.map((g) => [g.id, shortDid(g.grantee), String(g.uses), String(g.periods), `${g.earned} ${g.currency ?? ''}`.trim()]),
    ),
  );
  if (s.outOfTerms.length) lines.push('', 'uses the grant did not cover (not paid):', ...s.outOfTerms.map((o) => `  ${o.time} ${shortDid(o.member)} ×${o.count}: ${o.why}`));
  if (s.ignored.length) lines.push('', 'reports not counted:', ...s.ignored.map((i) => `  #${i.index} ${i.code}: ${i.message}`));
  lines.push('', `rounding: ${s.rounding}`, '', 'signed statement (charter-payout+jwt):', s.jwt);
  return lines.join('\n');
}

interface ProposeOptions extends CommonOptions, TermFlags {
  pool?: string;
  grantee?: string;
  resource?: string[];
  action?: string[];
  purpose?: string[];
  description?: string;
  duration: string;
  revoke?: string;
}

export function registerPool(program: Command, ctx: CliContext): void {
  const pool = program.command('pool').description('data pools: members decide together who may use their data, on what terms; each can leave at any time');

  leaf(
    pool
      .command('create')
      .description('found a pool: a new identity whose members decide by a threshold')
      .requiredOption('--alias <name>', 'local name of the pool identity')
      .requiredOption('--threshold <k>', 'approvals needed for a decision (k of the n members)')
      .requiredOption('--member <name|did>', 'a founder, an identity of this home: it accepts membership with its own key (repeatable)', collect)
      .option('--key <type>', 'ed25519 | p256 | secp256k1', 'ed25519')
      .option('--method <method>', 'key | web', 'key')
      .option('--domain <d>', 'for --method web'),
    ['charter pool create --alias sleep-pool --threshold 2 --member ana --member ben --member chloe'],
  ).action((o: CommonOptions & { alias: string; threshold: string; member: string[]; key: string; method: 'key' | 'web'; domain?: string }) =>
    homeCommand(
      ctx,
      o,
      async (home) => {
        const founders = [];
        for (const m of o.member) {
          if (!(await home.store.getIdentity(m)))
            throw new CharterError('NOT_FOUND', `founder ${m.slice(0, 80)} has no key in this home: found the pool with local members, then invite it (charter pool invite)`);
          founders.push(joinerOf(await home.issuer(m)));
        }
        const keyType = KEY_TYPES[o.key as keyof typeof KEY_TYPES];
        if (!Object.hasOwn(KEY_TYPES, o.key)) throw new CharterError('INVALID_ARGUMENT', '--key is ed25519, p256 or secp256k1');
        const threshold = Number(o.threshold);
        // Everything that can be refused is refused before the pool's identity is written.
        checkFounding({ threshold, founders: founders.map((f) => f.did) });
        // One key is one member: refused before the pool's identity is made, so nothing is left behind.
        await checkDistinctKeys(
          home.resolver,
          [],
          founders.map((f) => f.did),
        );
        const baseUrl = await home.requirePublicUrl();
        const pool = await poolIdentity(home, { alias: o.alias, keyType, method: o.method, ...(o.domain ? { domain: o.domain } : {}) });
        return createPool(home.store, pool, { threshold, founders, baseUrl, resolver: home.resolver });
      },
      (r) => `pool ${r.pool}\n  epoch ${r.epoch}, ${r.threshold} of ${r.members.length} members decide\n${r.members.map((m) => `  member ${m}`).join('\n')}`,
    ),
  );

  leaf(pool.command('show').description('the pool: members, threshold, proposals with their votes, grants').option('--pool <name|did>', 'the pool (default: the only one)'), [
    'charter pool show',
    'charter pool show --pool sleep-pool --json',
  ]).action((o: CommonOptions & { pool?: string }) =>
    homeCommand(
      ctx,
      o,
      async (home) => {
        const did = await poolDid(home, o.pool);
        const e = await currentEpoch(home.store, did);
        const proposals = (await proposalOverview(home.store, did, { resolver: home.resolver })).map(({ proposal, ...p }) => ({ ...p, what: describeProposal(proposal) }));
        const grants = (await listGrants(home.store, { grantor: did })).map((g) => ({
          id: g.id,
          grantee: g.grantee,
          resources: g.resources,
          expires: g.expires,
          state: g.state,
          terms: describeTerms(g.terms),
        }));
        return { pool: did, epoch: e.number, threshold: e.threshold, members: e.members.map((m) => m.id), since: e.since, proposals, grants };
      },
      (r) =>
        [
          `pool ${r.pool}: epoch ${r.epoch} (since ${r.since}), ${r.threshold} of ${r.members.length} members decide`,
          ...r.members.map((m) => `  member ${m}`),
          '',
          table(
            ['PROPOSAL', 'WHAT', 'EPOCH', 'VOTES', 'STATE'],
            r.proposals.map((p) => [p.hash.slice(0, 19), p.what, String(p.epoch), `${p.approvals}/${p.threshold} for, ${p.rejections} against`, p.state]),
          ),
          '',
          table(
            ['GRANT', 'GRANTEE', 'RESOURCES', 'EXPIRES', 'STATE', 'TERMS'],
            r.grants.map((g) => [g.id, shortDid(g.grantee), g.resources.join(','), g.expires ?? '', g.state, g.terms.join(' ')]),
          ),
        ].join('\n'),
    ),
  );

  leaf(
    pool
      .command('propose')
      .description("put a grant (or a revocation) to the pool's members")
      .option('--pool <name|did>', 'the pool (default: the only one)')
      .option('--grantee <alias|did>', 'the platform to grant access to')
      .option('--resource <r>', 'a resource, e.g. health/* (repeatable)', collect)
      .option('--action <a>', 'an action (repeatable; default read)', collect)
      .option('--purpose <code>', 'allowed uses: model-training, inference, analytics, service-delivery, research, marketing or x-NAME (repeatable)', collect)
      .option('--description <text>', 'the purpose in words (default: the purposes)')
      .option('--duration <d>', 'how long the grant lasts once issued (ISO 8601)', 'P90D')
      .option('--retention <duration>', 'the platform deletes what it obtained within this duration, e.g. P30D')
      .option('--onward-sharing <none|did>', 'none, or a DID the platform may pass the data on to (repeatable)', collect)
      .option('--processing <where>', 'any | on-device | trusted-execution')
      .option('--compensation <money/per>', 'what the platform pays, e.g. 0.05EUR/use or 100EUR/P1M')
      .option('--weight <did=w>', 'split by fixed weights instead of equally (repeatable)', collect)
      .option('--revoke <grant>', "propose to revoke one of the pool's grants instead"),
    [
      'charter pool propose --grantee did:web:lab.example --resource health/* --purpose model-training --retention P30D --compensation 0.05EUR/use',
      'charter pool propose --revoke urn:charter:pool-grant:…',
    ],
  ).action((o: ProposeOptions) =>
    homeCommand(
      ctx,
      o,
      async (home) => {
        const did = await poolDid(home, o.pool);
        const issuer = await home.issuer(did);
        if (o.revoke) return propose(home.store, issuer, { action: 'revoke', target: o.revoke });
        if (!o.grantee || !o.resource?.length) throw new CharterError('INVALID_ARGUMENT', 'a grant proposal needs --grantee and --resource (or --revoke GRANT)');
        const terms = termsFromFlags(o.purpose, o);
        if (terms?.compensation && terms.compensation.split === undefined) terms.compensation.split = 'equal';
        return propose(home.store, issuer, {
          action: 'grant',
          grant: {
            grantee: await partyDid(home, o.grantee, '--grantee'),
            resources: o.resource,
            actions: o.action?.length ? o.action : ['read'],
            purpose: o.description ?? terms?.purpose?.join(', ') ?? 'unspecified',
            ...(terms ? { terms } : {}),
            duration: o.duration,
          },
        });
      },
      (p) =>
        `proposal ${p.hash}\n  ${describeProposal(p.proposal)}\n  epoch ${p.proposal.epoch.number}: ${p.proposal.epoch.threshold} of ${p.proposal.epoch.members.length} members must approve\n${
          p.proposal.grant?.terms
            ? describeTerms(p.proposal.grant.terms)
                .map((t) => `  ${t}`)
                .join('\n')
            : ''
        }`.trimEnd(),
    ),
  );

  leaf(
    pool
      .command('invite')
      .description('propose to admit a new member (it accepts with its own key once admitted)')
      .requiredOption('--member <alias|did>', 'the DID to admit (or the alias of an identity of this home)')
      .option('--pool <name|did>', 'the pool (default: the only one)'),
    ['charter pool invite --member did:key:z6Mk…'],
  ).action((o: CommonOptions & { member: string; pool?: string }) =>
    homeCommand(
      ctx,
      o,
      async (home) =>
        propose(home.store, await home.issuer(await poolDid(home, o.pool)), { action: 'admit', member: await partyDid(home, o.member, '--member') }, { resolver: home.resolver }),
      (p) => `proposal ${p.hash}\n  ${describeProposal(p.proposal)}`,
    ),
  );

  leaf(
    pool
      .command('vote')
      .description('as a member, approve or reject a proposal (signs a vote bound to its hash and epoch)')
      .argument('<proposal>', 'its hash (or a prefix), id, or the proposal JWT / file a member received')
      .requiredOption('--as <alias|did>', 'the voting member, an identity of this home')
      .option('--approve', 'vote for')
      .option('--reject', 'vote against'),
    ['charter pool vote sha256-3fA9… --as ana --approve'],
  ).action((arg: string, o: CommonOptions & { as: string; approve?: boolean; reject?: boolean }) =>
    homeCommand(
      ctx,
      o,
      async (home) => {
        if (o.approve === o.reject) throw new CharterError('INVALID_ARGUMENT', 'vote with exactly one of --approve or --reject');
        const p = await proposalArg(ctx, home, arg);
        const v = await castVote(home.store, await home.issuer(o.as), p, o.approve ? 'approve' : 'reject');
        const t = await tally(home.store, p, { resolver: home.resolver });
        return { ...v, proposal: p.hash, decision: o.approve ? 'approve' : 'reject', approvals: t.approvals.length, threshold: t.threshold };
      },
      (r) => `${r.decision === 'approve' ? 'approved' : 'rejected'} ${r.proposal} (${r.approvals} of ${r.threshold} approvals so far)\n${r.jwt}`,
    ),
  );

  leaf(pool.command('import').description('keep votes (or proposals) signed elsewhere: members voting from their own homes').argument('<jwt|file|->'), [
    'charter pool import vote.jwt',
  ]).action((arg: string, o: CommonOptions) =>
    homeCommand(
      ctx,
      o,
      async (home) => {
        const out = [];
        for (const jwt of await readJwtList(ctx, arg, 'votes or proposals')) {
          const types = (decodeJwt(jwt).payload.type ?? []) as string[];
          out.push(types.includes('PoolProposal') ? { proposal: (await receiveProposal(home.store, jwt, home.resolver)).hash } : await receiveVote(home.store, jwt, home.resolver));
        }
        return out;
      },
      (r) => r.map((x) => ('id' in x ? `vote ${x.id} on ${x.proposal}` : `proposal ${x.proposal}`)).join('\n'),
    ),
  );

  leaf(pool.command('grant').description('issue the grant a proposal describes, once k distinct members approved it').argument('<proposal>'), [
    'charter pool grant sha256-3fA9…',
  ]).action((arg: string, o: CommonOptions) =>
    homeCommand(
      ctx,
      o,
      async (home) => {
        const p = await proposalArg(ctx, home, arg);
        return issuePoolGrant(home.store, await home.issuer(p.proposal.pool), p, { resolver: home.resolver, baseUrl: await home.requirePublicUrl() });
      },
      renderExecution,
    ),
  );

  leaf(
    pool
      .command('admit')
      .description('admit the member an approved invitation names, with its acceptance')
      .argument('<proposal>')
      .option('--as <alias|did>', 'the new member, when its key is in this home (it signs its acceptance)')
      .option('--acceptance <jwt|file>', 'its acceptance, signed in its own home (charter pool accept)'),
    ['charter pool admit sha256-3fA9… --as dan', 'charter pool admit sha256-3fA9… --acceptance accept.jwt'],
  ).action((arg: string, o: CommonOptions & { as?: string; acceptance?: string }) =>
    homeCommand(
      ctx,
      o,
      async (home) => {
        const p = await proposalArg(ctx, home, arg);
        const acceptance = o.as ? joinerOf(await home.issuer(o.as)).accept : o.acceptance ? await readTextArg(ctx, o.acceptance, 'acceptance') : undefined;
        return admitMember(home.store, await home.issuer(p.proposal.pool), p, {
          resolver: home.resolver,
          baseUrl: await home.requirePublicUrl(),
          ...(acceptance ? { acceptance } : {}),
        });
      },
      renderExecution,
    ),
  );

  leaf(
    pool
      .command('accept')
      .description('as an invited member, sign your acceptance of the membership a pool allocated you')
      .requiredOption('--pool <did>', 'the pool DID')
      .requiredOption('--status <url#index>', 'the status entry `pool admit` named')
      .requiredOption('--as <alias|did>', 'your identity'),
    ['charter pool accept --pool did:key:z6Mk… --status https://pool.example/status/abc#123 --as dan > accept.jwt'],
  ).action((o: CommonOptions & { pool: string; status: string; as: string }) =>
    homeCommand(
      ctx,
      o,
      async (home) => {
        // Named by the flags here; signAcceptance refuses the same for library callers.
        checkedPartyDid(o.pool, '--pool');
        if (!joinStatusEntry(o.status)) throw new CharterError('INVALID_ARGUMENT', '--status is the entry `pool admit` named: an http(s) status list URL, "#", and its index');
        return { jwt: await signAcceptance(await home.issuer(o.as), o.pool, o.status) };
      },
      (r) => r.jwt,
    ),
  );

  leaf(
    pool
      .command('leave')
      .description('withdraw from a pool, at any time: no grant of the pool covers your data any more')
      .option('--pool <name|did>', 'the pool (default: the only one)')
      .option('--as <alias|did>', 'the member leaving, an identity of this home (signs the request)')
      .option('--status <url#index>', 'your membership entry, when the pool is not run from this home')
      .option('--notice <jwt|file>', "a member's signed request to leave, received by the pool"),
    ['charter pool leave --as ana', 'charter pool leave --pool did:key:z6Mk… --as ana --status https://pool.example/status/abc#123 > leave.jwt'],
  ).action((o: CommonOptions & { pool?: string; as?: string; status?: string; notice?: string }) =>
    homeCommand(
      ctx,
      o,
      async (home) => {
        const did = await poolDid(home, o.pool);
        const local = (await home.store.getIdentity(did)) !== undefined;
        let notice = o.notice ? await readTextArg(ctx, o.notice, 'leave request') : undefined;
        if (!notice) {
          if (!o.as) throw new CharterError('INVALID_ARGUMENT', 'say who leaves: --as MEMBER (or --notice for a request received)');
          if (o.status !== undefined && !joinStatusEntry(o.status))
            throw new CharterError('INVALID_ARGUMENT', '--status is your membership entry: an http(s) status list URL, "#", and its index');
          const member = await home.issuer(o.as);
          const held = local ? await membershipOf(home.store, did, member.did) : undefined;
          const status = o.status ?? (held ? acceptedStatus((held.subject.membership as { accepted: string }).accepted) : undefined);
          if (!status) throw new CharterError('NOT_A_MEMBER', `${member.did.slice(0, 80)} is not a member of this pool here: give --status of your membership`);
          notice = await signLeave(member, did, status);
        }
        if (!local) return { notice, sent: false };
        return { ...(await leavePool(home.store, await home.issuer(did), { notice, resolver: home.resolver })), sent: true };
      },
      (r) =>
        'withdrawn' in r
          ? `${r.withdrawn} left the pool: epoch ${r.epoch}, ${r.members.length} members (threshold ${r.threshold})`
          : `send this leave request to the pool:\n${r.notice}`,
    ),
  );

  leaf(
    pool
      .command('revoke')
      .description("revoke one of the pool's grants for everyone, once k members approved its revocation (charter pool propose --revoke)")
      .argument('<grant>', 'the grant id'),
    ['charter pool revoke urn:charter:pool-grant:…'],
  ).action((grant: string, o: CommonOptions) =>
    homeCommand(
      ctx,
      o,
      async (home) => {
        const p = await revocationProposal(home.store, grant);
        return revokePoolGrant(home.store, await home.issuer(p.proposal.pool), p, { resolver: home.resolver });
      },
      renderExecution,
    ),
  );

  leaf(
    pool
      .command('report')
      .description('as the platform, sign the uses made under a pool grant (what payouts count)')
      .requiredOption('--as <alias|did>', 'the grantee, an identity of this home')
      .requiredOption('--grant <id|jwt|file>', 'the pool grant')
      .requiredOption('--member <alias|did>', 'the member whose data was used (repeatable)', collect)
      .option('--count <n>', 'uses per member', '1')
      .option('--at <time>', 'when (RFC 3339; default now)'),
    ['charter pool report --as lab --grant grant.jwt --member did:key:z6Mk… --count 12 > usage.jwt'],
  ).action((o: CommonOptions & { as: string; grant: string; member: string[]; count: string; at?: string }) =>
    homeCommand(
      ctx,
      o,
      async (home) => {
        const text = await readTextArg(ctx, o.grant, 'grant');
        const jwt = JWT.test(text) ? text : (await home.store.getCredential(text))?.jwt;
        if (!jwt) throw new CharterError('NOT_FOUND', 'give the pool grant as its JWT (or an id this home holds)');
        const p = decodeJwt(jwt).payload as { id?: string; issuer?: string };
        const count = Number(o.count);
        if (!Number.isSafeInteger(count) || count < 1) throw new CharterError('INVALID_ARGUMENT', '--count is a positive whole number');
        const time = (o.at === undefined ? new Date() : parseInstant(o.at, '--at')).toISOString();
        const members = await partyDids(home, o.member, '--member');
        return issueUsageReport(await home.issuer(o.as), { pool: String(p.issuer), grant: String(p.id), uses: members.map((member) => ({ member, time, count })) });
      },
      (r) => r.jwt,
    ),
  );

  leaf(
    pool
      .command('payouts')
      .description('what each member is owed for a period, from usage reports: a statement signed by the pool')
      .requiredOption('--period <duration>', 'the period, e.g. P1M (ending now, or starting at --from)')
      .option('--pool <name|did>', 'the pool (default: the only one)')
      .option('--from <time>', 'start of the period: an RFC 3339 date-time with its zone, or a date (midnight UTC)')
      .option('--until <time>', 'end of the period (default now)')
      .option('--report <jwt|file|->', 'usage reports (a file may hold several, one per line; repeatable)', collect)
      .option('--trust-reporter <alias|did>', 'also count reports signed by this DID, e.g. the API serving the data (repeatable)', collect),
    ['charter pool payouts --period P1M --report usage.jwt', 'charter pool payouts --period P1M --from 2026-03-01T00:00:00Z --report reports.txt --json'],
  ).action((o: CommonOptions & { period: string; pool?: string; from?: string; until?: string; report?: string[]; trustReporter?: string[] }) =>
    homeCommand(
      ctx,
      o,
      async (home) => {
        const reports: string[] = [];
        for (const r of o.report ?? []) reports.push(...(await readTextArg(ctx, r, 'report')).split(/\s+/).filter(Boolean));
        const time = (s: string | undefined, what: string) => (s === undefined ? undefined : parseInstant(s, what));
        const from = time(o.from, '--from');
        const until = time(o.until, '--until');
        const out = await poolPayouts(home.store, await home.issuer(await poolDid(home, o.pool)), {
          resolver: home.resolver,
          period: o.period,
          reports,
          ...(from ? { from } : {}),
          ...(until ? { until } : {}),
          ...(o.trustReporter ? { trustedReporters: await partyDids(home, o.trustReporter, '--trust-reporter') } : {}),
        });
        return { ...out.statement, jwt: out.jwt };
      },
      renderPayouts,
    ),
  );
}
