import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { tempDir } from '../helpers.js';
import { runCli } from '../../src/cli/main.js';
import type { CliContext } from '../../src/cli/io.js';
import { closeAp2Mandate, hashAscii, issueAp2OpenMandate } from '../../src/mandates/index.js';
import { codeFor, vi, type ChainScenario } from '../mandates/vectors.js';
import { freshParty, signCompact } from '../mandates/helpers.js';

/** `charter mandate verify`, in process (the runCli + context pattern of test/http/cli.test.ts). */
async function run(args: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  let code = 0;
  const ctx: CliContext = {
    stdout: (s) => (out += s + '\n'),
    stderr: (s) => (err += s + '\n'),
    env: {},
    stdin: Readable.from([stdin]),
    setExitCode: (c) => (code = c),
    openHome: () => Promise.reject(new Error('charter mandate verify opens no home')),
  };
  await runCli(args, ctx);
  return { code, out, err };
}

const dir = tempDir('charter-mandate-');
function file(name: string, content: string): string {
  const p = join(dir, name);
  writeFileSync(p, content);
  return p;
}

function argsFor(s: ChainScenario): string[] {
  const input = file(
    `${s.name}.json`,
    JSON.stringify({
      l1: s.l1,
      l2: s.l2,
      l3_payment: s.l3_payment,
      l3_checkout: s.l3_checkout,
      l2_payment_serialized: s.l2_payment_serialized,
      l2_checkout_serialized: s.l2_checkout_serialized,
    }),
  );
  const a = ['mandate', 'verify', input, '--profile', 'verifiable-intent', '--now', new Date(s.current_time * 1000).toISOString(), '--json'];
  if (s.issuer_public) a.push('--trust-issuer', file(`${s.name}.issuer.jwk`, JSON.stringify(s.issuer_public)));
  if (s.skip_issuer_verification) a.push('--skip-issuer-verification');
  const flags: [keyof ChainScenario, string][] = [
    ['expected_l2_aud', '--aud'],
    ['expected_l2_nonce', '--nonce'],
    ['expected_l3_payment_aud', '--payment-aud'],
    ['expected_l3_payment_nonce', '--payment-nonce'],
    ['expected_l3_checkout_aud', '--checkout-aud'],
    ['expected_l3_checkout_nonce', '--checkout-nonce'],
  ];
  for (const [k, flag] of flags) if (typeof s[k] === 'string') a.push(flag, s[k] as string);
  // A scenario that expects no aud or nonce for a layer verifies it without one (the reference checks none then).
  if (flags.some(([k]) => typeof s[k] !== 'string')) a.push('--allow-missing-nonce');
  return a;
}

describe('charter mandate verify --profile verifiable-intent replays the reference chain scenarios', () => {
  it.each(vi.verification_conformance.chain_scenarios.map((s) => [s.name, s] as const))('%s: exit code and reason code match the vector', async (_n, s) => {
    const r = await run(argsFor(s));
    const d = JSON.parse(r.out) as { ok: boolean; reasons: { code: string }[]; principal?: unknown; constraints: unknown[] };
    expect(r.code).toBe(s.expected_valid ? 0 : 1);
    expect(d.ok).toBe(s.expected_valid);
    if (!s.expected_valid) expect(d.reasons[0]!.code).toBe(codeFor(s.expected_errors[0]!));
    else expect(d.principal).toBeDefined();
  });

  it('prints a decision a person can read: parties, layers, constraints, ledger links', async () => {
    const s = vi.verification_conformance.chain_scenarios.find((x) => x.name === 'autonomous_valid')!;
    const r = await run(argsFor(s).filter((a) => a !== '--json'));
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^✓ verifiable-intent chain valid \(autonomous\)/);
    expect(r.out).toMatch(/payment: {3}279\.99 USD to Tennis Warehouse/);
    expect(r.out).toMatch(/├─ ✓ mandate\.payment\.amount_range/);
    expect(r.out).toMatch(/urn:vi:mandate:[A-Za-z0-9_-]+: max 400 USD each; to merchant-uuid-1/);
    const refused = await run(argsFor(vi.verification_conformance.chain_scenarios.find((x) => x.name === 'immediate_tampered_l1')!).filter((a) => a !== '--json'));
    expect(refused.code).toBe(1);
    expect(refused.out).toMatch(/✗ INVALID_SIGNATURE: L1 signature verification failed/);
  });

  it('reads the input from stdin with "-"', async () => {
    const s = vi.verification_conformance.chain_scenarios.find((x) => x.name === 'immediate_valid')!;
    const a = argsFor(s);
    a[2] = '-';
    const r = await run(a, JSON.stringify({ l1: s.l1, l2: s.l2 }));
    expect(r.code).toBe(0);
  });

  it('usage errors exit 2: unknown profile, a --now without time zone, input that is not the VI JSON, an unreadable trust anchor', async () => {
    const s = vi.verification_conformance.chain_scenarios[0]!;
    const a = argsFor(s);
    expect((await run(a.map((x) => (x === 'verifiable-intent' ? 'visa-intent' : x)))).code).toBe(2);
    // Without a zone, impossible days and hours Date.parse rolls over, no seconds, not a date at all.
    const at = a[a.indexOf('--now') + 1]!;
    for (const bad of ['2025-06-15 15:11', `${at.slice(0, 5)}02-30T08:00:00Z`, `${at.slice(0, 10)}T24:00:00Z`, at.replace(/:\d{2}\.\d{3}Z$/, 'Z'), 'tomorrow']) {
      const badNow = [...a];
      badNow[badNow.indexOf('--now') + 1] = bad;
      const r = await run(badNow);
      expect([bad, r.code, JSON.parse(r.out).error.code]).toEqual([bad, 2, 'INVALID_ARGUMENT']);
    }
    expect((await run(['mandate', 'verify', file('x.json', '{"l1": 1}'), '--profile', 'verifiable-intent'])).code).toBe(2);
    expect((await run([...a, '--trust-issuer', file('bad.jwk', 'not a key')])).code).toBe(2);
    expect((await run(['mandate', 'verify', file('y.json', '{}')])).code).toBe(2);
    // An AP2-only check asked of a Verifiable Intent chain: a usage error, not a chain that passes without it.
    const open = await run([...a, '--open-checkout-hash', 'abc']);
    expect([open.code, JSON.parse(open.out).error.code]).toEqual([2, 'INVALID_ARGUMENT']);
    expect(JSON.parse(open.out).error.message).toMatch(/--open-checkout-hash/);
  });
});

