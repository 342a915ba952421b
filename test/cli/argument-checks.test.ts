import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { freePort, inProcess, type InProcess } from './harness.js';
import { makeIssuer, tempDir } from '../helpers.js';
import { signAcceptance } from '../../src/pools/membership.js';

/*
 * A bad value for an option is the caller's mistake: INVALID_ARGUMENT (exit 2),
 * never INTERNAL (exit 3) from a library TypeError, nor a success (exit 0)
 * built on a value its own verifier refuses. Imports and exports say what
 * happened in their exit code and print one JSON document with --json.
 */

type Run = (args: string[], stdin?: string) => Promise<InProcess>;
const errorOf = (r: InProcess) => (JSON.parse(r.out || '{}') as { error?: { code: string; message: string } }).error ?? { code: 'none', message: r.out };
const expectUsage = (r: InProcess, code = 'INVALID_ARGUMENT') => {
  expect({ exit: r.code, code: errorOf(r).code }).toEqual({ exit: 2, code });
};

let run: Run;
let dir: string;
const w = { grant: '', sdGrant: '', vp: '', agentVp: '', vc: '', bob: '', attestation: '' };

beforeAll(async () => {
  dir = tempDir('charter-arg-checks-');
  // Status lists on a closed local port: any fetch of them fails at once (a fault, not a refusal).
  const port = await freePort();
  run = inProcess(dir, () => 'correct horse battery staple', { CHARTER_ALLOW_LOOPBACK: '1' });
  const ok = async (args: string[], stdin?: string) => {
    const r = await run([...args, '--json'], stdin);
    if (r.code !== 0) throw new Error(`${args.join(' ')}: exit ${r.code} ${r.out} ${r.err}`);
    return JSON.parse(r.out) as Record<string, string>;
  };
  await ok(['init', '--public-url', `http://127.0.0.1:${port}`]);
  for (const a of ['alice', 'bob', 'op']) await ok(['id', 'create', '--alias', a]);
  w.bob = (await ok(['id', 'show', 'bob'])).did!;
  w.grant = (await ok(['grant', 'issue', '--as', 'alice', '--to', 'bob', '--resource', 'photos', '--action', 'read', '--expires', '30d'])).jwt!;
  w.sdGrant = (await ok(['grant', 'issue', '--as', 'alice', '--to', 'bob', '--resource', 'photos', '--action', 'read', '--expires', '30d', '--format', 'sd-jwt'])).token!;
  w.vc = (await ok(['vc', 'issue', '--as', 'alice', '--subject', 'bob', '--type', 'T', '--claims', '{"name":"x"}'])).jwt!;
  w.vp = (await ok(['vp', 'create', '--as', 'bob', '--aud', 'did:web:v.example', '--nonce', 'n1', w.vc])).jwt!;
  await ok(['agent', 'create', '--alias', 'bot', '--as', 'op']);
  await ok(['agent', 'authorize', '--as', 'alice', '--agent', 'bot', '--action', 'buy', '--max', '50USD']);
  w.agentVp = (await ok(['agent', 'present', '--as', 'bot', '--aud', 'did:web:v.example', '--nonce', 'n2'])).jwt!;
  const receipt = (await ok(['rep', 'receipt', '--as', 'bot', '--counterparty', 'alice', '--interaction', 'i1'])).jwt!;
  w.attestation = (await ok(['rep', 'attest', '--as', 'alice', '--receipt', receipt, '--score', '0.5'])).jwt!;
});

describe('grant verify: the declared use is checked before either verifier runs', () => {
  const bad: [string, string, string][] = [
    ['--processing', 'cloud', 'cloud'],
    ['--processing', 'any', 'any'],
    ['--for', 'Bad!', 'Bad!'],
    ['--for', '-1', '-1'],
    ['--for', '5000 characters', 'x'.repeat(5000)],
  ];
  it.each(bad)('%s %s: exit 2 for a vc+jwt grant and an SD-JWT grant alike', async (flag, _label, value) => {
    for (const grant of [w.grant, w.sdGrant]) {
      const r = await run(['grant', 'verify', grant, '--resource', 'photos', '--action', 'read', `${flag}=${value}`, '--json']);
      expectUsage(r);
      expect(errorOf(r).message).toContain(flag);
    }
  });
});

