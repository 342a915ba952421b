import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { CharterError } from '../errors.js';
import { openHome } from '../home/home.js';
import { leaf, runCommand, type CliContext, type CommonOptions } from './io.js';
import type { DemoContext, DemoStep } from './demo/types.js';
import { foundationWalk } from './demo/foundation.js';
import { grantsWalk } from './demo/grants.js';
import { agentsWalk } from './demo/agents.js';
import { reputationWalk } from './demo/reputation.js';
import { mcpWalk } from './demo/mcp.js';
import { httpWalk } from './demo/http.js';
import { webBotAuthWalk } from './demo/webbotauth.js';
import { poolsWalk } from './demo/pools.js';
import { auditWalk } from './demo/audit.js';
import { formatsWalk } from './demo/formats.js';
import { serveHome } from '../server/serve.js';

/** One walk per file; `shows` is its part of the opening "What you will see" sentence. */
const WALKS: { name: string; run: (ctx: DemoContext) => Promise<void>; shows?: string }[] = [
  { name: 'foundation', run: foundationWalk, shows: "alice vouches for bob's email address and a forged copy is caught" },
  { name: 'grants', run: grantsWalk, shows: 'dana lets a photo printer see her photos, then takes it back' },
  { name: 'http', run: httpWalk, shows: 'a web API checks every request against such a permission' },
  { name: 'webbotauth', run: webBotAuthWalk, shows: 'an AI agent signs its own web requests and a replayed one is caught' },
  { name: 'agents', run: agentsWalk, shows: 'an AI shopping agent spends only within the limits erin set' },
  { name: 'reputation', run: reputationWalk, shows: 'a fake review is ignored' },
  { name: 'pools', run: poolsWalk, shows: 'three people pool their data, vote 2 of 3 to let a lab train a model on it, and one of them leaves' },
  { name: 'formats', run: formatsWalk, shows: 'grace shows an app one part of a grant at a time, and a shopping agent keeps within a monthly card budget' },
  { name: 'mcp', run: mcpWalk, shows: "an AI agent pays through a shop's MCP tool" },
  { name: 'audit', run: auditWalk, shows: 'an API signs a receipt for every decision and its log is checked offline, a tampered entry named' },
];

/** The opening: what the words mean, then what the walk shows. */
export function demoIntro(where = 'on a throwaway home, deleted at the end'): string {
  const shows = WALKS.flatMap((w) => (w.shows ? [w.shows] : []));
  return [
    'A DID is a name you create and own yourself: it comes with a key that only you hold, so nobody can take it away or speak in your name.',
    'A credential is a statement someone signs about you ("bob\'s email is bob@example.com, says alice") that anyone can check without asking alice.',
    'A grant is a credential you give an app: it may use one piece of your data, for one purpose, until a date, and you can take it back at any time.',
    '',
    `What you will see, ${where}: ${shows.join('; ')}.`,
    '✓ means allowed; ✗ means Charter refused, and "as expected" says that refusing was right. Add --verbose for the technical detail.',
    '',
    '',
  ].join('\n');
}

/** What to type after the demo (README's tour goes on from there). */
export const NEXT_COMMANDS = [
  ['charter init --public-url http://127.0.0.1:8080', 'your own home (~/.charter), locked by a passphrase'],
  ['charter id create --alias me', 'your first DID'],
  ['charter serve --port 8080', 'then open the consent link it prints: every grant you give, and its Revoke button'],
] as const;

export interface DemoResult {
  ok: boolean;
  home: string;
  steps: DemoStep[];
  next: string[];
}

/**
 * Runs every walk on a throwaway home and reports each step. With `home`, the
 * walk is built in that directory and kept; an existing home there is refused
 * before anything is opened, since the walk would add its identities and move
 * the home's public URL to its own loopback server.
 */
