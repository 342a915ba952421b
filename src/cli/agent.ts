import { randomUUID } from 'node:crypto';
import type { Command } from 'commander';
import { CharterError } from '../errors.js';
import { parseExpiry } from '../encoding/duration.js';
import {
  chainFor,
  createAgentPresentation,
  delegateMandate,
  identityFor,
  issueAgentIdentity,
  issueMandate,
  listMandates,
  parseRate,
  previewSpend,
  revokeAgentIdentity,
  revokeMandate,
  verifyAgent,
  type AgentDecision,
  type AgentRemaining,
  type Authority,
  type Limits,
} from '../agents/index.js';
import { AGENT_IDENTITY_TYPE, type AgentInfo } from '../agents/types.js';
import { checkAgentText } from '../agents/issue.js';
import { defaultSchemaChecker } from '../credentials/index.js';
import type { Credential } from '../credentials/types.js';
import type { IdentityRecord } from '../store/types.js';
import type { Home } from '../home/home.js';
import type { VerifyTools } from '../home/net.js';
import { createVerifier } from '../guard/verifier.js';
import { authorizeTransaction } from '../guard/transaction.js';
import { unlessBoundElsewhere } from '../guard/binding.js';
import { exportMandate, type ExportFormat, type ExportIntent } from '../mandates/export.js';
import { formatReasons, homeCommand, leaf, parseJsonArg, readJwtArg, readTextArg, runCommand, withHome, withTools, type CliContext, type CommonOptions } from './io.js';
import { actingAs, asOption, budgetFlag, credentialIdArg, moneyFlag, partyDid, partyDids, refuseBlank, renderStatusChange, statusChangeView, collect } from './args.js';
import { mark, shortDid, table, tree } from './format.js';
import { registerReservations } from './agent-reservations.js';

interface LimitFlags {
  action?: string[];
  max?: string;
  budget?: string;
  counterparty?: string[];
  rate?: string;
  expires?: string;
  maxDepth: string;
}

async function authorityFrom(home: Home, f: LimitFlags): Promise<Omit<Authority, 'parent'>> {
  const counterparties = await partyDids(home, f.counterparty, '--counterparty');
  const limits: Limits = {
    ...(f.max ? { perTransaction: moneyFlag(f.max, '--max') } : {}),
    ...(f.budget ? { budget: budgetFlag(f.budget, '--budget') } : {}),
    ...(counterparties.length ? { counterparties } : {}),
    ...(f.rate ? { rate: parseRate(f.rate) } : {}),
  };
  const depth = Number(f.maxDepth);
  if (!/^\d+$/.test(f.maxDepth) || !Number.isSafeInteger(depth)) throw new CharterError('INVALID_ARGUMENT', '--max-depth must be a whole number ≥ 0');
  if (!f.action?.length) throw new CharterError('INVALID_ARGUMENT', 'name what the agent may do with --action (repeatable), e.g. --action purchase');
  return { actions: f.action, maxDelegationDepth: depth, ...(Object.keys(limits).length ? { limits } : {}) };
}

interface ExportFlags {
  format: string;
  l1?: string;
  intent?: string;
  aud?: string;
  nonce?: string;
}

const FORMATS = ['charter', 'verifiable-intent', 'ap2'];

/**
 * `agent authorize --format verifiable-intent|ap2`: the same principal and
 * limits, written as a VI L2 (bound to the principal's card credential, --l1)
 * or AP2 open payment and checkout mandates; exportMandate holds the mapping
 * and refuses a limit the format cannot carry.
 */
