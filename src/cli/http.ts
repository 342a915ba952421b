import type { Command } from 'commander';
import type { Reason } from '../errors.js';
import { charterFetch, receiptOf } from '../http/client.js';
import { formatReasons, homeCommand, leaf, parseJsonArg, readTextArg, type CliContext, type CommonOptions } from './io.js';
import { credentialArg } from './vp.js';

interface HttpOptions extends CommonOptions {
  as: string;
  present: string[];
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
}

/** Sends one request with a presentation bound to it; collects status and body (JSON parsed when it is JSON). */
function send(ctx: CliContext, method: 'GET' | 'POST', url: string, opts: HttpOptions): Promise<void> {
  return homeCommand(
    ctx,
    opts,
    async (home): Promise<HttpResult> => {
      const holder = await home.issuer(opts.as);
      const credentials = await Promise.all(opts.present.map((c) => credentialArg(ctx, home, c)));
      const body = opts.data !== undefined ? JSON.stringify(parseJsonArg(await readTextArg(ctx, opts.data, '--data'), '--data')) : undefined;
      const r = await charterFetch(
        url,
        { method, ...(body !== undefined ? { body, headers: { 'content-type': 'application/json' } } : {}) },
        { holder, credentials, ...(opts.aud !== undefined ? { aud: opts.aud } : {}) },
      );
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
      return { ok: r.ok, status: r.status, contentType, body: parsed, ...(receipt !== undefined ? { receipt } : {}) };
    },
    render,
  );
}

function render(r: HttpResult): string {
  const problem = r.contentType?.startsWith('application/problem+json') ? (r.body as { code?: string; detail?: string; reasons?: Reason[] }) : undefined;
  if (problem) return [`✗ HTTP ${r.status} ${problem.code ?? ''}: ${problem.detail ?? ''}`, formatReasons(problem.reasons ?? [])].filter(Boolean).join('\n');
  const body = typeof r.body === 'string' ? r.body : JSON.stringify(r.body, null, 2);
  return `${r.ok ? '✓' : '✗'} HTTP ${r.status}\n${body}`;
}

export function registerHttp(program: Command, ctx: CliContext): void {
  const http = program.command('http').description('call an API guarded by Charter: each request carries a presentation bound to it');
  const common = (c: Command) =>
    c
      .argument('<url>', 'the URL to call')
      .requiredOption('--as <name>', 'alias or DID of the presenting identity')
      .requiredOption('--present <credential...>', 'ids of credentials in this home (or JWTs, or files) to present')
      .option('--aud <aud>', "the API's identifier (default: the URL's origin)");
  leaf(common(http.command('get').description('GET with a bound presentation; retries once on a nonce challenge')), [
    'charter http get http://127.0.0.1:3000/profile/email --as app --present urn:uuid:… --aud did:web:api.example',
  ]).action((url: string, opts: HttpOptions) => send(ctx, 'GET', url, opts));
  leaf(common(http.command('post').description('POST a JSON body with a bound presentation')).option('--data <json>', 'JSON body, a file, or - for stdin'), [
    `charter http post http://127.0.0.1:3001/orders --as shopper --present urn:uuid:… urn:uuid:… --data '{"sku":"tea","amount":"12.50 USD"}'`,
  ]).action((url: string, opts: HttpOptions) => send(ctx, 'POST', url, opts));
}
