import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../../src/cli/main.js';
import type { CliContext } from '../../src/cli/io.js';
import { openHome, type Home } from '../../src/home/home.js';
import { currentTokenStatusListJwt, STATUS_LIST_MEDIA_TYPE } from '../../src/sdjwt/index.js';
import { serve, tempDir } from '../helpers.js';

const PASS = 'sd-jwt cli passphrase';
const VCT = 'https://example.com/vct/Email';
const SHOP = 'did:web:shop.example';

/** `charter sd-jwt`, in process, on a fresh home whose status lists a 127.0.0.1 server publishes. */
describe('charter sd-jwt issue | present | verify | revoke', () => {
  const dir = join(tempDir('charter-sdjwt-cli-'), 'home');
  let server: Awaited<ReturnType<typeof serve>>;
  let lists: Home | undefined;
  let bob = '';

  async function run(args: string[], stdin = ''): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    let code = 0;
    const ctx: CliContext = {
      stdout: (s) => (out += s + '\n'),
      stderr: (s) => (err += s + '\n'),
      env: {},
      stdin: Readable.from(stdin ? [Buffer.from(stdin)] : []),
      setExitCode: (c) => (code = c),
      openHome: () => openHome({ home: dir, passphrase: async () => PASS, allowLoopback: true, env: {} }),
    };
    await runCli(args, ctx);
    return { code, out: out.trim(), err: err.trim() };
  }
  const json = <T>(r: { out: string }) => JSON.parse(r.out) as T;

  beforeAll(async () => {
    // The home's Status List Tokens, served from its own store (what `charter serve` would do).
    server = await serve(async (req, res) => {
      lists ??= await openHome({ home: dir, passphrase: async () => PASS, env: {} });
      const home = lists;
      try {
        const jwt = await currentTokenStatusListJwt(home.store, (req.url ?? '').split('/').pop()!, (did) => home.issuer(did));
        res.writeHead(200, { 'content-type': STATUS_LIST_MEDIA_TYPE }).end(jwt);
      } catch {
        res.writeHead(404).end();
      }
    });
    expect((await run(['init', '--public-url', server.url])).code).toBe(0);
    expect((await run(['id', 'create', '--alias', 'alice'])).code).toBe(0);
    bob = json<{ did: string }>(await run(['id', 'create', '--alias', 'bob', '--key', 'p256', '--json'])).did;
  }, 180_000);
  afterAll(async () => {
    await server.close();
    await lists?.close();
  });

  it('the full walk: issue with disclosable claims, present a subset, verify it, revoke, verify again', async () => {
    const issued = await run([
      'sd-jwt',
      'issue',
      '--as',
      'alice',
      '--subject',
      bob,
      '--type',
      VCT,
      '--claims',
      '{"email":"bob@example.com","name":"Bob","age":42}',
      '--disclosable',
      'email,name',
      '--disclosable',
      'age',
      '--expires',
      '30d',
      '--json',
    ]);
    expect(issued.err).toBe('');
    expect(issued.code).toBe(0);
    const { id, token } = json<{ id: string; token: string }>(issued);
    expect(Object.keys(json<object>(issued)).sort()).toEqual(['id', 'token']);
    expect(id).toMatch(/^urn:uuid:/);
    const file = join(dir, '..', 'email.sdjwt');
    writeFileSync(file, token);

    const presented = await run(['sd-jwt', 'present', file, '--as', 'bob', '--disclose', 'email', '--aud', SHOP, '--nonce', 'n-1']);
    expect(presented.code).toBe(0);
    expect(presented.out.split('\n')).toHaveLength(1);
    expect(presented.out.split('~')).toHaveLength(3); // issuer JWT, one disclosure, KB-JWT
    const presentation = presented.out;

    const ok = await run(['sd-jwt', 'verify', presentation, '--aud', SHOP, '--nonce', 'n-1', '--json']);
    expect(ok.code).toBe(0);
    const v = json<{ ok: boolean; claims: Record<string, unknown>; disclosed: string[]; issuer: string; subject: string; vct: string; status: unknown }>(ok);
    expect(v).toMatchObject({ ok: true, subject: bob, vct: VCT, disclosed: ['email'], claims: { email: 'bob@example.com' } });
    expect(v.claims).not.toHaveProperty('name');
    expect(v.status).toBeDefined();
    expect(ok.out).not.toContain(presentation);
    const human = await run(['sd-jwt', 'verify', '-', '--aud', SHOP, '--nonce', 'n-1'], presentation);
    expect(human.code).toBe(0);
    expect(human.out).toMatch(/✓ valid SD-JWT VC[\s\S]*disclosed: email[\s\S]*"email":"bob@example.com"/);

    expect((await run(['sd-jwt', 'revoke', id])).code).toBe(0);
    const revoked = await run(['sd-jwt', 'verify', presentation, '--aud', SHOP, '--nonce', 'n-1', '--json']);
    expect(revoked.code).toBe(1);
    expect(json<{ reasons: { code: string }[] }>(revoked).reasons.map((r) => r.code)).toEqual(['CREDENTIAL_REVOKED']);
  });

  it('verify refuses with exit 1 and every reason: wrong nonce and audience, no key binding unless allowed', async () => {
    const { token } = json<{ token: string }>(
      await run(['sd-jwt', 'issue', '--as', 'alice', '--subject', bob, '--type', VCT, '--claims', '{"email":"b@x.y"}', '--disclosable', 'email', '--json']),
    );
    const p = (await run(['sd-jwt', 'present', token, '--as', 'bob', '--disclose', 'email', '--aud', SHOP, '--nonce', 'n-2', '--json'])).out;
    const presentation = json<{ presentation: string }>({ out: p }).presentation;
    const bad = await run(['sd-jwt', 'verify', presentation, '--aud', 'did:web:other.example', '--nonce', 'n-3']);
    expect(bad.code).toBe(1);
    expect(bad.out).toMatch(/✗ SD-JWT VC refused[\s\S]*AUDIENCE_MISMATCH[\s\S]*NONCE_MISMATCH/);
    const unbound = await run(['sd-jwt', 'verify', token, '--json']);
    expect(unbound.code).toBe(1);
    expect(json<{ reasons: { code: string }[] }>(unbound).reasons.map((r) => r.code)).toEqual(['KEY_BINDING_INVALID']);
    expect((await run(['sd-jwt', 'verify', token, '--allow-missing-key-binding'])).code).toBe(0);
    expect((await run(['sd-jwt', 'verify', token, '--allow-missing-key-binding', '--vct', 'https://example.com/vct/Other'])).code).toBe(1);
    // A --nonce is answered only by a KB-JWT: the issued token, with none, is refused (exit 1) even so, never taken as fresh.
    const fresh = await run(['sd-jwt', 'verify', token, '--allow-missing-key-binding', '--aud', 'did:web:shop.example', '--nonce', 'n-1', '--json']);
    expect([fresh.code, json<{ reasons: { code: string }[] }>(fresh).reasons.map((r) => r.code)]).toEqual([1, ['KEY_BINDING_INVALID']]);
    // An --aud alone is who this verifier is (checked against a credential's own aud, here none): no KB-JWT is asked for.
    expect((await run(['sd-jwt', 'verify', token, '--allow-missing-key-binding', '--aud', 'did:web:shop.example'])).code).toBe(0);
  });

  it('a credential issued with --no-status verifies, is not revocable, and --require-status refuses it', async () => {
    const { id, token } = json<{ id: string; token: string }>(
      await run(['sd-jwt', 'issue', '--as', 'alice', '--subject', bob, '--type', VCT, '--claims', '{"a":1}', '--no-status', '--json']),
    );
    expect((await run(['sd-jwt', 'verify', token, '--allow-missing-key-binding'])).code).toBe(0);
    expect((await run(['sd-jwt', 'verify', token, '--allow-missing-key-binding', '--require-status'])).code).toBe(1);
    const r = await run(['sd-jwt', 'revoke', id]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(/\[NOT_FOUND\]$/);
  });

  it('usage errors exit 2 with one line on stderr; --help shows examples', async () => {
    const typo = await run(['sd-jwt', 'issue', '--as', 'alice', '--subject', bob, '--type', VCT, '--claims', '{"email":"x"}', '--disclosable', 'emial']);
    expect(typo.code).toBe(2);
    expect(typo.err).toMatch(/^charter: .*emial.* \[INVALID_ARGUMENT\]$/);
    expect((await run(['sd-jwt', 'issue', '--as', 'alice', '--subject', bob, '--type', VCT, '--claims', '[1]'])).code).toBe(2);
    expect((await run(['sd-jwt', 'verify', 'not-an-sd-jwt'])).code).toBe(2);
    expect((await run(['sd-jwt', 'present', 'x~', '--as', 'bob'])).code).toBe(2);
    const help = await run(['sd-jwt', 'present', '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toMatch(/Examples:\n\s+\$ charter sd-jwt present/);
  });
});
