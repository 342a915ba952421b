import type { Command } from 'commander';
import { CharterError } from '../errors.js';
import { decodeCredential, soleSubject } from '../credentials/index.js';
import { parseDuration } from '../encoding/duration.js';
import { setCredentialStatus } from '../status/index.js';
import { parseMoney } from '../agents/index.js';
import { ATTESTATION_TYPE, issueAttestation, issueReceipt, scoreAgent, type ReputationScore } from '../reputation/index.js';
import type { Home } from '../home/home.js';
import { homeCommand, leaf, readJwtArg, readTextArg, runCommand, withHome, type CliContext, type CommonOptions } from './io.js';
import { shortDid, table } from './format.js';

const collect = (v: string, prev: string[] = []) => [...prev, v];

/** Attestations about `did` held or issued in this home. */
async function attestationsAbout(home: Home, did: string): Promise<string[]> {
  return (await home.store.listCredentials({ type: ATTESTATION_TYPE, subject: did })).map((r) => r.jwt);
}

/** The operator named by the agent's identity credential, if this home holds one. */
async function operatorOf(home: Home, did: string): Promise<string | undefined> {
  const ids = await home.store.listCredentials({ type: 'AgentIdentityCredential', subject: did });
  return ids.length ? ids[ids.length - 1]!.issuer : undefined;
}

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
    rep
      .command('receipt')
      .description('as an agent, sign a receipt for a finished interaction: consent to be rated for it')
      .requiredOption('--agent <name>', 'the agent in this home')
      .requiredOption('--counterparty <did>', 'who the agent dealt with')
      .requiredOption('--interaction <id>', 'the interaction id, e.g. an order number')
      .option('--amount <money>', 'amount, e.g. 20USD')
      .option('--digest <digest>', 'digest of what was exchanged'),
    ['charter rep receipt --agent shopper --counterparty did:web:shop.example --interaction order-1842 --amount 20USD > receipt.jwt'],
  ).action((o: CommonOptions & { agent: string; counterparty: string; interaction: string; amount?: string; digest?: string }) =>
    homeCommand(
      ctx,
      o,
      async (home) => {
        const r = await issueReceipt(home.store, await home.issuer(o.agent), {
          counterparty: o.counterparty,
          interactionId: o.interaction,
          ...(o.amount ? { amount: parseMoney(o.amount) } : {}),
          ...(o.digest ? { digest: o.digest } : {}),
        });
        return { id: r.id, jwt: r.jwt };
      },
      (r) => r.jwt,
    ),
  );

  leaf(
    rep
      .command('attest')
      .description('as the counterparty, rate the agent for the interaction its receipt names')
      .requiredOption('--from <name>', 'your identity (the counterparty the receipt names)')
      .requiredOption('--receipt <jwt|file|->', "the agent's receipt")
      .requiredOption('--score <0..1>', 'rating from 0 to 1')
      .option('--dimension <d>', 'what is rated, e.g. delivery or accuracy')
      .option('--comment <text>', 'a comment'),
    ['charter rep attest --from shop --receipt receipt.jwt --score 0.9 --dimension delivery'],
  ).action((o: CommonOptions & { from: string; receipt: string; score: string; dimension?: string; comment?: string }) =>
    runCommand(
      ctx,
      o,
      async () => {
        const receiptJwt = await readJwtArg(ctx, o.receipt, 'receipt');
        const score = Number(o.score);
        if (!/^\d+(\.\d+)?$/.test(o.score) || !(score >= 0 && score <= 1)) throw new CharterError('INVALID_ARGUMENT', '--score must be a number from 0 to 1');
        return withHome(ctx, o, async (home) => {
          const baseUrl = await home.publicUrl();
          const a = await issueAttestation(home.store, await home.issuer(o.from), {
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
    rep.command('import').description('keep attestations received from others (one JWT per line in each file, or - for stdin)').argument('<file...>'),
    ['charter rep import attestations.txt', 'curl -s https://agent.example/reputation | charter rep import -'],
  ).action((files: string[], o: CommonOptions) =>
    runCommand(
      ctx,
      o,
      async () => {
        const jwts = (await Promise.all(files.map((f) => readTextArg(ctx, f, 'attestations')))).flatMap((t) => t.split(/\s+/).filter(Boolean));
        return withHome(ctx, o, async (home) => {
          const imported: string[] = [];
          const skipped: { id: string; why: string }[] = [];
          for (const jwt of jwts) {
            let c;
            try {
              c = decodeCredential(jwt);
            } catch {
              skipped.push({ id: `${jwt.slice(0, 16)}…`, why: 'not a credential JWT' });
              continue;
            }
            if (!c.type.includes(ATTESTATION_TYPE) || typeof c.id !== 'string') {
              skipped.push({ id: c.id ?? '?', why: 'not a ReputationAttestation with an id' });
              continue;
            }
            if (await home.store.getCredential(c.id)) {
              skipped.push({ id: c.id, why: 'already kept' });
              continue;
            }
            const issuer = typeof c.issuer === 'string' ? c.issuer : c.issuer.id;
            await home.store.putCredential({
              id: c.id,
              jwt,
              direction: 'held',
              issuer,
              ...(typeof soleSubject(c)?.id === 'string' ? { subject: soleSubject(c)!.id } : {}),
              types: c.type.filter((t) => t !== 'VerifiableCredential'),
              ...(c.validFrom ? { validFrom: c.validFrom } : {}),
              createdAt: new Date().toISOString(),
            });
            imported.push(c.id);
          }
          return { imported, skipped };
        });
      },
      (r) => [`imported ${r.imported.length}`, ...r.skipped.map((s) => `skipped ${s.id}: ${s.why}`)].join('\n'),
    ),
  );

  leaf(
    rep
      .command('score')
      .description("an agent's reputation from the attestations this home holds, with a per-attestation breakdown")
      .argument('<did>')
      .option('--half-life <duration>', 'age at which a rating counts half, e.g. P90D')
      .option('--trust <did>', 'an attester whose ratings count (repeatable)', collect)
      .option('--unknown-weight <w>', 'weight of attesters not trusted (default 0)', '0')
      .option('--operator <did>', "the agent's operator (default: from its identity credential, if held)")
      .option('--allow-loopback', 'allow loopback/http DID and status URLs (local testing)'),
    ['charter rep score did:key:z6Mk... --trust did:web:shop.example --half-life P90D'],
  ).action((did: string, o: CommonOptions & { halfLife?: string; trust?: string[]; unknownWeight: string; operator?: string }) =>
    homeCommand(
      ctx,
      o,
      async (home) => {
        const unknown = Number(o.unknownWeight);
        if (!(unknown >= 0 && unknown <= 1)) throw new CharterError('INVALID_ARGUMENT', '--unknown-weight must be from 0 to 1');
        const operator = o.operator ?? (await operatorOf(home, did));
        const s = await scoreAgent(did, await attestationsAbout(home, did), {
          resolver: home.resolver,
          status: home.status,
          trustedAttesters: o.trust ?? [],
          unknownAttesterWeight: unknown,
          ...(o.halfLife ? { halfLifeSeconds: parseDuration(o.halfLife) } : {}),
          ...(operator ? { operator } : {}),
        });
        return { agent: did, ...s };
      },
      renderScore,
    ),
  );

  leaf(rep.command('revoke').description('withdraw an attestation you issued').argument('<id>'), ['charter rep revoke urn:uuid:...']).action((id: string, o: CommonOptions) =>
    homeCommand(
      ctx,
      o,
      async (home) => {
        const rec = await home.store.getCredential(id);
        if (!rec || rec.direction !== 'issued' || !rec.types.includes(ATTESTATION_TYPE)) throw new CharterError('NOT_FOUND', `no attestation ${id.slice(0, 80)} issued from this home`);
        await setCredentialStatus(home.store, id, 'revocation', true, (d) => home.issuer(d));
        return { revoked: id };
      },
      (r) => `revoked ${r.revoked}`,
    ),
  );
}
