import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../src/guard/decide.js';
import type { Verifier } from '../../src/guard/verifier.js';
import { exportEvidence, verifyEvidence } from '../../src/audit/index.js';
import { disagreement } from '../../src/audit/recheck.js';
import type { DecisionReceipt } from '../../src/audit/receipt.js';
import type { Issuer } from '../../src/credentials/types.js';
import { issueGrant } from '../../src/grants/index.js';
import * as ex from '../../src/http/adapters/express.js';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import { didKeyRef } from '../../src/did/index.js';
import { bound } from '../http/present.js';
import { openWorld, type World } from '../http/world.js';

/**
 * A decision receipt goes back to whoever asked. On a refusal, it must not
 * name the owner of the data the route serves: anyone could map
 * `/users/alice/email` to Alice's DID by asking with no presentation, or with
 * a stranger's. The owner is named where the caller knows it already (an
 * allow; a grant that owner issued); otherwise `ownerWithheld`, and an offline
 * re-check takes the owner's codes as recorded.
 */
let w: World;
let shop: Issuer;
let bob: Issuer;
let v: Verifier;
beforeAll(async () => {
  w = await openWorld();
  await w.home.createIdentity({ alias: 'shop' });
  await w.home.createIdentity({ alias: 'bob' });
  shop = await w.home.issuer('shop');
  bob = await w.home.issuer('bob');
  v = w.verifier({ receipts: { signer: shop } });
}, 30_000);
afterAll(async () => w?.close());

const URL_ = 'http://127.0.0.1:9999/profile/email';
const policy = () => ({ kind: 'grant' as const, resource: 'profile/email', action: 'read', owner: w.alice.did });
const binding = { kind: 'http' as const, method: 'GET', url: URL_ };
const payloadOf = (jws: string) => JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()) as DecisionReceipt;

function stranger(): Issuer {
  const kp = generateKeyPair('Ed25519');
  return { ...didKeyRef('key', kp.publicJwk), keyType: 'Ed25519', publicJwk: kp.publicJwk, signer: createSigner(kp.privateJwk) } as unknown as Issuer;
}

async function bundleOk(receiptId: string) {
  await v.receipts!.flush();
  const e = await verifyEvidence(await exportEvidence(w.apiStore, receiptId, { signer: shop }));
  expect(e.parts.filter((p) => !p.ok).map((p) => `${p.part}: ${p.reasons.map((r) => r.message).join('; ')}`)).toEqual([]);
  return e;
}

describe("a refusal's receipt withholds the owner's DID", () => {
  it('no presentation, junk, a stranger with no grant: the receipt never names the owner', async () => {
    const who = stranger();
    for (const proof of [undefined, 'not-a-token', await bound(who, [], { url: URL_ })]) {
      const d = await decide(v, proof, policy(), binding);
      expect(d.ok).toBe(false);
      expect(d.receipt).toBeDefined();
      const r = payloadOf(d.receipt!);
      expect(r.policy).toEqual({ kind: 'grant', resource: 'profile/email', action: 'read', ownerWithheld: true });
      expect(JSON.stringify(r)).not.toContain(w.alice.did);
    }
  });

  it("the grantee presenting another owner's grant (GRANT_NOT_OWNER): withheld, and the bundle re-checks offline", async () => {
    const bobs = await issueGrant(w.home.store, bob, {
      grantee: w.app.did,
      resources: ['profile/email'],
      actions: ['read'],
      purpose: 'tests',
      validUntil: new Date(Date.now() + 86_400_000),
      baseUrl: w.server.url,
    });
    const d = await decide(v, await bound(w.app, [bobs.jwt], { url: URL_ }), policy(), binding);
    expect([d.ok, d.reasons.map((r) => r.code)]).toEqual([false, ['GRANT_NOT_OWNER']]);
    const r = payloadOf(d.receipt!);
    expect(r.policy).toMatchObject({ ownerWithheld: true });
    expect(JSON.stringify(r)).not.toContain(w.alice.did);
    const e = await bundleOk(d.receiptId!);
    expect(e.ok).toBe(true);
  });

  it("the owner's own grant, allowed or refused on its merits: the owner is named (the caller holds that grant), and the bundle re-checks", async () => {
    const g = await w.grant({ resources: ['profile/email'] });
    const allowed = await decide(v, await bound(w.app, [g.jwt], { url: URL_ }), policy(), binding);
    expect(allowed.ok).toBe(true);
    expect(payloadOf(allowed.receipt!).policy).toMatchObject({ owner: w.alice.did });
    expect((await bundleOk(allowed.receiptId!)).ok).toBe(true);
    const narrow = await w.grant({ resources: ['profile/phone'] });
    const scoped = await decide(v, await bound(w.app, [narrow.jwt], { url: URL_ }), policy(), binding);
    expect(scoped.reasons.map((r) => r.code)).toEqual(['GRANT_SCOPE']);
    expect(payloadOf(scoped.receipt!).policy).toMatchObject({ owner: w.alice.did });
    expect((await bundleOk(scoped.receiptId!)).ok).toBe(true);
  });

  it('a receipt both naming (or waiving) and withholding the owner does not re-check, allow or deny', () => {
    for (const decision of ['allow', 'deny'] as const) {
      for (const also of [{ owner: w.alice.did }, { anyOwner: true }]) {
        const r = {
          decision,
          reasons: decision === 'deny' ? ['GRANT_NOT_OWNER'] : [],
          policy: { kind: 'grant', resource: 'profile/email', action: 'read', ownerWithheld: true, ...also },
          request: { htm: 'GET', htu: URL_ },
          chain: [],
        };
        // The evidence shows no refusal: a verifier's false GRANT_NOT_OWNER must not pass as "withheld".
        expect(disagreement(r as unknown as DecisionReceipt, { reasons: [], chain: [] })).toMatch(/both names and withholds/);
      }
    }
  });

  it('a receipt saying allow with the owner withheld does not re-check', () => {
    const r = {
      decision: 'allow',
      reasons: [],
      policy: { kind: 'grant', resource: 'profile/email', action: 'read', ownerWithheld: true },
      request: { htm: 'GET', htu: URL_ },
      chain: [],
    };
    expect(disagreement(r as unknown as DecisionReceipt, { reasons: [], chain: [] })).toMatch(/does not name the owner/);
  });

  it('over HTTP: an anonymous request to /users/alice/email gets a receipt that names nobody', async () => {
    const app = express();
    const owners: Record<string, string> = { alice: w.alice.did, bob: bob.did };
    app.get(
      '/users/:name/email',
      ex.charter(v, ex.requireGrant({ resource: 'profile/email', action: 'read', owner: (req) => owners[req.params.name as string] ?? '' })),
      (_q, r) => void r.json({ ok: true }),
    );
    const s = app.listen(0, '127.0.0.1');
    await new Promise<void>((r) => s.once('listening', () => r()));
    try {
      const base = `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
      for (const name of ['alice', 'bob']) {
        for (const auth of [undefined, `Bearer ${await bound(stranger(), [], { url: `${base}/users/${name}/email` })}`]) {
          const res = await fetch(`${base}/users/${name}/email`, auth ? { headers: { authorization: auth } } : {});
          expect([401, 403]).toContain(res.status);
          const receipt = res.headers.get('charter-receipt');
          expect(receipt).toBeTruthy();
          const text = JSON.stringify(payloadOf(receipt!)) + (await res.text());
          expect(text).not.toContain(owners[name]);
        }
      }
    } finally {
      await new Promise<void>((r) => s.close(() => r()));
    }
  });
});
