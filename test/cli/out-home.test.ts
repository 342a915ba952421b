import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { openHome } from '../../src/home/home.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { decide } from '../../src/guard/decide.js';
import { inProcess } from './harness.js';
import { tempDir } from '../helpers.js';

/*
 * Every command that writes a file the user names refuses one inside the
 * home: `audit export --out ~/.charter/charter.db` once exited 0 and left a
 * 0-byte store (every sealed key gone). The target is compared as the file
 * system reaches it: through links, `..` and a trailing slash. The store is
 * checked byte for byte afterwards, and the home still opens.
 */
const PASS = 'correct horse battery staple';
const root = tempDir('charter-out-');
const H = join(root, 'home');
const outside = join(root, 'elsewhere');
const run = inProcess(H, () => PASS);
let receiptId: string;

const digest = (p: string) => createHash('sha256').update(readFileSync(p)).digest('hex');
const homeFiles = () => readdirSync(H).sort();

beforeAll(async () => {
  expect((await run(['init'])).code).toBe(0);
  expect((await run(['id', 'create', '--alias', 'api'])).code).toBe(0);
  // One receipt in the log (a refused presentation), for evidence export.
  const home = await openHome({ home: H, env: {}, passphrase: async () => PASS });
  try {
    const v = createVerifier({
      aud: 'did:web:api.example',
      store: home.store,
      resolver: home.resolver,
      status: home.status,
      http: false,
      receipts: { signer: await home.issuer('api') },
    });
    const d = await decide(
      v,
      'not.a.presentation',
      { kind: 'grant', resource: 'profile/email', action: 'read', owner: 'did:example:alice' },
      { kind: 'claims', claims: { tool: 'x' } },
    );
    receiptId = d.receiptId!;
    await v.receipts!.flush();
  } finally {
    await home.close();
  }
  expect(receiptId).toMatch(/^urn:uuid:/);
  mkdirSync(outside);
}, 60_000);

/** Runs `args`, expects INVALID_ARGUMENT (exit 2) naming the home, and the home exactly as it was. */
async function refused(args: string[]): Promise<void> {
  const before = digest(join(H, 'charter.db'));
  const files = homeFiles();
  const r = await run([...args, '--json']);
  expect(r.code, `${args.join(' ')}\n${r.out}\n${r.err}`).toBe(2);
  const error = (JSON.parse(r.out) as { error: { code: string; message: string } }).error;
  expect(error.code).toBe('INVALID_ARGUMENT');
  expect(error.message).toMatch(/inside the Charter home/);
  expect(digest(join(H, 'charter.db'))).toBe(before);
  expect(homeFiles()).toEqual(files);
}

