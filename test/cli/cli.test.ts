import type { ChildProcess } from 'node:child_process';
import { statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { charter, freePort, freshEnv, json, startServe } from './harness.js';
import { issueCredential } from '../../src/credentials/index.js';
import { makeIssuer } from '../helpers.js';

describe('charter CLI (built binary, as a user runs it)', () => {
  const env = freshEnv();
  let alice = '';
  let bob = '';

  // Three CLI processes, each with a scrypt unlock and fsynced SQLite commits: about 1.5 s alone, but
  // once (1 run in ~13) over 30 s while the PostgreSQL restart tests loaded the disk in parallel.
  beforeAll(async () => {
    expect((await charter(['init'], env)).code).toBe(0);
    alice = json<{ did: string }>(await charter(['id', 'create', '--alias', 'alice', '--json'], env)).did;
    bob = json<{ did: string }>(await charter(['id', 'create', '--alias', 'bob', '--key', 'p256', '--json'], env)).did;
  }, 180_000);

  it('init is idempotent and the keystore files are private', async () => {
    const r = await charter(['init', '--json'], env);
    expect(r.code).toBe(0);
    expect(json(r)).toMatchObject({ created: false });
    expect(statSync(join(env.CHARTER_HOME!, 'charter.db')).mode & 0o777).toBe(0o600);
    expect(statSync(env.CHARTER_HOME!).mode & 0o777).toBe(0o700);
  });

  it('a wrong passphrase is refused with its code and changes nothing', async () => {
    const r = await charter(['id', 'create', '--alias', 'mallory'], { ...env, CHARTER_PASSPHRASE: 'not the passphrase' });
    expect(r.code).toBe(2); // EXIT_CODE.WRONG_PASSPHRASE: the caller asked wrongly
    expect(r.stderr).toMatch(/WRONG_PASSPHRASE/);
    expect(json<unknown[]>(await charter(['id', 'list', '--json'], env)).length).toBe(2);
  });

  it('without a passphrase and a terminal it names CHARTER_PASSPHRASE', async () => {
    const { CHARTER_PASSPHRASE: _p, ...noPass } = env;
    const r = await charter(['id', 'create', '--alias', 'x'], noPass);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/CHARTER_PASSPHRASE.*\[PASSPHRASE_REQUIRED\]/);
    expect(r.stderr.split('\n').filter(Boolean).length).toBe(1);
  });

  it('id list / show / export; a private export needs confirmation', async () => {
    const list = await charter(['id', 'list'], env);
    expect(list.stdout).toMatch(/^ALIAS\s+METHOD\s+KEY\s+DID/m);
    expect(list.stdout).toContain(alice);
    expect(json<{ did: string; document: { id: string } }>(await charter(['id', 'show', 'bob', '--json'], env)).document.id).toBe(bob);
    const pub = json<{ id: string }>(await charter(['id', 'export', 'alice', '--json'], env));
    expect(pub.id).toBe(alice);
    expect(JSON.stringify(pub)).not.toMatch(/"d"/);
    const refused = await charter(['id', 'export', 'alice', '--private'], env);
    expect(refused.code).toBe(2);
    const priv = json<{ privateJwk: { d: string } }>(await charter(['id', 'export', 'alice', '--private', '--confirm', 'alice', '--json'], env));
    expect(priv.privateJwk.d).toMatch(/^[A-Za-z0-9_-]{43}$/);
  });

  it('vc issue (claims on stdin) and vc verify: exit 0 valid, 1 refused with reasons', async () => {
    const issued = json<{ id: string; jwt: string }>(
      await charter(
        ['vc', 'issue', '--as', 'alice', '--subject', bob, '--type', 'EmailCredential', '--claims', '-', '--valid-until', '30d', '--json'],
        env,
        '{"email":"bob@example.com"}',
      ),
    );
    const ok = await charter(['vc', 'verify', issued.jwt, '--json'], env);
    expect(ok.code).toBe(0);
    expect(json(ok)).toMatchObject({ ok: true, issuer: alice, subject: bob });
    const file = join(env.HOME!, 'cred.jwt');
    writeFileSync(file, issued.jwt + '\n');
    expect((await charter(['vc', 'verify', file], env)).stdout).toMatch(/✓ valid credential/);
    expect((await charter(['vc', 'verify', '-'], env, issued.jwt)).code).toBe(0);
    const [h, p, s] = issued.jwt.split('.') as [string, string, string];
    const forged = JSON.parse(Buffer.from(p, 'base64url').toString());
    forged.credentialSubject.email = 'mallory@example.com';
    const bad = await charter(['vc', 'verify', `${h}.${Buffer.from(JSON.stringify(forged)).toString('base64url')}.${s}`, '--json'], env);
    expect(bad.code).toBe(1);
    expect(json<{ reasons: { code: string }[] }>(bad).reasons.map((r) => r.code)).toEqual(['INVALID_SIGNATURE']);
    const legacy = json<{ jwt: string }>(
      await charter(['vc', 'issue', '--as', 'alice', '--subject', bob, '--type', 'EmailCredential', '--claims', '{"email":"b@x"}', '--format', 'vc-jwt-1.1', '--json'], env),
    );
    expect((await charter(['vc', 'verify', legacy.jwt], env)).code).toBe(0);
  });

  it('vc verify --aud: a credential naming an audience is accepted only by it (RFC 7519 §4.1.3)', async () => {
    const issuer = makeIssuer('Ed25519');
    const { jwt } = await issueCredential({
      issuer,
      subject: bob,
      type: 'EmailCredential',
      claims: { email: 'b@x' },
      extra: { aud: ['did:web:shop.example', 'did:web:bank.example'] },
    });
    const codes = async (args: string[]) => {
      const r = await charter(['vc', 'verify', jwt, ...args, '--json'], env);
      return [r.code, json<{ reasons: { code: string }[] }>(r).reasons.map((x) => x.code)];
    };
    expect(await codes(['--aud', 'did:web:bank.example'])).toEqual([0, []]);
    expect(await codes([])).toEqual([1, ['AUDIENCE_MISMATCH']]);
    expect(await codes(['--aud', 'did:web:shop.example.evil'])).toEqual([1, ['AUDIENCE_MISMATCH']]);
  });

  it('vp create / verify binds audience and nonce', async () => {
    const vc = json<{ jwt: string }>(await charter(['vc', 'issue', '--as', 'alice', '--subject', bob, '--type', 'EmailCredential', '--claims', '{"email":"b@x"}', '--json'], env));
    const vp = json<{ jwt: string }>(await charter(['vp', 'create', '--as', 'bob', '--aud', 'did:web:shop.example', '--nonce', 'n-42', vc.jwt, '--json'], env));
    expect((await charter(['vp', 'verify', vp.jwt, '--aud', 'did:web:shop.example', '--nonce', 'n-42'], env)).code).toBe(0);
    const wrong = await charter(['vp', 'verify', vp.jwt, '--aud', 'did:web:shop.example', '--nonce', 'n-43', '--json'], env);
    expect(wrong.code).toBe(1);
    expect(json<{ reasons: { code: string }[] }>(wrong).reasons.map((r) => r.code)).toEqual(['NONCE_MISMATCH']);
  });

  it('usage errors exit 2; bad input is one line on stderr, never a stack trace', async () => {
    const missing = await charter(['vc', 'issue', '--as', 'alice'], env);
    expect(missing.code).toBe(2);
    const junk = await charter(['vc', 'verify', 'not-a-jwt'], env);
    expect(junk.code).toBe(2);
    expect(junk.stderr).not.toMatch(/\n\s+at /);
    const unknownKey = await charter(['id', 'create', '--alias', 'k', '--key', 'rsa'], env);
    expect(unknownKey.code).toBe(2);
    expect((await charter(['did', 'resolve', 'did:example:1'], env)).code).toBe(2); // UNSUPPORTED_DID_METHOD
  });

  it('a noun without its verb is a usage error; --help and --version exit 0', async () => {
    expect((await charter(['grant'], env)).code).toBe(2);
    expect((await charter(['nosuch'], env)).code).toBe(2);
    expect((await charter(['--version'], env)).code).toBe(0);
  });

  it('--help shows examples', async () => {
    const r = await charter(['vc', 'issue', '--help'], env);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Examples:/);
  });

  it('did resolve and did web init', async () => {
    expect(json<{ id: string }>(await charter(['did', 'resolve', alice, '--json'], env)).id).toBe(alice);
    const out = join(env.HOME!, 'www');
    const web = json<{ did: string; file: string }>(await charter(['did', 'web', 'init', '--domain', 'example.com:users:alice', '--alias', 'webby', '--out', out, '--json'], env));
    expect(web.did).toBe('did:web:example.com:users:alice');
    expect(web.file).toBe(join(out, 'users', 'alice', 'did.json'));
  });
});

