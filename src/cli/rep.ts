import type { Command } from 'commander';
import { CharterError } from '../errors.js';
import { parseDuration } from '../encoding/duration.js';
import { operatorFor } from '../agents/index.js';
import { attestationsAbout, importAttestations, issueAttestation, issueReceipt, revokeAttestation, scoreFromStore, type ReputationScore } from '../reputation/index.js';
import { homeCommand, leaf, readJwtArg, readJwtList, runCommand, withHome, type CliContext, type CommonOptions } from './io.js';
import { actingAs, asOption, credentialIdArg, moneyFlag, partyDid, partyDids, renderStatusChange, statusChangeView, collect } from './args.js';
import { shortDid, table } from './format.js';

function renderScore(s: ReputationScore & { agent: string }): string {
  const head = `reputation of ${s.agent}: ${s.score === null ? 'none (nothing counted)' : s.score.toFixed(3)}  (${s.counted} of ${s.count} counted, ${s.attesters} trusted attesters)`;
  const dims = Object.entries(s.byDimension).map(([d, v]) => `  ${d}: ${v.score === null ? 'none' : v.score.toFixed(3)} (${v.counted})`);
  const rows = [
    ...s.attestations.map((a) => [a.id, shortDid(a.attester, 8), a.score.toFixed(2), a.dimension ?? '', a.weight.toFixed(2), 'counted']),
    ...s.ignored.map((i) => [i.id, '', '', '', '0', i.code]),
  ];
  return [head, ...dims, '', table(['ATTESTATION', 'ATTESTER', 'SCORE', 'DIMENSION', 'WEIGHT', 'COUNTED'], rows)].join('\n');
}