describe('--out inside the home is refused', () => {
  it('audit export onto charter.db, its -wal, -shm and -journal, the home itself and a new file in it', async () => {
    for (const out of ['charter.db', 'charter.db-wal', 'charter.db-shm', 'charter.db-journal', 'export.jsonl', 'sub/dir/x.jsonl'])
      await refused(['audit', 'export', '--out', join(H, out)]);
    await refused(['audit', 'export', '--out', H]);
    expect(existsSync(join(H, 'sub'))).toBe(false);
    // The home still opens and holds its identity.
    const list = await run(['id', 'list', '--json']);
    expect(list.code).toBe(0);
    expect(list.out).toMatch(/"api"/);
  });

  it('spelled another way: a relative path, a path through .., a trailing slash, doubled slashes', async () => {
    await refused(['audit', 'export', '--out', relative(process.cwd(), join(H, 'charter.db'))]);
    await refused(['audit', 'export', '--out', join(outside, '..', 'home', 'charter.db')]);
    await refused(['audit', 'export', '--out', `${outside}/../home/./charter.db`]);
    await refused(['audit', 'export', '--out', `${H}/`]);
    await refused(['audit', 'export', '--out', `${H}/charter.db/`]);
    await refused(['audit', 'export', '--out', `${H}//charter.db`]);
  });

  it('through links: a link to charter.db, a folder linked to the home, a dangling link into it, a home named through a link', async () => {
    symlinkSync(join(H, 'charter.db'), join(outside, 'db-link'));
    await refused(['audit', 'export', '--out', join(outside, 'db-link')]);
    symlinkSync(H, join(outside, 'home-link'));
    await refused(['audit', 'export', '--out', join(outside, 'home-link', 'charter.db')]);
    await refused(['audit', 'export', '--out', join(outside, 'home-link', 'new.jsonl')]);
    symlinkSync(join(H, 'not-yet.jsonl'), join(outside, 'dangling'));
    await refused(['audit', 'export', '--out', join(outside, 'dangling')]);
    // A link to a link to the store.
    symlinkSync(join(outside, 'db-link'), join(outside, 'db-link-2'));
    await refused(['audit', 'export', '--out', join(outside, 'db-link-2')]);
    // The home given through a link, the target named directly (and the other way round).
    await refused(['audit', 'export', '--home', join(outside, 'home-link'), '--out', join(H, 'charter.db')]);
    await refused(['audit', 'export', '--home', join(outside, 'home-link'), '--out', join(outside, 'home-link', 'charter.db-wal')]);
  });

  it('evidence export, did web init, agent directory and status publish refuse it too, writing nothing and creating no identity', async () => {
    await refused(['evidence', 'export', receiptId, '--out', join(H, 'charter.db')]);
    await refused(['evidence', 'export', receiptId, '--out', join(outside, 'home-link', 'bundle.json')]);
    await refused(['did', 'web', 'init', '--domain', 'web.example', '--out', H]);
    // `did web init` checks before it creates the identity: a retry is not told the alias is taken.
    expect((await run(['id', 'list', '--json'])).out).not.toMatch(/web\.example/);
    await refused(['agent', 'directory', '--as', 'api', '--authority', 'agent.example', '--out', H]);
    await refused(['status', 'publish', '--out', H]);
    await refused(['status', 'publish', '--out', join(H, 'public')]);
  });

  it('status publish checks every file before writing any: a web root whose .well-known is linked into the home writes nothing', async () => {
    expect((await run(['did', 'web', 'init', '--domain', 'pub.example', '--out', join(outside, 'web1')])).code).toBe(0);
    const pub = join(outside, 'pub');
    mkdirSync(pub);
    symlinkSync(H, join(pub, '.well-known'));
    await refused(['status', 'publish', '--out', pub]);
    expect(readdirSync(pub)).toEqual(['.well-known']);
  });
});

