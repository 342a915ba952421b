import type { Command } from 'commander';
import { CharterError, type Reason } from '../errors.js';
import { charterFetch, receiptOf, requestUrl, type CharterFetchOptions } from '../http/client.js';
import { signatureAgentOf } from '../server/directory.js';
import { formatReasons, homeCommand, leaf, parseJsonArg, readTextArg, type CliContext, type CommonOptions } from './io.js';
import { credentialArg } from './vp.js';
import { refuseBlank } from './args.js';

interface HttpOptions extends CommonOptions {
  as: string;
  present?: string[];
  sign?: boolean;
  signatureAgent?: string;
  tag?: string;
  aud?: string;
  data?: string;
}

export interface HttpResult {
  ok: boolean;
  status: number;
  contentType: string | null;
  body: unknown;
  /** The API's signed decision receipt (`Charter-Receipt`), when it sends one. */
  receipt?: string;
  /** A redirect's target: not followed (the proof names one URL); call it afresh if it is to be trusted. */
  location?: string;
}

/** Sends one request with a presentation bound to it; collects status and body (JSON parsed when it is JSON). */
function send(ctx: CliContext, method: 'GET' | 'POST', url: string, opts: HttpOptions): Promise<void> {
  return homeCommand(
    ctx,
    opts,
    async (home): Promise<HttpResult> => {
      refuseBlank(opts, ['--aud']);
      if (!opts.present?.length && !opts.sign) throw new CharterError('INVALID_ARGUMENT', 'say how to prove who is asking: --present CREDENTIAL…, --sign, or both');
      // Before any key is unlocked; charterFetch checks it again.
      requestUrl(url);
      const holder = await home.issuer(opts.as);
      const credentials = await Promise.all((opts.present ?? []).map((c) => credentialArg(ctx, home, c)));
      const body = opts.data !== undefined ? JSON.stringify(parseJsonArg(await readTextArg(ctx, opts.data, '--data'), '--data')) : undefined;
      const options: CharterFetchOptions = opts.present?.length ? { holder, credentials } : {};
      if (opts.aud !== undefined) options.aud = opts.aud;
      if (opts.sign) {
        // Signature-Agent: where the verifier finds the key; by default the directory `charter serve` publishes for this home's agents.
        const signatureAgent = opts.signatureAgent ?? (await signatureAgentOf(home, opts.as));
        options.sign = {
          signer: holder.signer,
          publicJwk: holder.publicJwk,
          ...(signatureAgent !== undefined ? { signatureAgent } : {}),
          ...(opts.tag !== undefined ? { tag: opts.tag } : {}),
        };
      }
      const r = await charterFetch(url, { method, ...(body !== undefined ? { body, headers: { 'content-type': 'application/json' } } : {}) }, options);
      const contentType = r.headers.get('content-type');
      const text = await r.text();
      let parsed: unknown = text;
      if (contentType !== null && /json/.test(contentType)) {
        try {
          parsed = JSON.parse(text);
        } catch {
          // keep the text
        }
      }
      // `ok: false` exits 1 (refused), with the problem details printed.
      const receipt = receiptOf(r);
      const location = r.status >= 300 && r.status < 400 ? (r.headers.get('location') ?? undefined) : undefined;
      return { ok: r.ok, status: r.status, contentType, body: parsed, ...(receipt !== undefined ? { receipt } : {}), ...(location !== undefined ? { location } : {}) };
    },
    render,
  );
}

function render(r: HttpResult): string {
  const problem = r.contentType?.startsWith('application/problem+json') ? (r.body as { code?: string; detail?: string; reasons?: Reason[] }) : undefined;
  if (problem) return [`✗ HTTP ${r.status} ${problem.code ?? ''}: ${problem.detail ?? ''}`, formatReasons(problem.reasons ?? [])].filter(Boolean).join('\n');
  const body = typeof r.body === 'string' ? r.body : JSON.stringify(r.body, null, 2);
  if (r.location !== undefined) return `✗ HTTP ${r.status}: a redirect to ${r.location}, not followed (the proof names this URL alone); call it afresh if you trust it\n${body}`;
  return `${r.ok ? '✓' : '✗'} HTTP ${r.status}\n${body}`;
}

export function registerHttp(program: Command, ctx: CliContext): void {
  const http = program
    .command('http')
    .description('call an API guarded by Charter: each request carries a presentation bound to it, its own signature (RFC 9421, Web Bot Auth), or both');
  const common = (c: Command) =>
    c
      .argument('<url>', 'the URL to call')
      .requiredOption('--as <alias|did>', 'the identity that presents and/or signs: an identity of this home, by alias or DID')
      .option('--present <credential...>', 'ids of credentials in this home (or JWTs, or files) to present')
      .option('--sign', "sign the request with the identity's key (RFC 9421 HTTP Message Signature, tag web-bot-auth)")
      .option('--signature-agent <origin>', "with --sign: the origin serving the key directory (default: this home's public URL, for its agents)")
      .option('--tag <tag>', 'with --sign: the signature tag (default web-bot-auth)')
      .option('--aud <aud>', "the API's identifier (default: the URL's origin)");
  leaf(common(http.command('get').description('GET with a bound presentation and/or a signature; retries once on a nonce challenge')), [
    'charter http get http://127.0.0.1:3000/profile/email --as app --present urn:uuid:… --aud did:web:api.example',
    'charter http get http://127.0.0.1:3000/articles/1 --as crawler --sign',
    'charter http post http://127.0.0.1:3001/orders --as shopper --present urn:uuid:… urn:uuid:… --sign --data \'{"sku":"tea"}\'',
  ]).action((url: string, opts: HttpOptions) => send(ctx, 'GET', url, opts));
  leaf(common(http.command('post').description('POST a JSON body with a bound presentation')).option('--data <json>', 'JSON body, a file, or - for stdin'), [
    `charter http post http://127.0.0.1:3001/orders --as shopper --present urn:uuid:… urn:uuid:… --data '{"sku":"tea","amount":"12.50 USD"}'`,
  ]).action((url: string, opts: HttpOptions) => send(ctx, 'POST', url, opts));
}