describe('an empty or blank --aud / --nonce is refused (exit 2), not a TypeError or a silent skip', () => {
  const cases = (): [string, string[]][] => [
    ['agent verify --aud ""', ['agent', 'verify', w.agentVp, '--aud', '', '--nonce', 'n2', '--action', 'buy', '--any-principal']],
    ['agent verify --nonce " "', ['agent', 'verify', w.agentVp, '--aud', 'did:web:v.example', '--nonce', ' ', '--action', 'buy', '--any-principal']],
    ['vp verify --aud ""', ['vp', 'verify', w.vp, '--aud', '', '--nonce', 'n1']],
    ['vp create --nonce ""', ['vp', 'create', '--as', 'bob', '--aud', 'did:web:v.example', '--nonce', '', w.vc]],
    ['agent present --nonce ""', ['agent', 'present', '--as', 'bot', '--aud', 'did:web:v.example', '--nonce', '']],
    ['sd-jwt present --nonce " "', ['sd-jwt', 'present', w.sdGrant, '--as', 'bob', '--aud', 'did:web:v.example', '--nonce', ' ']],
    ['vc verify --aud ""', ['vc', 'verify', w.vc, '--aud', '']],
  ];
  it('each verb', async () => {
    for (const [name, args] of cases()) {
      const r = await run([...args, '--json']);
      expect({ name, exit: r.code, code: errorOf(r).code }).toEqual({ name, exit: 2, code: 'INVALID_ARGUMENT' });
    }
  });
});

describe('whole numbers: safe, and within a documented maximum', () => {
  it('audit list --limit past 2^53 or 10000 is exit 2 (not STORE_ERROR)', async () => {
    expectUsage(await run(['audit', 'list', '--limit', '99999999999999999999', '--json']));
    expectUsage(await run(['audit', 'list', '--limit', '10001', '--json']));
    expect((await run(['audit', 'list', '--limit', '10000', '--json'])).code).toBe(0);
  });
  it('vp create --expires-in 1e20 is exit 2, not a presentation its verifier refuses', async () => {
    for (const v of ['1e20', '86401', '99999999999999999999']) {
      const r = await run(['vp', 'create', '--as', 'bob', '--aud', 'did:web:v.example', '--nonce', 'n', '--expires-in', v, w.vc, '--json']);
      expectUsage(r);
    }
    expect((await run(['vp', 'create', '--as', 'bob', '--aud', 'did:web:v.example', '--nonce', 'n', '--expires-in', '86400', w.vc, '--json'])).code).toBe(0);
  });
});