async function exportAuthority(ctx: CliContext, home: Home, o: LimitFlags & ExportFlags & { agent: string }, principal: string, agent: string) {
  const format = o.format as ExportFormat;
  for (const [flag, set] of [
    ['--action', o.action?.length],
    ['--counterparty', o.counterparty?.length],
    ['--rate', o.rate],
  ] as const) {
    if (set) throw new CharterError('INVALID_ARGUMENT', `${flag} has no equivalent in ${format}: payments are the only action, payees come from --intent`);
  }
  if (!o.max) throw new CharterError('INVALID_ARGUMENT', `${format} bounds every payment: give --max, e.g. --max 400USD`);
  if (!o.intent) throw new CharterError('INVALID_ARGUMENT', 'give --intent: a JSON file with the instrument, payees, merchants and lineItems the agent may use');
  const issuer = await home.issuer(principal);
  if (issuer.signer.alg !== 'ES256') {
    throw new CharterError(
      'INVALID_ARGUMENT',
      `${format} signs with ES256, and ${principal} has a ${issuer.signer.alg} key: authorize as an identity with a P-256 key (charter id create --alias NAME --key p256)`,
    );
  }
  const key = await home.resolver.resolveKey(agent, undefined, 'authentication');
  const intent = parseJsonArg(await readTextArg(ctx, o.intent, 'intent'), 'intent') as ExportIntent;
  const budget = o.budget === undefined ? undefined : o.budget.includes('/') ? budgetFlag(o.budget, '--budget') : moneyFlag(o.budget, '--budget');
  const out = await exportMandate({
    format,
    issuer,
    agent: { jwk: key.publicJwk, kid: key.id },
    limits: { perTransaction: moneyFlag(o.max, '--max'), ...(budget ? { budget } : {}) },
    intent,
    validUntil: parseExpiry(o.expires ?? '7d'),
    ...(o.l1 !== undefined ? { l1: (await readTextArg(ctx, o.l1, 'L1')).trim() } : {}),
    aud: o.aud ?? agent,
    nonce: o.nonce ?? randomUUID(),
  });
  return format === 'ap2' ? { format, payment: out.mandate, checkout: out.checkout! } : { format, l2: out.mandate, disclosures: out.intent!.disclosures };
}

function limitOptions(cmd: Command, defaultDepth: string, expires: string): Command {
  return cmd
    .option('--action <action>', 'an allowed action, e.g. purchase or pay:* (repeatable; required)', collect)
    .option('--max <money>', 'per-transaction limit, e.g. 50USD (ISO 4217 code)')
    .option('--budget <budget>', 'cumulative limit over a rolling period (500USD/P30D) or per calendar day, week, month or year in a time zone (500EUR/month@Europe/Paris)')
    .option('--counterparty <did|alias>', 'an allowed counterparty (repeatable; default any)', collect)
    .option('--rate <rate>', 'at most COUNT transactions per period, e.g. 10/PT1H')
    .option('--expires <when>', `7d, 12h, P7D or an ISO date (default: ${expires})`)
    .option('--max-depth <n>', 'further delegation steps allowed', defaultDepth);
}

/** A mandate argument: an id in this home, a JWT, or a file. */
async function mandateJwt(ctx: CliContext, home: Home, arg: string): Promise<string> {
  const rec = arg.includes('.') ? undefined : await home.store.getCredential(arg);
  return rec ? rec.jwt : readJwtArg(ctx, arg, 'mandate');
}

/**
 * The identity credential's claims against its schema (a --model or --name
 * too long, a --homepage that is no URL): SCHEMA_INVALID before anything is
 * written, as issueAgentIdentity would refuse them after the agent exists.
 */
function checkAgentInfo(operator: string, info: Omit<AgentInfo, 'operator'>): void {
  const draft = { type: ['VerifiableCredential', AGENT_IDENTITY_TYPE], credentialSubject: { id: operator, agent: { ...info, operator } } } as unknown as Credential;
  const problems = defaultSchemaChecker()(draft);
  if (problems.length > 0) throw new CharterError('SCHEMA_INVALID', problems[0]!.message);
}

/**
 * The agent's identity: created, or the one an interrupted `agent create`
 * left (made as an agent of this operator, killed before its identity
 * credential was issued), so the retry finishes it. Any other identity of
 * that name is ALREADY_EXISTS.
 */
async function agentRecord(home: Home, alias: string, operator: string): Promise<IdentityRecord> {
  const rec = await home.store.getIdentity(alias);
  if (rec?.alias !== alias) return home.createIdentity({ alias, meta: { role: 'agent', operator } });
  const unfinished = rec.meta?.role === 'agent' && (await identityFor(home.store, rec.did)) === undefined;
  if (!unfinished) throw new CharterError('ALREADY_EXISTS', `an identity named "${alias}" already exists`);
  if (rec.meta?.operator !== operator) {
    const other = typeof rec.meta?.operator === 'string' ? shortDid(rec.meta.operator) : 'another operator';
    throw new CharterError('ALREADY_EXISTS', `"${alias}" is an agent of ${other} whose creation did not finish: run it again as that operator, or choose another alias`);
  }
  return rec;
}

