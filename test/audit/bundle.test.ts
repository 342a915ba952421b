import { rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import net from 'node:net';
import type { PublicJwk } from '../../src/keys/types.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import fc from 'fast-check';
import { createPresentation } from '../../src/credentials/index.js';
import { orderChain } from '../../src/agents/index.js';
import { issueGrant } from '../../src/grants/index.js';
import { decide } from '../../src/guard/decide.js';
import { guardTransaction } from '../../src/guard/transaction.js';
import { createVerifier, type Verifier } from '../../src/guard/verifier.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { decodeReceipt, exportEvidence, verifyEvidence, type EvidenceBundle, type EvidenceVerification } from '../../src/audit/index.js';
import type { DecisionReceipt, SettlementReceipt } from '../../src/audit/receipt.js';
import { CHECKPOINT_TYP, RECEIPT_TYP, signCanonical, signPayload } from '../../src/audit/jws.js';
import { randomUUID } from 'node:crypto';
import { bound } from '../http/present.js';
import { API, openWorld, type World } from '../http/world.js';
import { tempDir } from '../helpers.js';
import { Readable } from 'node:stream';
import { runCli } from '../../src/cli/main.js';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import { canonicalJson, sha256Digest } from '../../src/encoding/json.js';

/**
 * Evidence bundles: exported from the verifier's store, verified with the
 * network off (the home's server closed, no socket opened) and the store
 * deleted; then one byte flipped in each part in turn, each caught and named.
 * The verifier and the grantor are did:web identities served by the home, so
 * their documents must come from the bundle once the server is gone.
 */
let w: World;
let dir: string;
let apiStore: Store;
let verifier: Verifier;
/** The verifier's (did:web) public key, as an auditor keeps it from its DID document. */
let shopKey: PublicJwk;
const bundles: Record<'grant' | 'agent' | 'denied', EvidenceBundle> = {} as never;

beforeAll(async () => {
  w = await openWorld();
  const host = `127.0.0.1%3A${new URL(w.server.url).port}`;
  await w.home.createIdentity({ alias: 'shop', method: 'web', domain: `${host}:shop` });
  await w.home.createIdentity({ alias: 'carol', method: 'web', domain: `${host}:carol` });
  dir = tempDir('charter-bundle-');
  apiStore = await openSqliteStore(join(dir, 'api.db'));
  const shopSigner = await w.home.issuer('shop');
  shopKey = shopSigner.publicJwk;
  verifier = createVerifier({ aud: API, store: apiStore, resolver: w.resolver, status: w.status, http: false, receipts: { signer: shopSigner } });
  const carol = await w.home.issuer('carol');
  const grant = await issueGrant(w.home.store, carol, {
    grantee: w.app.did,
    resources: ['profile/email'],
    actions: ['read'],
    purpose: 'order updates',
    validUntil: new Date(Date.now() + 86_400_000),
    baseUrl: w.server.url,
  });
  const url = 'http://127.0.0.1:9999/profile/email';
  const allowed = await decide(
    verifier,
    await bound(w.app, [grant.jwt], { url }),
    { kind: 'grant', resource: 'profile/email', action: 'read', owner: carol.did },
    { kind: 'claims', claims: { htm: 'GET', htu: url } },
  );
  expect(allowed.ok).toBe(true);
  const denied = await decide(
    verifier,
    await bound(w.app, [grant.jwt], { url }),
    { kind: 'grant', resource: 'profile/phone', action: 'read', owner: carol.did },
    { kind: 'claims', claims: { htm: 'GET', htu: url } },
  );
  expect(denied.reasons.map((r) => r.code)).toEqual(['GRANT_SCOPE']);
  const mandate = await w.mandate();
  const vp = await createPresentation({ holder: w.agent, credentials: [w.agentIdentity, ...orderChain([mandate])], aud: API });
  const paid = await guardTransaction(vp, { verifier, action: 'purchase', amount: '25 USD', trust: { principals: [w.principal.did] } }, () => 'paid');
  expect(paid).toMatchObject({ ok: true, spend: 'committed' });
  await verifier.receipts!.checkpoint();
  bundles.grant = await exportEvidence(apiStore, allowed.receiptId!);
  bundles.denied = await exportEvidence(apiStore, denied.receipt!);
  bundles.agent = await exportEvidence(apiStore, paid.ok ? paid.receipt! : '');
  for (const [k, b] of Object.entries(bundles)) writeFileSync(join(dir, `${k}.json`), JSON.stringify(b));
}, 60_000);
afterAll(async () => {
  await apiStore?.close().catch(() => undefined);
  await w?.close().catch(() => undefined);
});

const failing = (v: EvidenceVerification) => v.parts.filter((p) => !p.ok).map((p) => p.part);

describe('evidence bundles', () => {
  it('a bundle carries the receipt, the presentation, every credential, the documents and lists as used, the log segment to a checkpoint, and the settlement', () => {
    const b = bundles.agent;
    expect(b.credentials).toHaveLength(2);
    expect(Object.keys(b.dids).length).toBeGreaterThanOrEqual(4);
    expect(Object.keys(b.statusLists).length).toBeGreaterThanOrEqual(1);
    expect(b.log.entries[0]).toBe(b.receipt);
    expect(b.settlements).toHaveLength(1);
    expect(Object.keys(bundles.grant.dids).filter((d) => d.startsWith('did:web:'))).toHaveLength(2);
  });

  it('verifies with the network off and the verifier store deleted: every part, the decision re-run at the recorded time', async () => {
    await apiStore.close();
    await w.close();
    rmSync(join(dir, 'api.db'), { force: true });
    expect(existsSync(join(dir, 'api.db'))).toBe(false);
    // Nothing listens any more: the status lists and did:web documents cannot be fetched.
    await expect(fetch(`${w.server.url}/shop/did.json`)).rejects.toThrow();
    const connect = vi.spyOn(net.Socket.prototype, 'connect');
    try {
      for (const k of ['grant', 'denied', 'agent'] as const) {
        const v = await verifyEvidence(JSON.parse(readFileSync(join(dir, `${k}.json`), 'utf8')));
        expect(failing(v), k).toEqual([]);
        expect(v.ok).toBe(true);
      }
      expect(connect).not.toHaveBeenCalled();
    } finally {
      connect.mockRestore();
    }
    const g = await verifyEvidence(bundles.grant);
    expect(g.parts.map((p) => p.part)).toEqual(expect.arrayContaining(['receipt', 'presentation', 'credential 0', 'decision', 'log', 'checkpoint']));
    expect(g.verifierKey).toBe('recorded');
    expect(g.receipt).toMatchObject({ decision: 'allow' });
    expect((await verifyEvidence(bundles.denied)).receipt).toMatchObject({ decision: 'deny', reasons: ['GRANT_SCOPE'] });
  });

  it('--at: re-checked as of a time the credentials were not valid yet, the decision no longer holds', async () => {
    const v = await verifyEvidence(bundles.grant, { at: new Date(Date.now() - 7 * 86_400_000) });
    expect(failing(v)).toEqual(['decision']);
  });

  /** Every string part of a bundle, by the name verifyEvidence reports it under. */
  function parts(b: EvidenceBundle): { name: string; get: (x: EvidenceBundle) => string; set: (x: EvidenceBundle, v: string) => void }[] {
    const out: ReturnType<typeof parts> = [
      { name: 'receipt', get: (x) => x.receipt, set: (x, v) => void (x.receipt = v) },
      { name: 'presentation', get: (x) => x.presentation!, set: (x, v) => void (x.presentation = v) },
      { name: 'checkpoint', get: (x) => x.log.checkpoint, set: (x, v) => void (x.log.checkpoint = v) },
    ];
    b.credentials.forEach((_, i) => out.push({ name: `credential ${i}`, get: (x) => x.credentials[i]!, set: (x, v) => void (x.credentials[i] = v) }));
    b.log.entries.forEach((_, i) => out.push({ name: i === 0 ? 'log' : 'log', get: (x) => x.log.entries[i]!, set: (x, v) => void (x.log.entries[i] = v) }));
    b.settlements.forEach((_, i) => out.push({ name: `settlement ${i}`, get: (x) => x.settlements[i]!, set: (x, v) => void (x.settlements[i] = v) }));
    for (const url of Object.keys(b.statusLists)) out.push({ name: `status ${url}`, get: (x) => x.statusLists[url]!, set: (x, v) => void (x.statusLists[url] = v) });
    for (const did of Object.keys(b.dids)) {
      // A document's JSON text; flipped inside a string value, then parsed back.
      out.push({ name: `did ${did}`, get: (x) => JSON.stringify(x.dids[did]), set: (x, v) => void (x.dids[did] = JSON.parse(v)) });
    }
    return out;
  }

  /** Flips one character at `at` to another base64url character, staying inside a JSON string value for documents. */
  function flip(text: string, at: number, json: boolean): string | undefined {
    const positions = json
      ? [...text.matchAll(/"[^"]*"/g)].filter((m) => text[m.index! + m[0].length] !== ':').flatMap((m) => Array.from({ length: m[0].length - 2 }, (_, k) => m.index! + 1 + k))
      : [...text].map((_, i) => i);
    if (positions.length === 0) return undefined;
    const i = positions[at % positions.length]!;
    const c = text[i]!;
    const to = c === 'A' ? 'B' : 'A';
    return text.slice(0, i) + to + text.slice(i + 1);
  }

  it('one byte flipped in each part in turn is caught, and the failing part is named', async () => {
    for (const which of ['grant', 'agent'] as const) {
      const b = bundles[which];
      for (const p of parts(b)) {
        for (const at of [0, 17, 101, 1000, 4099]) {
          const copy = structuredClone(b);
          const flipped = flip(p.get(copy), at, p.name.startsWith('did '));
          if (flipped === undefined || flipped === p.get(copy)) continue;
          p.set(copy, flipped);
          const v = await verifyEvidence(copy);
          expect(v.ok, `${which}: ${p.name} @${at}`).toBe(false);
          expect(failing(v), `${which}: ${p.name} @${at}`).toContain(p.name);
        }
      }
    }
  }, 60_000);

  it('property: any single character changed anywhere in any part is caught', async () => {
    const b = bundles.agent;
    const all = parts(b);
    await fc.assert(
      fc.asyncProperty(fc.nat({ max: all.length - 1 }), fc.nat(), fc.constantFrom('A', 'z', '0', '_', '-', 'Q'), async (pi, pos, ch) => {
        const p = all[pi]!;
        const copy = structuredClone(b);
        const text = p.get(copy);
        const isDoc = p.name.startsWith('did ');
        const flipped = isDoc ? flip(text, pos, true) : text.slice(0, pos % text.length) + ch + text.slice((pos % text.length) + 1);
        fc.pre(flipped !== undefined && flipped !== text);
        p.set(copy, flipped!);
        const v = await verifyEvidence(copy);
        expect(v.ok).toBe(false);
        expect(failing(v)).toContain(p.name);
      }),
      { numRuns: Number(process.env.BUNDLE_RUNS ?? 60) },
    );
  }, 60_000);

  it('parts added, removed or swapped between bundles are caught', async () => {
    const dropped = structuredClone(bundles.grant);
    delete dropped.presentation;
    expect(failing(await verifyEvidence(dropped))).toEqual(expect.arrayContaining(['presentation', 'decision']));
    const extra = structuredClone(bundles.grant);
    extra.statusLists['https://evil.example/list'] = Object.values(extra.statusLists)[0]!;
    expect(failing(await verifyEvidence(extra))).toContain('status https://evil.example/list');
    const swapped = structuredClone(bundles.grant);
    swapped.presentation = bundles.denied.presentation!;
    expect(failing(await verifyEvidence(swapped))).toContain('presentation');
    const otherLog = structuredClone(bundles.grant);
    otherLog.log = bundles.agent.log;
    expect(failing(await verifyEvidence(otherLog))).toContain('log');
    await expect(verifyEvidence({ type: 'nope' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('a settlement the log segment holds cannot be left out, and none is counted twice', async () => {
    const b = bundles.agent;
    // The agent bundle's settlement was logged before its checkpoint: it is in the segment.
    expect(b.log.entries).toContain(b.settlements[0]);
    const dropped = structuredClone(b);
    dropped.settlements = [];
    expect(failing(await verifyEvidence(dropped))).toEqual(['settlements']);
    const twice = structuredClone(b);
    twice.settlements = [b.settlements[0]!, b.settlements[0]!];
    expect(failing(await verifyEvidence(twice))).toEqual(['settlement 1']);
    // Another decision's settlement in its place is named too.
    const other = structuredClone(b);
    other.settlements = [b.receipt];
    expect(failing(await verifyEvidence(other))).toEqual(expect.arrayContaining(['settlement 0', 'settlements']));
  });

  it("a settlement the verifier's key signed later, not of this decision's spend, is named: another reservation, none reserved, both ways, a seq the segment holds", async () => {
    const shop = await w.home.issuer('shop');
    const b = bundles.agent;
    const r = decodeReceipt(b.receipt) as DecisionReceipt;
    expect(r.spend?.reservation).toBeDefined();
    const real = decodeReceipt(b.settlements[0]!) as SettlementReceipt;
    expect(real.spend.state).toBe('committed');
    const settle = (o: { spend?: object; receipt?: string; seq?: number; chain?: string } = {}) => {
      const now = new Date();
      const claims = {
        jti: `urn:uuid:${randomUUID()}`,
        iat: Math.floor(now.getTime() / 1000),
        time: now.toISOString(),
        kind: 'settlement',
        sub: r.sub,
        receipt: o.receipt ?? r.jti,
        spend: o.spend ?? { reservation: r.spend!.reservation, state: 'committed' },
        iss: shop.did,
        log: { chain: o.chain ?? r.log.chain, seq: o.seq ?? 100_000, prev: real.log.prev },
      };
      return signPayload(RECEIPT_TYP, JSON.stringify(claims), shop);
    };
    const withExtra = async (extra: string, base: EvidenceBundle = b) => failing(await verifyEvidence({ ...structuredClone(base), settlements: [...base.settlements, extra] }));
    const n = b.settlements.length;
    // Another reservation, in either state; a spend the decision never reserved.
    for (const state of ['committed', 'released']) expect(await withExtra(await settle({ spend: { reservation: 'urn:uuid:never-reserved', state } }))).toEqual([`settlement ${n}`]);
    // The same reservation settled the other way too.
    expect(await withExtra(await settle({ spend: { reservation: r.spend!.reservation, state: 'released' } }))).toEqual([`settlement ${n}`]);
    // Its own chain, at a seq the checkpointed segment holds (as another entry): a late insertion.
    expect(await withExtra(await settle({ seq: real.log.seq }))).toEqual([`settlement ${n}`]);
    expect(await withExtra(await settle({ seq: 1 }))).toEqual([`settlement ${n}`]);
    // The grant decision reserved nothing: no settlement of it stands.
    const g = decodeReceipt(bundles.grant.receipt) as DecisionReceipt;
    expect(g.spend).toBeUndefined();
    for (const state of ['committed', 'released']) {
      const fake = await settle({ receipt: g.jti, spend: { reservation: 'urn:uuid:x', state, amount: { amount: '9999', currency: 'USD' } }, chain: g.log.chain });
      expect(await withExtra(fake, bundles.grant)).toEqual(['settlement 0']);
    }
    // The same commit again, beyond the checkpoint (a second record of one settlement): consistent, not a contradiction.
    expect(await withExtra(await settle())).toEqual([]);
  });

  it("with issuers, a bundle whose receipt another key signed fails its receipt part (UNTRUSTED_ISSUER); the verifier's own passes", async () => {
    // The verifier's signing DID, as every receipt of these bundles names it (the home is closed by now).
    const shop = decodeReceipt(bundles.grant!.receipt).iss;
    // A did:web verifier: its key pinned too (test/audit/bundle-didweb.test.ts), here as the honest bundle has it.
    const verifierKeys = [shopKey];
    for (const b of [bundles.grant, bundles.denied, bundles.agent]) {
      const mine = await verifyEvidence(b, { issuers: [shop], verifierKeys });
      expect(mine.parts.find((p) => p.part === 'receipt')).toMatchObject({ ok: true });
      expect(mine.ok).toBe((await verifyEvidence(b)).ok);
      for (const issuers of [[w.app.did], [shop.toUpperCase()], [`${shop}#x`]]) {
        const other = await verifyEvidence(b, { issuers });
        expect([issuers, other.ok, other.parts.find((p) => p.part === 'receipt')?.reasons.map((r) => r.code)]).toEqual([issuers, false, ['UNTRUSTED_ISSUER']]);
      }
    }
    for (const issuers of [[], [''], 'did:x', [7]]) await expect(verifyEvidence(bundles.grant, { issuers: issuers as never })).rejects.toThrow(TypeError);
    // A misspelt issuers would verify the bundle against a receipt anyone signed: a TypeError naming it.
    for (const bad of [{ issuer: [w.app.did] }, { Issuers: [w.app.did] }, { verifierKey: [shopKey] }, { issuers: [shop], extra: 1 }]) {
      await expect(verifyEvidence(bundles.grant, bad as never)).rejects.toThrow(/verifyEvidence: unknown option/);
    }
    await expect(verifyEvidence(bundles.grant, 'strict' as never)).rejects.toThrow(/options must be an object/);
  });

  it('at must be a valid Date: anything else is INVALID_ARGUMENT before any re-check', async () => {
    for (const at of [new Date('nope'), '2026-01-01T00:00:00Z', 1_700_000_000_000, null, {}]) {
      await expect(verifyEvidence(bundles.grant, { at: at as unknown as Date })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
  });
});

/** The refusal rewritten as an allow, signed under a key put into the bundle's copy of the verifier's document. */
async function forged(): Promise<EvidenceBundle> {
  const shop = decodeReceipt(bundles.denied.receipt).iss;
  const b = structuredClone(bundles.denied);
  const kp = generateKeyPair('Ed25519');
  const doc = structuredClone(b.dids[shop]) as { verificationMethod: { id: string; publicKeyJwk: unknown }[] };
  for (const vm of doc.verificationMethod) vm.publicKeyJwk = kp.publicJwk;
  const attacker = { did: shop, kid: doc.verificationMethod[0]!.id, signer: createSigner(kp.privateJwk) };
  b.dids[shop] = doc as never;
  const c = decodeReceipt(b.receipt) as unknown as Record<string, never> & {
    evidence: { did: Record<string, string>; status: unknown };
    log: { chain: string; seq: number };
    policy: { resource: string };
  };
  const a = decodeReceipt(bundles.grant.receipt) as unknown as typeof c;
  Object.assign(c, { decision: 'allow', status: 200, reasons: [] });
  c.policy.resource = 'profile/email';
  c.evidence.status = a.evidence.status;
  b.statusLists = bundles.grant.statusLists;
  for (const [d, h] of Object.entries(a.evidence.did)) {
    c.evidence.did[d] = h;
    if (d !== shop) b.dids[d] = bundles.grant.dids[d]!;
  }
  c.evidence.did[shop] = sha256Digest(canonicalJson(doc));
  const payload = JSON.stringify(c);
  b.receipt = await signPayload(RECEIPT_TYP, payload, attacker as never);
  b.log.entries = [b.receipt];
  const t = new Date();
  b.log.checkpoint = (
    await signCanonical(
      CHECKPOINT_TYP,
      { iss: shop, iat: Math.floor(t.getTime() / 1000), time: t.toISOString(), chain: c.log.chain, seq: c.log.seq, head: sha256Digest(payload) },
      attacker as never,
    )
  ).jws;
  return b;
}

const receiptPart = (v: Awaited<ReturnType<typeof verifyEvidence>>) => v.parts.find((p) => p.part === 'receipt')!;

describe('a did:web verifier: issuers pinned need its keys pinned', () => {
  const shopOf = () => decodeReceipt(bundles.denied.receipt).iss;
  it('the honest bundle: with issuers alone, UNTRUSTED_ISSUER (its key is only the bundle’s word); with verifierKeys, ok', async () => {
    const alone = await verifyEvidence(bundles.denied, { issuers: [shopOf()] });
    expect([alone.ok, receiptPart(alone).reasons.map((r) => r.code)]).toEqual([false, ['UNTRUSTED_ISSUER']]);
    expect(receiptPart(alone).reasons[0]!.message).toMatch(/verifierKeys/);
    const pinned = await verifyEvidence(bundles.denied, { issuers: [shopOf()], verifierKeys: [shopKey] });
    expect([pinned.ok, pinned.receipt?.decision]).toEqual([true, 'deny']);
    // Without issuers nothing changes: the result names the signer and says its key was the bundle's.
    expect(await verifyEvidence(bundles.denied)).toMatchObject({ ok: true, verifierKey: 'recorded' });
  });

  it('a refusal rewritten as an allow under a swapped document: refused with the keys pinned (and with issuers alone)', async () => {
    const b = await forged();
    const v = await verifyEvidence(b, { issuers: [shopOf()], verifierKeys: [shopKey] });
    expect([v.ok, receiptPart(v).reasons.map((r) => r.code)]).toEqual([false, ['UNTRUSTED_ISSUER']]);
    expect((await verifyEvidence(b, { issuers: [shopOf()] })).ok).toBe(false);
    // Another key pinned than the one that signed: refused too.
    expect((await verifyEvidence(bundles.denied, { issuers: [shopOf()], verifierKeys: [generateKeyPair('Ed25519').publicJwk] })).ok).toBe(false);
  });

  it('verifierKeys must be public JWKs: an empty list, a private key or junk is a TypeError', async () => {
    const kp = generateKeyPair('Ed25519');
    for (const keys of [[], [{ kty: 'OKP' }], 'k', [kp.privateJwk]]) {
      await expect(verifyEvidence(bundles.denied, { issuers: [shopOf()], verifierKeys: keys as never })).rejects.toThrow();
    }
  });

  it('charter evidence verify --issuer with a did:web verifier: exit 1 alone, 0 with --verifier-key (a JWK or a JWK Set)', async () => {
    const file = join(dir, 'didweb-bundle.json');
    writeFileSync(file, JSON.stringify(bundles.denied));
    writeFileSync(join(dir, 'key.jwk'), JSON.stringify(shopKey));
    writeFileSync(join(dir, 'keys.jwks'), JSON.stringify({ keys: [generateKeyPair('Ed25519').publicJwk, shopKey] }));
    const run = async (args: string[]) => {
      let code = 0;
      let out = '';
      await runCli(args, {
        stdout: (s) => (out += s + '\n'),
        stderr: (s) => (out += s + '\n'),
        env: {},
        stdin: Readable.from(['']),
        setExitCode: (c) => (code = c),
        openHome: () => Promise.reject(new Error('evidence verify opens no home')),
      });
      return [code, out] as const;
    };
    const base = ['evidence', 'verify', file, '--issuer', shopOf()];
    expect((await run(base))[0]).toBe(1);
    expect((await run([...base, '--verifier-key', join(dir, 'key.jwk')]))[0]).toBe(0);
    expect((await run([...base, '--verifier-key', join(dir, 'keys.jwks')]))[0]).toBe(0);
    writeFileSync(join(dir, 'bad.jwk'), 'not json');
    expect((await run([...base, '--verifier-key', join(dir, 'bad.jwk')]))[0]).toBe(2);
    // A key file naming a member twice (another key for a first-wins reader) is refused, as a bundle is.
    const { kty, crv, x } = shopKey as { kty: string; crv: string; x: string };
    writeFileSync(join(dir, 'twice.jwk'), `{"kty":"${kty}","crv":"${crv}","x":"${generateKeyPair('Ed25519').publicJwk.x}","x":"${x}"}`);
    const twice = await run([...base, '--verifier-key', join(dir, 'twice.jwk')]);
    expect([twice[0], twice[1]]).toEqual([2, expect.stringMatching(/twice|duplicate/i)]);
  });
});
