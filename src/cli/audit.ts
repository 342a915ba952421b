import type { Command } from 'commander';
import { CharterError } from '../errors.js';
import { writeFileAtomic } from '../store/atomic-file.js';
import { assertOutsideHome } from '../home/out-path.js';
import { parseExpiry } from '../encoding/duration.js';
import type { AuditEntryRecord, AuditStore } from '../store/types.js';
import { checkpointAudit, decodeReceipt, pruneAuditLog, receiptsForGrant, reportableReceipts, sendAccessReport, verifyAuditLog, type AuditVerification } from '../audit/index.js';
import { grantIdOf } from '../audit/access-report.js';
import { homeCommand, leaf, notA, readGrantArg, readTextSource, runCommand, withHome, type CliContext, type CommonOptions } from './io.js';
import { shortDid, table } from './format.js';
import { collect, MAX_LIST_LIMIT, partyDid, wholeNumberFlag } from './args.js';

/** A past time: an ISO date, or how long ago (24h, 7d, P30D). */
export function parsePast(s: string, now = new Date()): Date {
  if (/^(\d+)[smhdw]$/.test(s) || s.startsWith('P')) return new Date(2 * now.getTime() - parseExpiry(s, now).getTime());
  return parseExpiry(s, now);
}

/** An entry as `audit list` and `audit export` show it: the columns, and what the receipt says. */
function described(e: AuditEntryRecord) {
  const c = decodeReceipt(e.jws);
  const request =
    c.kind === 'decision'
      ? 'htm' in c.request
        ? `${c.request.htm} ${c.request.htu}`
        : 'mcp' in c.request
          ? `mcp ${c.request.mcp.tool}`
          : 'claims' in c.request
            ? 'bound claims'
            : '-'
      : `settles ${c.receipt}`;
  return {
    at: e.at,
    outcome: e.outcome,
    kind: e.kind,
    subject: e.subject ?? null,
    reasons: c.kind === 'decision' ? c.reasons : [],
    request,
    receiptId: e.receiptId,
    chain: e.chain,
    seq: e.seq,
    hash: e.hash,
    prev: e.prev,
    issuer: e.issuer,
  };
}

function renderVerification(v: AuditVerification): string {
  const lines = v.chains.map(
    (c) =>
      `✓ chain ${c.chain}: ${c.entries} entries (${c.first}..${c.last}), ${c.checkpoints} checkpoints matched${c.anchor !== undefined ? `, anchored at ${c.anchor}` : ''}, signed by ${shortDid(c.issuer)}` +
      (c.predating
        ? `\n  ! given checkpoint${c.predating.length > 1 ? 's' : ''} at ${c.predating.join(', ')} ${c.predating.every((s) => s === c.anchor) ? 'is at' : c.predating.length > 1 ? 'predate' : 'predates'} the anchor ${c.anchor}: the entries covered were pruned, not checked`
        : ''),
  );
  if (v.broken)
    lines.push(`✗ chain ${v.broken.chain} broken at entry ${v.broken.seq}${v.broken.receiptId ? ` (${v.broken.receiptId})` : ''}: ${v.broken.message} [${v.broken.code}]`);
  if (lines.length === 0) lines.push('the audit log is empty');
  return lines.join('\n');
}

const JWT = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;

/**
 * The checkpoints one --checkpoint argument holds: a JWT, or a file (or `-`)
 * of one or more separated by whitespace, as `audit checkpoint` prints them
 * (one line per chain).
 */
async function readCheckpoints(ctx: CliContext, arg: string): Promise<string[]> {
  const { text, source } = await readTextSource(ctx, arg, 'checkpoint');
  const jwts = text.split(/\s+/).filter((t) => t.length > 0);
  if (jwts.length === 0 || !jwts.every((t) => JWT.test(t))) throw notA(source, arg, 'checkpoint', 'checkpoints (compact JWTs, one per line)', 'a compact JWT');
  return jwts;
}

/** Every entry decided in [from, to), in time order, in pages (entries of one millisecond are never split). */
async function* entriesBetween(store: AuditStore, from: Date | undefined, to: Date | undefined): AsyncGenerator<AuditEntryRecord> {
  const seen = new Set<string>();
  let cursor = from;
  let limit = 1000;
  for (;;) {
    const page = await store.listAudit({ ...(cursor ? { since: cursor } : {}), ...(to ? { until: to } : {}), limit });
    for (const e of page) {
      if (seen.has(e.receiptId)) continue;
      seen.add(e.receiptId);
      yield e;
    }
    if (page.length < limit) return;
    const last = new Date(page[page.length - 1]!.at);
    if (cursor && last.getTime() === cursor.getTime()) limit *= 2;
    else {
      // Only the boundary millisecond needs remembering.
      for (const e of page) if (Date.parse(e.at) < last.getTime()) seen.delete(e.receiptId);
      cursor = last;
    }
  }
}

