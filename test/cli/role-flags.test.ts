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
