import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers.js';
import { charter, freshEnv, inProcess } from './harness.js';

/**
 * README: role flags take a DID, or the alias of an identity of this home;
 * a malformed DID is INVALID_DID (exit 2). The pool and audit flags took any
 * string: a signed proposal or report naming "did:key:zNOTADID" exited 0, an
 * alias was refused with a misleading message, and `audit list --agent shop`
 * filtered on the literal text. Also: malformed --claims, an empty evidence
 * receipt and an empty mandate input are usage errors (exit 2), not faults;
 * `charter help` exits 0.
 */
const PASS = 'correct horse battery staple';
const dir = tempDir('charter-role-flags-');
const run = inProcess(dir, () => PASS, { CHARTER_ALLOW_LOOPBACK: '1' });
let dids: Record<string, string> = {};

beforeAll(async () => {
  expect((await run(['init', '--public-url', 'http://127.0.0.1:9'])).code).toBe(0);
  for (const alias of ['ana', 'ben', 'lab']) dids[alias] = (JSON.parse((await run(['id', 'create', '--alias', alias, '--json'])).out) as { did: string }).did;
  const p = await run(['pool', 'create', '--alias', 'pool', '--threshold', '2', '--member', 'ana', '--member', 'ben', '--json']);
  expect(p.code).toBe(0);
}, 60_000);
afterAll(() => {
  dids = {};
});

const BAD = 'did:key:zNOTADID';

describe('role flags: a DID or an alias of this home, never any string', () => {
  it('pool propose --grantee: a malformed DID exit 2 (INVALID_DID), an unknown alias NOT_FOUND, an alias resolves', async () => {
    const base = ['pool', 'propose', '--resource', 'sleep/*', '--purpose', 'model-training', '--json'];
    const bad = await run([...base, '--grantee', BAD]);
    expect([bad.code, bad.out]).toEqual([2, expect.stringContaining('INVALID_DID')]);
    const unknown = await run([...base, '--grantee', 'nobody']);
    expect(unknown.out).toContain('NOT_FOUND');
    const ok = await run([...base, '--grantee', 'lab']);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.out).proposal.grant.grantee).toBe(dids.lab);
  });

  it('pool invite --member: the same', async () => {
    const bad = await run(['pool', 'invite', '--member', BAD, '--json']);
    expect([bad.code, bad.out]).toEqual([2, expect.stringContaining('INVALID_DID')]);
    expect((await run(['pool', 'invite', '--member', '', '--json'])).code).not.toBe(0);
  });

  it('pool payouts --trust-reporter: a malformed DID is refused, not trusted', async () => {
    const r = await run(['pool', 'payouts', '--period', 'P1M', '--trust-reporter', BAD, '--json']);
    expect([r.code, r.out]).toEqual([2, expect.stringContaining('INVALID_DID')]);
    expect((await run(['pool', 'payouts', '--period', 'P1M', '--trust-reporter', 'nobody', '--json'])).out).toContain('NOT_FOUND');
  });

  it('audit list --agent: an alias resolves to its DID; an empty or unknown value is refused, never "no filter"', async () => {
    expect((await run(['audit', 'list', '--agent', 'lab', '--json'])).code).toBe(0);
    for (const v of ['', 'nobody']) expect((await run(['audit', 'list', '--agent', v, '--json'])).code).not.toBe(0);
    const bad = await run(['audit', 'list', '--agent', BAD, '--json']);
    expect([bad.code, bad.out]).toEqual([2, expect.stringContaining('INVALID_DID')]);
  });
});

