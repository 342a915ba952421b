import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openHome, type Home } from '../../src/home/home.js';
import { serveHome, type RunningServer } from '../../src/server/serve.js';
import { issueGrant } from '../../src/grants/index.js';
import { issueSdJwtGrant } from '../../src/sdjwt/grant.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { decide } from '../../src/guard/decide.js';
import { createPresentation } from '../../src/credentials/index.js';
import { charter, freshEnv, json } from './harness.js';

/**
 * The built CLI over a home whose store holds a verifier's audit log (the
 * platform's verifier writes to the home's store, as `charter serve`'s
 * fleet would), then the same bundle verified with the server gone and
 * the store deleted.
 */
const env = freshEnv({ CHARTER_ALLOW_LOOPBACK: '1' });
let home: Home;
let server: RunningServer;
let grantJwt: string;
let allowId: string;
const AUD = 'did:web:api.example';

beforeAll(async () => {
  home = await openHome({ home: env.CHARTER_HOME!, env, passphrase: async () => env.CHARTER_PASSPHRASE!, allowLoopback: true });
  await home.init();
  server = await serveHome(home, { port: 0 });
  await home.setPublicUrl(server.url);
  for (const alias of ['alice', 'app', 'api']) await home.createIdentity({ alias });
  const app = await home.issuer('app');
  const alice = await home.issuer('alice');
  grantJwt = (
    await issueGrant(home.store, alice, {
      grantee: app.did,
      resources: ['profile/email'],
      actions: ['read'],
      purpose: 'cli test',
      validUntil: new Date(Date.now() + 86_400_000),
      baseUrl: server.url,
    })
  ).jwt;
  const v = createVerifier({ aud: AUD, store: home.store, resolver: home.resolver, status: home.status, http: false, receipts: { signer: await home.issuer('api') } });
  const url = 'https://api.example/profile/email';
  const vp = () => createPresentation({ holder: app, credentials: [grantJwt], aud: AUD, claims: { htm: 'GET', htu: url } });
  for (const resource of ['profile/email', 'profile/phone', 'profile/email']) {
    const d = await decide(v, await vp(), { kind: 'grant', resource, action: 'read', owner: alice.did }, { kind: 'http', method: 'GET', url });
    allowId ??= d.receiptId!;
  }
  await v.receipts!.flush();
}, 120_000);
afterAll(async () => {
  await server?.close();
  await home?.close();
});

