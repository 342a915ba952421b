import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { openHome, type Home } from '../../src/home/home.js';
import { createResolver } from '../../src/did/index.js';
import { currentEpoch, issueMembership, signAcceptance } from '../../src/pools/membership.js';
import { charter, freshEnv, json, type RunResult } from './harness.js';

/*
 * A refused `pool create` or `agent create` leaves nothing behind (the alias
 * stays free), and one a crash interrupted between the identity and its
 * epoch / identity credential is finished by running it again.
 */

const PUBLIC_URL = 'http://127.0.0.1:8188';

async function setup(withUrl = true) {
  const env = freshEnv({ CHARTER_ALLOW_LOOPBACK: '1' });
  expect((await charter(['init', ...(withUrl ? ['--public-url', PUBLIC_URL] : [])], env)).code).toBe(0);
  const dids: Record<string, string> = {};
  for (const alias of ['ana', 'ben', 'op', 'op2']) dids[alias] = json<{ did: string }>(await charter(['id', 'create', '--alias', alias, '--json'], env)).did;
  return { env, dids };
}

const aliases = async (env: NodeJS.ProcessEnv) => json<Array<{ alias: string }>>(await charter(['id', 'list', '--json'], env)).map((r) => r.alias);

function refused(r: RunResult, exit: number, code: string): void {
  expect(r.code, r.stderr).toBe(exit);
  expect(r.stderr).toContain(`[${code}]`);
}

/** The home, opened in this process (the CLI is not running meanwhile), for `f`. */
async function withHome<T>(env: NodeJS.ProcessEnv, f: (home: Home) => Promise<T>): Promise<T> {
  const home = await openHome({ home: env.CHARTER_HOME!, env: {}, passphrase: async () => env.CHARTER_PASSPHRASE!, allowLoopback: true, create: false });
  try {
    return await f(home);
  } finally {
    await home.close();
  }
}

const memberships = (home: Home, pool: string) => home.store.listCredentials({ type: 'PoolMembershipCredential', issuer: pool });

