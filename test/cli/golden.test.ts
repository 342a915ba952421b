import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { charter, freshEnv, json } from './harness.js';
import { makeProgram } from '../../src/cli/main.js';
import { NEXT_COMMANDS, renderStep } from '../../src/cli/demo.js';

/** Volatile parts (DIDs, ids, indices) replaced so the transcript is stable. */
export function normalise(s: string): string {
  return s
    .replace(/did:key:z[1-9A-HJ-NP-Za-km-z]+/g, 'did:key:<id>')
    .replace(/did:jwk:[A-Za-z0-9_-]+…?/g, 'did:jwk:<id>')
    .replace(/urn:uuid:[0-9a-f-]{36}/g, 'urn:uuid:<uuid>')
    .replace(/status index \d+/g, 'status index <n>');
}

const STEP = /^(✓|✗|-|!!) \[[a-z-]+\] /;

describe('golden transcript', () => {
  it('charter demo: every walk, its output and exit code', async () => {
    const r = await charter(['demo'], freshEnv());
    const transcript = `$ charter demo\n${normalise(r.stdout)}[exit ${r.code}]\n`;
    expect(transcript).toBe(readFileSync(join(__dirname, 'golden', 'demo.txt'), 'utf8'));

    // What the transcript must keep saying, whatever the walks become.
    const lines = r.stdout.split('\n');
    expect(lines.slice(0, 3).map((l) => l.split(' ').slice(0, 3).join(' '))).toEqual(['A DID is', 'A credential is', 'A grant is']);
    const steps = lines.filter((l) => STEP.test(l));
    expect(steps.length).toBeGreaterThan(20);
    for (const l of steps.filter((s) => s.startsWith('✗'))) expect(l).toMatch(/: refused \([A-Z_]+\), as expected$/);
    expect(steps.filter((s) => s.startsWith('!!'))).toEqual([]);
    // Jargon stays behind --verbose.
    for (const l of steps) expect(l).not.toMatch(/vc\+jwt|vp\+jwt|status index|ttl|did:key|urn:uuid/);
    expect(r.stdout).toMatch(/Try next:\n {2}charter .*\n {2}charter .*\n {2}charter .*\n?$/);
  }, 120_000);

  it('--verbose adds the technical detail under each step, and --json gives the same steps', async () => {
    const env = freshEnv();
    const [verbose, asJson] = [await charter(['demo', '--verbose'], env), await charter(['demo', '--json'], env)];
    expect(verbose.code).toBe(0);
    expect(verbose.stdout).toMatch(
      /\n {4}DataAccessGrant urn:uuid:[0-9a-f-]{36}: resources photos\/2026\/\*, action read; revocation status index \d+ on http:\/\/127\.0\.0\.1:\d+\n/,
    );
    const result = json<{ ok: boolean; steps: { walk: string; title: string; expect?: string; code?: string }[]; next: string[] }>(asJson);
    expect(result.ok).toBe(true);
    expect(result.next).toEqual(NEXT_COMMANDS.map(([c]) => c));
    const stepLines = verbose.stdout.split('\n').filter((l) => STEP.test(l));
    expect(stepLines.length).toBe(result.steps.length);
    expect(result.steps.filter((s) => s.expect === 'refused').every((s) => typeof s.code === 'string')).toBe(true);
  }, 180_000);

  it('the commands it suggests next exist, with the options it shows', async () => {
    const program = await makeProgram();
    for (const [line] of NEXT_COMMANDS) {
      const words = line.split(' ').slice(1);
      let cmd: Command = program;
      while (words[0] && !words[0].startsWith('-')) {
        const next = cmd.commands.find((c) => c.name() === words[0]);
        expect(next, `${line}: no command "${words[0]}"`).toBeDefined();
        cmd = next!;
        words.shift();
      }
      for (const flag of words.filter((w) => w.startsWith('--')))
        expect(
          cmd.options.map((o) => o.long),
          `${line}: ${flag}`,
        ).toContain(flag);
    }
  });

  it('--home on an existing home refuses and changes nothing in it; on an empty directory it builds and keeps the demo there', async () => {
    const env = freshEnv();
    expect((await charter(['init', '--public-url', 'https://alice.example'], env)).code).toBe(0);
    const dir = env.CHARTER_HOME!;
    const snapshot = () =>
      readdirSync(dir).map(
        (f) =>
          `${f}:${createHash('sha256')
            .update(readFileSync(join(dir, f)))
            .digest('hex')}`,
      );
    const before = snapshot();
    const r = await charter(['demo', '--home', dir], env);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/\[ALREADY_EXISTS\]/);
    expect(r.stdout).toBe('');
    expect(snapshot()).toEqual(before);
    expect(json<Record<string, unknown>>(await charter(['config', 'get', '--json'], env))['public-url']).toBe('https://alice.example');

    const empty = join(dir, '..', 'demo-home');
    mkdirSync(empty);
    const kept = await charter(['demo', '--home', empty], { ...env, CHARTER_HOME: join(dir, '..', 'unused') });
    expect(kept.code).toBe(0);
    expect(kept.stdout).toContain(`home: ${empty}`);
    const ids = json<unknown[]>(await charter(['id', 'list', '--json', '--home', empty], env));
    expect(JSON.stringify(ids)).toContain('"alice"');
  }, 180_000);

  it('renders a skipped part with why, and a step that misbehaved with what was expected', () => {
    expect(
      renderStep({ walk: 'mcp', title: "an AI agent pays through a shop's MCP tool", ok: true, skipped: 'the optional @modelcontextprotocol/sdk is not installed' }, false),
    ).toBe("- [mcp] an AI agent pays through a shop's MCP tool: skipped (the optional @modelcontextprotocol/sdk is not installed)");
    expect(renderStep({ walk: 'grants', title: 'photo-printer opens beach.jpg again', ok: false, expect: 'refused' }, false)).toBe(
      '!! [grants] photo-printer opens beach.jpg again: NOT as expected (expected a refusal)',
    );
    expect(renderStep({ walk: 'grants', title: 'x', ok: true, expect: 'refused', code: 'GRANT_SCOPE', detail: 'd' }, true)).toBe(
      '✗ [grants] x: refused (GRANT_SCOPE), as expected\n    d',
    );
  });
});
