import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Issuer } from '../../src/credentials/types.js';
import { decide, type GuardDecision } from '../../src/guard/decide.js';
import type { GrantPolicy } from '../../src/guard/policy.js';
import type { Verifier } from '../../src/guard/verifier.js';
import { decodeReceipt, exportEvidence, verifyEvidence, type DecisionReceipt, type EvidenceVerification } from '../../src/audit/index.js';
import { receiptShapeReasons } from '../../src/audit/receipt.js';
import { issueGrant } from '../../src/grants/index.js';
import { createStatusChecker } from '../../src/status/index.js';
import { bound } from '../http/present.js';
import { openWorld, type World } from '../http/world.js';
import { codes } from '../guard/seams-fixtures.js';

/**
 * A vp+jwt decision re-run from its bundle applies the guard's own checks of
 * the proof's claims (src/credentials/binding.ts, one copy for both): so an
 * honest bundle re-checks whatever the verifier's nonce mode and skew were,
 * and a refusal the guard made before any signature is found again.
 */
const SITE = 'http://127.0.0.1:9999';
const EMAIL = `${SITE}/profile/email`;

let w: World;
let shop: Issuer;

beforeAll(async () => {
  w = await openWorld();
  await w.home.createIdentity({ alias: 'shop' });
  shop = await w.home.issuer('shop');
}, 60_000);
afterAll(async () => {
  await w?.close();
});

const policy = (): GrantPolicy => ({ kind: 'grant', resource: 'profile/email', action: 'read', owner: w.alice.did });
const http = { kind: 'http' as const, method: 'GET', url: EMAIL };
const verify = async (v: Verifier, d: GuardDecision): Promise<EvidenceVerification> => {
  await v.receipts!.flush();
  return verifyEvidence(await exportEvidence(w.apiStore, d.receiptId!, { signer: shop }));
};
const failing = (e: EvidenceVerification) => e.parts.filter((p) => !p.ok).map((p) => `${p.part}: ${p.reasons.map((r) => r.message).join('; ')}`);

