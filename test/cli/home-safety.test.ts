import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BIN, charter, freshEnv, json, type RunResult } from './harness.js';
import { tempDir } from '../helpers.js';

const PASS = 'correct horse battery staple';
const mode = (p: string) => statSync(p).mode & 0o7777;
const errorOf = (r: RunResult) => json<{ ok: false; error: { code: string; message: string } }>(r).error;

/**
 * Runs the CLI on a pseudo-terminal (python3's pty module), answers its
 * prompt with `keys` once it appears, and returns what the terminal showed
 * and the exit code. The prompt is the terminal's: stdin is a TTY, as for a
 * person typing.
 */
const PTY = `
import os, pty, sys, time, select
keys = sys.argv[1].encode().decode('unicode_escape').encode()
pid, fd = pty.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
out = b''; sent = False; deadline = time.time() + 30; status = None
while time.time() < deadline:
    r, _, _ = select.select([fd], [], [], 0.05)
    if r:
        try: d = os.read(fd, 4096)
        except OSError: d = b''
        out += d
        if b'passphrase: ' in out and not sent:
            sent = True; time.sleep(0.2); os.write(fd, keys)
        if not d: break
    p, s = os.waitpid(pid, os.WNOHANG)
    if p: status = s; break
while status is None and time.time() < deadline:
    p, s = os.waitpid(pid, os.WNOHANG)
    if p: status = s
    else: time.sleep(0.05)
sys.stdout.write(out.decode(errors='replace'))
sys.stdout.write('\\n@@exit %s' % (os.WEXITSTATUS(status) if status is not None and os.WIFEXITED(status) else 'none'))
if status is None: os.kill(pid, 9)
`;
const python = spawnSync('python3', ['-c', 'import pty'], { stdio: 'ignore' }).status === 0;

function onTerminal(keys: string, args: string[], env: NodeJS.ProcessEnv): { out: string; code: number | 'none' } {
  const { CHARTER_PASSPHRASE: _p, ...rest } = env;
  const r = spawnSync('python3', ['-c', PTY, keys, process.execPath, BIN, ...args], { env: rest, encoding: 'utf8', timeout: 80_000 });
  const m = /\n@@exit (\S+)$/.exec(r.stdout);
  return { out: r.stdout.replace(/\n@@exit \S+$/, ''), code: m?.[1] === 'none' || !m ? 'none' : Number(m[1]) };
}

describe('the passphrase prompt on a terminal', () => {
  it.skipIf(!python)(
    'Ctrl-D and Ctrl-C at init: PASSPHRASE_REQUIRED (exit 2), the JSON error with --json, and no home left behind',
    () => {
      for (const [keys, how] of [
        ['\\x04', 'closed'],
        ['\\x03', 'interrupted'],
        ['half\\x03', 'interrupted'],
      ] as const) {
        const env = freshEnv();
        const r = onTerminal(keys, ['init', '--json'], env);
        expect([keys, r.code]).toEqual([keys, 2]);
        const doc = JSON.parse(r.out.slice(r.out.indexOf('{'), r.out.lastIndexOf('}') + 1)) as { ok: boolean; error: { code: string; message: string } };
        expect(doc).toMatchObject({ ok: false, error: { code: 'PASSPHRASE_REQUIRED', message: expect.stringContaining(how) } });
        expect(r.out).toMatch(/\[PASSPHRASE_REQUIRED\]/);
        expect(existsSync(env.CHARTER_HOME!)).toBe(false);
      }
    },
    60_000,
  );

  it.skipIf(!python)(
    'Ctrl-D when an existing home asks for its passphrase: exit 2, the home as it was; a typed passphrase still works',
    async () => {
      const env = freshEnv();
      expect((await charter(['init'], env)).code).toBe(0);
      expect((await charter(['id', 'create', '--alias', 'alice'], env)).code).toBe(0);
      const r = onTerminal('\\x04', ['id', 'export', 'alice', '--private', '--confirm', 'alice'], env);
      expect(r.code).toBe(2);
      expect(r.out).toMatch(/\[PASSPHRASE_REQUIRED\]/);
      const typed = onTerminal(`${PASS}\\r`, ['id', 'export', 'alice', '--private', '--confirm', 'alice', '--json'], env);
      expect(typed.code).toBe(0);
      expect(typed.out).toContain('"privateJwk"');
    },
    60_000,
  );
});