describe('usage errors, not faults', () => {
  it('malformed --claims (bad escape, control character, not JSON) is INVALID_ARGUMENT, exit 2', async () => {
    const file = join(tempDir('charter-claims-'), 'claims.json');
    writeFileSync(file, Buffer.from([0x7b, 0x22, 0x61, 0x01, 0x22, 0x3a, 0x31, 0x7d]));
    for (const claims of ['{"\\x"', '{"a":', 'not json', file]) {
      const r = await run(['vc', 'issue', '--as', 'ana', '--subject', 'lab', '--type', 'T', '--claims', claims, '--json']);
      expect([claims, r.code, JSON.parse(r.out).error.code]).toEqual([claims, 2, 'INVALID_ARGUMENT']);
    }
  });

  it('evidence export with an empty receipt is INVALID_ARGUMENT, exit 2', async () => {
    for (const ref of ['', '   ']) {
      const r = await run(['evidence', 'export', ref, '--out', join(tempDir('charter-ev-'), 'b.json'), '--json']);
      expect([r.code, JSON.parse(r.out).error.code]).toEqual([2, 'INVALID_ARGUMENT']);
    }
  });

  it('mandate verify on empty input is INVALID_ARGUMENT, exit 2 (as vc verify -)', async () => {
    for (const stdin of ['', '  \n']) {
      const r = await run(['mandate', 'verify', '-', '--profile', 'ap2', '--json'], stdin);
      expect([r.code, JSON.parse(r.out).error.code]).toEqual([2, 'INVALID_ARGUMENT']);
    }
  });

  it('charter help [noun] and charter <noun> help [verb] exit 0 (the built CLI: its exit code is a fault until the command finishes)', async () => {
    const env = freshEnv();
    for (const args of [['help'], ['help', 'grant'], ['grant', 'help', 'issue']]) {
      const r = await charter(args, env);
      expect([args, r.code, r.stderr]).toEqual([args, 0, '']);
      expect(r.stdout).toContain('Usage: charter');
    }
    // A noun without its verb is still a usage error.
    expect((await charter(['grant'], env)).code).toBe(2);
  });
});