describe('grants walk: the person revokes from the CLI, the platform is refused against charter serve', () => {
  let server: ChildProcess | undefined;
  afterAll(() => {
    server?.kill('SIGTERM');
  });

  it('issue -> verify (allowed) -> revoke -> verify (refused: revoked)', async () => {
    const port = await freePort();
    // No CHARTER_ALLOW_LOOPBACK: the home's own loopback public URL is allowed for its own lists.
    const env = freshEnv();
    expect((await charter(['init', '--public-url', `http://127.0.0.1:${port}`], env)).code).toBe(0);
    await charter(['id', 'create', '--alias', 'alice'], env);
    const shop = json<{ did: string }>(await charter(['id', 'create', '--alias', 'shop', '--json'], env)).did;
    server = await startServe(env, port);
    const g = json<{ id: string; jwt: string; statusIndex: number }>(
      await charter(
        ['grant', 'issue', '--as', 'alice', '--to', shop, '--resource', 'profile/email', '--action', 'read', '--purpose', 'receipts', '--expires', '30d', '--json'],
        env,
      ),
    );
    expect(g.statusIndex).toBeGreaterThanOrEqual(0);
    const verify = () => charter(['grant', 'verify', g.jwt, '--resource', 'profile/email', '--action', 'read', '--grantee', shop, '--json'], env);
    expect((await verify()).code).toBe(0);
    expect((await charter(['grant', 'verify', g.jwt, '--resource', 'profile/phone', '--action', 'read'], env)).code).toBe(1);
    // A presentation of the grant needs --aud and --nonce: a usage error (exit 2), never an internal fault (exit 3).
    const vp = json<{ jwt: string }>(await charter(['vp', 'create', '--as', 'shop', '--aud', 'did:web:api.example', '--nonce', 'n-7', g.jwt, '--json'], env)).jwt;
    for (const flags of [[], ['--aud', 'did:web:api.example'], ['--nonce', 'n-7']]) {
      const r = await charter(['grant', 'verify', vp, '--resource', 'profile/email', '--action', 'read', ...flags, '--json'], env);
      expect([flags.join(' '), r.code, json<{ error: { code: string } }>(r).error.code]).toEqual([flags.join(' '), 2, 'INVALID_ARGUMENT']);
    }
    const presented = await charter(['grant', 'verify', vp, '--resource', 'profile/email', '--action', 'read', '--aud', 'did:web:api.example', '--nonce', 'n-7'], env);
    expect(presented.code).toBe(0);
    const list = await charter(['grant', 'list'], env);
    expect(list.stdout).toMatch(/ID\s+GRANTEE\s+RESOURCES\s+ACTIONS\s+EXPIRES\s+STATE/);
    expect(list.stdout).toMatch(/active/);
    // Security issue §8: a wrong passphrase exits 2 and revokes nothing (the bit and the signed list are untouched).
    const lists = async () => json<{ id: string; version: number; signedVersion: number | null }[]>(await charter(['status', 'list', '--json'], env));
    const before = await lists();
    const wrong = await charter(['grant', 'revoke', g.id, '--json'], { ...env, CHARTER_PASSPHRASE: 'not the passphrase' });
    expect([wrong.code, json<{ error: { code: string } }>(wrong).error.code]).toEqual([2, 'WRONG_PASSPHRASE']);
    expect(await lists()).toEqual(before);
    expect((await verify()).code).toBe(0);
    const revoked = await charter(['grant', 'revoke', g.id], env);
    expect(revoked.code).toBe(0);
    expect(revoked.stdout).toMatch(/^revoked urn:uuid:.*\nverifiers that check status see this within 120 s /);
    const refused = await verify();
    expect(refused.code).toBe(1);
    expect(json<{ reasons: { code: string }[] }>(refused).reasons.map((r) => r.code)).toEqual(['CREDENTIAL_REVOKED']);
    expect((await charter(['grant', 'list', '--json'], env)).stdout).toMatch(/"state": "revoked"/);
    const pub = join(env.HOME!, 'public');
    const published = json<{ files: string[] }>(await charter(['status', 'publish', '--out', pub, '--json'], env));
    // Both lists as Bitstring credentials (status/), the revocation list again as a Status List Token (statuslists/).
    expect(published.files.map((f) => f.slice(pub.length + 1).split('/')[0]).sort()).toEqual(['status', 'status', 'statuslists']);
  });
});

