import { statSync } from 'node:fs';
import type { Command } from 'commander';
import { CharterError } from '../errors.js';
import { assertVerifyUse, importVerificationKey } from '../keys/index.js';
import type { PublicJwk } from '../keys/types.js';
import { jsonTextProblem } from '../encoding/json.js';
import { parseInstant } from '../encoding/duration.js';
import { writeFileAtomic } from '../store/atomic-file.js';
import { assertOutsideHome } from '../home/out-path.js';
import { exportEvidence, verifyEvidence, type EvidenceVerification } from '../audit/index.js';
import { leaf, readBounded, readStdin, readTextArg, runCommand, withHome, type CliContext, type CommonOptions } from './io.js';
import { oneLine, shortDid } from './format.js';

/** A bundle holds a log segment and documents: larger than the 1 MiB of other inputs. */
const MAX_BUNDLE = 32 * 1024 * 1024;

async function readBundle(ctx: CliContext, path: string): Promise<unknown> {
  // `-`: standard input (a bundle piped from `charter evidence export --out -` or a download), same cap.
  if (path === '-') return strictJson(await readStdin(ctx, MAX_BUNDLE), 'standard input', 'is not JSON');
  let text: string;
  // The path as written, cut short in messages like every other argument (io.ts): it may be megabytes long.
  const shown = path.slice(0, 200);
  try {
    // A regular file's size says at once; a pipe or a device (size 0, possibly endless: /dev/zero) is read
    // up to the cap and no further.
    if (statSync(path).size > MAX_BUNDLE) throw new CharterError('INPUT_TOO_LARGE', `the bundle ${shown} is larger than 32 MiB`);
    text = readBounded(path, 'the bundle', MAX_BUNDLE);
  } catch (e) {
    if (e instanceof CharterError) throw e;
    throw new CharterError('INVALID_ARGUMENT', `cannot read the bundle ${shown}`);
  }
  return strictJson(text, shown, 'is not JSON');
}

/**
 * JSON text read as one meaning: JSON.parse keeps the last of two members of one name, other readers the
 * first, so a file that says two things (a bundle, a key) is refused, not read one way here and another
 * way by the auditor's tool.
 */
function strictJson(text: string, path: string, notJson: string): unknown {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new CharterError('INVALID_ARGUMENT', `${path} ${notJson}`);
  }
  const problem = jsonTextProblem(text);
  if (problem !== undefined) throw new CharterError('INVALID_ARGUMENT', `${path} ${problem}`);
  return v;
}

function exported(r: { out: string; presentation: boolean; credentials: number; documents: number; statusLists: number; logEntries: number }): string {
  const what = `the receipt, ${r.presentation ? 'the presentation, ' : ''}${r.credentials} credentials, ${r.documents} DID documents, ${r.statusLists} status lists, ${r.logEntries} log entries and a checkpoint`;
  return r.out === '-' ? `wrote the bundle to standard output: ${what}` : `wrote ${oneLine(r.out)}: ${what}`;
}

function renderVerification(v: EvidenceVerification): string {
  const head = v.receipt
    ? `${v.ok ? '✓' : '✗'} ${v.receipt.decision === 'allow' ? 'allowed' : 'refused'} at ${oneLine(v.receipt.time)} by ${oneLine(shortDid(v.receipt.iss))}${v.receipt.sub ? ` for ${oneLine(shortDid(v.receipt.sub))}` : ''}, re-checked as of ${oneLine(v.at)} with no network`
    : '✗ not a verifiable decision receipt';
  // A part is named by the bundle's own keys (DIDs, status list URLs): a tampered bundle chooses them, so
  // each is one line and cannot print a "✓" line of its own.
  const parts = v.parts.map((p) => `  ${p.ok ? '✓' : '✗'} ${oneLine(p.part)}${p.ok ? '' : `: ${p.reasons.map((r) => `${oneLine(r.message)} [${oneLine(r.code)}]`).join('; ')}`}`);
  const key = v.verifierKey === 'recorded' ? ["  note: the verifier's key comes from the DID document recorded in the bundle (did:web); compare it with one you trust"] : [];
  const taken = v.decision === 'recorded' ? [`  note: the decision itself was not re-run (${oneLine(v.recordedWhy)}); it is taken as the signed receipt records it`] : [];
  return [head, ...parts, ...key, ...taken].join('\n');
}

