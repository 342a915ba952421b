import type { ChildProcess } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { charter, freePort, freshEnv, json, startServe } from './harness.js';

describe('charter agent: authorize, delegate, present, verify with the chain as a tree, revoke', () => {
  let server: ChildProcess | undefined;
  afterAll(() => {
    server?.kill('SIGTERM');
  });

  it('walks the KYA flow from the CLI with exit codes a script can rely on', async () => {
    const port = await freePort();
    const env = freshEnv({ CHARTER_ALLOW_LOOPBACK: '1' });
    await charter(['init', '--public-url', `http://127.0.0.1:${port}`], env);
    const did = async (alias: string) => json<{ did: string }>(await charter(['id', 'create', '--alias', alias, '--json'], env)).did;
    const alice = await did('alice');
    await did('acme');
    const shop = await did('shop');
    server = await startServe(env, port);

    const agent = json<{ did: string; identity: { id: string } }>(
      await charter(['agent', 'create', '--alias', 'shopper', '--as', 'acme', '--software', 'shopper@1.0.0', '--json'], env),
    );
    const sub = json<{ did: string }>(await charter(['agent', 'create', '--alias', 'sub', '--as', 'acme', '--json'], env));
    const root = json<{ id: string }>(
      await charter(
        [
          'agent',
          'authorize',
          '--as',
          'alice',
          '--agent',
          agent.did,
          '--action',
          'purchase',
          '--max',
          '50USD',
          '--budget',
          '100USD/P30D',
          '--counterparty',
          shop,
          '--rate',
          '10/PT1H',
          '--max-depth',
          '1',
          '--json',
        ],
        env,
      ),
    );
    const widen = await charter(
      [
        'agent',
        'delegate',
        '--as',
        'shopper',
        '--parent',
        root.id,
        '--to',
        sub.did,
        '--action',
        'purchase',
        '--max',
        '80USD',
        '--budget',
        '40USD/P30D',
        '--counterparty',
        shop,
        '--rate',
        '5/PT1H',
      ],
      env,
    );
    expect(widen.code).toBe(2);
    expect(widen.stderr).toMatch(/perTransaction.*\[AUTHORITY_WIDENED\]/);
    const link = json<{ id: string }>(
      await charter(
        [
          'agent',
          'delegate',
          '--as',
          'shopper',
          '--parent',
          root.id,
          '--to',
          sub.did,
          '--action',
          'purchase',
          '--max',
          '20USD',
          '--budget',
          '40USD/P30D',
          '--counterparty',
          shop,
          '--rate',
          '5/PT1H',
          '--expires',
          '1d',
          '--json',
        ],
        env,
      ),
    );
    const present = async () => json<{ jwt: string }>(await charter(['agent', 'present', '--as', 'sub', '--aud', shop, '--nonce', 'n-1', '--json'], env)).jwt;
    const vp = await present();
    // Recording uses a presentation up (as a guard does): each recorded verification gets a fresh one.
    const verify = async (amount: string, ...extra: string[]) =>
      charter(
        [
          'agent',
          'verify',
          extra.includes('--record') ? await present() : vp,
          '--aud',
          shop,
          '--nonce',
          'n-1',
          '--action',
          'purchase',
          '--amount',
          amount,
          '--trust-principal',
          alice,
          ...extra,
        ],
        env,
      );

    const ok = await verify('15USD', '--record');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/✓ allowed: purchase 15USD/);
    expect(ok.stdout).toMatch(/chain \(root first\)\n│ {2}├─ ✓ urn:uuid:.*\n│ {2}└─ ✓ urn:uuid:/);
    const tooBig = await verify('30USD', '--json');
    expect(tooBig.code).toBe(1);
    expect(json<{ reasons: { code: string }[] }>(tooBig).reasons.map((r) => r.code)).toEqual(expect.arrayContaining(['AUTHORITY_EXCEEDED']));
    expect((await verify('20USD', '--record')).code).toBe(0);
    const over = await verify('10USD', '--json');
    expect(over.code).toBe(1);
    expect(json<{ reasons: { code: string }[] }>(over).reasons.map((r) => r.code)).toEqual(['BUDGET_EXCEEDED']);
    const untrusted = await charter(['agent', 'verify', vp, '--aud', shop, '--nonce', 'n-1', '--action', 'purchase', '--amount', '1USD', '--trust-principal', shop, '--json'], env);
    expect(json<{ reasons: { code: string }[] }>(untrusted).reasons.map((r) => r.code)).toEqual(['UNTRUSTED_PRINCIPAL']);
    const noAmount = await charter(['agent', 'verify', vp, '--aud', shop, '--nonce', 'n-1', '--action', 'purchase', '--trust-principal', alice, '--json'], env);
    expect([noAmount.code, json<{ reasons: { code: string }[] }>(noAmount).reasons.map((r) => r.code)]).toEqual([1, ['AMOUNT_REQUIRED', 'AMOUNT_REQUIRED']]);
    const replayed = vp; // a recorded presentation cannot be recorded again
    const first = await charter(
      ['agent', 'verify', replayed, '--aud', shop, '--nonce', 'n-1', '--action', 'purchase', '--amount', '1USD', '--trust-principal', alice, '--record', '--json'],
      env,
    );
    const second = await charter(
      ['agent', 'verify', replayed, '--aud', shop, '--nonce', 'n-1', '--action', 'purchase', '--amount', '1USD', '--trust-principal', alice, '--record', '--json'],
      env,
    );
    expect(first.code).toBe(0); // 15 + 20 + 1 of the sub-agent's 40
    expect([second.code, json<{ reasons: { code: string }[] }>(second).reasons.map((r) => r.code)]).toEqual([1, ['REPLAY_DETECTED']]);

    expect((await charter(['agent', 'revoke', root.id], env)).code).toBe(0);
    const cut = await verify('1USD', '--json');
    expect(cut.code).toBe(1);
    expect(
      json<{ chain: { id: string; checks: { code: string }[] }[] }>(cut)
        .chain.find((l) => l.id === root.id)!
        .checks.map((c) => c.code),
    ).toEqual(['CREDENTIAL_REVOKED']);
    // The delegated link stops with its root: listed revoked, naming the root it inherits that from.
    const list = await charter(['agent', 'list', '--json'], env);
    expect(json<{ id: string; state: string; inheritedFrom?: string }[]>(list).map((m) => [m.id, m.state, m.inheritedFrom])).toEqual(
      expect.arrayContaining([
        [root.id, 'revoked', undefined],
        [link.id, 'revoked', root.id],
      ]),
    );
  }, 180_000);

  it("revokes an agent's identity credential (its operator stops answering for it), and says when a budget holds per ledger only", async () => {
    const port = await freePort();
    const env = freshEnv({ CHARTER_ALLOW_LOOPBACK: '1' });
    await charter(['init', '--public-url', `http://127.0.0.1:${port}`], env);
    const did = async (alias: string) => json<{ did: string }>(await charter(['id', 'create', '--alias', alias, '--json'], env)).did;
    const alice = await did('alice');
    const acme = await did('acme');
    const shop = await did('shop');
    const srv = await startServe(env, port);
    try {
      const agent = json<{ did: string; identity: { id: string } }>(await charter(['agent', 'create', '--alias', 'bot', '--as', 'acme', '--json'], env));
      const budget = ['agent', 'authorize', '--as', 'alice', '--agent', agent.did, '--action', 'purchase', '--max', '50USD', '--budget', '100USD/P30D', '--json'];
      const everywhere = await charter(budget, env);
      expect(everywhere.code).toBe(0);
      expect(everywhere.stderr).toMatch(/the budget holds per verifier ledger; with no --counterparty/);
      const one = await charter([...budget, '--counterparty', shop], env);
      expect([one.code, one.stderr]).toEqual([0, '']);
      const vp = json<{ jwt: string }>(await charter(['agent', 'present', '--as', 'bot', '--aud', shop, '--nonce', 'n-2', '--json'], env)).jwt;
      const verify = () =>
        charter(
          ['agent', 'verify', vp, '--aud', shop, '--nonce', 'n-2', '--action', 'purchase', '--amount', '1USD', '--trust-principal', alice, '--trust-operator', acme, '--json'],
          env,
        );
      expect((await verify()).code).toBe(0);
      const revoked = await charter(['agent', 'revoke', agent.identity.id, '--json'], env);
      expect([revoked.code, json<{ revoked: string[] }>(revoked).revoked]).toEqual([0, [agent.identity.id]]);
      const after = await verify();
      expect([after.code, json<{ reasons: { code: string }[] }>(after).reasons.map((r) => r.code)]).toEqual([1, ['CREDENTIAL_REVOKED']]);
    } finally {
      srv.kill('SIGTERM');
    }
  }, 180_000);
});
