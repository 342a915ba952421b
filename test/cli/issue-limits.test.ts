import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { charter, freshEnv, json, type RunResult } from './harness.js';
import { tempDir } from '../helpers.js';

/**
 * What `vc issue` and `sd-jwt issue` sign is what their verifiers read:
 * claims nested deeper, or a credential larger, than Charter's own verifier
 * takes are refused before anything is signed or recorded (0.1 crashed on
 * deep nesting and issued oversized credentials that nobody could verify).
 */
const env = freshEnv();
const dir = tempDir('charter-limits-');
const errorOf = (r: RunResult) => json<{ error: { code: string; message: string } }>(r).error;

/** A claims file nesting `depth` levels, the claims object itself being the first. */
function nested(depth: number): string {
  const file = join(dir, `deep-${depth}.json`);
  writeFileSync(file, '{"a":'.repeat(depth - 1) + '{"x":1}' + '}'.repeat(depth - 1));
  return file;
}

beforeAll(async () => {
  expect((await charter(['init'], env)).code).toBe(0);
  expect((await charter(['id', 'create', '--alias', 'alice'], env)).code).toBe(0);
  expect((await charter(['id', 'create', '--alias', 'bob'], env)).code).toBe(0);
}, 90_000);

const vcIssue = (claims: string, ...more: string[]) => charter(['vc', 'issue', '--as', 'alice', '--subject', 'bob', '--type', 'T', '--claims', claims, '--json', ...more], env);
const sdIssue = (claims: string, ...more: string[]) =>
  charter(['sd-jwt', 'issue', '--as', 'alice', '--subject', 'bob', '--type', 'https://example.com/T', '--claims', claims, '--json', ...more], env);
/** Credentials the home has recorded (read from its SQLite file). */
async function issuedCount(): Promise<number> {
  const Database = (await import('better-sqlite3')).default;
  const db = new Database(join(env.CHARTER_HOME!, 'charter.db'), { readonly: true });
  try {
    return (db.prepare('SELECT count(*) AS n FROM credentials').get() as { n: number }).n;
  } finally {
    db.close();
  }
}

describe('vc issue refuses what its verifiers would', () => {
  it('claims nested 200,000 deep: INVALID_ARGUMENT (exit 2), not a stack overflow', async () => {
    const file = join(dir, 'very-deep.json');
    writeFileSync(file, '['.repeat(200_000) + ']'.repeat(200_000));
    for (const r of [await vcIssue(file), await sdIssue(file)]) expect([r.code, errorOf(r).code]).toEqual([2, 'INVALID_ARGUMENT']);
    const obj = join(dir, 'very-deep-object.json');
    writeFileSync(obj, '{"a":'.repeat(150_000) + '1' + '}'.repeat(150_000));
    for (const r of [await vcIssue(obj), await sdIssue(obj)]) expect([r.code, errorOf(r).code]).toEqual([2, 'INVALID_ARGUMENT']);
  }, 90_000);

  it('at the limit each format issues a credential its verifier accepts; one level deeper is refused and nothing is recorded', async () => {
    for (const [format, max] of [
      ['vc+jwt', 63],
      ['vc-jwt-1.1', 62],
    ] as const) {
      const ok = await vcIssue(nested(max), '--format', format);
      expect([format, ok.code]).toEqual([format, 0]);
      const v = await charter(['vc', 'verify', json<{ jwt: string }>(ok).jwt, '--json'], env);
      expect([format, v.code, json<{ ok: boolean }>(v).ok]).toEqual([format, 0, true]);
      const before = await issuedCount();
      const deeper = await vcIssue(nested(max + 1), '--format', format);
      expect([format, deeper.code, errorOf(deeper).code]).toEqual([format, 2, 'INVALID_ARGUMENT']);
      expect(await issuedCount()).toBe(before);
    }
  }, 90_000);

  it('a credential over 64 KiB once signed: INPUT_TOO_LARGE (exit 2), nothing recorded; just under, it issues and verifies', async () => {
    const before = await issuedCount();
    const big = join(dir, 'big.json');
    writeFileSync(big, JSON.stringify({ blob: 'x'.repeat(60_000) }));
    const r = await vcIssue(big);
    expect([r.code, errorOf(r).code]).toEqual([2, 'INPUT_TOO_LARGE']);
    const huge = join(dir, 'huge.json');
    writeFileSync(huge, JSON.stringify({ blob: 'x'.repeat(900_000) }));
    expect(errorOf(await vcIssue(huge)).code).toBe('INPUT_TOO_LARGE');
    expect(await issuedCount()).toBe(before);
    const fits = join(dir, 'fits.json');
    writeFileSync(fits, JSON.stringify({ blob: 'x'.repeat(45_000) }));
    const ok = await vcIssue(fits);
    expect(ok.code).toBe(0);
    expect((await charter(['vc', 'verify', json<{ jwt: string }>(ok).jwt], env)).code).toBe(0);
  }, 90_000);
});

