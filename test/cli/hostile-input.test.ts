import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { ERROR_CODES } from '../../src/errors.js';
import { issueCredential, createPresentation } from '../../src/credentials/index.js';
import { charter, freshEnv, inProcess, json } from './harness.js';
import { makeIssuer, tempDir } from '../helpers.js';

/**
 * The commands that read a credential, a presentation, a grant, a bundle or a DID, given hostile
 * arguments and files (empty, binary, over the 1 MiB cap, a directory, JSON naming a member
 * twice, NUL and lone surrogates, a real token changed after signing): the exit code is one of
 * README's (0 ok, 1 refused, 2 usage, 3 fault), never 0 for what is not authentic, and `--json`
 * prints one JSON document, a refusal's with its reasons' codes or an error's code, all listed.
 */

const CODES: ReadonlySet<string> = new Set(ERROR_CODES);
const SEED = Number(process.env.CHARTER_FUZZ_SEED ?? 0x5eed);

interface Answer {
  code: number;
  out: string;
}

/** What every answer to hostile input must be (throws naming it otherwise). */
function wellFormed(r: Answer, what: string): void {
  if (![1, 2, 3].includes(r.code)) throw new Error(`${what}: exit ${r.code}: ${r.out.slice(0, 300)}`);
  let doc: { ok?: unknown; error?: { code?: unknown; message?: unknown }; reasons?: Array<{ code: string }> };
  try {
    doc = JSON.parse(r.out) as typeof doc;
  } catch {
    throw new Error(`${what}: --json printed no JSON document: ${r.out.slice(0, 300)}`);
  }
  if (doc.ok !== false) throw new Error(`${what}: ok ${String(doc.ok)}`);
  const codes = doc.error !== undefined ? [doc.error.code] : (doc.reasons ?? []).map((x) => x.code);
  if (codes.length === 0 || !codes.every((c) => typeof c === 'string' && CODES.has(c))) throw new Error(`${what}: codes ${JSON.stringify(codes)}`);
  if (doc.error !== undefined && !(typeof doc.error.message === 'string' && doc.error.message.length > 0 && doc.error.message.length <= 2000)) {
    throw new Error(`${what}: an error message a person can read, not ${JSON.stringify(doc.error.message).slice(0, 100)}…`);
  }
}

/** The readers, each with what else it needs on its command line. */
const READERS: string[][] = [
  ['vc', 'verify'],
  ['vp', 'verify', '--aud', 'did:web:api.example', '--nonce', 'n'],
  ['grant', 'verify', '--resource', 'profile/email', '--action', 'read'],
  ['agent', 'verify', '--aud', 'did:web:api.example', '--nonce', 'n', '--action', 'buy'],
  ['sd-jwt', 'verify'],
  ['mandate', 'verify', '--profile', 'ap2'],
  ['mandate', 'verify', '--profile', 'verifiable-intent'],
  ['evidence', 'verify'],
  ['did', 'resolve'],
];

let dir: string;
let files: Record<string, string>;
let vc: string;
let vp: string;

beforeAll(async () => {
  dir = tempDir('charter-hostile-');
  const alice = makeIssuer();
  const bob = makeIssuer();
  vc = (await issueCredential({ issuer: alice, subject: bob.did, type: 'Membership', claims: { level: 1 } })).jwt;
  vp = await createPresentation({ holder: bob, credentials: [vc], aud: 'did:web:api.example', nonce: 'n' });
  const contents: Record<string, string | Buffer> = {
    empty: '',
    binary: Buffer.from([0x00, 0xff, 0xfe, 0x80, 0x0a, 0xc3, 0x28]),
    bom: `\ufeff${vc.slice(0, -2)}`,
    nul: `${vc}\0`,
    huge: `${vc}${'A'.repeat(1024 * 1024)}`,
    duplicate: `{"type":"CharterEvidenceBundle","version":1,"type":"x"}`,
    deep: '['.repeat(200_000),
    'two tokens': `${vc}\n${vc}`,
    surrogate: `${vc.slice(0, 30)}\ud800${vc.slice(31)}`,
  };
  files = {};
  for (const [name, c] of Object.entries(contents)) writeFileSync((files[name] = join(dir, name)), c);
  mkdirSync((files.directory = join(dir, 'a directory')));
}, 60_000);