export function decisionView(d: AgentDecision, spend?: { reservationId: string; remaining: AgentRemaining; state: string }) {
  const { payload: _p, ...rest } = d;
  return { ...rest, ...(spend ? { spend: { reservationId: spend.reservationId, remaining: spend.remaining, state: spend.state } } : {}) };
}

export function renderDecision(d: ReturnType<typeof decisionView>, request: string): string {
  const remaining = d.spend?.remaining ?? {};
  const root = {
    label: `${d.ok ? '✓ allowed' : '✗ refused'}: ${request}`,
    children: [
      { label: `${mark(!!d.agent)} agent     ${d.agent ?? '?'}${d.agentInfo ? ` (${d.agentInfo.name})` : ''}` },
      { label: `${mark(!!d.operator)} operator  ${d.operator ?? '?'}` },
      { label: `${mark(!!d.principal)} principal ${d.principal ?? '?'}${d.principalTrust === 'any' ? ' (not on a trust list: any principal accepted)' : ''}` },
      {
        label: 'chain (root first)',
        children: d.chain.map((l) => ({
          label: `${mark(l.checks.length === 0)} ${l.id}  ${shortDid(l.issuer)} → ${shortDid(l.subject)}  [${l.authority?.actions.join(', ') ?? '?'}]`,
          children: l.checks.map((c) => ({ label: `✗ ${c.code}: ${c.message}` })),
        })),
      },
      ...(remaining.budget || remaining.rate !== undefined
        ? [
            {
              label:
                `remaining: ${remaining.budget ? `${remaining.budget.amount} ${remaining.budget.currency}` : ''}${remaining.rate !== undefined ? ` ${remaining.rate} transactions` : ''}`.trim(),
            },
          ]
        : []),
      ...(d.spend ? [{ label: `spend ${d.spend.state} as ${d.spend.reservationId}` }] : []),
    ],
  };
  const linkCodes = new Set(d.chain.flatMap((l) => l.checks.map((c) => `${c.code}:${c.message}`)));
  const other = d.reasons.filter((r) => !linkCodes.has(`${r.code}:${r.message}`));
  return tree(root) + (d.ok || other.length === 0 ? '' : '\n' + formatReasons(other));
}