describe('vp+jwt re-checks agree with the guard', () => {
  it('challenge mode: an issued nonce with no jti, or beside a jti no iat-mode verifier would take (over 256 characters): allowed, and re-checked', async () => {
    const v = w.verifier({ nonces: 'challenge', receipts: { signer: shop } });
    const grant = await w.grant();
    for (const jti of [undefined, `urn:x:${'j'.repeat(300)}`]) {
      const { nonce } = await v.issueNonce();
      const vp = await bound(w.app, [grant.jwt], { url: EMAIL, nonce, ...(jti ? { claims: { jti } } : {}) });
      const d = await decide(v, vp, policy(), http);
      expect(codes(d), String(jti)).toEqual([]);
      const e = await verify(v, d);
      expect(failing(e)).toEqual([]);
      expect(e).toMatchObject({ ok: true, decision: 'rechecked' });
    }
  });

  it('a presentation binding a query (htq): allowed under that query, and re-checked from a receipt that records the URL without it; another query refused', async () => {
    const v = w.verifier({ receipts: { signer: shop } });
    const grant = await w.grant();
    const vp = await bound(w.app, [grant.jwt], { url: EMAIL, claims: { htq: 'user=alice&lang=fr' } });
    const refused = await decide(v, vp, policy(), { ...http, url: `${EMAIL}?user=bob` });
    expect(codes(refused)).toEqual(['REQUEST_MISMATCH']);
    const vp2 = await bound(w.app, [grant.jwt], { url: EMAIL, claims: { htq: 'user=alice&lang=fr' } });
    const d = await decide(v, vp2, policy(), { ...http, url: `${EMAIL}?user=alice&lang=fr` });
    expect(codes(d)).toEqual([]);
    const e = await verify(v, d);
    expect(failing(e)).toEqual([]);
    expect(e).toMatchObject({ ok: true, decision: 'rechecked' });
  });

  it('a verifier allowing 300 s of skew: a presentation from a clock 200 s ahead is allowed, and re-checked', async () => {
    const v = w.verifier({ skewSeconds: 300, receipts: { signer: shop } });
    const grant = await w.grant();
    const iat = Math.floor(Date.now() / 1000) + 200;
    const d = await decide(v, await bound(w.app, [grant.jwt], { url: EMAIL, claims: { iat, exp: iat + 300 } }), policy(), http);
    expect(codes(d)).toEqual([]);
    const e = await verify(v, d);
    expect(failing(e)).toEqual([]);
    expect(e.ok).toBe(true);
  });

  it('refusals before any signature (an over-long jti, a string iat or exp, a claim of another transport) are found again', async () => {
    const v = w.verifier({ receipts: { signer: shop } });
    const grant = await w.grant();
    for (const [claims, code] of [
      [{ jti: 'j'.repeat(300) }, 'INVALID_PRESENTATION'],
      [{ iat: String(Math.floor(Date.now() / 1000)) }, 'INVALID_PRESENTATION'],
      [{ mcp: { tool: 'read', args: 'x' } }, 'REQUEST_MISMATCH'],
      [{ exp: 'soon' }, 'INVALID_PRESENTATION'],
    ] as const) {
      const d = await decide(v, await bound(w.app, [grant.jwt], { url: EMAIL, claims }), policy(), http);
      expect(codes(d), JSON.stringify(claims)).toEqual([code]);
      const e = await verify(v, d);
      expect(failing(e), JSON.stringify(claims)).toEqual([]);
      expect(e).toMatchObject({ ok: true, decision: 'rechecked' });
    }
  });

  it('the receipt records the freshness rules it was made under, and the re-check applies exactly those', async () => {
    const v = w.verifier({ skewSeconds: 45, maxAgeSeconds: 120, nonces: 'challenge', receipts: { signer: shop } });
    const { nonce } = await v.issueNonce();
    const d = await decide(v, await bound(w.app, [(await w.grant()).jwt], { url: EMAIL, nonce }), policy(), http);
    expect(codes(d)).toEqual([]);
    expect((decodeReceipt(d.receipt!) as DecisionReceipt).window).toEqual({ skew: 45, maxAge: 120, nonces: 'challenge' });
    expect((await verify(v, d)).ok).toBe(true);
    const base = decodeReceipt(d.receipt!) as unknown as Record<string, unknown>;
    for (const window of [
      { skew: -1, maxAge: 1, nonces: 'iat' },
      { skew: 1, maxAge: 99999, nonces: 'iat' },
      { skew: 1, maxAge: 1, nonces: 'jti' },
      { skew: '1', maxAge: 1, nonces: 'iat' },
      [],
    ]) {
      expect(
        receiptShapeReasons({ ...base, window }).map((r) => r.code),
        JSON.stringify(window),
      ).toEqual(['RECEIPT_INVALID']);
    }
  });

  it("a credential's validity off by more than the verifier's skew, though less than any verifier's widest: refused, and re-checked as refused", async () => {
    const v = w.verifier({ receipts: { signer: shop } });
    const later = await issueGrant(w.home.store, w.alice, {
      grantee: w.app.did,
      resources: ['profile/email'],
      actions: ['read'],
      purpose: 'p',
      validFrom: new Date(Date.now() + 120_000),
      validUntil: new Date(Date.now() + 86_400_000),
      baseUrl: w.server.url,
    });
    const d = await decide(v, await bound(w.app, [later.jwt], { url: EMAIL }), policy(), http);
    expect(codes(d)).toEqual(['CREDENTIAL_NOT_YET_VALID']);
    const e = await verify(v, d);
    expect(failing(e)).toEqual([]);
    expect(e).toMatchObject({ ok: true, decision: 'rechecked' });
  });

  it('an iat-mode verifier refusing a nonce with no usable jti: re-checked as refused (the mode is recorded, not guessed)', async () => {
    const v = w.verifier({ receipts: { signer: shop } });
    const grant = await w.grant();
    for (const jti of [undefined, 'j'.repeat(300)]) {
      const vp = await bound(w.app, [grant.jwt], { url: EMAIL, nonce: 'some-nonce', claims: { jti } });
      const d = await decide(v, vp, policy(), http);
      expect(codes(d), String(jti)).toEqual(['INVALID_PRESENTATION']);
      const e = await verify(v, d);
      expect(failing(e), String(jti)).toEqual([]);
      expect(e.ok).toBe(true);
    }
  });

  it('a binding recorded by digest (claims of the caller): its REQUEST_MISMATCH is taken as recorded, its allow re-checked', async () => {
    const v = w.verifier({ receipts: { signer: shop } });
    const grant = await w.grant();
    const binding = { kind: 'claims' as const, claims: { queue: 'q1' } };
    const bad = await decide(v, await bound(w.app, [grant.jwt], { claims: { htm: undefined, htu: undefined, queue: 'q2' } }), policy(), binding);
    expect(codes(bad)).toEqual(['REQUEST_MISMATCH']);
    expect(failing(await verify(v, bad))).toEqual([]);
    const good = await decide(v, await bound(w.app, [grant.jwt], { claims: { htm: undefined, htu: undefined, queue: 'q1' } }), policy(), binding);
    expect(codes(good)).toEqual([]);
    expect(await verify(v, good)).toMatchObject({ ok: true, decision: 'rechecked' });
  });

  it('a status list signed a moment after the decision read its clock, on a verifier with no skew: the honest allow re-checks', async () => {
    // The list's status checker has its own skew (default 60 s); the verifier's window says 0. The list is
    // re-signed (another grant revoked) in second S and first fetched by the decision, whose clock read S - 1 ms.
    const v = w.verifier({ status: createStatusChecker({ resolver: w.resolver, allowLoopback: true, allowHttp: true }), receipts: { signer: shop } });
    const grant = await w.grant();
    const other = await w.grant();
    await new Promise((r) => setTimeout(r, 1000 - (Date.now() % 1000) + 5));
    const S = Math.floor(Date.now() / 1000);
    await w.revoke(other.id);
    const iat = S - 1;
    const d = await decide(v, await bound(w.app, [grant.jwt], { url: EMAIL, claims: { iat, exp: iat + 300 } }), policy(), http, S * 1000 - 1);
    expect(codes(d)).toEqual([]);
    expect((decodeReceipt(d.receipt!) as DecisionReceipt).window?.skew).toBe(0);
    const e = await verify(v, d);
    expect(failing(e)).toEqual([]);
    expect(e).toMatchObject({ ok: true, decision: 'rechecked' });
  });
});
