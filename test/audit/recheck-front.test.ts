import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Issuer } from '../../src/credentials/types.js';
import { decide, type GuardDecision } from '../../src/guard/decide.js';
import type { GrantPolicy } from '../../src/guard/policy.js';
import type { Verifier } from '../../src/guard/verifier.js';
import { exportEvidence, verifyEvidence, type EvidenceVerification } from '../../src/audit/index.js';
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
});