describe('the home directory and its store file', () => {
  it('init creates the home 0700 and the store 0600; an existing directory keeps its mode', async () => {
    const env = freshEnv();
    expect((await charter(['init'], env)).code).toBe(0);
    expect(mode(env.CHARTER_HOME!)).toBe(0o700);
    expect(mode(join(env.CHARTER_HOME!, 'charter.db'))).toBe(0o600);
    const mine = join(tempDir(), 'mine');
    mkdirSync(mine);
    chmodSync(mine, 0o750);
    expect((await charter(['init', '--home', mine], env)).code).toBe(0);
    expect(mode(mine)).toBe(0o750);
    expect((await charter(['id', 'list', '--home', mine], env)).code).toBe(0);
    expect(mode(mine)).toBe(0o750);
  });

  it('a directory other users can write (1777, 0775) is refused, CONFIG_INVALID exit 2, and left exactly as it was', async () => {
    const env = freshEnv();
    for (const m of [0o1777, 0o777, 0o775, 0o757]) {
      const shared = join(tempDir(), 'shared');
      mkdirSync(shared);
      chmodSync(shared, m);
      const r = await charter(['init', '--home', shared, '--json'], env);
      expect([m.toString(8), r.code, errorOf(r).code]).toEqual([m.toString(8), 2, 'CONFIG_INVALID']);
      expect(mode(shared)).toBe(m);
      expect(readdirSync(shared)).toEqual([]);
    }
    // A failed init (short passphrase) in an existing directory leaves its mode too.
    const kept = join(tempDir(), 'kept');
    mkdirSync(kept);
    chmodSync(kept, 0o755);
    const short = await charter(['init', '--home', kept, '--json'], { ...env, CHARTER_PASSPHRASE: 'short' });
    expect([short.code, errorOf(short).code]).toEqual([2, 'INVALID_ARGUMENT']);
    expect(mode(kept)).toBe(0o755);
    expect(readdirSync(kept)).toEqual([]);
  });

  it('a charter.db that is a link is refused (CONFIG_INVALID, exit 2): the link is not followed, its target neither changed nor chmodded', async () => {
    const env = freshEnv();
    const victim = join(tempDir(), 'target.txt');
    writeFileSync(victim, 'untouched', { mode: 0o644 });
    chmodSync(victim, 0o644);
    const home = join(tempDir(), 'h');
    mkdirSync(home, { mode: 0o700 });
    symlinkSync(victim, join(home, 'charter.db'));
    for (const args of [['init'], ['id', 'list']]) {
      const r = await charter([...args, '--home', home, '--json'], env);
      expect([args[0], r.code, errorOf(r).code, errorOf(r).message]).toEqual([args[0], 2, 'CONFIG_INVALID', expect.stringMatching(/symbolic link/)]);
    }
    expect(mode(victim)).toBe(0o644);
    expect(readFileSync(victim, 'utf8')).toBe('untouched');
    // A dangling link is not created through either.
    const dangling = join(tempDir(), 'h2');
    mkdirSync(dangling, { mode: 0o700 });
    symlinkSync(join(dangling, 'elsewhere.db'), join(dangling, 'charter.db'));
    expect((await charter(['init', '--home', dangling], env)).code).toBe(2);
    expect(existsSync(join(dangling, 'elsewhere.db'))).toBe(false);
  });

  it('a directory named charter.db, a file as the home: exit 2 naming the path, not a store fault', async () => {
    const env = freshEnv();
    const home = join(tempDir(), 'h');
    mkdirSync(join(home, 'charter.db'), { recursive: true, mode: 0o700 });
    chmodSync(home, 0o700);
    for (const args of [['init'], ['id', 'list']]) {
      const r = await charter([...args, '--home', home, '--json'], env);
      expect([args[0], r.code, errorOf(r).code, errorOf(r).message]).toEqual([args[0], 2, 'CONFIG_INVALID', expect.stringContaining(join(home, 'charter.db'))]);
    }
    const file = join(tempDir(), 'plain');
    writeFileSync(file, '');
    const r = await charter(['init', '--home', file, '--json'], env);
    expect(r.code).toBe(2);
  });

  it.skipIf(process.getuid?.() === 0)('a store file this user cannot write (0400): exit 2 naming it, and its mode is kept', async () => {
    const env = freshEnv();
    expect((await charter(['init'], env)).code).toBe(0);
    const db = join(env.CHARTER_HOME!, 'charter.db');
    chmodSync(db, 0o400);
    const r = await charter(['id', 'list', '--json'], env);
    expect([r.code, errorOf(r).code]).toEqual([2, 'CONFIG_INVALID']);
    expect(mode(db)).toBe(0o400);
  });
});