describe('sd-jwt issue refuses what its verifiers would', () => {
  it('claims nested past the depth the verifier rebuilds (32): INVALID_ARGUMENT; at 32 the token is structurally accepted', async () => {
    const ok = await sdIssue(nested(32), '--disclosable', 'a');
    expect(ok.code).toBe(0);
    // Not presented (no key binding), so refused for that, and only that: the disclosures were read.
    const v = await charter(['sd-jwt', 'verify', json<{ token: string }>(ok).token, '--json'], env);
    expect(json<{ reasons: { code: string }[] }>(v).reasons.map((x) => x.code)).toEqual(['KEY_BINDING_INVALID']);
    const deeper = await sdIssue(nested(33), '--disclosable', 'a');
    expect([deeper.code, errorOf(deeper).code]).toEqual([2, 'INVALID_ARGUMENT']);
  }, 90_000);

  it('an SD-JWT over the 256 KiB its verifiers read: INPUT_TOO_LARGE before signing', async () => {
    const big = join(dir, 'sd-big.json');
    writeFileSync(big, JSON.stringify({ blob: 'x'.repeat(200_000) }));
    const r = await sdIssue(big, '--disclosable', 'blob');
    expect([r.code, errorOf(r).code]).toEqual([2, 'INPUT_TOO_LARGE']);
  }, 90_000);
});

describe('expiry times', () => {
  it('an impossible day, a time without a zone, a zero duration: INVALID_ARGUMENT (exit 2); grant issue --expires 0d still refuses', async () => {
    for (const when of ['2030-02-30', '2030-02-28T12:00:00', '2030-13-01', '0s', '0d', 'March 1 2030']) {
      const r = await charter(['sd-jwt', 'issue', '--as', 'alice', '--subject', 'bob', '--type', 'https://example.com/T', '--claims', '{"a":1}', '--expires', when, '--json'], env);
      expect([when, r.code, errorOf(r).code]).toEqual([when, 2, 'INVALID_ARGUMENT']);
    }
    const grant = await charter(['grant', 'issue', '--as', 'alice', '--to', 'bob', '--resource', 'profile/email', '--action', 'read', '--expires', '0d', '--json'], env);
    expect(grant.code).toBe(2);
    const zero = await charter(['agent', 'authorize', '--as', 'alice', '--agent', 'bob', '--action', 'purchase', '--max', '50USD', '--expires', '0s', '--json'], env);
    expect([zero.code, errorOf(zero).code, errorOf(zero).message]).toEqual([2, 'INVALID_ARGUMENT', expect.stringMatching(/must be positive/)]);
  }, 90_000);

  it('a real calendar date reads as midnight UTC whatever the machine zone', async () => {
    for (const TZ of ['UTC', 'Pacific/Kiritimati', 'America/Los_Angeles']) {
      const r = await charter(['vc', 'issue', '--as', 'alice', '--subject', 'bob', '--type', 'T', '--claims', '{"a":1}', '--valid-until', '2030-02-28', '--json'], { ...env, TZ });
      expect(r.code).toBe(0);
      const payload = JSON.parse(Buffer.from(json<{ jwt: string }>(r).jwt.split('.')[1]!, 'base64url').toString()) as { validUntil: string };
      expect([TZ, payload.validUntil]).toEqual([TZ, '2030-02-28T00:00:00.000Z']);
    }
  }, 90_000);
});