describe('rep import and pool import: the exit code says what happened', () => {
  it('a path that does not exist, an empty file, empty stdin: exit 2', async () => {
    const empty = join(dir, 'empty.txt');
    writeFileSync(empty, '');
    for (const verb of ['rep', 'pool']) {
      expectUsage(await run([verb, 'import', join(dir, 'no-such-file.txt'), '--json']));
      expectUsage(await run([verb, 'import', empty, '--json']));
      expectUsage(await run([verb, 'import', '-', '--json'], ''));
    }
  });
  it('every attestation refused: exit 1; every one skipped for a fault: exit 3; one imported: exit 0', async () => {
    // A credential that is no attestation is refused.
    const refused = await run(['rep', 'import', '-', '--json'], `${w.vc}\n`);
    expect(refused.code).toBe(1);
    expect(JSON.parse(refused.out)).toMatchObject({ ok: false, imported: [] });
    // The attestation's status list cannot be fetched (closed port): not decided, retry.
    const fault = await run(['rep', 'import', '-', '--json'], `${w.attestation}\n`);
    expect(fault.code).toBe(3);
    expect(JSON.parse(fault.out)).toMatchObject({ ok: false, imported: [], skipped: [{ code: 'STATUS_UNAVAILABLE' }] });
  });
  it('one imported: exit 0, inline JWTs too; importing it again (held already) is no failure', async () => {
    // Attested in a home without a public URL: no status list to fetch.
    const other = inProcess(tempDir('charter-arg-checks-other-'), () => 'correct horse battery staple');
    const json = async (args: string[]) => JSON.parse((await other([...args, '--json'])).out) as Record<string, string>;
    await json(['init']);
    for (const a of ['agent', 'shop']) await json(['id', 'create', '--alias', a]);
    const receipt = (await json(['rep', 'receipt', '--as', 'agent', '--counterparty', 'shop', '--interaction', 'o-1'])).jwt!;
    const att = (await json(['rep', 'attest', '--as', 'shop', '--receipt', receipt, '--score', '0.9'])).jwt!;
    const first = await run(['rep', 'import', att, '--json']);
    expect([first.code, JSON.parse(first.out)]).toEqual([0, expect.objectContaining({ ok: true, imported: [expect.any(String)] })]);
    const again = await run(['rep', 'import', '-', '--json'], `${att}\n`);
    expect([again.code, JSON.parse(again.out)]).toEqual([0, expect.objectContaining({ ok: true, imported: [], skipped: [expect.objectContaining({ code: 'ALREADY_EXISTS' })] })]);
  });
});

describe('pool accept: the pool DID and status entry are checked before signing', () => {
  it('CLI: INVALID_DID for a malformed pool, INVALID_ARGUMENT for a malformed status', async () => {
    expectUsage(await run(['pool', 'accept', '--pool', 'did:key:z', '--status', 'https://x.example/s#1', '--as', 'alice', '--json']), 'INVALID_DID');
    expectUsage(await run(['pool', 'accept', '--pool', 'nope', '--status', 'https://x.example/s#1', '--as', 'alice', '--json']), 'INVALID_DID');
    for (const status of ['nope', 'https://x.example/s', 'ftp://x.example/s#1', 'https://x.example/s#-1']) {
      expectUsage(await run(['pool', 'accept', '--pool', w.bob, '--status', status, '--as', 'alice', '--json']));
    }
    expect((await run(['pool', 'accept', '--pool', w.bob, '--status', 'https://x.example/s#1', '--as', 'alice', '--json'])).code).toBe(0);
    expectUsage(await run(['pool', 'leave', '--pool', w.bob, '--as', 'alice', '--status', 'nope', '--json']));
  });
  it('library: signAcceptance refuses the same', async () => {
    const member = makeIssuer();
    const pool = makeIssuer().did;
    await expect(signAcceptance(member, 'did:key:z', 'https://x.example/s#1')).rejects.toMatchObject({ code: 'INVALID_DID' });
    await expect(signAcceptance(member, pool, 'nope')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(signAcceptance(member, pool, 'https://x.example/s#1')).resolves.toMatch(/^ey/);
  });
});

describe('audit export --json without --out: one JSON document', () => {
  it('an empty log is { entries: 0, log: [] }', async () => {
    const r = await run(['audit', 'export', '--json']);
    expect(r.code).toBe(0);
    expect(JSON.parse(r.out)).toEqual({ entries: 0, log: [] });
  });
});

describe('signAcceptance with values that are not text', () => {
  it('refuses them with a code, never a TypeError from quoting them', async () => {
    const member = makeIssuer();
    for (const odd of [{ toString: 1 }, null, 7, ['did:key:z6Mk']] as unknown[]) {
      await expect(signAcceptance(member, odd as string, 'https://x.example/s#1')).rejects.toMatchObject({ code: 'INVALID_DID' });
      await expect(signAcceptance(member, member.did, odd as string)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
  });
});