export async function runDemo(ctx: CliContext, opts: { home?: string; keep?: boolean }, onStep: (s: DemoStep) => void): Promise<DemoResult> {
  refuseExistingHome(opts.home);
  const dir = opts.home ?? mkdtempSync(join(tmpdir(), 'charter-demo-'));
  const passphrase = ctx.env.CHARTER_PASSPHRASE ?? randomBytes(18).toString('base64url');
  // Always the SQLite file in `dir`: a CHARTER_STORE in the environment names someone's real shared store.
  const env = { ...ctx.env, CHARTER_STORE: undefined };
  const home = await openHome({ home: dir, env, passphrase: async () => passphrase, allowLoopback: true });
  const steps: DemoStep[] = [];
  let server: Awaited<ReturnType<typeof serveHome>> | undefined;
  try {
    await home.init();
    server = await serveHome(home, { port: 0 });
    await home.setPublicUrl(server.url);
    for (const walk of WALKS) {
      await walk.run({
        home,
        publicUrl: server.url,
        step: (s) => {
          const full = { walk: walk.name, ...s };
          steps.push(full);
          onStep(full);
        },
      });
    }
  } finally {
    await server?.close();
    await home.close();
    if (!opts.home && !opts.keep) rmSync(dir, { recursive: true, force: true });
  }
  return { ok: steps.every((s) => s.ok), home: dir, steps, next: NEXT_COMMANDS.map(([c]) => c) };
}

function refuseExistingHome(dir: string | undefined): void {
  if (dir !== undefined && existsSync(join(dir, 'charter.db'))) {
    throw new CharterError('ALREADY_EXISTS', `${dir} already holds a Charter home; the demo leaves it alone: give an empty directory, or leave out --home`);
  }
}

/** One step as a person reads it: ✓ allowed, ✗ refused (with why, and whether that was expected), skipped with why. */
export function renderStep(s: DemoStep, verbose: boolean): string {
  const detail = verbose && s.detail ? `\n    ${s.detail}` : '';
  if (s.skipped !== undefined) return `- [${s.walk}] ${s.title}: skipped (${s.skipped})`;
  if (!s.ok) return `!! [${s.walk}] ${s.title}: NOT as expected (expected ${s.expect === 'refused' ? 'a refusal' : 'it to be allowed'}${s.code ? `, got ${s.code}` : ''})${detail}`;
  if (s.expect === 'refused') return `✗ [${s.walk}] ${s.title}: refused${s.code ? ` (${s.code})` : ''}, as expected${detail}`;
  return `✓ [${s.walk}] ${s.title}${detail}`;
}

function renderEnd(r: DemoResult, kept: boolean, generatedPassphrase: boolean): string {
  const lines = ['', r.ok ? 'Demo complete: every step behaved as expected.' : 'Demo FAILED: a step did not behave as expected (marked !! above).'];
  if (kept) lines.push(`home: ${r.home}${generatedPassphrase ? ' (its passphrase was random: set CHARTER_PASSPHRASE before `charter demo` to choose one)' : ''}`);
  const width = Math.max(...NEXT_COMMANDS.map(([c]) => c.length));
  lines.push('', 'Try next:', ...NEXT_COMMANDS.map(([c, why]) => `  ${c.padEnd(width)}   # ${why}`));
  return lines.join('\n');
}

export function registerDemo(program: Command, ctx: CliContext): void {
  leaf(
    program
      .command('demo')
      .description('walk through the whole toolkit on a throwaway home and print what happened')
      .option('--keep', 'keep the throwaway home and print its path')
      .option('--verbose', 'also print the technical detail of each step (ids, formats, status indices)'),
    ['charter demo', 'charter demo --verbose', 'charter demo --home ./demo-home   # an empty directory: the demo home is kept there', 'charter demo --json | jq .ok'],
  ).action((opts: CommonOptions & { keep?: boolean; verbose?: boolean }) =>
    runCommand(
      ctx,
      opts,
      () => {
        refuseExistingHome(opts.home);
        if (!opts.json) ctx.stdout(opts.home !== undefined ? demoIntro(`in ${opts.home}, kept`) : opts.keep ? demoIntro('on a throwaway home, kept') : demoIntro());
        return runDemo(ctx, { ...(opts.home ? { home: opts.home } : {}), keep: opts.keep === true }, (s) => {
          if (!opts.json) ctx.stdout(renderStep(s, opts.verbose === true));
        });
      },
      (r) => renderEnd(r, opts.keep === true || opts.home !== undefined, ctx.env.CHARTER_PASSPHRASE === undefined),
    ),
  );
}