describe('charter audit and charter evidence', () => {
  it('audit list filters by decision and holder; verify walks the chain; export writes JSON Lines; checkpoint signs the head', async () => {
    const all = json<{ outcome: string; subject: string; reasons: string[] }[]>(await charter(['audit', 'list', '--json'], env));
    expect(all.map((r) => r.outcome)).toEqual(['allow', 'deny', 'allow']);
    expect(json<unknown[]>(await charter(['audit', 'list', '--decision', 'deny', '--since', '1h', '--json'], env))).toHaveLength(1);
    expect(json<unknown[]>(await charter(['audit', 'list', '--agent', 'did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK', '--json'], env))).toHaveLength(0);
    expect((await charter(['audit', 'list', '--decision', 'maybe'], env)).code).toBe(2);
    const table = await charter(['audit', 'list'], env);
    expect(table.stdout).toMatch(/TIME\s+DECISION\s+HOLDER\s+REASONS\s+REQUEST\s+RECEIPT/);
    expect(table.stdout).toContain('GRANT_SCOPE');

    const ok = await charter(['audit', 'verify'], env);
    expect([ok.code, ok.stdout]).toEqual([0, expect.stringMatching(/✓ chain urn:uuid:.*: 3 entries/)]);

    const out = join(env.HOME!, 'log.jsonl');
    const ex = await charter(['audit', 'export', '--from', '1d', '--to', new Date(Date.now() + 60_000).toISOString(), '--out', out], env);
    expect(ex.stdout).toBe('wrote 3 entries to ' + out + '\n');
    const lines = readFileSync(out, 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { seq: number; receipt: string });
    expect(lines.map((l) => l.seq)).toEqual([1, 2, 3]);
    expect((await charter(['audit', 'export', '--from', '2000-01-01', '--to', '2000-01-02'], env)).stdout).toBe('');
    // Without --json: JSON Lines, one entry per line. With --json: one document, the entries in it; to a file, a summary.
    const jl = await charter(['audit', 'export'], env);
    expect(jl.code).toBe(0);
    expect(
      jl.stdout
        .trim()
        .split('\n')
        .map((l) => (JSON.parse(l) as { seq: number }).seq),
    ).toEqual([1, 2, 3]);
    const doc = json<{ entries: number; log: { seq: number; receipt: string }[] }>(await charter(['audit', 'export', '--json'], env));
    expect([doc.entries, doc.log.map((e) => e.seq)]).toEqual([3, [1, 2, 3]]);
    expect(json(await charter(['audit', 'export', '--json', '--out', join(env.HOME!, 'again.jsonl')], env))).toMatchObject({ entries: 3 });
    // A path that cannot be written: one line naming it, exit 2, no stack, no file; with --json, the error as JSON.
    const under = join(out, 'x.jsonl'); // under a file: no directory can be made there
    const bad = await charter(['audit', 'export', '--out', under], env);
    expect([bad.code, bad.stdout]).toEqual([2, '']);
    expect(bad.stderr).toMatch(/^charter: cannot \w+ .*log\.jsonl.* \[INVALID_ARGUMENT\]\n$/);
    expect(json(await charter(['audit', 'export', '--json', '--out', under], env))).toMatchObject({ ok: false, error: { code: 'INVALID_ARGUMENT' } });

    const cp = await charter(['audit', 'checkpoint', '--as', 'api', '--json'], env);
    expect(json<{ seq: number }[]>(cp)).toMatchObject([{ seq: 3 }]);
    writeFileSync(join(env.HOME!, 'cp.jwt'), json<{ checkpoint: string }[]>(cp)[0]!.checkpoint);
    expect((await charter(['audit', 'verify', '--checkpoint', join(env.HOME!, 'cp.jwt')], env)).code).toBe(0);
  });

  it('a platform reports its uses of the grant; the person sees them in charter grant list', async () => {
    const sent = await charter(['audit', 'report', '--grant', grantJwt, '--as', 'api', '--json'], env);
    expect(json(sent)).toMatchObject({ ok: true, sent: 3, accepted: 3, status: 202 });
    const grants = json<{ reported: { outcome: string; verifier: string }[] }[]>(await charter(['grant', 'list', '--json'], env));
    expect(grants[0]!.reported.map((u) => u.outcome).sort()).toEqual(['allow', 'allow', 'deny']);
    expect((await charter(['grant', 'list'], env)).stdout).toMatch(/REPORTED USES[\s\S]*3, last /);
  });

  it('an SD-JWT grant is taken too (named by its jti); what is neither grant format is refused, exit 2', async () => {
    const sd = await issueSdJwtGrant(home.store, await home.issuer('alice'), {
      grantee: (await home.identity('app')).did,
      resources: ['profile/email'],
      actions: ['read'],
      purpose: 'cli test',
      validUntil: new Date(Date.now() + 86_400_000),
      baseUrl: server.url,
      resolver: home.resolver,
    });
    const file = join(env.HOME!, 'sd-grant.txt');
    writeFileSync(file, sd.token);
    // No decision on it is in this log yet: nothing to send, and no error about its format.
    expect(json(await charter(['audit', 'report', '--grant', file, '--as', 'api', '--json'], env))).toMatchObject({ ok: true, grant: sd.id, sent: 0 });
    const junk = await charter(['audit', 'report', '--grant', 'not-a-grant', '--as', 'api'], env);
    expect([junk.code, junk.stderr]).toEqual([2, expect.stringMatching(/INVALID_ARGUMENT/)]);
  });

  it('evidence export, then verify with the server gone and the store deleted; one byte changed is named; a broken log exits 1 naming the entry', async () => {
    const bundle = join(env.HOME!, 'bundle.json');
    const ex = await charter(['evidence', 'export', allowId, '--out', bundle], env);
    expect([ex.code, ex.stdout]).toEqual([0, expect.stringMatching(/^wrote .*bundle.json: the receipt, the presentation, 1 credentials/)]);

    // Broken log: the deny rewritten as an allow behind the store's back.
    await home.close();
    const dbFile = join(env.CHARTER_HOME!, 'charter.db');
    const db = new Database(dbFile);
    db.prepare("UPDATE audit_entries SET outcome = 'allow' WHERE seq = 2").run();
    db.close();
    const broken = await charter(['audit', 'verify'], env);
    expect(broken.code).toBe(1);
    expect(broken.stdout).toMatch(/✗ chain .* broken at entry 2 .*stored outcome differs.*\[AUDIT_CHAIN_BROKEN\]/);
    expect(json<{ ok: boolean; broken: { seq: number } }>(await charter(['audit', 'verify', '--json'], env)).broken.seq).toBe(2);

    await server.close();
    rmSync(env.CHARTER_HOME!, { recursive: true, force: true });
    expect(existsSync(dbFile)).toBe(false);
    const v = await charter(['evidence', 'verify', bundle], env);
    expect([v.code, v.stderr]).toEqual([0, '']);
    expect(v.stdout).toMatch(/^✓ allowed at .* re-checked as of .* with no network/);
    expect(v.stdout).toContain('✓ decision');
    // `-`: the same bundle from standard input (piped from `evidence export --out -` or a download) verifies
    // the same; a flipped byte piped in is caught the same; `-` cannot be both the bundle and a key.
    const piped = await charter(['evidence', 'verify', '-', '--json'], env, readFileSync(bundle, 'utf8'));
    expect([piped.code, piped.stderr]).toEqual([0, '']);
    expect(json<{ ok: boolean; receipt: { decision: string } }>(piped)).toMatchObject({ ok: true, receipt: { decision: 'allow' } });
    const twice = await charter(['evidence', 'verify', '-', '--verifier-key', '-'], env, readFileSync(bundle, 'utf8'));
    expect([twice.code, twice.stderr]).toEqual([2, expect.stringMatching(/standard input.*once.*\[INVALID_ARGUMENT\]/)]);
    // --issuer: the verifier whose receipts you accept; a bundle another key signed fails its receipt part.
    const signer = json<{ receipt: { iss: string } }>(await charter(['evidence', 'verify', bundle, '--json'], env)).receipt.iss;
    const mine = await charter(['evidence', 'verify', bundle, '--issuer', signer], env);
    expect([mine.code, mine.stderr]).toEqual([0, '']);
    const other = await charter(['evidence', 'verify', bundle, '--issuer', 'did:web:someone-else.example', '--json'], env);
    expect(other.code).toBe(1);
    expect(
      json<{ parts: { part: string; reasons: { code: string }[] }[] }>(other)
        .parts.find((p) => p.part === 'receipt')
        ?.reasons.map((r) => r.code),
    ).toEqual(['UNTRUSTED_ISSUER']);
    expect((await charter(['evidence', 'verify', bundle, '--issuer', 'not-a-did'], env)).code).toBe(2);

    const b = JSON.parse(readFileSync(bundle, 'utf8')) as { presentation: string };
    const i = 40;
    b.presentation = b.presentation.slice(0, i) + (b.presentation[i] === 'A' ? 'B' : 'A') + b.presentation.slice(i + 1);
    const flipped = join(env.HOME!, 'flipped.json');
    writeFileSync(flipped, JSON.stringify(b));
    const bad = await charter(['evidence', 'verify', flipped, '--json'], env);
    expect(bad.code).toBe(1);
    const badPiped = await charter(['evidence', 'verify', '-', '--json'], env, readFileSync(flipped, 'utf8'));
    expect([badPiped.code, json<{ ok: boolean }>(badPiped).ok]).toEqual([1, false]);
    expect(json<{ parts: { part: string; ok: boolean; reasons: { code: string }[] }[] }>(bad).parts.find((p) => p.part === 'presentation')).toMatchObject({
      ok: false,
      reasons: [{ code: 'EVIDENCE_MISMATCH' }],
    });
    expect((await charter(['evidence', 'verify', join(env.HOME!, 'nothing.json')], env)).code).toBe(2);
    expect((await charter(['evidence', 'verify', bundle, '--at', 'yesterday'], env)).code).toBe(2);
    // A time without its zone is a different instant on every machine: refused, not read as local time.
    const local = await charter(['evidence', 'verify', bundle, '--at', '2030-01-31T12:00:00'], env);
    expect([local.code, local.stderr]).toEqual([2, expect.stringMatching(/--at .*time zone.*\[INVALID_ARGUMENT\]/)]);
    expect(json<{ at: string }>(await charter(['evidence', 'verify', bundle, '--at', '2030-01-31T13:00:00+01:00', '--json'], env)).at).toBe('2030-01-31T12:00:00.000Z');
  });
});