export function registerAudit(program: Command, ctx: CliContext): void {
  const audit = program.command('audit').description("a verifier's audit log: every decision, signed and hash-chained");

  leaf(
    audit
      .command('list')
      .description('decisions in the audit log, oldest first')
      .option('--agent <alias|did>', 'only decisions about this holder (agent or grantee)')
      .option('--since <when>', 'from this time: an ISO date, or how long ago (24h, 7d)')
      .option('--decision <allow|deny>', 'only allowed or only refused decisions')
      .option('--limit <n>', 'most entries', '100'),
    ['charter audit list --since 24h', 'charter audit list --agent did:key:z6Mk… --decision deny --json'],
  ).action((opts: CommonOptions & { agent?: string; since?: string; decision?: string; limit: string }) =>
    homeCommand(
      ctx,
      opts,
      async (home) => {
        if (opts.decision !== undefined && opts.decision !== 'allow' && opts.decision !== 'deny') throw new CharterError('INVALID_ARGUMENT', '--decision is allow or deny');
        const limit = wholeNumberFlag(opts.limit, '--limit', 1, MAX_LIST_LIMIT);
        const rows = await home.store.listAudit({
          kind: 'decision',
          ...(opts.agent !== undefined ? { subject: await partyDid(home, opts.agent, '--agent') } : {}),
          ...(opts.since ? { since: parsePast(opts.since) } : {}),
          ...(opts.decision ? { outcome: opts.decision as 'allow' | 'deny' } : {}),
          limit,
        });
        return rows.map(described);
      },
      (rows) =>
        table(
          ['TIME', 'DECISION', 'HOLDER', 'REASONS', 'REQUEST', 'RECEIPT'],
          rows.map((r) => [r.at, r.outcome, shortDid(r.subject ?? undefined), r.reasons.join(','), r.request, r.receiptId]),
        ),
    ),
  );

  leaf(
    audit
      .command('verify')
      .description('walk every chain: each signature, hash and link; name the first broken entry (exit 1 on any break)')
      .option('--checkpoint <jwt|file>', 'checkpoints a third party holds (repeatable; a file may hold several, one per line): entries up to each must be unchanged', collect)
      .option('--accept-pruned', "a given checkpoint older than a pruned chain's anchor is reported, not a break (the retention was expected)"),
    ['charter audit verify', 'charter audit verify --checkpoint checkpoints-2026-01.jwt', 'charter audit verify --checkpoint old.jwt --accept-pruned'],
  ).action((opts: CommonOptions & { checkpoint?: string[]; acceptPruned?: boolean }) =>
    runCommand(
      ctx,
      opts,
      async () => {
        const checkpoints = (await Promise.all((opts.checkpoint ?? []).map((c) => readCheckpoints(ctx, c)))).flat();
        return withHome(ctx, opts, async (home) =>
          verifyAuditLog(home.store, {
            resolver: home.resolver,
            checkpoints,
            // Every chain must be signed by one of this home's identities, proven by its sealed key (a row of
            // the same database proves nothing): one signed by anyone else was put there.
            issuers: (await home.ownedIdentities()).map((i) => i.did),
            ...(opts.acceptPruned ? { acceptPruned: true } : {}),
          }),
        );
      },
      renderVerification,
    ),
  );

  leaf(
    audit
      .command('export')
      .description('the audit log between two times as JSON Lines (one entry per line, with its signed receipt); with --json, one document { entries, log }')
      .option('--from <when>', 'from this time (ISO date, or how long ago: 7d)')
      .option('--to <when>', 'up to this time (exclusive)')
      .option('--out <file>', 'write to this file instead of standard output (- is standard output, as without --out)'),
    ['charter audit export --from 2026-01-01 --to 2026-02-01 --out january.jsonl'],
  ).action((opts: CommonOptions & { from?: string; to?: string; out?: string }) =>
    runCommand(
      ctx,
      opts,
      () =>
        withHome(ctx, opts, async (home) => {
          const from = opts.from ? parsePast(opts.from) : undefined;
          const to = opts.to ? parsePast(opts.to) : undefined;
          // `-` is standard output, as it is standard input where a command reads.
          const out = opts.out === '-' ? undefined : opts.out;
          if (out) assertOutsideHome(out, home.dir);
          // To a file: written whole or not at all (temp file, fsync, rename), so a failed export leaves no half file.
          // With --json to stdout: one document, as every command prints (README), the entries in it.
          const lines: string[] = [];
          const log: unknown[] = [];
          let n = 0;
          for await (const e of entriesBetween(home.store, from, to)) {
            const entry = { ...described(e), receipt: e.jws };
            if (out) lines.push(JSON.stringify(entry) + '\n');
            else if (opts.json) log.push(entry);
            else ctx.stdout(JSON.stringify(entry));
            n++;
          }
          if (out) writeFileAtomic(out, lines.join(''), 0o600);
          const r: { entries: number; out?: string; log?: unknown[] } = { entries: n };
          if (out) r.out = out;
          else if (opts.json) r.log = log;
          return r;
        }),
      (r) => (r.out ? `wrote ${r.entries} entries to ${r.out}` : ''),
      // Without --json or --out the entries were printed as JSON Lines as they came: nothing follows them.
      (r) => r.out === undefined && !opts.json,
    ),
  );

  leaf(
    audit
      .command('checkpoint')
      .description('sign a checkpoint of the head of each chain this identity writes: give it to a third party, who can later detect any rewriting before it')
      .requiredOption('--as <alias|did>', 'the verifier identity that signs the receipts (alias or DID)'),
    ['charter audit checkpoint --as api > checkpoint.jwt'],
  ).action((opts: CommonOptions & { as: string }) =>
    homeCommand(
      ctx,
      opts,
      async (home) => (await checkpointAudit(home.store, await home.issuer(opts.as))).map((c) => ({ chain: c.chain, seq: c.seq, head: c.head, checkpoint: c.jws })),
      (rows) => (rows.length ? rows.map((r) => r.checkpoint).join('\n') : 'no chain signed by that identity has entries'),
    ),
  );

  leaf(
    audit
      .command('prune')
      .description('retention: drop entries older than a date, down to the last checkpoint before it (each chain still verifies from there)')
      .requiredOption('--before <when>', 'an ISO date, or how long ago (P1Y, 90d)')
      .option('--evidence-before <when>', 'also drop the kept evidence (presentations, documents, lists) of older entries; their hashes stay'),
    ['charter audit prune --before P7Y', 'charter audit prune --before 2020-01-01 --evidence-before 90d'],
  ).action((opts: CommonOptions & { before: string; evidenceBefore?: string }) =>
    homeCommand(
      ctx,
      opts,
      async (home) =>
        pruneAuditLog(home.store, { before: parsePast(opts.before), ...(opts.evidenceBefore ? { evidenceBefore: parsePast(opts.evidenceBefore) } : {}), resolver: home.resolver }),
      (r) => [...r.chains.map((c) => `pruned ${c.entries} entries of ${c.chain}; it now starts after checkpoint ${c.anchor}`), `${r.blobs} evidence items removed`].join('\n'),
    ),
  );

  leaf(
    audit
      .command('report')
      .description("send the receipts of uses of a grant back to its grantor's charter serve (an access report; voluntary)")
      .requiredOption('--grant <jwt|file>', "the grant, a vc+jwt or an SD-JWT (its status list names the grantor's server)")
      .requiredOption('--as <alias|did>', 'the reporting identity: the verifier that decided, or the grantee')
      .option('--since <when>', 'receipts from this time (default 30d)'),
    ['charter audit report --grant grant.jwt --as api'],
  ).action((opts: CommonOptions & { grant: string; as: string; since?: string }) =>
    runCommand(
      ctx,
      opts,
      async () => {
        // Either format: an SD-JWT grant's uses are reported by its id (its jti) as a vc+jwt's are.
        const grant = await readGrantArg(ctx, opts.grant, 'grant');
        const id = grantIdOf(grant);
        return withHome(ctx, opts, async (home) => {
          // A receipt naming another owner of the resource is a third party's, not the grantor's business.
          const receipts = reportableReceipts(grant, await receiptsForGrant(home.store, id, opts.since ? { since: parsePast(opts.since) } : {}));
          if (receipts.length === 0) return { ok: true, grant: id, sent: 0, accepted: 0, status: null };
          // The grantor's status list URL decides where the report goes: loopback only when this home allows it.
          const r = await sendAccessReport(await home.issuer(opts.as), { grant, receipts }, { allowLoopback: home.allowLoopback, allowHttp: home.allowLoopback });
          return { ok: r.status === 202, grant: id, sent: receipts.length, accepted: r.accepted, status: r.status };
        });
      },
      (r) =>
        r.sent === 0 ? `no receipts about ${r.grant} to report` : `${r.status === 202 ? '✓' : '✗'} sent ${r.sent} receipts about ${r.grant}: ${r.accepted} new (HTTP ${r.status})`,
    ),
  );
}
