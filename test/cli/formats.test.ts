import type { ChildProcess } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createResolver } from '../../src/did/index.js';
import { decodeJwt } from '../../src/credentials/index.js';
import { freshParty, INSTRUMENT, makeL1, MERCHANTS } from '../mandates/helpers.js';
import { charter, freePort, freshEnv, json, startServe } from './harness.js';

/** The built CLI with the 2026 formats: SD-JWT grants end to end against `charter serve`, and mandates exported as VI or AP2. */
describe('charter grant --format sd-jwt, against charter serve (Token Status List)', () => {
  let server: ChildProcess | undefined;
  afterAll(() => {
    server?.kill('SIGTERM');
  });

  it('issue with a status -> present -> verify (allowed) -> revoke -> verify again (CREDENTIAL_REVOKED); publish writes statuslists/', async () => {
    const port = await freePort();
    const env = freshEnv({ CHARTER_ALLOW_LOOPBACK: '1' });
    await charter(['init', '--public-url', `http://127.0.0.1:${port}`], env);
    await charter(['id', 'create', '--alias', 'alice'], env);
    const shop = json<{ did: string }>(await charter(['id', 'create', '--alias', 'shop', '--json'], env)).did;
    server = await startServe(env, port);
    const g = json<{ id: string; token: string; disclosable: string[] }>(
      await charter(
        [
          'grant',
          'issue',
          '--from',
          'alice',
          '--to',
          shop,
          '--resource',
          'profile/email',
          '--resource',
          'photos/*',
          '--action',
          'read',
          '--expires',
          '30d',
          '--format',
          'sd-jwt',
          '--disclosable',
          'resources',
          '--json',
        ],
        env,
      ),
    );
    expect(g.disclosable).toEqual(['grant.resources.0', 'grant.resources.1']);
    const list = await charter(['grant', 'list'], env);
    expect(list.stdout).toMatch(/profile\/email,photos\/\*\s+read\s+\S+\s+active\s+dc\+sd-jwt/);
    const present = async () =>
      (await charter(['sd-jwt', 'present', '-', '--holder', 'shop', '--disclose', 'grant.resources.0', '--aud', shop, '--nonce', 'n-1'], env, g.token)).stdout.trim();
    const verify = async () => charter(['sd-jwt', 'verify', await present(), '--aud', shop, '--nonce', 'n-1', '--require-status', '--json'], env);
    const ok = await verify();
    expect([ok.code, json<{ disclosed: string[] }>(ok).disclosed]).toEqual([0, ['grant.resources.0']]);
    // the same presentation through grant verify: the grant rules (owner, scope) on top
    const alice = json<{ did: string }>(await charter(['id', 'show', 'alice', '--json'], env)).did;
    const grantVerify = async (resource: string, owner = alice) =>
      charter(['grant', 'verify', await present(), '--resource', resource, '--action', 'read', '--owner', owner, '--aud', shop, '--nonce', 'n-1', '--json'], env);
    expect((await grantVerify('profile/email')).code).toBe(0);
    const hidden = await grantVerify('photos/1.jpg');
    expect([hidden.code, json<{ reasons: { code: string }[] }>(hidden).reasons.map((r) => r.code)]).toEqual([1, ['GRANT_SCOPE']]);
    const notOwner = await grantVerify('profile/email', shop);
    expect(json<{ reasons: { code: string }[] }>(notOwner).reasons.map((r) => r.code)).toEqual(['GRANT_NOT_OWNER']);
    expect((await charter(['grant', 'suspend', g.id], env)).code).toBe(2);
    expect((await charter(['grant', 'revoke', g.id], env)).code).toBe(0);
    const refused = await verify(); // a new process: a fresh status list, as after its ttl
    expect([refused.code, json<{ reasons: { code: string }[] }>(refused).reasons.map((r) => r.code)]).toEqual([1, ['CREDENTIAL_REVOKED']]);
    const pub = join(env.HOME!, 'public');
    const published = json<{ files: string[] }>(await charter(['status', 'publish', '--out', pub, '--json'], env));
    const tokens = published.files.filter((f) => f.includes(`${join(pub, 'statuslists')}`));
    expect(tokens).toHaveLength(1);
    expect(existsSync(tokens[0]!)).toBe(true);
    expect(
      (await charter(['grant', 'issue', '--from', 'alice', '--to', shop, '--resource', 'x', '--action', 'read', '--expires', '1d', '--disclosable', 'resources'], env)).code,
    ).toBe(2);
  }, 180_000);
});

describe('charter agent authorize --format verifiable-intent | ap2', () => {
  it("writes a VI L2 bound to the principal's card credential, or AP2 open mandates; refuses a non-P-256 principal, naming the key type", async () => {
    const env = freshEnv();
    await charter(['init'], env);
    const p256 = json<{ did: string }>(await charter(['id', 'create', '--alias', 'alice', '--key', 'p256', '--json'], env)).did;
    await charter(['id', 'create', '--alias', 'ed'], env);
    const agent = json<{ did: string }>(await charter(['id', 'create', '--alias', 'bot', '--key', 'p256', '--json'], env)).did;
    const key = await createResolver().resolveKey(p256, undefined, 'authentication');
    const now = Math.floor(Date.now() / 1000);
    const l1 = await makeL1(freshParty('issuer-key-1'), key.publicJwk, { iat: now - 60, exp: now + 365 * 86400, cardId: INSTRUMENT.id });
    const dir = env.HOME!;
    writeFileSync(join(dir, 'l1.sdjwt'), l1);
    writeFileSync(
      join(dir, 'intent.json'),
      JSON.stringify({
        instrument: INSTRUMENT,
        payees: [MERCHANTS[0]],
        merchants: MERCHANTS,
        lineItems: [{ id: 'line-1', acceptable: [{ id: 'BAB86345', title: 'Babolat Pure Aero' }], quantity: 1 }],
      }),
    );
    const base = ['agent', 'authorize', '--agent', agent, '--intent', join(dir, 'intent.json'), '--max', '400USD'];

    const vi = json<{ format: string; l2: string }>(
      await charter([...base, '--principal', 'alice', '--format', 'verifiable-intent', '--l1', join(dir, 'l1.sdjwt'), '--budget', '500USD/month@UTC', '--json'], env),
    );
    const l2 = decodeJwt(vi.l2.split('~')[0]!);
    expect([vi.format, l2.header.typ, l2.payload.aud]).toEqual(['verifiable-intent', 'kb-sd-jwt+kb', agent]);
    const ap2 = json<{ payment: string; checkout: string }>(await charter([...base, '--principal', 'alice', '--format', 'ap2', '--budget', '1000USD', '--json'], env));
    expect(decodeJwt(ap2.payment.split('~')[0]!).header.typ).toBe('dc+sd-jwt');
    expect(ap2.checkout).toMatch(/~$/);

    const ed = await charter([...base, '--principal', 'ed', '--format', 'ap2'], env);
    expect(ed.code).toBe(2);
    expect(ed.stderr).toMatch(/ES256.*EdDSA key.*P-256/);
    const paris = await charter([...base, '--principal', 'alice', '--format', 'verifiable-intent', '--l1', join(dir, 'l1.sdjwt'), '--budget', '500USD/month@Europe/Paris'], env);
    expect([paris.code, paris.stderr]).toEqual([2, expect.stringMatching(/payment\.cumulative names no time zone/)]);
    expect((await charter([...base, '--principal', 'alice', '--format', 'ap2', '--rate', '3/P1D'], env)).code).toBe(2);
    expect((await charter([...base, '--principal', 'alice', '--format', 'visa'], env)).code).toBe(2);
  }, 120_000);
});