describe('charter pool create: a refusal writes nothing, an interrupted founding is finished by a retry', () => {
  let env: NodeJS.ProcessEnv;
  beforeAll(async () => {
    ({ env } = await setup());
  });

  it.concurrent.each([
    ['a threshold above the founders', ['--threshold', '3', '--member', 'ana'], 'INVALID_ARGUMENT'],
    ['a threshold above the founders (two of them)', ['--threshold', '3', '--member', 'ana', '--member', 'ben'], 'INVALID_ARGUMENT'],
    ['a threshold of 0', ['--threshold', '0', '--member', 'ana'], 'INVALID_ARGUMENT'],
    ['a threshold that is no number', ['--threshold', 'two', '--member', 'ana'], 'INVALID_ARGUMENT'],
    ['a fractional threshold', ['--threshold', '1.5', '--member', 'ana', '--member', 'ben'], 'INVALID_ARGUMENT'],
    ['a founder named twice', ['--threshold', '1', '--member', 'ana', '--member', 'ana'], 'INVALID_ARGUMENT'],
    ['a key type Charter has not', ['--threshold', '1', '--member', 'ana', '--key', 'rsa'], 'INVALID_ARGUMENT'],
    ['a key type that is an Object property', ['--threshold', '1', '--member', 'ana', '--key', 'constructor'], 'INVALID_ARGUMENT'],
  ])('%s: exit 2, no identity made, and the same alias founds the pool afterwards', async (_what, args, code) => {
    const alias = `p${Math.random().toString(36).slice(2, 10)}`;
    refused(await charter(['pool', 'create', '--alias', alias, ...args], env), 2, code);
    expect(await aliases(env)).not.toContain(alias);
    refused(await charter(['id', 'show', alias], env), 2, 'NOT_FOUND');
    const ok = await charter(['pool', 'create', '--alias', alias, '--threshold', '1', '--member', 'ana', '--json'], env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(json<{ threshold: number; members: string[] }>(ok)).toMatchObject({ threshold: 1, members: [expect.any(String)] });
  });

  it('a home without a public URL: NOT_INITIALIZED before the identity is made; once the URL is set the same alias works', async () => {
    const { env: bare } = await setup(false);
    refused(await charter(['pool', 'create', '--alias', 'nourl', '--threshold', '1', '--member', 'ana'], bare), 2, 'NOT_INITIALIZED');
    expect(await aliases(bare)).not.toContain('nourl');
    expect((await charter(['config', 'set', 'public-url', PUBLIC_URL], bare)).code).toBe(0);
    expect((await charter(['pool', 'create', '--alias', 'nourl', '--threshold', '1', '--member', 'ana'], bare)).code).toBe(0);
  });

  it('a pool identity left without its epoch (killed between the two) is founded by the retry, on that identity', async () => {
    const did = await withHome(env, async (home) => (await home.createIdentity({ alias: 'half', meta: { role: 'pool' } })).did);
    refused(await charter(['pool', 'show', '--pool', 'half'], env), 2, 'NOT_FOUND');
    const r = await charter(['pool', 'create', '--alias', 'half', '--threshold', '1', '--member', 'ana', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(json<{ pool: string; epoch: number }>(r)).toMatchObject({ pool: did, epoch: 0 });
    expect((await charter(['pool', 'show', '--pool', 'half'], env)).code).toBe(0);
    // Now it is a pool: a third run is ALREADY_EXISTS, and writes no second epoch.
    refused(await charter(['pool', 'create', '--alias', 'half', '--threshold', '1', '--member', 'ana'], env), 2, 'ALREADY_EXISTS');
  });

  it('memberships a killed founding already issued are reused, not issued twice', async () => {
    const { pool, accepted } = await withHome(env, async (home) => {
      const rec = await home.createIdentity({ alias: 'half2', meta: { role: 'pool' } });
      const pool = await home.issuer('half2');
      const resolver = createResolver({ allowLoopback: true, allowHttp: true });
      const accepted: string[] = [];
      for (const m of ['ana', 'ben']) {
        const member = await home.issuer(m);
        const { member: held } = await issueMembership(home.store, pool, {
          id: `urn:uuid:${randomUUID()}`,
          member: member.did,
          acceptance: (s) => signAcceptance(member, pool.did, s),
          since: 0,
          baseUrl: PUBLIC_URL,
          resolver,
        });
        accepted.push(held.accepted);
      }
      return { pool: rec.did, accepted };
    });
    const r = await charter(['pool', 'create', '--alias', 'half2', '--threshold', '2', '--member', 'ana', '--member', 'ben', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(json<{ pool: string; threshold: number; members: string[] }>(r)).toMatchObject({ pool, threshold: 2 });
    await withHome(env, async (home) => {
      const held = await memberships(home, pool);
      expect(held).toHaveLength(2);
      expect((await currentEpoch(home.store, pool)).members.map((m) => m.accepted)).toEqual(accepted);
    });
  });

  it('an unfinished pool made with another key, a finished pool, or an identity that is no pool: ALREADY_EXISTS, nothing changed', async () => {
    await withHome(env, (home) => home.createIdentity({ alias: 'halfp', keyType: 'P-256', meta: { role: 'pool' } }));
    const other = await charter(['pool', 'create', '--alias', 'halfp', '--threshold', '1', '--member', 'ana'], env);
    refused(other, 2, 'ALREADY_EXISTS');
    expect(other.stderr).toMatch(/did not finish/);
    refused(
      await charter(['pool', 'create', '--alias', 'halfp', '--threshold', '1', '--member', 'ana', '--method', 'web', '--domain', 'example.com', '--key', 'p256'], env),
      2,
      'ALREADY_EXISTS',
    );
    refused(await charter(['pool', 'show', '--pool', 'halfp'], env), 2, 'NOT_FOUND');
    expect((await charter(['pool', 'create', '--alias', 'halfp', '--threshold', '1', '--member', 'ana', '--key', 'p256'], env)).code).toBe(0);

    refused(await charter(['pool', 'create', '--alias', 'ben', '--threshold', '1', '--member', 'ana'], env), 2, 'ALREADY_EXISTS');
    refused(await charter(['pool', 'show', '--pool', 'ben'], env), 2, 'NOT_FOUND');
    await withHome(env, (home) => home.createIdentity({ alias: 'halfagent', meta: { role: 'agent' } }));
    refused(await charter(['pool', 'create', '--alias', 'halfagent', '--threshold', '1', '--member', 'ana'], env), 2, 'ALREADY_EXISTS');
    refused(await charter(['pool', 'show', '--pool', 'halfagent'], env), 2, 'NOT_FOUND');
  });
});

describe('charter agent create: a refusal writes nothing, an interrupted creation is finished by a retry', () => {
  let env: NodeJS.ProcessEnv;
  let dids: Record<string, string>;
  beforeAll(async () => {
    ({ env, dids } = await setup());
  });

  it.concurrent.each([
    ['a --homepage that is no URL', ['--homepage', 'not a url']],
    ['a --model over 256 characters', ['--model', 'm'.repeat(257)]],
    ['a --model of 5000 characters', ['--model', 'a'.repeat(5000)]],
    ['a --name over 256 characters', ['--name', 'n'.repeat(257)]],
    ['an empty --name', ['--name', '']],
    ['a --software version over 64 characters', ['--software', `bot@${'1'.repeat(65)}`]],
    ['a --homepage over 2048 characters', ['--homepage', `https://bot.example/${'a'.repeat(2048)}`]],
  ])('%s: SCHEMA_INVALID (exit 2), no identity made, and the alias works afterwards', async (_what, args) => {
    const alias = `b${Math.random().toString(36).slice(2, 10)}`;
    refused(await charter(['agent', 'create', '--alias', alias, '--as', 'op', ...args], env), 2, 'SCHEMA_INVALID');
    expect(await aliases(env)).not.toContain(alias);
    const ok = await charter(['agent', 'create', '--alias', alias, '--as', 'op', '--homepage', 'https://bot.example', '--json'], env);
    expect(ok.code, ok.stderr).toBe(0);
    expect(json<{ operator: string; identity: { id: string } }>(ok)).toMatchObject({ operator: dids.op, identity: { id: expect.stringMatching(/^urn:uuid:/) } });
  });

  it('an agent identity left without its identity credential (killed between the two) is finished by the retry', async () => {
    const did = await withHome(env, async (home) => (await home.createIdentity({ alias: 'halfbot', meta: { role: 'agent', operator: dids.op } })).did);
    const r = await charter(['agent', 'create', '--alias', 'halfbot', '--as', 'op', '--name', 'Half', '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    expect(json<{ did: string; operator: string }>(r)).toMatchObject({ did, operator: dids.op });
    await withHome(env, async (home) => {
      const ids = await home.store.listCredentials({ type: 'AgentIdentityCredential', subject: did });
      expect(ids).toHaveLength(1);
      expect(ids[0]!.issuer).toBe(dids.op);
    });
    // Finished: another run is ALREADY_EXISTS and issues no second credential.
    refused(await charter(['agent', 'create', '--alias', 'halfbot', '--as', 'op'], env), 2, 'ALREADY_EXISTS');
    await withHome(env, async (home) => expect(await home.store.listCredentials({ type: 'AgentIdentityCredential', subject: did })).toHaveLength(1));
  });

  it('an unfinished agent of another operator, a finished agent, a pool or a person: ALREADY_EXISTS, no credential issued', async () => {
    const did = await withHome(env, async (home) => (await home.createIdentity({ alias: 'halfbot2', meta: { role: 'agent', operator: dids.op } })).did);
    const other = await charter(['agent', 'create', '--alias', 'halfbot2', '--as', 'op2'], env);
    refused(other, 2, 'ALREADY_EXISTS');
    expect(other.stderr).toMatch(/did not finish/);
    await withHome(env, async (home) => expect(await home.store.listCredentials({ type: 'AgentIdentityCredential', subject: did })).toHaveLength(0));
    // Its own operator finishes it.
    expect((await charter(['agent', 'create', '--alias', 'halfbot2', '--as', 'op'], env)).code).toBe(0);

    refused(await charter(['agent', 'create', '--alias', 'ana', '--as', 'op'], env), 2, 'ALREADY_EXISTS');
    await withHome(env, async (home) => expect(await home.store.listCredentials({ type: 'AgentIdentityCredential', subject: (await home.identity('ana')).did })).toHaveLength(0));
    await withHome(env, (home) => home.createIdentity({ alias: 'halfpool', meta: { role: 'pool' } }));
    refused(await charter(['agent', 'create', '--alias', 'halfpool', '--as', 'op'], env), 2, 'ALREADY_EXISTS');
  });
});