describe('CHARTER_STORE', () => {
  it('a value that is not a postgres:// or postgresql:// URL is CONFIG_INVALID naming the variable, without its password, and no SQLite file is made', async () => {
    for (const v of [
      'postgress://u:s3cretpw@127.0.0.1:1/db',
      'pg://u:s3cretpw@127.0.0.1:1/db',
      ' postgres://u:s3cretpw@127.0.0.1:1/db',
      'sqlite',
      'u:s3cretpw@host/db',
      'mysql://u:s3cretpw@h/d',
    ]) {
      const env = freshEnv({ CHARTER_STORE: v });
      for (const args of [['init'], ['id', 'list']]) {
        const r = await charter([...args, '--json'], env);
        expect([v, r.code, errorOf(r).code]).toEqual([v, 2, 'CONFIG_INVALID']);
        expect(errorOf(r).message).toContain('CHARTER_STORE');
        expect(r.stdout + r.stderr).not.toContain('s3cretpw');
      }
      expect(existsSync(env.CHARTER_HOME!)).toBe(false);
    }
  });

  it('the scheme is matched in any case: POSTGRES:// selects PostgreSQL (here unreachable), never the local file', async () => {
    for (const v of ['POSTGRES://u:s3cretpw@127.0.0.1:1/db', 'PostgreSQL://u:s3cretpw@127.0.0.1:1/db']) {
      const env = freshEnv({ CHARTER_STORE: v });
      const r = await charter(['id', 'list', '--json'], env);
      expect(r.code).not.toBe(0);
      expect(errorOf(r).code).not.toBe('NOT_INITIALIZED');
      expect(r.stdout + r.stderr).not.toContain('s3cretpw');
      expect(existsSync(join(env.CHARTER_HOME!, 'charter.db'))).toBe(false);
    }
    // Empty is unset: the home's SQLite file.
    const env = freshEnv({ CHARTER_STORE: '' });
    expect((await charter(['init'], env)).code).toBe(0);
    expect(existsSync(join(env.CHARTER_HOME!, 'charter.db'))).toBe(true);
  });
});

/** Starts `charter init` now, as a real process, without waiting for it. */
function startInit(env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, 'init', '--json'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
  });
}

