import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { charter, freePort, freshEnv, json, startServe } from './harness.js';

describe('charter rep: receipt, attest, import, score, revoke', () => {
  let server: ChildProcess | undefined;
  afterAll(() => {
    server?.kill('SIGTERM');
  });

  it('scores only real counterparties, shows why the rest are ignored, and honours revocation', async () => {
    const port = await freePort();
    const env = freshEnv({ CHARTER_ALLOW_LOOPBACK: '1' });
    await charter(['init', '--public-url', `http://127.0.0.1:${port}`], env);
    server = await startServe(env, port);
    await charter(['id', 'create', '--alias', 'acme'], env);
    const shop = json<{ did: string }>(await charter(['id', 'create', '--alias', 'shop', '--json'], env)).did;
    const acme = json<{ did: string }>(await charter(['id', 'show', 'acme', '--json'], env)).did;
    const bot = json<{ did: string }>(await charter(['agent', 'create', '--alias', 'bot', '--as', 'acme', '--json'], env)).did;
    const receipt = json<{ jwt: string }>(await charter(['rep', 'receipt', '--as', 'bot', '--counterparty', shop, '--interaction', 'o-1', '--amount', '20USD', '--json'], env)).jwt;
    const file = join(env.HOME!, 'receipt.jwt');
    writeFileSync(file, receipt);
    const att = json<{ id: string; jwt: string; revocable: boolean }>(
      await charter(['rep', 'attest', '--as', 'shop', '--receipt', file, '--score', '0.9', '--dimension', 'delivery', '--json'], env),
    );
    expect(att.revocable).toBe(true);
    expect((await charter(['rep', 'attest', '--as', 'acme', '--receipt', file, '--score', '1'], env)).code).toBe(2);
    expect((await charter(['rep', 'attest', '--as', 'shop', '--receipt', file, '--score', '1.5'], env)).code).toBe(2);
    const selfReceipt = json<{ jwt: string }>(await charter(['rep', 'receipt', '--as', 'bot', '--counterparty', acme, '--interaction', 'o-2', '--json'], env)).jwt;
    await charter(['rep', 'attest', '--as', 'acme', '--receipt', selfReceipt, '--score', '1'], env);

    // a second home imports the attestations it received
    const other = freshEnv({ CHARTER_ALLOW_LOOPBACK: '1' });
    await charter(['init'], other);
    const imported = json<{ imported: string[]; skipped: { code: string }[] }>(await charter(['rep', 'import', '-', '--json'], other, `${att.jwt}\n${att.jwt}\nnot-a-jwt\n`));
    expect(imported.imported).toEqual([att.id]);
    expect(imported.skipped.map((s) => s.code).sort()).toEqual(['ALREADY_EXISTS', 'MALFORMED_JWT']); // the duplicate and the junk line
    // verified once, kept: importing again skips it before any check
    const again = json<{ imported: string[]; skipped: { code: string }[] }>(await charter(['rep', 'import', '-', '--json'], other, `${att.jwt}\n`));
    expect(again).toMatchObject({ imported: [], skipped: [{ code: 'ALREADY_EXISTS' }] });

    const score = await charter(['rep', 'score', bot, '--trust', shop, '--trust', acme, '--json'], env);
    expect(score.code).toBe(0);
    const s = json<{ score: number; counted: number; ignored: { code: string }[] }>(score);
    expect(s.score).toBe(0.9);
    expect(s.ignored.map((i) => i.code)).toEqual(['SELF_ATTESTATION']);
    expect((await charter(['rep', 'score', bot, '--trust', shop], env)).stdout).toMatch(/ATTESTATION\s+ATTESTER\s+SCORE\s+DIMENSION\s+WEIGHT\s+COUNTED/);
    expect(json<{ score: number | null }>(await charter(['rep', 'score', bot, '--json'], env)).score).toBeNull();

    expect((await charter(['rep', 'revoke', att.id], env)).code).toBe(0);
    const after = json<{ score: number | null; ignored: { code: string }[] }>(await charter(['rep', 'score', bot, '--trust', shop, '--json'], env));
    expect(after.score).toBeNull();
    expect(after.ignored.map((i) => i.code)).toContain('CREDENTIAL_REVOKED');
  }, 180_000);
});