describe('the readers, in process, under hostile arguments and files', () => {
  const run = () => inProcess(join(dir, 'no home'), () => 'no passphrase');

  it('every hostile file and argument, at every reader: a listed exit code and one JSON document with a listed code', async () => {
    const args = [...Object.values(files), '', '-', 'a.b.c', 'a\0.b.c', '\ud800', 'x'.repeat(2_000_000), '--', '-x', 'did:web:%00', `${vc}~~`];
    const wrong: string[] = [];
    for (const reader of READERS)
      for (const a of args) {
        // --json first: after `--` every word is an argument.
        const r = await run()([...reader, '--json', a]);
        try {
          wellFormed({ code: r.code, out: r.out }, `${reader.slice(0, 2).join(' ')} ${JSON.stringify(a.slice(0, 60))}`);
        } catch (e) {
          wrong.push((e as Error).message);
        }
      }
    expect(wrong).toEqual([]);
  }, 120_000);

  it('a real credential or presentation changed after signing never exits 0 (property)', async () => {
    const cut = (t: string) =>
      fc.oneof(
        fc.tuple(fc.nat(t.length - 1), fc.constantFrom('A', 'B', '-', '_', '.', '~', '\0', '\ud800')).map(([i, c]) => t.slice(0, i) + (t[i] === c ? 'C' : c) + t.slice(i + 1)),
        fc.nat(t.length - 1).map((i) => t.slice(0, i)),
      );
    const cases = fc.oneof(
      cut(vc).map((t) => [['vc', 'verify'], t] as const),
      cut(vp).map((t) => [['vp', 'verify', '--aud', 'did:web:api.example', '--nonce', 'n'], t] as const),
    );
    await fc.assert(
      fc.asyncProperty(cases, fc.boolean(), async ([reader, token], asFile) => {
        let arg = token;
        if (asFile) writeFileSync((arg = join(dir, 'token')), token);
        const r = await run()([...reader, arg, '--json'], token);
        wellFormed({ code: r.code, out: r.out }, `${reader.join(' ')} ${JSON.stringify(token.slice(0, 80))}`);
      }),
      { numRuns: 60, seed: SEED, endOnFailure: true },
    );
  }, 120_000);
});

describe('the built CLI, as a user runs it', () => {
  it('a directory, an empty, binary, oversized or twice-named file: exit 2 and one JSON error with a listed code', async () => {
    const env = freshEnv();
    for (const [reader, file] of [
      [['vc', 'verify'], files.directory!],
      [['vc', 'verify'], files.empty!],
      [['vp', 'verify', '--aud', 'a', '--nonce', 'n'], files.binary!],
      [['vc', 'verify'], files.huge!],
      [['evidence', 'verify'], files.duplicate!],
      [['evidence', 'verify'], files.deep!],
    ] as const) {
      const r = await charter([...reader, file, '--json'], env);
      wellFormed({ code: r.code, out: r.stdout }, `${reader.join(' ')} ${file}`);
      expect([file, r.code]).toEqual([file, 2]);
    }
    // The oversized file names the cap; the twice-named member is refused, not read the way JSON.parse would.
    expect(json<{ error: { code: string } }>(await charter(['vc', 'verify', files.huge!, '--json'], env)).error.code).toBe('INPUT_TOO_LARGE');
    expect(json<{ error: { message: string } }>(await charter(['evidence', 'verify', files.duplicate!, '--json'], env)).error.message).toMatch(/twice|duplicate/i);
  }, 60_000);

  it('a path megabytes long is cut short in the error, not echoed whole', async () => {
    const r = await charter(['evidence', 'verify', `${dir}/${'x'.repeat(100_000)}`, '--json'], freshEnv());
    wellFormed({ code: r.code, out: r.stdout }, 'evidence verify <100 KB path>');
    expect(r.stdout.length + r.stderr.length).toBeLessThan(4000);
  }, 60_000);
});
