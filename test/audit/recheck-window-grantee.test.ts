import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Issuer } from '../../src/credentials/types.js';
import { decide, type GuardDecision } from '../../src/guard/decide.js';
import type { GrantPolicy } from '../../src/guard/policy.js';
import type { Verifier } from '../../src/guard/verifier.js';
import { exportEvidence, verifyEvidence, type EvidenceBundle, type EvidenceVerification } from '../../src/audit/index.js';
import { RECEIPT_TYP, signPayload } from '../../src/audit/jws.js';
import { canonicalJson, sha256Digest } from '../../src/encoding/json.js';
import { decodeJwt, signJwt } from '../../src/credentials/jws.js';
import { bound } from '../http/present.js';
import { openWorld, type World } from '../http/world.js';
import { codes } from '../guard/seams-fixtures.js';

/**
 * The offline re-check of a grant decision (src/audit/recheck.ts) applies the freshness window the
 * receipt records, and asks verifyGrant for the presenter as grantee, as the guard did. Found by
 * mutation testing: the re-check could use the widest window (3600 s) in place of the recorded one,
 * or drop the grantee, with every earlier test passing.
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
const bundleOf = async (v: Verifier, d: GuardDecision): Promise<EvidenceBundle> => {
  await v.receipts!.flush();
  return exportEvidence(w.apiStore, d.receiptId!, { signer: shop });
};
const partOf = (e: EvidenceVerification, name: string) => e.parts.find((p) => p.part === name)!;
const failing = (e: EvidenceVerification) => e.parts.filter((p) => !p.ok).map((p) => `${p.part}: ${p.reasons.map((r) => r.message).join('; ')}`);
const claimsOf = (jws: string) => JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>;

/** The bundle with its receipt re-signed by the verifier's own key, `edit` applied (every signature holds). */
async function resigned(b: EvidenceBundle, edit: (c: Record<string, unknown>) => void): Promise<EvidenceBundle> {
  const c = claimsOf(b.receipt);
  edit(c);
  const receipt = await signPayload(RECEIPT_TYP, canonicalJson(c), shop);
  return { ...structuredClone(b), receipt };
}
/** Re-signed as an allow under `window`, naming the owner (a refusal's receipt withholds it). */
const asAllow = (window: Record<string, unknown>) => (c: Record<string, unknown>) => {
  const { ownerWithheld: _w, ...policy } = c.policy as Record<string, unknown>;
  c.policy = { ...policy, owner: w.alice.did };
  c.decision = 'allow';
  c.status = 200;
  c.reasons = [];
  c.window = window;
};

describe("the re-check applies the receipt's own freshness window", () => {
  it('a presentation older than the recorded maxAge, younger than any verifier’s widest: refused stale; re-signed as an allow under that window, the re-check disagrees', async () => {
    const v = w.verifier({ maxAgeSeconds: 120, skewSeconds: 0, receipts: { signer: shop } });
    const grant = await w.grant();
    const iat = Math.floor(Date.now() / 1000) - 600;
    const d = await decide(v, await bound(w.app, [grant.jwt], { url: EMAIL, claims: { iat, exp: iat + 3000 } }), policy(), http);
    expect(codes(d)).toEqual(['PRESENTATION_STALE']);
    const b = await bundleOf(v, d);
    expect(b.presentation).toBeDefined();
    // The honest refusal re-checks (PRESENTATION_STALE is the verifier's configuration: taken as recorded).
    expect(failing(await verifyEvidence(b))).toEqual([]);
    const recorded = claimsOf(b.receipt).window as Record<string, unknown>;
    expect(recorded).toMatchObject({ maxAge: 120, skew: 0 });

    // The same evidence claimed as an allow under the window recorded: the evidence shows it stale.
    const narrow = partOf(await verifyEvidence(await resigned(b, asAllow(recorded))), 'decision');
    expect(narrow.ok).toBe(false);
    expect(narrow.reasons.map((r) => r.message).join(' ')).toMatch(/says allow, but the evidence shows PRESENTATION_STALE/);
    // Claimed under 1200 s, a window that takes it: not stale (only the status list the refusal never
    // fetched is missing), so the window alone made the difference.
    const wide = partOf(await verifyEvidence(await resigned(b, asAllow({ ...recorded, maxAge: 1200 }))), 'decision');
    expect(wide.reasons.map((r) => r.message)).toEqual(['the receipt says allow, but the evidence shows STATUS_UNAVAILABLE']);
  });
});

describe('the re-check asks for the presenter as the grantee', () => {
  it('a grant given to someone else, presented with the presenter named as holder: refused GRANTEE_MISMATCH (and HOLDER_MISMATCH), and that honest refusal re-checks', async () => {
    const v = w.verifier({ receipts: { signer: shop } });
    const other = await w.grant({ to: shop.did });
    const d = await decide(v, await bound(w.app, [other.jwt], { url: EMAIL }), policy(), http);
    expect(codes(d)).toContain('GRANTEE_MISMATCH');
    const e = await verifyEvidence(await bundleOf(v, d));
    expect(failing(e)).toEqual([]);
    expect(e).toMatchObject({ ok: true, decision: 'rechecked' });
  });

  it('the same refusal recorded as GRANTEE_MISMATCH alone still agrees; recorded as GRANT_SCOPE it does not', async () => {
    const v = w.verifier({ receipts: { signer: shop } });
    const other = await w.grant({ to: shop.did });
    const d = await decide(v, await bound(w.app, [other.jwt], { url: EMAIL }), policy(), http);
    const b = await bundleOf(v, d);
    const only = partOf(await verifyEvidence(await resigned(b, (c) => void (c.reasons = ['GRANTEE_MISMATCH']))), 'decision');
    expect(only.ok).toBe(true);
    const scope = partOf(await verifyEvidence(await resigned(b, (c) => void (c.reasons = ['GRANT_SCOPE']))), 'decision');
    expect(scope.reasons.map((r) => r.message).join(' ')).toMatch(/refuses for GRANT_SCOPE, which the evidence does not show/);
  });
});

describe('the receipt cites a credential however its envelope spells the media type', () => {
  it('DATA:APPLICATION/VC+JWT, (one media type, RFC 2045 §5.1): allowed, the receipt cites the grant, and the bundle re-checks', async () => {
    const v = w.verifier({ receipts: { signer: shop } });
    const grant = await w.grant();
    const { payload } = decodeJwt(await bound(w.app, [grant.jwt], { url: EMAIL }));
    const creds = payload.verifiableCredential as { id: string }[];
    payload.verifiableCredential = creds.map((c) => ({ ...c, id: c.id.replace('data:application/vc+jwt,', 'DATA:APPLICATION/VC+JWT,') }));
    const vp = await signJwt({ typ: 'vp+jwt', cty: 'vp' }, payload, w.app.signer, w.app.kid);
    const d = await decide(v, vp, policy(), http);
    expect(codes(d)).toEqual([]);
    expect((claimsOf(d.receipt!).credentials as { h: string }[]).map((c) => c.h)).toEqual([sha256Digest(grant.jwt)]);
    const e = await verifyEvidence(await bundleOf(v, d));
    expect(failing(e)).toEqual([]);
    expect(e).toMatchObject({ ok: true, decision: 'rechecked' });
  });
});
