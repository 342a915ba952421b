import type { ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import { didKeyRef } from '../../src/did/index.js';
import { createPresentation, issueCredential, recordCredential, schemaIdFor } from '../../src/credentials/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { openHome, type Home } from '../../src/home/home.js';
import { decide } from '../../src/guard/decide.js';
import { exportEvidence } from '../../src/audit/index.js';
import { formatReasons, visible } from '../../src/cli/io.js';
import * as format from '../../src/cli/format.js';
import { bound, URL_ } from '../http/present.js';
import { openWorld, type World } from '../http/world.js';
import { tempDir } from '../helpers.js';
import { charter, freePort, freshEnv, json, startServe } from './harness.js';

/*
 * Human output shows strings other parties chose: a credential's type, issuer
 * and kid, an agent's display name, a bundle's own member names, an
 * attestation's claimed id, an MCP tool name. Each is printed on one line with
 * every control and invisible character a visible \uXXXX escape, so none can
 * forge a line ("✓ valid credential", "├─ ✓ operator …", "imported 25", an
 * "allow" row) or hide and reorder what is read. JSON output keeps the values.
 */

/** Each way a value has tried to start a line of its own, or to hide. */
const BREAKS: Record<string, string> = {
  lf: '\n',
  crlf: '\r\n',
  cr: '\r',
  ls: '\u2028',
  ps: '\u2029',
  nel: '\u0085',
  vt: '\u000b',
  ff: '\u000c',
};
const HIDERS = ['\u200b', '\u200e', '\u200f', '\u202e', '\u2066', '\u061c', '\ufeff', '\u001b[2J\u001b[32m', '\u3164', '\u00ad', '\u{e0041}'];

/** Through the module, so the end-to-end tests below still run (and fail) on a format.ts without oneLine. */
const oneLine = (v: unknown, max?: number): string => (format as unknown as { oneLine: (v: unknown, max?: number) => string }).oneLine(v, max);
const { table, tree } = format;

/** Every line a terminal (or a viewer that honours U+2028/2029, NEL, VT, FF) would show. */
// eslint-disable-next-line no-control-regex -- the line breaks a value must not hold
const shownLines = (s: string) => s.split(/\r\n|[\n\r\u2028\u2029\u0085\u000b\u000c]/);
/** What must never reach the terminal as it is (newline and tab are the document's own). */
const RAW = /(?![\n\t])[\p{Cc}\p{Cf}\p{Cs}\p{Zl}\p{Zp}\p{Default_Ignorable_Code_Point}\p{Bidi_Control}]|[^\S \n\t]/u;

/** No line of `out` begins (after indentation and tree drawing) with `forged`, nothing unsafe is printed raw, and `escaped` is shown. */
function holds(out: string, forged: RegExp, escaped: string[]): void {
  for (const l of shownLines(out)) expect(l.replace(/^[\s│├└─]+/u, ''), out).not.toMatch(forged);
  expect(out).not.toMatch(RAW);
  for (const e of escaped) expect(out).toContain(e);
}

function keyOf(): Issuer {
  const kp = generateKeyPair('Ed25519');
  return { ...didKeyRef('key', kp.publicJwk), signer: createSigner(kp.privateJwk) };
}

/** A vc+jwt signed by `k` over exactly `payload` (issueCredential refuses such types; a forger does not use it). */
async function signed(k: Issuer, payload: Record<string, unknown>, kid = k.kid): Promise<string> {
  const h = Buffer.from(JSON.stringify({ alg: k.signer.alg, kid, typ: 'vc+jwt', cty: 'vc' })).toString('base64url');
  const p = Buffer.from(JSON.stringify(payload)).toString('base64url');
  return `${h}.${p}.${Buffer.from(await k.signer.sign(new TextEncoder().encode(`${h}.${p}`))).toString('base64url')}`;
}

const vcPayload = (k: Issuer, over: Record<string, unknown> = {}) => ({
  '@context': ['https://www.w3.org/ns/credentials/v2'],
  id: 'urn:uuid:00000000-0000-4000-8000-000000000001',
  type: ['VerifiableCredential', 'EmailCredential'],
  issuer: k.did,
  validFrom: new Date(Date.now() - 1000).toISOString(),
  credentialSubject: { id: 'did:example:bob', name: 'x' },
  ...over,
});

const FORGED_VC = /^(✓ valid credential|issuer: +did:web:gov\.example|subject: +did:web:gov\.example)/;

describe('the renderers themselves: oneLine, table, tree, formatReasons, visible', () => {
  it('oneLine escapes every break and hider, keeps plain text, caps with max, and never throws', () => {
    // eslint-disable-next-line no-control-regex -- the line breaks a value must not hold
    for (const [name, b] of Object.entries(BREAKS)) expect(oneLine(`a${b}✓ b`), name).not.toMatch(/[\n\r\u2028\u2029\u0085\u000b\u000c]/);
    expect(oneLine('a\r\nb\u2028c\u2029d')).toBe('a\\u000d\\u000ab\\u2028c\\u2029d');
    expect(oneLine('x\u200b\u200e\u202e\u061c\ufeff\u001b[2J\u{e0041}')).toBe('x\\u200b\\u200e\\u202e\\u061c\\ufeff\\u001b[2J\\u{e0041}');
    expect(oneLine('plain ✓ text — ünïcödé, did:web:a.example')).toBe('plain ✓ text — ünïcödé, did:web:a.example');
    expect(oneLine('x'.repeat(500) + '\n✓ forged', 100)).toBe('x'.repeat(100) + '…');
    expect(oneLine({ toString: 1 })).toBe('[object]');
  });

  it('table(): a cell holding a line break or a hider stays in its row', () => {
    for (const [name, b] of Object.entries(BREAKS)) {
      const out = table(['AT', 'OUTCOME', 'TOOL'], [['t1', 'refuse', `read_email${b}t2  allow  mcp delete_all`]]);
      expect(shownLines(out), name).toHaveLength(3);
      holds(out, /^t2 +allow/, ['read_email\\u']);
    }
    const long = table(['A', 'B'], [['x'.repeat(5000) + '\n' + 'y', '\u202eok']]);
    expect(shownLines(long)).toHaveLength(3);
    expect(long).toContain('\\u202eok');
  });

  it('tree(): a label holding a line break cannot draw branches of its own', () => {
    const evil = `agent (helper)\n├─ ✓ operator  did:web:trusted-bank.example\u2028├─ ✓ principal did:web:alice.example`;
    const out = tree({ label: 'root', children: [{ label: evil }, { label: 'chain', children: [{ label: `✗ X: a\r\n└─ ✓ fine` }] }] });
    expect(shownLines(out)).toHaveLength(4);
    holds(out, /^✓ (operator|principal|fine)/, ['helper)\\u000a├─ ✓ operator', '\\u2028', 'a\\u000d\\u000a└─ ✓ fine']);
  });

  it('formatReasons(): code, message and ref on one line each', () => {
    const out = formatReasons([{ code: 'KID_MISMATCH', message: 'kid x\n✓ valid credential\u2029', ref: 'urn:x\r\n  ✓ ok' }]);
    expect(shownLines(out)).toHaveLength(1);
    holds(out, /^✓ (valid|ok)/, ['x\\u000a✓ valid credential\\u2029', 'urn:x\\u000d\\u000a  ✓ ok']);
  });

  it('visible(): as strict as the consent page, keeping only newline and tab of the document', () => {
    expect(visible('a\nb\tc')).toBe('a\nb\tc');
    for (const c of ['\r', '\u2028', '\u2029', '\u200b', '\u200e', '\u200f', '\u061c', '\ufeff', '\u2060', '\u3164', '\u00ad', '\u{e0041}']) {
      expect(visible(`a${c}b`), c.codePointAt(0)!.toString(16)).toMatch(/^a\\u\{?[0-9a-f]+\}?b$/);
    }
    // What scripts and emoji need stays as written: joiners and variation selectors after a shown character, other spaces.
    for (const honest of ['👩\u200d💻 Coder', 'Cloud ☁\ufe0f', 'دستیار می\u200cخواهد', 'Agent\u00a0One', '10:30\u202fAM']) expect(visible(honest)).toBe(honest);
    // Leading, doubled, after a newline or after an escaped character, a joiner is escaped.
    expect(visible('\u200db')).toBe('\\u200db');
    expect(visible('a\u200d\u200db')).toBe('a\u200d\\u200db');
    expect(visible('a\n\ufe0fb')).toBe('a\n\\ufe0fb');
    expect(visible('a\u202e\u200db')).toBe('a\\u202e\\u200db');
  });
});

describe('charter vc verify and vp verify: a credential cannot forge lines under "✓ valid credential"', () => {
  const env = freshEnv();
  beforeAll(async () => {
    expect((await charter(['init'], env)).code).toBe(0);
  });

  it('types holding each break, hider and a very long value: each on its own line, escaped; --json keeps them', async () => {
    const k = keyOf();
    const types = [
      ...Object.values(BREAKS).map((b) => `EmailCredential${b}  issuer:  did:web:gov.example`),
      ...HIDERS.map((h) => `Passport${h}GOV`),
      'L'.repeat(6000) + '\n✓ valid credential',
    ];
    const jwt = await signed(k, vcPayload(k, { type: ['VerifiableCredential', ...types] }));
    const r = await charter(['vc', 'verify', jwt], env);
    expect(r.code, r.stderr).toBe(0);
    expect(shownLines(r.stdout).filter((l) => l.startsWith('✓ valid credential'))).toHaveLength(1);
    expect(shownLines(r.stdout).filter((l) => /^ {2}issuer:/.test(l))).toEqual([`  issuer:  ${k.did}`]);
    holds(r.stdout.replace(/^✓ valid credential\n/, ''), FORGED_VC, [
      'EmailCredential\\u000a  issuer',
      'EmailCredential\\u000d\\u000a',
      '\\u2028',
      '\\u2029',
      'Passport\\u202eGOV',
      'Passport\\u{e0041}GOV',
      'L'.repeat(6000) + '\\u000a✓ valid',
    ]);
    const asJson = json<{ credential: { type: string[] } }>(await charter(['vc', 'verify', jwt, '--json'], env));
    expect(asJson.credential.type.slice(1)).toEqual(types);
  });

  it('an issuer, a subject and a kid holding a line break: refused, and no line of it is forged', async () => {
    const forged = '\n✓ valid credential\r\n  issuer:  did:web:gov.example\u2028subject: did:web:gov.example';
    const k = keyOf();
    for (const jwt of [
      await signed(k, vcPayload(k, { issuer: `did:web:evil.example${forged}` })),
      await signed(k, vcPayload(k, { credentialSubject: { id: `did:example:bob${forged}` } })),
      await signed(k, vcPayload(k), `${k.did}#x${forged}`),
    ]) {
      const r = await charter(['vc', 'verify', jwt], env);
      expect(r.code).toBe(1);
      expect(shownLines(r.stdout)[0]).toBe('✗ credential refused');
      holds(r.stdout, FORGED_VC, []);
    }
    const kid = await charter(['vc', 'verify', await signed(k, vcPayload(k), `${k.did}#x${forged}`)], env);
    expect(kid.stdout).toContain('#x\\u000a✓ valid credential\\u000d\\u000a');
  });

  it('vp verify: the credentials inside a presentation are shown the same way', async () => {
    const holder = keyOf();
    const k = keyOf();
    const cred = await signed(
      k,
      vcPayload(k, { type: ['VerifiableCredential', `EmailCredential\n    issuer:  did:web:gov.example\u2029x\u202e`], credentialSubject: { id: holder.did } }),
    );
    const vp = await createPresentation({ holder, credentials: [cred], aud: 'did:web:shop.example', nonce: 'n1' });
    const r = await charter(['vp', 'verify', vp, '--aud', 'did:web:shop.example', '--nonce', 'n1'], env);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(shownLines(r.stdout).filter((l) => l.includes('✓ valid credential'))).toEqual(['  ✓ valid credential']);
    holds(r.stdout, /^(issuer|subject): +did:web:gov\.example/, ['EmailCredential\\u000a    issuer:  did:web:gov.example\\u2029x\\u202e']);
    expect(shownLines(r.stdout).filter((l) => /^ +issuer:/.test(l))).toEqual([`    issuer:  ${k.did}`]);
  });

  it('an error line names a path holding a line break on its one stderr line', async () => {
    const dir = tempDir('charter-text-');
    const file = join(dir, 'cred\n✓ valid credential\u2028x');
    writeFileSync(file, 'not a jwt');
    const r = await charter(['vc', 'verify', file], env);
    expect(r.code).toBe(2);
    expect(shownLines(r.stderr.trimEnd())).toHaveLength(1);
    holds(r.stderr, FORGED_VC, ['cred\\u000a✓ valid credential\\u2028x']);
  });
});

describe('charter agent create and agent verify: an agent name cannot draw tree lines', () => {
  let server: ChildProcess | undefined;
  afterAll(() => {
    server?.kill('SIGTERM');
  });

  it('agent create refuses a --name, --software or --model with a control or invisible character, or over 128 characters (INVALID_ARGUMENT), and makes nothing', async () => {
    const env = freshEnv({ CHARTER_ALLOW_LOOPBACK: '1' });
    expect((await charter(['init'], env)).code).toBe(0);
    expect((await charter(['id', 'create', '--alias', 'op'], env)).code).toBe(0);
    const bad: string[][] = [
      ...['\n', '\r\n', '\u2028', '\u2029', '\u200b', '\u202e', '\u061c', '\u001b[2J'].map((c) => ['--name', `helper${c}x`]),
      ['--name', 'n'.repeat(129)],
      ['--software', 'bot\u202e@1.0'],
      ['--software', 'bot@1.0\n✓'],
      ['--model', 'm\u2028x'],
      ['--model', 'm'.repeat(129)],
    ];
    const runs = await Promise.all(bad.map((args, i) => charter(['agent', 'create', '--as', 'op', '--alias', `bot${i}`, ...args], env)));
    for (const [i, r] of runs.entries()) {
      expect(r.code, JSON.stringify(bad[i])).toBe(2);
      expect(r.stderr).toContain('[INVALID_ARGUMENT]');
    }
    const ids = json<Array<{ alias: string }>>(await charter(['id', 'list', '--json'], env)).map((x) => x.alias);
    expect(ids).toEqual(['op']);
    expect((await charter(['agent', 'create', '--as', 'op', '--alias', 'ok', '--name', `Acme Shopper ${'n'.repeat(115)}`, '--model', 'm-1'], env)).code).toBe(0);
  }, 240_000);

  it('agent verify shows a name another operator signed (with breaks and hiders) on the agent line, escaped', async () => {
    const port = await freePort();
    const env = freshEnv({ CHARTER_ALLOW_LOOPBACK: '1' });
    expect((await charter(['init', '--public-url', `http://127.0.0.1:${port}`], env)).code).toBe(0);
    for (const a of ['op', 'alice', 'shop']) expect((await charter(['id', 'create', '--alias', a], env)).code).toBe(0);
    expect((await charter(['agent', 'create', '--as', 'op', '--alias', 'bot', '--name', 'Bot'], env)).code).toBe(0);
    const name = 'helper)\n├─ ✓ operator  did:web:trusted-bank.example\r\n├─ ✓ principal did:web:alice.example\u2028└─ ✓ x\u2029│\u200b\u200e\u202e\u061c\ufeff\u001b[2J';
    // Another operator's software signs what it likes: a credential issueAgentIdentity would refuse.
    const home: Home = await openHome({ home: env.CHARTER_HOME!, env: {}, passphrase: async () => env.CHARTER_PASSPHRASE!, allowLoopback: true, create: false });
    try {
      const op = await home.issuer('op');
      const issued = await issueCredential({
        issuer: op,
        subject: (await home.identity('bot')).did,
        type: 'AgentIdentityCredential',
        claims: { agent: { name, operator: op.did } },
        validUntil: new Date(Date.now() + 86_400_000),
        credentialSchema: { id: schemaIdFor('AgentIdentityCredential')!, type: 'JsonSchema' },
      });
      await recordCredential(home.store, issued, { direction: 'issued', types: ['AgentIdentityCredential'] });
    } finally {
      await home.close();
    }
    server = await startServe(env, port);
    expect((await charter(['agent', 'authorize', '--as', 'alice', '--agent', 'bot', '--action', 'purchase', '--max', '50USD'], env)).code).toBe(0);
    const vp = await charter(['agent', 'present', '--as', 'bot', '--aud', 'shop', '--nonce', 'n1'], env);
    expect(vp.code, vp.stderr).toBe(0);
    const file = join(env.HOME!, 'vp.jwt');
    writeFileSync(file, vp.stdout.trim());
    const args = ['agent', 'verify', file, '--aud', 'shop', '--nonce', 'n1', '--action', 'purchase', '--amount', '10USD', '--any-principal'];
    const r = await charter(args, env);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    holds(r.stdout, /^✓ (operator|principal) +did:web:|^✓ x/, [
      '(helper)\\u000a├─ ✓ operator  did:web:trusted-bank.example\\u000d\\u000a├─ ✓ principal',
      '\\u2028└─ ✓ x\\u2029│\\u200b\\u200e\\u202e\\u061c\\ufeff\\u001b[2J)',
    ]);
    expect(shownLines(r.stdout).filter((l) => /^[├└]─ . operator/.test(l))).toHaveLength(1);
    expect(shownLines(r.stdout).filter((l) => /^[├└]─ . principal/.test(l))).toHaveLength(1);
    const asJson = json<{ agentInfo: { name: string } }>(await charter([...args, '--json'], env));
    expect(asJson.agentInfo.name).toBe(name);
  }, 240_000);
});

describe('bundles, logs and feeds of others: evidence verify, audit list, rep import, grant list', () => {
  let w: World;
  let api: Issuer;
  let dir: string;
  const passEnv = () => ({ ...freshEnv(), CHARTER_PASSPHRASE: 'http tests passphrase' });
  beforeAll(async () => {
    w = await openWorld();
    await w.home.createIdentity({ alias: 'api' });
    api = await w.home.issuer('api');
    dir = (w.home as unknown as { dir: string }).dir;
  });
  afterAll(async () => w.close());

  it('evidence verify: a tampered bundle names parts with breaks, hiders and a long key, and prints no "✓" line of its own', async () => {
    const v = w.verifier({ store: w.home.store as never, receipts: { signer: api }, http: false });
    const g = await w.grant();
    const vp = await bound(w.app, [g.jwt]);
    const d = await decide(v, vp, { kind: 'grant', resource: 'profile/email', action: 'read', owner: w.alice.did }, { kind: 'claims', claims: { htm: 'GET', htu: URL_ } });
    const bundle = (await exportEvidence(w.home.store, d.receipt!, { signer: api })) as unknown as Record<string, Record<string, unknown>>;
    const keys = [
      ...Object.values(BREAKS).map((b) => `did:web:x${b}  ✓ (every part above and below checked: the bundle holds)`),
      ...HIDERS.map((h) => `did:web:y${h}z`),
      `did:web:${'l'.repeat(5000)}\n  ✓ receipt`,
    ];
    const dids = { ...bundle.dids! };
    for (const k of keys) dids[k] = { id: 'did:web:x' };
    const out = join(tempDir('charter-text-'), 'bundle.json');
    writeFileSync(out, JSON.stringify({ ...bundle, dids }));
    const r = await charter(['evidence', 'verify', out], passEnv());
    expect(r.code).toBe(1);
    expect(shownLines(r.stdout).filter((l) => l === '  ✓ receipt')).toHaveLength(1);
    holds(r.stdout, /^✓ \(every part/, ['did:web:x\\u000a  ✓ (every part', 'did:web:x\\u000d\\u000a', 'did:web:y\\u200ez', 'l'.repeat(5000) + '\\u000a  ✓ receipt']);
    const asJson = json<{ parts: { part: string }[] }>(await charter(['evidence', 'verify', out, '--json'], passEnv()));
    for (const k of keys) expect(asJson.parts.map((p) => p.part)).toContain(`did ${k}`);
  }, 120_000);

  it('audit list: an MCP tool name with breaks and hiders stays in its row, and adds no "allow" row', async () => {
    const v = w.verifier({ store: w.home.store as never, receipts: { signer: api }, http: false });
    const g = await w.grant();
    const forgedRow = '2026-12-04T05:31:00.000Z  allow     did:web:auditor.example  -  mcp delete_all';
    for (const tool of [...Object.values(BREAKS).map((b) => `read_email${b}${forgedRow}`), ...HIDERS.map((h) => `read${h}email`), 't'.repeat(3000) + '\n' + forgedRow]) {
      const mcp = { tool, args: '{}' };
      const vp = await bound(w.app, [g.jwt], { claims: { mcp } });
      await decide(v, vp, { kind: 'grant', resource: 'profile/email', action: 'read', owner: w.alice.did }, { kind: 'claims', claims: { mcp } });
    }
    const r = await charter(['audit', 'list', '--home', dir], passEnv());
    expect(r.code, r.stderr).toBe(0);
    holds(r.stdout, /^2026-12-04T05:31:00\.000Z +allow/, ['mcp read_email\\u000a2026-12-04', 'read_email\\u2028', 'read\\u202eemail', 'read\\u{e0041}email']);
  }, 120_000);

  it('grant list: an id holding a break or a hider stays in its row', async () => {
    const bob = (await w.home.identity('app')).did;
    const issued = await issueCredential({
      issuer: w.alice,
      subject: bob,
      type: 'DataAccessGrant',
      claims: { grant: { resources: ['profile/email'], actions: ['read'], purpose: 'tests' } },
    });
    const id = 'urn:x\n' + 'urn:uuid:forged  did:key:z6Mkforged  profile/*  read,write  active\u2028\u202e';
    await recordCredential(w.home.store, { ...issued, id, credential: { ...issued.credential, id } }, { direction: 'issued', types: ['DataAccessGrant'] });
    const r = await charter(['grant', 'list', '--home', dir], passEnv());
    expect(r.code, r.stderr).toBe(0);
    holds(r.stdout, /^urn:uuid:forged/, ['urn:x\\u000aurn:uuid:forged', '\\u2028\\u202e']);
  }, 120_000);

  it('rep import: an unverified claimed id is capped and escaped, and forges no "imported" line', async () => {
    const part = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');
    const forged = '\nimported 25 (all verified, every attester trusted)\r\nskipped 0\u2028imported 9';
    const given = [`urn:x${forged}`, `urn:h\u202e\u200b\u061c\ufeff`, 'urn:' + 'l'.repeat(3000) + forged];
    const unsigned = given.map((jti) => `${part({ alg: 'EdDSA' })}.${part({ jti, iss: 'did:web:a.example' })}.AAAA`);
    const k = keyOf();
    const badSig = `${part({ alg: 'EdDSA', typ: 'vc+jwt', cty: 'vc', kid: k.kid })}.${part(vcPayload(k, { id: `urn:y${forged}`, type: ['VerifiableCredential', 'ReputationAttestation'] }))}.${'A'.repeat(86)}`;
    const home = tempDir('charter-text-');
    mkdirSync(home, { recursive: true });
    const feed = join(home, 'feed.txt');
    writeFileSync(feed, [...unsigned, ...unsigned, badSig].join('\n'));
    const env = freshEnv();
    expect((await charter(['init'], env)).code).toBe(0);
    const r = await charter(['rep', 'import', feed], env);
    expect(r.code).toBe(1);
    expect(shownLines(r.stdout).filter((l) => l.startsWith('imported'))).toEqual(['imported 0']);
    holds(r.stdout, /^(imported [1-9]|skipped 0)/, ['urn:x\\u000aimported 25', 'urn:h\\u202e\\u200b\\u061c\\ufeff']);
    for (const l of shownLines(r.stdout)) expect(l.length).toBeLessThan(400);
    expect(r.stdout).toContain('l'.repeat(50));
    expect(r.stdout).toContain('…');
  }, 120_000);
});
