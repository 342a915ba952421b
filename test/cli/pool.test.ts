import type { ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { charter, freePort, freshEnv, json, startServe } from './harness.js';
import { decodeJwt } from '../../src/credentials/index.js';

describe('charter pool: create, propose, vote, grant, leave, revoke, payouts (the built CLI)', () => {
  let server: ChildProcess | undefined;
  afterAll(() => {
    server?.kill('SIGTERM');
  });

  it('walks a 2-of-3 pool from the shell with exit codes a script can rely on', async () => {
    const port = await freePort();
    const env = freshEnv({ CHARTER_ALLOW_LOOPBACK: '1' });
    await charter(['init', '--public-url', `http://127.0.0.1:${port}`], env);
    const did = async (alias: string) => json<{ did: string }>(await charter(['id', 'create', '--alias', alias, '--json'], env)).did;
    const [ana, ben, chloe, lab] = [await did('ana'), await did('ben'), await did('chloe'), await did('lab')];
    server = await startServe(env, port);

    // Errors exit non-zero with their code on stderr (the exact exit code is the EXIT_CODE table's, which io.ts is moving to).
    const failed = (r: { code: number; stderr: string }, code: string) => {
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain(`[${code}]`);
    };
    // A founder without a key here cannot accept membership: refused before anything is created.
    failed(await charter(['pool', 'create', '--alias', 'p0', '--threshold', '1', '--member', 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK'], env), 'NOT_FOUND');

    const created = json<{ pool: string; threshold: number; members: string[] }>(
      await charter(['pool', 'create', '--alias', 'sleep-pool', '--threshold', '2', '--member', 'ana', '--member', 'ben', '--member', 'chloe', '--json'], env),
    );
    expect(created).toMatchObject({ threshold: 2, members: [ana, ben, chloe] });

    const p = json<{ hash: string }>(
      await charter(
        [
          'pool',
          'propose',
          '--grantee',
          lab,
          '--resource',
          'sleep/*',
          '--purpose',
          'model-training',
          '--retention',
          'P30D',
          '--processing',
          'trusted-execution',
          '--compensation',
          '0.055EUR/use', // a rate per use may be finer than a cent (it accrues; payouts round the total)
          '--duration',
          'P30D',
          '--json',
        ],
        env,
      ),
    );
    expect(p.hash).toMatch(/^sha256-/);
    // The short form `pool show` prints keeps its "sha256-" prefix: a bare base64url prefix may start with "-" (1 in 64),
    // which reads as an option unless it comes after `--`; both ways name the proposal.
    const short = p.hash.slice(0, 19);
    const bare = p.hash.slice(7, 19);
    expect((await charter(['pool', 'vote', short, '--as', 'ana', '--approve'], env)).code).toBe(0);
    failed(await charter(['pool', 'vote', '--as', 'ana', '--approve', '--', bare], env), 'ALREADY_EXISTS');
    failed(await charter(['pool', 'vote', short, '--as', 'lab', '--approve'], env), 'NOT_A_MEMBER');

    const early = await charter(['pool', 'grant', short], env);
    expect(early.code).toBe(1);
    expect(early.stdout).toMatch(/1 of 2 approvals/);
    expect(early.stdout).toMatch(/QUORUM_NOT_MET/);

    expect((await charter(['pool', 'vote', short, '--as', 'chloe', '--reject'], env)).code).toBe(0);
    expect((await charter(['pool', 'vote', short, '--as', 'ben', '--approve'], env)).code).toBe(0);
    const granted = json<{ ok: boolean; result: string; jwt: string }>(await charter(['pool', 'grant', short, '--json'], env));
    expect(granted.ok).toBe(true);
    const grantFile = join(env.HOME!, 'grant.jwt');
    writeFileSync(grantFile, granted.jwt);

    const verify = (owner: string, ...extra: string[]) =>
      charter(['grant', 'verify', grantFile, '--resource', 'sleep/2026-03-01', '--action', 'read', '--grantee', lab, '--owner', owner, ...extra], env);
    expect((await verify(chloe, '--for', 'model-training', '--processing', 'trusted-execution')).code).toBe(0);
    const noPurpose = await verify(chloe, '--processing', 'trusted-execution', '--json');
    expect(noPurpose.code).toBe(1);
    expect(json<{ reasons: { code: string }[] }>(noPurpose).reasons.map((r) => r.code)).toEqual(['PURPOSE_NOT_ALLOWED']);

    const show = json<{ epoch: number; proposals: { state: string }[]; grants: { terms: string[] }[] }>(await charter(['pool', 'show', '--json'], env));
    expect(show.proposals.map((x) => x.state)).toEqual(['executed']);
    expect(show.grants[0]!.terms).toContain('Processed only inside a trusted execution environment.');

    // The platform reports uses; chloe leaves; her data is refused from then on; payouts count what was covered.
    const report = await charter(['pool', 'report', '--as', 'lab', '--grant', grantFile, '--member', ana, '--member', chloe, '--count', '3'], env);
    expect(report.code).toBe(0);
    // --at is an instant: a time without its zone (read as local time until 0.2), a non-date, an empty one are refused.
    for (const at of ['2030-01-31T12:00:00', 'yesterday', '']) {
      const bad = await charter(['pool', 'report', '--as', 'lab', '--grant', grantFile, '--member', ana, '--at', at], env);
      expect([bad.code, bad.stdout], at).toEqual([2, '']);
      expect(bad.stderr, at).toMatch(/\[INVALID_ARGUMENT\]/);
    }
    const dated = await charter(['pool', 'report', '--as', 'lab', '--grant', grantFile, '--member', ana, '--at', '2030-01-31T13:00:00+01:00'], env);
    expect(JSON.stringify(decodeJwt(dated.stdout.trim()).payload)).toContain('2030-01-31T12:00:00.000Z');
    const reportFile = join(env.HOME!, 'usage.jwt');
    writeFileSync(reportFile, report.stdout.trim());
    const left = await charter(['pool', 'leave', '--as', 'chloe', '--json'], env);
    expect(json<{ members: string[]; epoch: number }>(left)).toMatchObject({ epoch: 1, members: [ana, ben] });
    const refused = await verify(chloe, '--for', 'model-training', '--processing', 'trusted-execution', '--json');
    expect(refused.code).toBe(1);
    expect(json<{ reasons: { code: string }[] }>(refused).reasons.map((r) => r.code)).toEqual(['MEMBER_WITHDRAWN']);
    expect((await verify(ana, '--for', 'model-training', '--processing', 'trusted-execution')).code).toBe(0);

    const until = new Date(Date.now() + 60_000).toISOString();
    const payouts = json<{ currencies: { total: string; shares: { member: string; amount: string }[] }[]; jwt: string }>(
      await charter(['pool', 'payouts', '--period', 'P1D', '--until', until, '--report', reportFile, '--json'], env),
    );
    expect(payouts.currencies[0]!.total).toBe('0.33');
    expect(payouts.currencies[0]!.shares.reduce((s, x) => s + Math.round(Number(x.amount) * 100), 0)).toBe(33);
    const table = await charter(['pool', 'payouts', '--period', 'P1D', '--until', until, '--report', reportFile], env);
    expect(table.stdout).toMatch(/EUR: total 0\.33/);
    expect(table.stdout).toMatch(/charter-payout\+jwt/);

    // Revocation by the threshold: nothing happens on one vote, the grant dies on two.
    const rp = json<{ hash: string }>(await charter(['pool', 'propose', '--revoke', granted.result, '--json'], env));
    await charter(['pool', 'vote', rp.hash, '--as', 'ana', '--approve'], env);
    expect((await charter(['pool', 'revoke', granted.result], env)).code).toBe(1);
    await charter(['pool', 'vote', rp.hash, '--as', 'ben', '--approve'], env);
    expect((await charter(['pool', 'revoke', granted.result], env)).code).toBe(0);
    failed(await charter(['grant', 'revoke', granted.result], env), 'INVALID_ARGUMENT');
  }, 240_000);
});