export function registerRep(program: Command, ctx: CliContext): void {
  const rep = program.command('rep').description('signed reputation: interaction receipts, attestations, sybil-resistant scores');

  leaf(
    asOption(rep.command('receipt').description('as an agent, sign a receipt for a finished interaction: consent to be rated for it'), 'the agent', ['--agent'])
      .requiredOption('--counterparty <did|alias>', 'who the agent dealt with')
      .requiredOption('--interaction <id>', 'the interaction id, e.g. an order number')
      .option('--amount <money>', 'amount, e.g. 20USD (ISO 4217 code)')
      .option('--digest <digest>', 'digest of what was exchanged'),
    ['charter rep receipt --as shopper --counterparty did:web:shop.example --interaction order-1842 --amount 20USD > receipt.jwt'],
  ).action((o: CommonOptions & { counterparty: string; interaction: string; amount?: string; digest?: string }) =>
    homeCommand(
      ctx,
      o,
      async (home) => {
        const amount = o.amount === undefined ? undefined : moneyFlag(o.amount, '--amount');
        const r = await issueReceipt(home.store, await home.issuer(actingAs(ctx, o, ['--agent'])), {
          counterparty: await partyDid(home, o.counterparty, '--counterparty'),
          interactionId: o.interaction,
          ...(amount ? { amount } : {}),
          ...(o.digest ? { digest: o.digest } : {}),
        });
        return { id: r.id, jwt: r.jwt };
      },
      (r) => r.jwt,
    ),
  );

  leaf(
    asOption(rep.command('attest').description('as the counterparty, rate the agent for the interaction its receipt names'), 'you, the counterparty the receipt names', ['--from'])
      .requiredOption('--receipt <jwt|file|->', "the agent's receipt")
      .requiredOption('--score <0..1>', 'rating from 0 to 1')
      .option('--dimension <d>', 'what is rated, e.g. delivery or accuracy')
      .option('--comment <text>', 'a comment'),
    ['charter rep attest --as shop --receipt receipt.jwt --score 0.9 --dimension delivery'],
  ).action((o: CommonOptions & { receipt: string; score: string; dimension?: string; comment?: string }) =>
    runCommand(
      ctx,
      o,
      async () => {
        const receiptJwt = await readJwtArg(ctx, o.receipt, 'receipt');
        const score = Number(o.score);
        if (!/^\d+(\.\d+)?$/.test(o.score) || !(score >= 0 && score <= 1)) throw new CharterError('INVALID_ARGUMENT', '--score must be a number from 0 to 1');
        return withHome(ctx, o, async (home) => {
          const baseUrl = await home.publicUrl();
          const a = await issueAttestation(home.store, await home.issuer(actingAs(ctx, o, ['--from'])), {
            receiptJwt,
            score,
            ...(o.dimension ? { dimension: o.dimension } : {}),
            ...(o.comment ? { comment: o.comment } : {}),
            ...(baseUrl ? { baseUrl } : {}),
          });
          return { id: a.id, jwt: a.jwt, revocable: baseUrl !== undefined };
        });
      },
      (r) => r.jwt,
    ),
  );

  leaf(
    rep
      .command('import')
      .description('verify attestations received from others once and keep the ratings that count (one JWT per line in each file, or - for stdin)')
      .argument('<file...>'),
    ['charter rep import attestations.txt', 'curl -s https://agent.example/reputation | charter rep import -'],
  ).action((files: string[], o: CommonOptions) =>
    runCommand(
      ctx,
      o,
      async () => {
        const jwts = (await Promise.all(files.map((f) => readJwtList(ctx, f, 'attestations')))).flat();
        return withHome(ctx, o, async (home) => {
          const r = await importAttestations(home.store, jwts, { resolver: home.resolver, status: home.status, keep: home.store });
          // Held already (ALREADY_EXISTS) is where an import ends up, not a refusal: importing twice is fine.
          const refused = r.skipped.filter((k) => k.code !== 'ALREADY_EXISTS');
          // Nothing new and something refused: exit 1, or 3 when every refusal was a fault (retry).
          const ok = r.imported.length > 0 || refused.length === 0;
          return {
            ok,
            imported: r.imported.map((i) => i.id),
            skipped: r.skipped,
            notKept: r.notKept,
            ...(ok ? {} : { reasons: refused.map((k) => ({ code: k.code, message: k.message, ref: k.id })) }),
          };
        });
      },
      (r) =>
        [
          `imported ${r.imported.length}`,
          ...r.notKept.map((s) => `not kept ${s.id} (by ${s.attester}): ${s.code} ${s.message}`),
          ...r.skipped.map((s) => `skipped ${s.id}: ${s.code} ${s.message}`),
        ].join('\n'),
    ),
  );

  leaf(
    rep
      .command('score')
      .description("an agent's reputation from the attestations this home holds, with a per-attestation breakdown")
      .argument('<agent>', 'the agent: its DID, or an identity of this home')
      .option('--half-life <duration>', 'age at which a rating counts half, e.g. P90D')
      .option('--trust <did|alias>', 'an attester whose ratings count (repeatable)', collect)
      .option('--unknown-weight <w>', 'weight of attesters not trusted (default 0)', '0')
      .option('--operator <did|alias>', "the agent's operator (default: from its identity credential, if held)"),
    ['charter rep score did:key:z6Mk... --trust did:web:shop.example --half-life P90D', 'charter rep score shopper --trust shop --json'],
  ).action((agentArg: string, o: CommonOptions & { halfLife?: string; trust?: string[]; unknownWeight: string; operator?: string }) =>
    homeCommand(
      ctx,
      o,
      async (home) => {
        const unknown = Number(o.unknownWeight);
        if (!/^\d+(\.\d+)?$/.test(o.unknownWeight) || !(unknown >= 0 && unknown <= 1)) throw new CharterError('INVALID_ARGUMENT', '--unknown-weight must be from 0 to 1');
        const did = await partyDid(home, agentArg, 'the agent');
        const operator = o.operator !== undefined ? await partyDid(home, o.operator, '--operator') : await operatorFor(home.store, did);
        // The ratings table is what counts (keyed by attester and id, so no one shadows a rating by reusing
        // its id). Attestations this home issued or holds about the agent that it has not recorded yet are
        // verified and recorded first (once: held ones are skipped before any crypto); those that do not
        // count are listed with why.
        const synced = await importAttestations(home.store, await attestationsAbout(home.store, did), { resolver: home.resolver, status: home.status });
        const refused = synced.skipped.filter((k) => k.code !== 'ALREADY_EXISTS');
        const s = await scoreFromStore(home.store, did, {
          resolver: home.resolver,
          status: home.status,
          trustedAttesters: await partyDids(home, o.trust, '--trust'),
          unknownAttesterWeight: unknown,
          ...(o.halfLife ? { halfLifeSeconds: parseDuration(o.halfLife) } : {}),
          ...(operator ? { operator } : {}),
        });
        const ignored = [...s.ignored, ...refused].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
        return { agent: did, ...s, count: s.count + refused.length, ignored };
      },
      renderScore,
    ),
  );

  leaf(rep.command('revoke').description('withdraw an attestation you issued').argument('<attestation>', 'its id, its JWT, or a file holding it'), [
    'charter rep revoke urn:uuid:...',
    'charter rep revoke attestation.jwt --json',
  ]).action((arg: string, o: CommonOptions) =>
    runCommand(
      ctx,
      o,
      async () => {
        const id = await credentialIdArg(ctx, arg, 'attestation');
        return withHome(ctx, o, async (home) => statusChangeView('revoked', [await revokeAttestation(home.store, id, (d) => home.issuer(d))]));
      },
      (r) => renderStatusChange('revoked', 'revoke', r),
    ),
  );
}