export function registerEvidence(program: Command, ctx: CliContext): void {
  const evidence = program.command('evidence').description('evidence bundles: everything needed to re-check one decision offline, years later');

  leaf(
    evidence
      .command('export')
      .description('gather the receipt, presentation, credentials, DID documents, status lists and log entries of one decision')
      .argument('<receipt>', 'a receipt id, the receipt (JWT), a file holding it, or - for stdin')
      .requiredOption(
        '--out <file>',
        'where to write the bundle (JSON); - writes it to standard output, as the one document there (with or without --json), and the summary to standard error',
      )
      .option('--as <alias|did>', 'the verifier identity: signs a checkpoint when none covers the receipt yet'),
    [
      'charter evidence export urn:uuid:… --out bundle.json',
      'charter evidence export receipt.jwt --out bundle.json --as api',
      'charter evidence export urn:uuid:… --out - | gzip > bundle.json.gz',
    ],
  ).action((ref: string, opts: CommonOptions & { out: string; as?: string }) =>
    runCommand(
      ctx,
      opts,
      async () => {
        if (ref.trim() === '') throw new CharterError('INVALID_ARGUMENT', 'give the receipt: its id (urn:uuid:…), its hash, the JWT, a file holding it, or - for stdin');
        const receipt = ref.startsWith('urn:') || ref.startsWith('sha256-') ? ref : (await readTextArg(ctx, ref, 'receipt')).trim();
        if (receipt === '') throw new CharterError('INVALID_ARGUMENT', 'the receipt given is empty');
        return withHome(ctx, opts, async (home) => {
          const toStdout = opts.out === '-';
          if (!toStdout) assertOutsideHome(opts.out, home.dir);
          const bundle = await exportEvidence(home.store, receipt, opts.as ? { signer: await home.issuer(opts.as) } : {});
          const text = JSON.stringify(bundle, null, 2) + '\n';
          if (toStdout) ctx.stdout(text);
          else writeFileAtomic(opts.out, text, 0o600);
          const r = {
            out: opts.out,
            credentials: bundle.credentials.length,
            documents: Object.keys(bundle.dids).length,
            statusLists: Object.keys(bundle.statusLists).length,
            logEntries: bundle.log.entries.length,
            presentation: bundle.presentation !== undefined,
          };
          // The bundle is what stdout carries: the summary goes where a person sees it and a pipe does not.
          if (toStdout && !opts.json) ctx.stderr(exported(r));
          return r;
        });
      },
      exported,
      (r) => r.out === '-',
    ),
  );

  leaf(
    evidence
      .command('verify')
      .description('re-check a bundle with no network and no store: signatures, every part against the receipt, the decision, its place in the log (exit 1 if any part fails)')
      .argument('<bundle>', 'the bundle file (a pipe such as <(…), or - for standard input), at most 32 MiB')
      .option('--at <time>', 're-check the decision as of this ISO time (default: the time the receipt records)')
      .option('--issuer <did...>', 'the verifier DIDs whose receipts you accept: a bundle signed by another fails (exit 1)')
      .option('--verifier-key <file...>', "the verifier's public keys you trust (a JWK or JWK Set file): needed with --issuer for a did:web verifier"),
    [
      'charter evidence verify bundle.json',
      'charter evidence verify bundle.json --issuer did:key:z6Mk... --at 2026-03-01T12:00:00Z --json',
      'charter evidence verify bundle.json --issuer did:web:api.example --verifier-key api-keys.jwks',
      'charter evidence export receipt.jwt --out - | charter evidence verify - --json',
    ],
  ).action((file: string, opts: CommonOptions & { at?: string; issuer?: string[]; verifierKey?: string[] }) =>
    runCommand(
      ctx,
      opts,
      async () => {
        let at: Date | undefined;
        if (opts.at !== undefined) {
          at = parseInstant(opts.at, '--at');
        }
        // No home is opened: the bundle alone is checked, with no network.
        if (opts.issuer?.some((d) => !d.startsWith('did:'))) throw new CharterError('INVALID_ARGUMENT', '--issuer takes the DIDs whose receipts you accept');
        if ([file, ...(opts.verifierKey ?? [])].filter((f) => f === '-').length > 1)
          throw new CharterError('INVALID_ARGUMENT', 'standard input ("-") can be read once: give the bundle or one key file as "-", the rest as files');
        const verifierKeys = opts.verifierKey ? await Promise.all(opts.verifierKey.map((f) => readKeys(ctx, f))).then((ks) => ks.flat()) : undefined;
        return verifyEvidence(await readBundle(ctx, file), { ...(at ? { at } : {}), ...(opts.issuer ? { issuers: opts.issuer } : {}), ...(verifierKeys ? { verifierKeys } : {}) });
      },
      renderVerification,
    ),
  );
}

/** A JWK or a JWK Set, from a file (`-` for stdin): the public keys a caller trusts. */
async function readKeys(ctx: CliContext, file: string): Promise<PublicJwk[]> {
  const v = strictJson(await readTextArg(ctx, file, 'verifier key'), file, 'is not a JWK or a JWK Set (JSON)');
  const set = typeof v === 'object' && v !== null && Array.isArray((v as { keys?: unknown }).keys);
  let keys = set ? (v as { keys: unknown[] }).keys : [v];
  try {
    // RFC 7517 §4.2-4.3: a key marked for encryption verifies nothing. A JWK Set (a verifier's published
    // keys) may hold one beside its signing keys: it is left out, as trust anchors leave it (mandates/trust.ts);
    // a lone JWK, or a set of nothing else (or of nothing: verifyEvidence's TypeError would be exit 3), is refused.
    if (set) {
      keys = keys.filter((k) => {
        try {
          assertVerifyUse(k);
          return true;
        } catch {
          return false;
        }
      });
      if (keys.length === 0) throw new CharterError('INVALID_KEY', 'the JWK Set holds no key for verifying signatures (use "sig", key_ops with "verify")');
    }
    return keys.map((k) => {
      assertVerifyUse(k);
      return importVerificationKey(k as PublicJwk).publicJwk;
    });
  } catch (e) {
    throw new CharterError('INVALID_ARGUMENT', `${file}: ${(e as Error).message.slice(0, 200)}`);
  }
}