describe('--out elsewhere is written as before', () => {
  it('an existing file outside the home is replaced; a sibling whose name starts with the home name is outside it', async () => {
    const existing = join(outside, 'existing.jsonl');
    writeFileSync(existing, 'old\n');
    const r = await run(['audit', 'export', '--out', existing]);
    expect(r.code, r.err).toBe(0);
    expect(readFileSync(existing, 'utf8')).toMatch(/^\{"seq"|^\{/);
    for (const sibling of [`${H}-backup/audit.jsonl`, `${H}.jsonl`, join(root, 'homes', 'charter.db')]) {
      const s = await run(['audit', 'export', '--out', sibling]);
      expect(s.code, `${sibling}: ${s.err}`).toBe(0);
      expect(existsSync(sibling)).toBe(true);
    }
    const ev = await run(['evidence', 'export', receiptId, '--as', 'api', '--out', join(outside, 'bundle.json')]);
    expect(ev.code, ev.err).toBe(0);
    expect((await run(['status', 'publish', '--out', join(outside, 'public')])).code).toBe(0);
    // api has no agent identity credential: whatever it is told, it is not about the path.
    expect((await run(['agent', 'directory', '--as', 'api', '--authority', 'agent.example', '--out', join(outside, 'public')])).err).not.toMatch(/inside the Charter home/);
  });
});

/*
 * `--out -` is standard output, as `-` is standard input where a command
 * reads: never a file named "-". Run in a scratch folder so that such a file
 * would be seen (and not left in the repository).
 */
describe('--out - writes to standard output', () => {
  const cwd = join(root, 'cwd');
  let saved: string;
  beforeAll(() => {
    mkdirSync(cwd);
    saved = process.cwd();
    process.chdir(cwd);
    return () => process.chdir(saved);
  });
  const noDashFile = () => expect(readdirSync(cwd)).toEqual([]);

  it('audit export --out -: the JSON Lines of no --out; with --json, its one document', async () => {
    const plain = await run(['audit', 'export']);
    const dash = await run(['audit', 'export', '--out', '-']);
    expect(dash.code, dash.err).toBe(0);
    expect(dash.out).toBe(plain.out);
    expect(dash.out.split('\n').map((l) => JSON.parse(l) as unknown).length).toBeGreaterThan(0);
    const doc = await run(['audit', 'export', '--out', '-', '--json']);
    expect(doc.code).toBe(0);
    expect(JSON.parse(doc.out)).toEqual(JSON.parse((await run(['audit', 'export', '--json'])).out));
    noDashFile();
  });

  it('evidence export --out -: the bundle on stdout (it verifies), the summary on stderr; with --json the bundle is the one document', async () => {
    const r = await run(['evidence', 'export', receiptId, '--as', 'api', '--out', '-']);
    expect(r.code, r.err).toBe(0);
    const bundle = JSON.parse(r.out) as { type: string };
    expect(bundle.type).toBe('CharterEvidenceBundle');
    expect(r.err).toMatch(/wrote the bundle to standard output: the receipt/);
    const file = join(outside, 'from-stdout.json');
    writeFileSync(file, r.out);
    expect((await run(['evidence', 'verify', file, '--json'])).code).toBeLessThan(2);
    const j = await run(['evidence', 'export', receiptId, '--out', '-', '--json']);
    expect(j.code, j.err).toBe(0);
    expect((JSON.parse(j.out) as { type: string }).type).toBe('CharterEvidenceBundle');
    expect(j.err).toBe('');
    noDashFile();
  });

  it('did web init --out -: the did.json on stdout, the summary on stderr; with --json the document alone; nothing written', async () => {
    const r = await run(['did', 'web', 'init', '--domain', 'stdout.example', '--out', '-']);
    expect(r.code, r.err).toBe(0);
    expect((JSON.parse(r.out) as { id: string }).id).toBe('did:web:stdout.example');
    expect(r.err).toMatch(/did:web:stdout\.example[\s\S]*standard output[\s\S]*\/\.well-known/);
    const j = await run(['did', 'web', 'init', '--domain', 'json.example', '--out', '-', '--json']);
    expect(j.code, j.err).toBe(0);
    expect((JSON.parse(j.out) as { id: string }).id).toBe('did:web:json.example');
    expect(j.err).toBe('');
    noDashFile();
  });

  it('agent directory --out - prints as without --out; status publish --out - is refused (several files), writing nothing', async () => {
    const plain = await run(['agent', 'directory', '--as', 'api', '--authority', 'agent.example']);
    const dash = await run(['agent', 'directory', '--as', 'api', '--authority', 'agent.example', '--out', '-']);
    expect(plain.code, plain.err).toBe(0);
    expect(dash.code, dash.err).toBe(0);
    // The body and its headers, printed: not `wrote -/.well-known/…`.
    for (const r of [plain, dash]) expect(r.out).toMatch(/^key directory for api[\s\S]*\nsignature-input: /im);
    expect(dash.out).not.toMatch(/^wrote /m);
    const s = await run(['status', 'publish', '--out', '-', '--json']);
    expect(s.code).toBe(2);
    expect((JSON.parse(s.out) as { error: { code: string; message: string } }).error.message).toMatch(/several files/);
    noDashFile();
  });
});