export function registerAgent(program: Command, ctx: CliContext): void {
  const agent = program.command('agent').description('Know Your Agent: agent identities, authority mandates, delegation, verification');

  leaf(
    asOption(agent.command('create').description('create an agent DID and its identity credential, signed by its operator'), 'the operator, who answers for the agent', [
      '--operator',
    ])
      .requiredOption('--alias <name>', 'local name of the agent')
      .option('--name <text>', 'display name (default: the alias)')
      .option('--software <name@version>', 'software the agent runs')
      .option('--model <model>', 'model the agent uses')
      .option('--homepage <url>', 'homepage of the agent'),
    ['charter agent create --alias shopper --as acme --name "Acme Shopper" --software shopper@1.4.2'],
  ).action((o: CommonOptions & { alias: string; name?: string; software?: string; model?: string; homepage?: string }) =>
    homeCommand(
      ctx,
      o,
      async (home) => {
        const operator = await home.issuer(actingAs(ctx, o, ['--operator']));
        let software: { name: string; version: string } | undefined;
        if (o.software) {
          const m = /^(.+)@([^@]+)$/.exec(o.software);
          if (!m) throw new CharterError('INVALID_ARGUMENT', '--software must be NAME@VERSION');
          software = { name: m[1]!, version: m[2]! };
        }
        const info = { name: o.name ?? o.alias, ...(software ? { software } : {}), ...(o.model ? { model: o.model } : {}), ...(o.homepage ? { homepage: o.homepage } : {}) };
        // Everything that can be refused is refused before the agent's identity is written: the schema
        // (SCHEMA_INVALID), then what issueAgentIdentity refuses (INVALID_ARGUMENT: a newline in --name).
        checkAgentInfo(operator.did, info);
        checkAgentText(info);
        const rec = await agentRecord(home, o.alias, operator.did);
        // Revocable when the home publishes status lists (it must, to authorize the agent anyway).
        const baseUrl = await home.publicUrl();
        const identity = await issueAgentIdentity(home.store, operator, { ...(baseUrl !== undefined ? { baseUrl } : {}), agent: rec.did, ...info });
        return { alias: rec.alias, did: rec.did, operator: operator.did, identity: { id: identity.id, jwt: identity.jwt } };
      },
      (r) => `${r.alias}  ${r.did}\noperator ${r.operator}\nidentity credential ${r.identity.id}`,
    ),
  );

  leaf(
    limitOptions(
      asOption(agent.command('authorize').description('give an agent a mandate: what it may do for you, and within which limits'), 'you, the principal', ['--principal'])
        .requiredOption('--agent <did|alias>', 'the agent: its DID, or an identity of this home')
        .option('--format <format>', 'charter (an AgentAuthorityCredential), verifiable-intent (a VI L2) or ap2 (AP2 open mandates)', 'charter')
        .option('--l1 <file>', 'verifiable-intent: your card credential (L1 SD-JWT) that binds your key')
        .option('--intent <file|json|->', 'verifiable-intent, ap2: JSON { instrument, payees, merchants?, lineItems, matchMode?, promptSummary? }')
        .option('--aud <aud>', "verifiable-intent: the L2's audience (default the agent DID)")
        .option('--nonce <nonce>', "verifiable-intent: the agent's challenge (default random)"),
      '1',
      '7d',
    ),
    [
      'charter agent authorize --as alice --agent shopper --action purchase --max 50USD --budget 500USD/P30D --rate 10/PT1H --expires 7d --max-depth 1',
      'charter agent authorize --as alice --agent shopper --action purchase --max 50EUR --budget 300EUR/month@Europe/Paris',
      'charter agent authorize --as alice-p256 --agent did:key:zDn... --format verifiable-intent --l1 card.sdjwt --intent intent.json --max 400USD --budget 500USD/month@UTC',
      'charter agent authorize --as alice-p256 --agent did:key:zDn... --format ap2 --intent intent.json --max 200USD --budget 1000USD --json',
    ],
  ).action((o: CommonOptions & LimitFlags & ExportFlags & { agent: string }) =>
    homeCommand(
      ctx,
      o,
      async (home) => {
        if (!FORMATS.includes(o.format)) throw new CharterError('INVALID_ARGUMENT', `--format must be one of ${FORMATS.join(', ')}`);
        refuseBlank(o, ['--aud', '--nonce']);
        const as = actingAs(ctx, o, ['--principal']);
        const agentDid = await partyDid(home, o.agent, '--agent');
        if (o.format !== 'charter') return exportAuthority(ctx, home, o, as, agentDid);
        const principal = await home.issuer(as);
        const authority = await authorityFrom(home, o);
        const l = authority.limits;
        if ((l?.budget || l?.rate) && (l.counterparties?.length ?? 0) !== 1) {
          // A budget is kept in each verifier's spend ledger: counterparties with ledgers of their own each see all of it.
          ctx.stderr(
            `charter: note: the ${l.budget ? 'budget' : 'rate'} holds per verifier ledger; with ${l.counterparties?.length ? 'several counterparties' : 'no --counterparty'} each one that keeps its own ledger can be spent up to it (name one --counterparty, and have every verifier deciding for it share one store, to make it hold everywhere)`,
          );
        }
        const m = await issueMandate(home.store, principal, {
          agent: agentDid,
          authority,
          validUntil: parseExpiry(o.expires ?? '7d'),
          baseUrl: await home.requirePublicUrl(),
        });
        return { id: m.id, jwt: m.jwt, statusIndex: m.statusIndex, expires: m.credential.validUntil ?? null };
      },
      (r) =>
        'jwt' in r
          ? `id:    ${r.id}\ntoken: ${r.jwt}`
          : r.format === 'ap2'
            ? `AP2 open payment mandate:\n${r.payment}\nAP2 open checkout mandate:\n${r.checkout}`
            : `Verifiable Intent L2:\n${r.l2}`,
    ),
  );

  leaf(
    limitOptions(
      asOption(
        agent.command('delegate').description('hand a narrower part of your mandate to a sub-agent (refuses any widening)'),
        'the delegating agent (subject of the parent mandate)',
        ['--from'],
      )
        .requiredOption('--parent <id|jwt|file>', 'the parent mandate')
        .requiredOption('--to <did|alias>', 'the sub-agent: its DID, or an identity of this home'),
      '0',
      "the parent's expiry",
    ),
    ['charter agent delegate --as shopper --parent urn:uuid:... --to courier --action purchase --max 20USD --budget 100USD/P30D'],
  ).action((o: CommonOptions & LimitFlags & { parent: string; to: string }) =>
    homeCommand(
      ctx,
      o,
      async (home) => {
        const from = await home.issuer(actingAs(ctx, o, ['--from']));
        const m = await delegateMandate(home.store, from, {
          parentJwt: await mandateJwt(ctx, home, o.parent),
          to: await partyDid(home, o.to, '--to'),
          authority: await authorityFrom(home, o),
          ...(o.expires !== undefined ? { validUntil: parseExpiry(o.expires) } : {}),
          baseUrl: await home.requirePublicUrl(),
        });
        return { id: m.id, jwt: m.jwt, statusIndex: m.statusIndex, parentId: m.parentId, expires: m.credential.validUntil ?? null };
      },
      (r) => `id:     ${r.id}\nparent: ${r.parentId}\ntoken:  ${r.jwt}`,
    ),
  );

  leaf(
    asOption(agent.command('present').description('the presentation an agent sends before a transaction: identity, mandate chain, proof'), 'the agent, who presents', ['--agent'])
      .requiredOption('--aud <did>', 'the verifier')
      .requiredOption('--nonce <nonce>', "the verifier's challenge")
      .option('--mandate <id|jwt|file>', 'which of its mandates (default: the newest)'),
    ['charter agent present --as shopper --aud did:web:shop.example --nonce 4f1c > vp.jwt'],
  ).action((o: CommonOptions & { aud: string; nonce: string; mandate?: string }) =>
    runCommand(
      ctx,
      o,
      async () => {
        refuseBlank(o, ['--aud', '--nonce']);
        const mandateId = o.mandate === undefined ? undefined : await credentialIdArg(ctx, o.mandate, 'mandate');
        return withHome(ctx, o, async (home) => {
          const me = await home.issuer(actingAs(ctx, o, ['--agent']));
          const identity = await identityFor(home.store, me.did);
          const jwt = await createAgentPresentation({
            agent: me,
            ...(identity !== undefined ? { identity } : {}),
            chain: await chainFor(home.store, me.did, mandateId),
            aud: o.aud,
            nonce: o.nonce,
          });
          return { agent: me.did, jwt };
        });
      },
      (r) => r.jwt,
    ),
  );

  leaf(
    agent
      .command('verify')
      .description('the KYA decision: who the agent is, who answers for it, and whether this action is within its authority')
      .argument('<vp|file|->')
      .requiredOption('--aud <did>', 'this verifier')
      .requiredOption('--nonce <nonce>', 'the challenge sent')
      .requiredOption('--action <action>', 'the action requested')
      .option('--amount <money>', 'the amount, e.g. 20USD (ISO 4217 code)')
      .option('--counterparty <did|alias>', 'who the agent deals with (default: --aud)')
      .option('--record', "reserve the spend in this home's ledger if allowed (the presentation is used up)")
      .option('--trust-principal <did|alias>', 'a principal this verifier trusts (repeatable)', collect)
      .option('--any-principal', 'accept any principal (reported in the result)')
      .option('--trust-operator <did|alias>', 'an operator whose identity credentials are trusted (repeatable)', collect),
    ['charter agent verify vp.jwt --aud did:web:shop.example --nonce 4f1c --action purchase --amount 20USD --record --trust-principal alice'],
  ).action(
    (
      arg: string,
      o: CommonOptions & {
        aud: string;
        nonce: string;
        action: string;
        amount?: string;
        counterparty?: string;
        record?: boolean;
        trustPrincipal?: string[];
        anyPrincipal?: boolean;
        trustOperator?: string[];
      },
    ) =>
      runCommand(
        ctx,
        o,
        async () => {
          refuseBlank(o, ['--aud', '--nonce', '--action']);
          const vp = await readJwtArg(ctx, arg, 'presentation');
          if (!o.trustPrincipal?.length && !o.anyPrincipal)
            throw new CharterError('INVALID_ARGUMENT', 'name the principals you trust with --trust-principal DID (or accept any with --any-principal)');
          const amount = o.amount === undefined ? undefined : moneyFlag(o.amount, '--amount');
          const decide = async (tools: VerifyTools, home: Home | undefined) => {
            const principals = await partyDids(home, o.trustPrincipal, '--trust-principal');
            const operators = await partyDids(home, o.trustOperator, '--trust-operator');
            const trust = {
              ...(principals.length ? { principals } : {}),
              ...(o.anyPrincipal ? { anyPrincipal: true } : {}),
              ...(operators.length ? { identityIssuers: operators } : {}),
            };
            const counterparty = o.counterparty === undefined ? o.aud : await partyDid(home, o.counterparty, '--counterparty');
            const request = { action: o.action, ...(amount ? { amount: `${amount.amount} ${amount.currency}` } : {}), counterparty, trust };
            // A presentation bound to one HTTP request or MCP call is for that call only: here there is none.
            const pure = unlessBoundElsewhere(await verifyAgent(vp, { resolver: tools.resolver, status: tools.status, aud: o.aud, nonce: o.nonce, ...request }), vp);
            if (!pure.ok) return decisionView(pure);
            if (!o.record || home === undefined) {
              // What the ledger would say now (read-only): nothing is reserved without --record.
              if (!pure.cumulativeLimits || home === undefined) return decisionView(pure);
              const preview = await previewSpend(home.store, pure);
              return { ...decisionView(pure), ok: preview.ok, reasons: preview.reasons, preview: { remaining: preview.remaining } };
            }
            // Recording runs the guard pipeline on this home's store: the presentation is used once, and the
            // spend is reserved on every link and committed (the transaction is taken to have happened).
            const verifier = createVerifier({ aud: o.aud, store: home.store, resolver: tools.resolver, status: tools.status, http: false });
            const d = await authorizeTransaction(vp, { verifier, ...request });
            if (!d.ok || !d.agent) return { ...decisionView(pure), ok: false, reasons: d.reasons };
            if (d.spend) await d.spend.commit();
            return decisionView(d.agent, d.spend);
          };
          // Recording writes this home's ledger and replay cache, so it needs the home; a bare verification does not.
          return o.record ? withHome(ctx, o, (home) => decide(home, home)) : withTools(ctx, o, decide);
        },
        (d) => renderDecision(d, `${o.action}${o.amount ? ` ${o.amount}` : ''} with ${shortDid(o.counterparty ?? o.aud)}`),
      ),
  );

  leaf(agent.command('list').description('mandates issued from this home and their state'), ['charter agent list']).action((o: CommonOptions) =>
    homeCommand(
      ctx,
      o,
      (home) => listMandates(home.store),
      (rows) =>
        table(
          ['ID', 'ISSUER', 'AGENT', 'ACTIONS', 'PARENT', 'EXPIRES', 'STATE'],
          rows.map((m) => [m.id, shortDid(m.issuer, 8), shortDid(m.agent, 8), m.authority?.actions.join(',') ?? '', m.parentId ?? '', m.expires ?? '', m.state]),
        ),
    ),
  );

  leaf(
    agent
      .command('revoke')
      .description("revoke a mandate (every link delegated below it stops working too), or an agent's identity credential (its operator no longer answers for it)")
      .argument('<credential>', 'its id (see `charter agent list`, or the identity id `agent create` printed), its token, or a file holding it'),
    ['charter agent revoke urn:uuid:...'],
  ).action((arg: string, o: CommonOptions) =>
    runCommand(
      ctx,
      o,
      async () => {
        const id = await credentialIdArg(ctx, arg, 'mandate');
        return withHome(ctx, o, async (home) => {
          const rec = await home.store.getCredential(id);
          const revoke = rec?.types.includes(AGENT_IDENTITY_TYPE) ? revokeAgentIdentity : revokeMandate;
          return statusChangeView('revoked', [await revoke(home.store, id, (did) => home.issuer(did))]);
        });
      },
      (r) => renderStatusChange('revoked', 'revoke', r),
    ),
  );

  registerReservations(agent, ctx);
}
