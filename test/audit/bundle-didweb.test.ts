import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueGrant } from '../../src/grants/index.js';
import { decide } from '../../src/guard/decide.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { decodeReceipt, exportEvidence, verifyEvidence, type EvidenceBundle } from '../../src/audit/index.js';
import { CHECKPOINT_TYP, RECEIPT_TYP, signCanonical, signPayload } from '../../src/audit/jws.js';
import { canonicalJson, sha256Digest } from '../../src/encoding/json.js';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import type { PublicJwk } from '../../src/keys/types.js';
import { runCli } from '../../src/cli/main.js';
import { bound } from '../http/present.js';
import { API, openWorld, type World } from '../http/world.js';
import { tempDir } from '../helpers.js';

/**
 * A did:web verifier's key reaches an offline check only through the
 * bundle's own copy of its DID document, which whoever edits the bundle can
 * replace, then sign any receipt under the key they put there. So with
 * `issuers` pinned, such a receipt needs the verifier's keys pinned too
 * (`verifierKeys`, `--verifier-key`): a refusal rewritten as an allow and
 * re-signed under a swapped document is caught.
 */
let w: World;
let store: Store;
let shop: string;
let shopKey: PublicJwk;
const bundles: Record<'denied' | 'allowed', EvidenceBundle> = {} as never;
const dir = tempDir('charter-bundle-didweb-');

beforeAll(async () => {
  w = await openWorld();
  const host = `127.0.0.1%3A${new URL(w.server.url).port}`;
  await w.home.createIdentity({ alias: 'shop', method: 'web', domain: `${host}:shop` });
  await w.home.createIdentity({ alias: 'carol', method: 'web', domain: `${host}:carol` });
  store = await openSqliteStore(join(dir, 'api.db'));
  const signer = await w.home.issuer('shop');
  shop = signer.did;
  shopKey = signer.publicJwk;
  const verifier = createVerifier({ aud: API, store, resolver: w.resolver, status: w.status, http: false, receipts: { signer } });
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
  const http = { kind: 'http' as const, method: 'GET', url };
  const denied = await decide(verifier, await bound(w.app, [grant.jwt], { url }), { kind: 'grant', resource: 'profile/phone', action: 'read', owner: carol.did }, http);
  const allowed = await decide(verifier, await bound(w.app, [grant.jwt], { url }), { kind: 'grant', resource: 'profile/email', action: 'read', owner: carol.did }, http);
  expect([denied.ok, allowed.ok]).toEqual([false, true]);
  await verifier.receipts!.checkpoint();
  bundles.denied = await exportEvidence(store, denied.receiptId!);
  bundles.allowed = await exportEvidence(store, allowed.receiptId!);
}, 60_000);
afterAll(async () => {
  await store?.close();
  await w?.close();
});

/** The refusal rewritten as an allow, signed under a key put into the bundle's copy of the verifier's document. */
async function forged(): Promise<EvidenceBundle> {
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
  const a = decodeReceipt(bundles.allowed.receipt) as unknown as typeof c;
  Object.assign(c, { decision: 'allow', status: 200, reasons: [] });
  c.policy.resource = 'profile/email';
  c.evidence.status = a.evidence.status;
  b.statusLists = bundles.allowed.statusLists;
  for (const [d, h] of Object.entries(a.evidence.did)) {
    c.evidence.did[d] = h;
    if (d !== shop) b.dids[d] = bundles.allowed.dids[d]!;
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
  it('the honest bundle: with issuers alone, UNTRUSTED_ISSUER (its key is only the bundle’s word); with verifierKeys, ok', async () => {
    const alone = await verifyEvidence(bundles.denied, { issuers: [shop] });
    expect([alone.ok, receiptPart(alone).reasons.map((r) => r.code)]).toEqual([false, ['UNTRUSTED_ISSUER']]);
    expect(receiptPart(alone).reasons[0]!.message).toMatch(/verifierKeys/);
    const pinned = await verifyEvidence(bundles.denied, { issuers: [shop], verifierKeys: [shopKey] });
    expect([pinned.ok, pinned.receipt?.decision]).toEqual([true, 'deny']);
    // Without issuers nothing changes: the result names the signer and says its key was the bundle's.
    expect(await verifyEvidence(bundles.denied)).toMatchObject({ ok: true, verifierKey: 'recorded' });
  });

  it('a refusal rewritten as an allow under a swapped document: refused with the keys pinned (and with issuers alone)', async () => {
    const b = await forged();
    const v = await verifyEvidence(b, { issuers: [shop], verifierKeys: [shopKey] });
    expect([v.ok, receiptPart(v).reasons.map((r) => r.code)]).toEqual([false, ['UNTRUSTED_ISSUER']]);
    expect((await verifyEvidence(b, { issuers: [shop] })).ok).toBe(false);
    // Another key pinned than the one that signed: refused too.
    expect((await verifyEvidence(bundles.denied, { issuers: [shop], verifierKeys: [generateKeyPair('Ed25519').publicJwk] })).ok).toBe(false);
  });

  it('verifierKeys must be public JWKs: an empty list, a private key or junk is a TypeError', async () => {
    const kp = generateKeyPair('Ed25519');
    for (const keys of [[], [{ kty: 'OKP' }], 'k', [kp.privateJwk]]) {
      await expect(verifyEvidence(bundles.denied, { issuers: [shop], verifierKeys: keys as never })).rejects.toThrow();
    }
  });

  it('charter evidence verify --issuer with a did:web verifier: exit 1 alone, 0 with --verifier-key (a JWK or a JWK Set)', async () => {
    const file = join(dir, 'bundle.json');
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
    const base = ['evidence', 'verify', file, '--issuer', shop];
    expect((await run(base))[0]).toBe(1);
    expect((await run([...base, '--verifier-key', join(dir, 'key.jwk')]))[0]).toBe(0);
    expect((await run([...base, '--verifier-key', join(dir, 'keys.jwks')]))[0]).toBe(0);
    writeFileSync(join(dir, 'bad.jwk'), 'not json');
    expect((await run([...base, '--verifier-key', join(dir, 'bad.jwk')]))[0]).toBe(2);
  });
});
