import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { charter, freshEnv, json } from './harness.js';
import { tempDir } from '../helpers.js';

const mode = (p: string) => (statSync(p).mode & 0o7777).toString(8);

describe('output folders under umask 000 (the built CLI inherits the umask)', () => {
  let env: NodeJS.ProcessEnv;
  let saved: number;
  beforeAll(async () => {
    env = freshEnv({ CHARTER_ALLOW_LOOPBACK: '1' });
    expect((await charter(['init', '--public-url', 'http://127.0.0.1:8191'], env)).code).toBe(0);
    for (const a of ['ana', 'plat']) expect((await charter(['id', 'create', '--alias', a], env)).code).toBe(0);
    const g = await charter(['grant', 'issue', '--as', 'ana', '--to', 'plat', '--resource', 'x', '--action', 'read', '--expires', '1d'], env);
    expect(g.code, g.stderr).toBe(0);
    saved = process.umask(0o000);
  });
  afterAll(() => {
    process.umask(saved);
  });

  it('status publish --out: every folder it creates is 0755 (no one else can swap a published list), the lists 0644', async () => {
    const root = tempDir();
    const out = join(root, 'pub', 'a', 'b');
    const r = await charter(['status', 'publish', '--out', out, '--json'], env);
    expect(r.code, r.stderr).toBe(0);
    const files = json<{ files: string[] }>(r).files;
    expect(files.length).toBeGreaterThan(0);
    for (const d of ['pub', 'pub/a', 'pub/a/b', 'pub/a/b/status', 'pub/a/b/statuslists']) expect(mode(join(root, d)), d).toBe('755');
    for (const f of files) expect(mode(f), f).toBe('644');
  });

  it('audit export --out: the folders it creates are 0700, the export 0600', async () => {
    const root = tempDir();
    const file = join(root, 'ev', 'x', 'audit.jsonl');
    const r = await charter(['audit', 'export', '--out', file], env);
    expect(r.code, r.stderr).toBe(0);
    expect(mode(join(root, 'ev'))).toBe('700');
    expect(mode(join(root, 'ev', 'x'))).toBe('700');
    expect(mode(file)).toBe('600');
  });
});

describe('a home whose sealed values are stronger than this Charter can derive', () => {
  const edit = (value: string, change: Record<string, unknown>) =>
    Buffer.from(JSON.stringify({ ...(JSON.parse(Buffer.from(value, 'base64url').toString()) as object), ...change })).toString('base64url');

  async function home(change: (db: Database.Database) => void): Promise<NodeJS.ProcessEnv> {
    const env = freshEnv();
    expect((await charter(['init'], env)).code).toBe(0);
    expect((await charter(['id', 'create', '--alias', 'ana'], env)).code).toBe(0);
    const db = new Database(join(env.CHARTER_HOME!, 'charter.db'));
    db.pragma('wal_checkpoint(TRUNCATE)');
    change(db);
    db.close();
    return env;
  }
  const exportKey = (env: NodeJS.ProcessEnv, extra: Record<string, string> = {}) =>
    charter(['id', 'export', 'ana', '--private', '--confirm', 'ana', '--json'], { ...env, ...extra });

  it.each([
    ['N=2^17', { N: 2 ** 17 }],
    ['N=2^20', { N: 2 ** 20 }],
    ['r=16', { r: 16 }],
  ])('a key sealed with %s: exit 3 STORE_ERROR naming the identity, not INTERNAL', async (_what, change) => {
    const env = await home((db) => {
      const row = db.prepare("SELECT did, sealed FROM identities WHERE alias = 'ana'").get() as { did: string; sealed: string };
      db.prepare("UPDATE identities SET sealed = ? WHERE alias = 'ana'").run(edit(row.sealed, change));
    });
    const r = await exportKey(env);
    expect(r.code).toBe(3);
    expect(json<{ error: { code: string; message: string } }>(r).error).toMatchObject({
      code: 'STORE_ERROR',
      message: expect.stringMatching(/sealed key of did:key:.*cannot open/),
    });
    expect(r.stderr).not.toMatch(/RangeError|INTERNAL/);
  });

  it('a passphrase check sealed with N=2^16: STORE_ERROR for the right and a wrong passphrase alike', async () => {
    const env = await home((db) => {
      const row = db.prepare("SELECT value FROM config WHERE key = 'passphrase-check'").get() as { value: string };
      db.prepare("UPDATE config SET value = ? WHERE key = 'passphrase-check'").run(edit(row.value, { N: 2 ** 16 }));
    });
    for (const extra of [{}, { CHARTER_PASSPHRASE: 'a wrong passphrase' }] as Record<string, string>[]) {
      const r = await exportKey(env, extra);
      expect(r.code).toBe(3);
      expect(json<{ error: { code: string; message: string } }>(r).error).toMatchObject({
        code: 'STORE_ERROR',
        message: expect.stringMatching(/passphrase check was sealed with parameters/),
      });
    }
  });
});