describe('charter demo', () => {
  it('runs every walk on a throwaway home and exits 0', async () => {
    const r = await charter(['demo'], freshEnv());
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/Demo complete/);
    // Expected refusals read as refusals (✗ … as expected); nothing behaved otherwise.
    expect(r.stdout).not.toMatch(/NOT as expected/);
    expect(r.stdout).toMatch(/✗ .*refused.*as expected/);
  }, 120_000);
});

describe('charter id import', () => {
  it('imports a private JWK or multibase key as an identity; the same key twice is refused', async () => {
    const { generateKeyPair, privateJwkToMultibase } = await import('../../src/keys/index.js');
    const { didKeyFromJwk } = await import('../../src/did/index.js');
    const env = freshEnv();
    await charter(['init'], env);
    const p256 = generateKeyPair('P-256');
    const r = await charter(['id', 'import', '--alias', 'imported', '--jwk', '-', '--json'], env, JSON.stringify(p256.privateJwk));
    expect(r.code).toBe(0);
    expect(json<{ did: string }>(r).did).toBe(didKeyFromJwk(p256.publicJwk));
    const k1 = generateKeyPair('secp256k1');
    const mb = await charter(['id', 'import', '--alias', 'mb', '--multibase', '-', '--json'], env, privateJwkToMultibase(k1.privateJwk));
    expect(json<{ did: string }>(mb).did).toBe(didKeyFromJwk(k1.publicJwk));
    // A key on the command line is refused (argv is readable by every user, and kept in shell history), and not repeated.
    const k2 = generateKeyPair('Ed25519');
    for (const [flag, key] of [
      ['--multibase', privateJwkToMultibase(k2.privateJwk)],
      ['--jwk', JSON.stringify(k2.privateJwk)],
    ] as const) {
      const inline = await charter(['id', 'import', '--alias', 'inline', flag, key, '--json'], env);
      expect([inline.code, json<{ error: { code: string } }>(inline).error.code]).toEqual([2, 'INVALID_ARGUMENT']);
      expect(inline.stderr).toMatch(/not the key itself/);
      expect(inline.stdout + inline.stderr).not.toContain(k2.privateJwk.d);
      expect(inline.stdout + inline.stderr).not.toContain(key.slice(0, 20));
    }
    // From a file, it is imported.
    const file = join(env.CHARTER_HOME!, '..', 'k2.jwk');
    writeFileSync(file, JSON.stringify(k2.privateJwk), { mode: 0o600 });
    expect(json<{ did: string }>(await charter(['id', 'import', '--alias', 'fromfile', '--jwk', file, '--json'], env)).did).toBe(didKeyFromJwk(k2.publicJwk));
    const again = await charter(['id', 'import', '--alias', 'twice', '--jwk', '-'], env, JSON.stringify(p256.privateJwk));
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/already in this home as "imported" \[ALREADY_EXISTS\]/);
    const rsa = await charter(['id', 'import', '--alias', 'bad', '--jwk', '-'], env, '{"kty":"RSA"}');
    expect([rsa.code, rsa.stderr]).toEqual([2, expect.stringMatching(/\[(INVALID_KEY|UNSUPPORTED_KEY_TYPE)\]\n$/)]);
  });
});