describe('pure verify commands: a presentation bound to one HTTP request is for that request only', () => {
  it('agent verify and grant verify (no --record) refuse it (REQUEST_MISMATCH, exit 1), as the Veramo plugin does; unbound, not for that', async () => {
    const ok = async (args: string[]) => {
      const r = await run([...args, '--json']);
      if (r.code !== 0) throw new Error(`${args.join(' ')}: exit ${r.code} ${r.out}`);
      return JSON.parse(r.out) as Record<string, string>;
    };
    await ok(['id', 'create', '--alias', 'op']);
    await ok(['agent', 'create', '--alias', 'bot', '--as', 'op']);
    await ok(['agent', 'authorize', '--as', 'ana', '--agent', 'bot', '--action', 'buy']);
    const aud = 'did:web:v.example';
    const unbound = (await ok(['agent', 'present', '--as', 'bot', '--aud', aud, '--nonce', 'n-bound'])).jwt!;
    const grant = (await ok(['grant', 'issue', '--as', 'ana', '--to', 'lab', '--resource', 'photos', '--action', 'read', '--expires', '30d'])).jwt!;
    const { openHome } = await import('../../src/home/home.js');
    const { createPresentation, decodeJwt } = await import('../../src/credentials/index.js');
    const home = await openHome({ home: dir, env: {}, passphrase: async () => PASS });
    // VCDM 2.0: each credential enveloped as a data: URL (id) in the presentation.
    const enveloped = decodeJwt(unbound).payload.verifiableCredential as { id: string }[];
    const creds = enveloped.map((e) => e.id.slice(e.id.indexOf(',') + 1));
    const claims = { htm: 'GET', htu: 'https://api.example/photos/1' };
    const boundVp = await createPresentation({ holder: await home.issuer('bot'), credentials: creds, aud, nonce: 'n-bound', claims });
    const boundGrant = await createPresentation({ holder: await home.issuer('lab'), credentials: [grant], aud, nonce: 'n-g', claims });
    const plainGrant = await createPresentation({ holder: await home.issuer('lab'), credentials: [grant], aud, nonce: 'n-g' });
    const queryBound = await createPresentation({ holder: await home.issuer('lab'), credentials: [grant], aud, nonce: 'n-g', claims: { htq: 'a=1' } });
    await home.close();
    const agentArgs = (vp: string) => ['agent', 'verify', vp, '--aud', aud, '--nonce', 'n-bound', '--action', 'buy', '--any-principal', '--json'];
    // (This home's status lists are on a closed port: the unbound ones stop at STATUS_UNAVAILABLE, a fault, exit 3;
    // a definite refusal such as REQUEST_MISMATCH decides the exit code whatever else failed: 1.)
    const u = await run(agentArgs(unbound));
    expect([u.code, u.out.includes('REQUEST_MISMATCH')]).toEqual([3, false]);
    const a = await run(agentArgs(boundVp));
    expect([a.code, a.out]).toEqual([1, expect.stringContaining('REQUEST_MISMATCH')]);
    const grantArgs = (vp: string) => ['grant', 'verify', vp, '--resource', 'photos', '--action', 'read', '--aud', aud, '--nonce', 'n-g', '--json'];
    const pg = await run(grantArgs(plainGrant));
    expect([pg.code, pg.out.includes('REQUEST_MISMATCH')]).toEqual([3, false]);
    const g = await run(grantArgs(boundGrant));
    expect([g.code, g.out]).toEqual([1, expect.stringContaining('REQUEST_MISMATCH')]);
    // vp verify too, for htm/htu and for htq alone.
    const vpArgs = (vp: string) => ['vp', 'verify', vp, '--aud', aud, '--nonce', 'n-g', '--json'];
    const pv = await run(vpArgs(plainGrant));
    expect(pv.out.includes('REQUEST_MISMATCH')).toBe(false);
    for (const vp of [boundGrant, queryBound]) {
      const v = await run(vpArgs(vp));
      expect([v.code, v.out]).toEqual([1, expect.stringContaining('REQUEST_MISMATCH')]);
    }
  });

  it('an SD-JWT grant presentation whose key binding JWT is bound (htm/htu, mcp) is refused by grant verify and sd-jwt verify too', async () => {
    const ok = async (args: string[]) => {
      const r = await run([...args, '--json']);
      if (r.code !== 0) throw new Error(`${args.join(' ')}: exit ${r.code} ${r.out}`);
      return JSON.parse(r.out) as Record<string, string>;
    };
    const sd = (await ok(['grant', 'issue', '--as', 'ana', '--to', 'lab', '--resource', 'photos', '--action', 'read', '--expires', '30d', '--format', 'sd-jwt'])).token!;
    const { openHome } = await import('../../src/home/home.js');
    const { presentSdJwtVc } = await import('../../src/sdjwt/index.js');
    const home = await openHome({ home: dir, env: {}, passphrase: async () => PASS });
    const aud = 'did:web:v.example';
    const holder = await home.issuer('lab');
    const present = (claims?: Record<string, unknown>) =>
      presentSdJwtVc(sd, { holder, aud, nonce: 'n-sd', disclose: ['grant.resources', 'grant.actions'], ...(claims ? { claims } : {}) });
    const plain = await present();
    const bound = [await present({ htm: 'GET', htu: 'https://api.example/photos/1' }), await present({ mcp: { tool: 'read', args: 'x' } }), await present({ htm: null })];
    await home.close();
    const grantArgs = (t: string) => ['grant', 'verify', t, '--resource', 'photos', '--action', 'read', '--aud', aud, '--nonce', 'n-sd', '--json'];
    const sdArgs = (t: string) => ['sd-jwt', 'verify', t, '--aud', aud, '--nonce', 'n-sd', '--json'];
    // Unbound: refused for nothing of the kind (its status list is on a closed port here: a fault, exit 3).
    for (const args of [grantArgs(plain), sdArgs(plain)]) {
      const r = await run(args);
      expect([args[0], r.code, r.out.includes('REQUEST_MISMATCH')]).toEqual([args[0], 3, false]);
    }
    for (const t of bound) {
      for (const args of [grantArgs(t), sdArgs(t)]) {
        const r = await run(args);
        expect([args[0], r.code, r.out]).toEqual([args[0], 1, expect.stringContaining('REQUEST_MISMATCH')]);
      }
    } // A presentation without the audience or the challenge it answers is a usage error (exit 2), as for a vc+jwt;
    // the issued token (no key binding JWT, ending in "~") is its holder's to check without either.
    const base = ['grant', 'verify', plain, '--resource', 'photos', '--action', 'read', '--json'];
    for (const flags of [[], ['--aud', aud], ['--nonce', 'n-sd']]) {
      const r = await run([...base, ...flags]);
      expect([flags, r.code, JSON.parse(r.out).error?.code]).toEqual([flags, 2, 'INVALID_ARGUMENT']);
    }
    const issued = await run(['grant', 'verify', sd, '--resource', 'photos', '--action', 'read', '--json']);
    expect(issued.code).not.toBe(2);
  });
});
