import { readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../src/guard/decide.js';
import { createVerifier, type Verifier } from '../../src/guard/verifier.js';
import { exportEvidence, verifyAuditLog, verifyEvidence } from '../../src/audit/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { signJwt } from '../../src/credentials/jws.js';
import { sha256Digest } from '../../src/encoding/json.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { openPostgresStore } from '../../src/store/postgres/index.js';
import type { Store } from '../../src/store/types.js';
import { bound } from '../http/present.js';
import { API, openWorld, type World } from '../http/world.js';
import { tempDir } from '../helpers.js';
import { dropSchemas, freshSchema, pgUrlOrReport } from '../store/fixtures/pg-env.js';

/**
 * What a receipts verifier keeps of what a caller sent. The bytes of a proof
 * (what decoded as a vp+jwt, an SD-JWT with its key binding JWT, a mandate
 * chain) are evidence: kept, so a refusal re-checks offline. Anything else (a
 * bearer token meant for another service, junk) is kept as its hash only: a
 * third party's secret never lands in the log or a bundle, and text a store
 * cannot hold (a NUL, a lone surrogate) never fails the decisions logged
 * beside it.
 */
let w: World;
let shop: Issuer;
beforeAll(async () => {
  w = await openWorld();
  await w.home.createIdentity({ alias: 'shop' });
  shop = await w.home.issuer('shop');
}, 30_000);
afterAll(async () => w?.close());

const policy = () => ({ kind: 'grant' as const, resource: 'profile/email', action: 'read', owner: w.alice.did });
const binding = { kind: 'claims' as const, claims: { htm: 'GET', htu: 'http://127.0.0.1:9999/profile/email' } };

/** Every byte the SQLite store holds on disk (its file and its write-ahead log). */
function onDisk(path: string): string {
  return [path, `${path}-wal`]
    .filter((p) => existsSync(p))
    .map((p) => readFileSync(p).toString('latin1'))
    .join('');
}

const foreign: Array<[string, () => Promise<string>]> = [
  ['an opaque API token', async () => 'ghp_S3cr3tT0kenForAnotherService0123456789'],
  [
    'an OAuth access token (a JWT of typ at+jwt)',
    async () => signJwt({ typ: 'at+jwt' }, { iss: 'https://idp.example', sub: 'u1', aud: API, scope: 'repo', secret: 'oauth-secret-claim' }, w.app.signer, w.app.kid),
  ],
  [
    'a plain JWT with no vp claim',
    async () => signJwt({ typ: 'JWT' }, { iss: w.app.did, aud: API, iat: Math.floor(Date.now() / 1000), jti: 'plain-jwt-secret-claim' }, w.app.signer, w.app.kid),
  ],
  ['three dots of junk', async () => 'aaa.bbb.ccc-junk-secret'],
];

describe('a receipts verifier keeps the bytes of proofs only', () => {
  let v: Verifier;
  let db: string;
  let store: Store;
  beforeAll(async () => {
    db = join(tempDir('charter-kept-'), 'api.db');
    store = await openSqliteStore(db);
    v = createVerifier({ aud: API, store, resolver: w.resolver, status: w.status, http: false, receipts: { signer: shop } });
  });
  afterAll(async () => store?.close());

  it.each(foreign)('%s: refused with a receipt holding its hash, its bytes neither in the store nor in the bundle', async (_name, make) => {
    const token = await make();
    const d = await decide(v, token, policy(), binding);
    expect(d.ok).toBe(false);
    expect(d.receiptId).toBeDefined();
    await v.receipts!.flush();
    const bundle = await exportEvidence(store, d.receiptId!, { signer: shop });
    expect(bundle.presentation).toBeUndefined();
    // The receipt still names what was sent, by hash: its sender can prove which token it was.
    const e = await verifyEvidence(bundle);
    expect(e.receipt).toMatchObject({ decision: 'deny', vp: sha256Digest(token) });
    expect(
      e.parts
        .find((p) => p.part === 'presentation')
        ?.reasons.map((r) => r.message)
        .join(),
    ).toMatch(/not kept/);
    // The sender may add its own bytes to the bundle: checked against the recorded hash.
    const added = await verifyEvidence({ ...bundle, presentation: token });
    expect(added.parts.find((p) => p.part === 'presentation')?.ok).toBe(true);
    const disk = onDisk(db);
    expect(disk.includes(token)).toBe(false);
    for (const part of token.split('.')) if (part.length > 8) expect(disk.includes(part)).toBe(false);
  });

  it('proofs refused before any signature (a vp+jwt for another audience, another request) are kept: their bundles re-check offline', async () => {
    const g = await w.grant();
    for (const vp of [await bound(w.app, [g.jwt], { aud: 'did:web:other.example' }), await bound(w.app, [g.jwt], { url: 'http://127.0.0.1:9999/profile/phone' })]) {
      const d = await decide(v, vp, policy(), binding);
      expect([d.ok, d.status]).toEqual([false, 401]);
      await v.receipts!.flush();
      const bundle = await exportEvidence(store, d.receiptId!, { signer: shop });
      expect(bundle.presentation).toBe(vp);
      const e = await verifyEvidence(bundle);
      expect(e.parts.filter((p) => !p.ok)).toEqual([]);
      expect(e.ok).toBe(true);
    }
  });

  it('an allowed presentation is kept, and its bundle verifies', async () => {
    const g = await w.grant();
    const vp = await bound(w.app, [g.jwt]);
    const d = await decide(v, vp, policy(), binding);
    expect(d.ok).toBe(true);
    await v.receipts!.flush();
    const bundle = await exportEvidence(store, d.receiptId!, { signer: shop });
    expect(bundle.presentation).toBe(vp);
    expect((await verifyEvidence(bundle)).ok).toBe(true);
  });
});

/** Text PostgreSQL's TEXT refuses (NUL) or UTF-8 cannot hold (a lone surrogate): sent by one caller among honest ones. */
const unstorable = ['junk\u0000', 'eyJhbGciOiJFZERTQSJ9.\u0000.x', 'a\ud800b', '\udc00'];

async function batchOfHonestAndJunk(store: Store, append: 'before-reply' | 'after-reply'): Promise<void> {
  const v = createVerifier({ aud: API, store, resolver: w.resolver, status: w.status, http: false, receipts: { signer: shop, append } });
  const g = await w.grant();
  const honest = await Promise.all(Array.from({ length: 12 }, () => bound(w.app, [g.jwt])));
  // Interleaved, so the junk shares the honest decisions' group-committed batches.
  const calls = honest.flatMap((vp, i) => [decide(v, vp, policy(), binding), decide(v, unstorable[i % unstorable.length]!, policy(), binding)]);
  const results = await Promise.all(calls);
  const mine = results.filter((_, i) => i % 2 === 0);
  const junk = results.filter((_, i) => i % 2 === 1);
  expect(mine.map((d) => [d.ok, d.status])).toEqual(Array(12).fill([true, 200]));
  // The junk is refused for what it is (never a 503 for the store), with a receipt like any refusal.
  expect(junk.every((d) => !d.ok && d.status === 401 && d.receiptId !== undefined)).toBe(true);
  await v.receipts!.flush();
  const log = await verifyAuditLog(store, { resolver: w.resolver });
  expect(log.ok).toBe(true);
  expect(log.chains.find((c) => c.chain === v.receipts!.chain)?.entries).toBe(24);
  const bundle = await exportEvidence(store, junk[0]!.receiptId!, { signer: shop });
  expect(bundle.presentation).toBeUndefined();
  expect((await verifyEvidence(await exportEvidence(store, mine[0]!.receiptId!, { signer: shop }))).ok).toBe(true);
}

describe('text a store cannot hold, sent among honest requests', () => {
  it.each(['before-reply', 'after-reply'] as const)('SQLite, the log written %s: every honest decision allowed and logged', async (append) => {
    const store = await openSqliteStore(join(tempDir('charter-nul-'), 'api.db'));
    try {
      await batchOfHonestAndJunk(store, append);
    } finally {
      await store.close();
    }
  });

  const url = pgUrlOrReport('unstorable presentations on postgres');
  it.runIf(url !== undefined).each(['before-reply', 'after-reply'] as const)(
    'PostgreSQL, the log written %s: every honest decision allowed and logged',
    async (append) => {
      const schema = freshSchema(`nul_${append.replace('-', '_')}`);
      const store = await openPostgresStore(url!, { schema });
      try {
        await batchOfHonestAndJunk(store, append);
      } finally {
        await store.close();
        await dropSchemas(url!, [schema]);
      }
    },
    60_000,
  );
});
