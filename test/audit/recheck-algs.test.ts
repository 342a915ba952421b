import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { issueGrant } from '../../src/grants/index.js';
import { decide } from '../../src/guard/decide.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { exportEvidence, verifyEvidence, type EvidenceBundle } from '../../src/audit/index.js';
import type { PublicJwk } from '../../src/keys/types.js';
import { bound } from '../http/present.js';
import { API, openWorld, type World } from '../http/world.js';
import { tempDir } from '../helpers.js';

/**
 * Every signature algorithm Charter signs with (EdDSA, ES256, ES256K), for
 * the verifier's receipts, log and checkpoint (did:key and did:web), in
 * bundles whose evidence mixes them (a P-256 did:web grantor, a secp256k1
 * grantee): each allow and each refusal re-checks offline as it was
 * decided, the receipt pinned to its verifier's key; another alg's key
 * pinned in its place is refused.
 */
let w: World;
const cases: { name: string; alg: string; key: PublicJwk; allow: EvidenceBundle; deny: EvidenceBundle }[] = [];

beforeAll(async () => {
  w = await openWorld();
  const host = `127.0.0.1%3A${new URL(w.server.url).port}`;
  await w.home.createIdentity({ alias: 'grantor', method: 'web', domain: `${host}:grantor`, keyType: 'P-256' });
  await w.home.createIdentity({ alias: 'grantee', keyType: 'secp256k1' });
  const grantor = await w.home.issuer('grantor');
  const grantee = await w.home.issuer('grantee');
  const url = 'http://127.0.0.1:9999/profile/email';
  const grant = await issueGrant(w.home.store, grantor, {
    grantee: grantee.did,
    resources: ['profile/email'],
    actions: ['read'],
    purpose: 'x',
    validUntil: new Date(Date.now() + 86_400_000),
    baseUrl: w.server.url,
  });
  const binding = { kind: 'claims' as const, claims: { htm: 'GET', htu: url } };
  for (const [keyType, alg] of [
    ['Ed25519', 'EdDSA'],
    ['P-256', 'ES256'],
    ['secp256k1', 'ES256K'],
  ] as const) {
    for (const method of ['key', 'web'] as const) {
      const alias = `v-${keyType.toLowerCase().replace(/\W/g, '')}-${method}`;
      await w.home.createIdentity({ alias, keyType, ...(method === 'web' ? { method, domain: `${host}:${alias}` } : {}) });
      const signer = await w.home.issuer(alias);
      const store = await openSqliteStore(join(tempDir('charter-recheck-algs-'), 'api.db'));
      const v = createVerifier({ aud: API, store, resolver: w.resolver, status: w.status, http: false, receipts: { signer } });
      const run = async (resource: string) => decide(v, await bound(grantee, [grant.jwt], { url }), { kind: 'grant', resource, action: 'read', owner: grantor.did }, binding);
      const a = await run('profile/email');
      const d = await run('profile/phone');
      expect([a.ok, d.reasons.map((r) => r.code)]).toEqual([true, ['GRANT_SCOPE']]);
      await v.receipts!.checkpoint();
      cases.push({ name: `${alg} did:${method}`, alg, key: signer.publicJwk, allow: await exportEvidence(store, a.receiptId!), deny: await exportEvidence(store, d.receipt!) });
      await store.close();
    }
  }
  await w.close();
}, 60_000);
afterAll(async () => {
  await w?.close().catch(() => undefined);
});

const headerOf = (jws: string) => JSON.parse(Buffer.from(jws.split('.')[0]!, 'base64url').toString()) as { alg: string };
const issOf = (jws: string) => (JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()) as { iss: string }).iss;

describe('a re-check for each signature algorithm', () => {
  it('each verifier alg and DID method: the allow stays an allow and the refusal a refusal, every part verified, with no server', async () => {
    expect(cases).toHaveLength(6);
    for (const c of cases) {
      for (const [bundle, decision, reasons] of [
        [c.allow, 'allow', []],
        [c.deny, 'deny', ['GRANT_SCOPE']],
      ] as const) {
        expect([c.name, headerOf(bundle.receipt).alg, headerOf(bundle.log.checkpoint).alg]).toEqual([c.name, c.alg, c.alg]);
        const v = await verifyEvidence(bundle, { issuers: [issOf(bundle.receipt)], verifierKeys: [c.key] });
        const failing = v.parts.filter((p) => !p.ok).map((p) => p.part);
        expect([c.name, v.ok, failing, v.receipt?.decision, v.receipt?.reasons, v.decision]).toEqual([c.name, true, [], decision, reasons, 'rechecked']);
      }
    }
  });

  it("a did:web verifier's receipt with another alg's key pinned in place of its own: UNTRUSTED_ISSUER", async () => {
    for (const c of cases.filter((x) => x.name.endsWith('did:web'))) {
      const other = cases.find((x) => x.alg !== c.alg)!.key;
      const v = await verifyEvidence(c.allow, { issuers: [issOf(c.allow.receipt)], verifierKeys: [other] });
      expect([c.name, v.ok, v.parts.find((p) => p.part === 'receipt')!.reasons.map((r) => r.code)]).toEqual([c.name, false, ['UNTRUSTED_ISSUER']]);
    }
  });
});