describe('concurrent init', () => {
  it('inits racing with different passphrases: exactly one creates, the others are WRONG_PASSPHRASE, and the one that says created is the one that works', async () => {
    for (let round = 0; round < 3; round++) {
      const env = freshEnv();
      const passes = ['first passphrase', 'second passphrase', 'third passphrase', 'fourth passphrase'];
      const rs = await Promise.all(passes.map((p) => startInit({ ...env, CHARTER_PASSPHRASE: p })));
      const created = rs.flatMap((r, i) => (r.code === 0 && (JSON.parse(r.stdout) as { created: boolean }).created ? [passes[i]!] : []));
      expect(created).toHaveLength(1);
      for (const r of rs.filter((x) => x.code !== 0)) expect(errorOf(r).code).toBe('WRONG_PASSPHRASE');
      expect((await charter(['id', 'create', '--alias', 'a'], { ...env, CHARTER_PASSPHRASE: created[0]! })).code).toBe(0);
      for (const p of passes.filter((x) => x !== created[0])) {
        const other = await charter(['id', 'create', '--alias', 'b', '--json'], { ...env, CHARTER_PASSPHRASE: p });
        expect([other.code, errorOf(other).code]).toEqual([2, 'WRONG_PASSPHRASE']);
      }
    }
  }, 240_000);

  it('inits racing with the same passphrase: one created, the others "created": false, all exit 0', async () => {
    const env = freshEnv();
    const rs = await Promise.all([0, 1, 2].map(() => startInit(env)));
    expect(rs.map((r) => r.code)).toEqual([0, 0, 0]);
    expect(rs.map((r) => (JSON.parse(r.stdout) as { created: boolean }).created).sort()).toEqual([false, false, true]);
  }, 120_000);

  it('a failing init racing a good one never removes the home the good one made, and reports its own cause', async () => {
    for (let round = 0; round < 4; round++) {
      const env = freshEnv();
      const [good, ...bad] = await Promise.all([startInit(env), ...[0, 1, 2].map(() => startInit({ ...env, CHARTER_PASSPHRASE: 'short' }))]);
      expect(good!.code).toBe(0);
      // Its own cause: too short while the home was new, a wrong passphrase once the good one made it.
      for (const r of bad) expect([r.code, ['INVALID_ARGUMENT', 'WRONG_PASSPHRASE'].includes(errorOf(r).code)]).toEqual([2, true]);
      expect(existsSync(join(env.CHARTER_HOME!, 'charter.db'))).toBe(true);
      expect((await charter(['id', 'create', '--alias', 'a'], env)).code).toBe(0);
    }
  }, 240_000);
});

describe('did web init --out', () => {
  it('an --out that cannot take the document refuses before the identity is made: the retry with a good --out works', async () => {
    const env = freshEnv();
    expect((await charter(['init'], env)).code).toBe(0);
    const file = join(tempDir(), 'afile');
    writeFileSync(file, 'a file, not a folder');
    const bad = await charter(['did', 'web', 'init', '--domain', 'shop.example', '--out', file, '--json'], env);
    expect([bad.code, errorOf(bad).code]).toEqual([2, 'INVALID_ARGUMENT']);
    const taken = join(tempDir(), 'www');
    mkdirSync(join(taken, '.well-known'), { recursive: true });
    mkdirSync(join(taken, '.well-known', 'did.json'));
    const dir = await charter(['did', 'web', 'init', '--domain', 'shop.example', '--out', taken, '--json'], env);
    expect([dir.code, errorOf(dir).code]).toEqual([2, 'INVALID_ARGUMENT']);
    expect(json<unknown[]>(await charter(['id', 'list', '--json'], env))).toEqual([]);
    const out = join(tempDir(), 'web');
    const ok = await charter(['did', 'web', 'init', '--domain', 'shop.example', '--out', out, '--json'], env);
    expect(ok.code).toBe(0);
    expect(existsSync(join(out, '.well-known', 'did.json'))).toBe(true);
  });
});

describe('input paths', () => {
  it('vc verify reads a pipe path (as `<(…)` gives) as a file, not as inline text', async () => {
    const env = freshEnv();
    expect((await charter(['init'], env)).code).toBe(0);
    expect((await charter(['id', 'create', '--alias', 'alice'], env)).code).toBe(0);
    const issued = json<{ jwt: string }>(await charter(['vc', 'issue', '--as', 'alice', '--subject', 'alice', '--type', 'T', '--claims', '{"a":1}', '--json'], env));
    const fifo = join(tempDir(), 'cred.pipe');
    execFileSync('mkfifo', [fifo]);
    const writer = new Promise<void>((resolve, reject) => {
      // Opening a FIFO for writing waits for its reader: the verify below.
      import('node:fs').then(({ createWriteStream }) => createWriteStream(fifo).on('error', reject).end(issued.jwt, resolve), reject);
    });
    const r = await charter(['vc', 'verify', fifo, '--json'], env);
    await writer;
    expect([r.code, json<{ ok: boolean }>(r).ok]).toEqual([0, true]);
  });
});