describe('charter mandate verify --profile ap2', () => {
  it('verifies a ~~ chain against a pinned PEM key; refuses a wrong nonce (exit 1, NONCE_MISMATCH)', async () => {
    const root = freshParty('provider-1');
    const agent = freshParty();
    const merchant = freshParty();
    const now = new Date();
    const open = await issueAp2OpenMandate({
      issuer: root.issuer,
      kind: 'checkout',
      agent: { jwk: agent.publicJwk },
      constraints: [{ type: 'checkout.line_items', items: [{ id: 'l', acceptable_items: [{ id: 'shoe', title: 'Shoe' }], quantity: 1 }] }],
      now,
    });
    const jwt = await signCompact(
      { typ: 'JWT' },
      { merchant: { id: 'm1', name: 'M' }, line_items: [{ id: 'l', item: { id: 'shoe', title: 'Shoe', price: 100 }, quantity: 1 }] },
      merchant,
    );
    const chain = await closeAp2Mandate({
      chain: open,
      signer: agent.signer,
      mandate: { vct: 'mandate.checkout.1', checkout_jwt: jwt, checkout_hash: hashAscii(jwt) },
      aud: 'shop',
      nonce: 'n-1',
      now,
    });
    const { createPublicKey } = await import('node:crypto');
    const pem = file(
      'provider.pem',
      createPublicKey({ key: { ...root.publicJwk }, format: 'jwk' })
        .export({ type: 'spki', format: 'pem' })
        .toString(),
    );
    const chainFile = file('checkout.chain', chain);
    const ok = await run([
      'mandate',
      'verify',
      chainFile,
      '--profile',
      'ap2',
      '--trust-issuer',
      pem,
      '--trust-merchant',
      file('m.jwk', JSON.stringify(merchant.publicJwk)),
      '--aud',
      'shop',
      '--nonce',
      'n-1',
      '--json',
    ]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out)).toMatchObject({ ok: true, profile: 'ap2', mode: 'human-not-present', merchantSignature: 'checked' });
    const replay = await run(['mandate', 'verify', chainFile, '--profile', 'ap2', '--trust-issuer', pem, '--aud', 'shop', '--nonce', 'n-2', '--json']);
    expect(replay.code).toBe(1);
    expect(JSON.parse(replay.out).reasons.map((x: { code: string }) => x.code)).toEqual(['NONCE_MISMATCH']);
    // --require-status cannot be met by an AP2 chain (AP2 has no status): a usage error, never a pass without it.
    const status = await run(['mandate', 'verify', chainFile, '--profile', 'ap2', '--trust-issuer', pem, '--aud', 'shop', '--nonce', 'n-1', '--require-status', '--json']);
    expect([status.code, JSON.parse(status.out).error.code]).toEqual([2, 'INVALID_ARGUMENT']);
    expect(JSON.parse(status.out).error.message).toMatch(/--require-status/);
  });
});
