import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { openHome } from '../home/home.js';
import { leaf, runCommand, type CliContext, type CommonOptions } from './io.js';
import type { DemoStep } from './demo/types.js';
import { foundationWalk } from './demo/foundation.js';
import { grantsWalk } from './demo/grants.js';
import { agentsWalk } from './demo/agents.js';
import { reputationWalk } from './demo/reputation.js';
import { mcpWalk } from './demo/mcp.js';
import { httpWalk } from './demo/http.js';
import { formatsWalk } from './demo/formats.js';
import { serveHome } from '../server/serve.js';

const WALKS = [
  { name: 'foundation', run: foundationWalk },
  { name: 'grants', run: grantsWalk },
  { name: 'http', run: httpWalk },
  { name: 'agents', run: agentsWalk },
  { name: 'reputation', run: reputationWalk },
  { name: 'mcp', run: mcpWalk },
  { name: 'formats', run: formatsWalk },
];

export interface DemoResult {
  ok: boolean;
  home: string;
  steps: DemoStep[];
}

/** Runs every walk on a throwaway home (or --home) and reports each step. */
export async function runDemo(ctx: CliContext, opts: { home?: string; keep?: boolean }, onStep: (s: DemoStep) => void): Promise<DemoResult> {
  const dir = opts.home ?? mkdtempSync(join(tmpdir(), 'charter-demo-'));
  const passphrase = ctx.env.CHARTER_PASSPHRASE ?? randomBytes(18).toString('base64url');
  const home = await openHome({ home: dir, env: ctx.env, passphrase: async () => passphrase, allowLoopback: true });
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
  return { ok: steps.every((s) => s.ok), home: dir, steps };
}

/** One step as a person reads it: ✓ allowed, ✗ refused (with why, and whether that was expected), skipped with why. */
export function renderStep(s: DemoStep, verbose: boolean): string {
  const detail = verbose && s.detail ? `\n    ${s.detail}` : '';
  if (s.skipped !== undefined) return `- [${s.walk}] ${s.title}: skipped (${s.skipped})`;
  if (!s.ok) return `!! [${s.walk}] ${s.title}: NOT as expected${s.code ? ` (${s.code})` : ''}${detail}`;
  if (s.expect === 'refused') return `✗ [${s.walk}] ${s.title}: refused${s.code ? ` (${s.code})` : ''}, as expected${detail}`;
  return `✓ [${s.walk}] ${s.title}${detail}`;
}

export function registerDemo(program: Command, ctx: CliContext): void {
  leaf(
    program
      .command('demo')
      .description('walk through the whole toolkit on a throwaway home and print what happened')
      .option('--keep', 'keep the throwaway home and print its path')
      .option('--verbose', 'also print the technical detail of each step (ids, formats, status indices)'),
    ['npx charter demo', 'charter demo --json | jq .ok'],
  ).action((opts: CommonOptions & { keep?: boolean; verbose?: boolean }) =>
    runCommand(
      ctx,
      opts,
      () =>
        runDemo(ctx, { ...(opts.home ? { home: opts.home } : {}), keep: opts.keep === true }, (s) => {
          if (!opts.json) ctx.stdout(renderStep(s, opts.verbose === true));
        }),
      (r) => `\n${r.ok ? 'Demo complete: every step behaved as expected.' : 'Demo FAILED: a step did not behave as expected.'}${opts.keep || opts.home ? `\nhome: ${r.home}` : ''}`,
    ),
  );
}
