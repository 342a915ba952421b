import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { signJwt } from '../../src/credentials/index.js';
import { verifyGrant } from '../../src/grants/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { sha256Digest } from '../../src/encoding/json.js';
import { decide, type GuardDecision } from '../../src/guard/decide.js';
import type { GrantPolicy } from '../../src/guard/policy.js';
import { THUMBPRINT_URN } from '../../src/guard/signature.js';
import { guardMandatePayment } from '../../src/guard/transaction.js';
import type { Verifier } from '../../src/guard/verifier.js';
import { requireAgent, requireGrant, requireMandate, requireSignature } from '../../src/http/guards.js';
import { verifyRequest } from '../../src/http/request.js';
import { jwkThumbprint } from '../../src/httpsig/index.js';
import { mandateToken } from '../../src/mandates/index.js';
import { presentSdJwtVc } from '../../src/sdjwt/index.js';
import {
  decodeReceipt,
  exportEvidence,
  receiptsForGrant,
  verifyAuditLog,
  verifyEvidence,
  type DecisionReceipt,
  type EvidenceBundle,
  type EvidenceVerification,
} from '../../src/audit/index.js';
import { makeIssuer } from '../helpers.js';
import { bound } from '../http/present.js';
import { API, openWorld, type World } from '../http/world.js';
import { viIntent, viPayment, viWorld, type ViWorld } from '../guard/chains.js';
import { bearer, codes, oddSdGrant, sdGrant, sdPresent, signed, tokenStatusOf, vcGrant } from '../guard/seams-fixtures.js';

/**
 * Receipts and evidence bundles at the seams: decisions whose proof a
 * bundle cannot re-run (a request signature alone, a payment mandate chain)
 * are verified as `recorded`, yet every other part of their
 * bundle is still checked; refusals for who signed are receipted; grant
 * terms are part of what a receipt records and a re-check applies.
 */
const SITE = 'http://127.0.0.1:9999';
const EMAIL = `${SITE}/profile/email`;
const ORDERS = `${SITE}/orders`;
const PAY = `${SITE}/pay`;
const request = (url: string, headers: Record<string, string>, method = 'GET') => new Request(url, { method, headers });

let w: World;
let vw: ViWorld;
let shop: Issuer;
let v: Verifier;
const stranger = makeIssuer();

beforeAll(async () => {
  w = await openWorld();
  vw = await viWorld(new Date());
  await w.home.createIdentity({ alias: 'shop' });
  shop = await w.home.issuer('shop');
  v = w.verifier({ tokenStatus: tokenStatusOf(w), receipts: { signer: shop } });
}, 60_000);
afterAll(async () => {
  await w?.close();
});

const receiptOf = (d: GuardDecision): DecisionReceipt => {
  expect(d.receipt, 'a receipt').toEqual(expect.any(String));
  const r = decodeReceipt(d.receipt!);
  expect(r.kind).toBe('decision');
  return r as DecisionReceipt;
};
/** The decision's evidence bundle, from the verifier's store, with a checkpoint signed over it. */
const bundleOf = async (d: GuardDecision): Promise<EvidenceBundle> => {
  await v.receipts!.flush();
  return exportEvidence(w.apiStore, d.receiptId!, { signer: shop });
};
const failing = (e: EvidenceVerification) => e.parts.filter((p) => !p.ok).map((p) => p.part);
const failingCodes = (e: EvidenceVerification) => e.parts.flatMap((p) => p.reasons.map((r) => r.code));

/** Flips the character at `at` (mod length) to another base64url one. */
const flip = (s: string, at: number) => {
  const i = at % s.length;
  return s.slice(0, i) + (s[i] === 'A' ? 'B' : 'A') + s.slice(i + 1);
};

/**
 * A bundle must verify, its decision re-run (`'rechecked'`) or taken as recorded (for the reason `why`), and
 * each of its parts still be checked: the receipt, the log, the checkpoint, the presentation, the documents.
 */
async function expectRecordedAndChecked(b: EvidenceBundle, why: RegExp | 'rechecked'): Promise<void> {
  const ok = await verifyEvidence(b);
  expect(failing(ok)).toEqual([]);
  expect(ok).toMatchObject({ ok: true, decision: why === 'rechecked' ? 'rechecked' : 'recorded' });
  if (why !== 'rechecked') expect(ok.recordedWhy).toMatch(why);
  expect(ok.parts.map((p) => p.part)).toEqual(expect.arrayContaining(['receipt', 'presentation', 'decision', 'log', 'checkpoint']));

  for (const at of [0, 9, 40, 200, 777]) {
    const copy = structuredClone(b);
    copy.receipt = flip(copy.receipt, at);
    const e = await verifyEvidence(copy);
    expect(e.ok, `receipt @${at}`).toBe(false);
    expect(failing(e)).toContain('receipt');
  }
  const cp = structuredClone(b);
  cp.log.checkpoint = flip(cp.log.checkpoint, 50);
  expect(failing(await verifyEvidence(cp))).toContain('checkpoint');
  const log = structuredClone(b);
  log.log.entries[0] = flip(log.log.entries[0]!, 60);
  expect(failing(await verifyEvidence(log))).toContain('log');
  if (b.log.entries.length > 1) {
    const cut = structuredClone(b);
    cut.log.entries.pop();
    expect(failing(await verifyEvidence(cut))).toContain('log');
  }
  const doc = structuredClone(b);
  doc.dids['did:web:evil.example'] = { id: 'did:web:evil.example' } as never;
  expect(failing(await verifyEvidence(doc))).toContain('did did:web:evil.example');
  const list = structuredClone(b);
  list.statusLists['https://evil.example/list'] = 'x.y.z';
  expect(failing(await verifyEvidence(list))).toContain('status https://evil.example/list');
  const pres = structuredClone(b);
  if (pres.presentation === undefined) pres.presentation = 'eyJhbGciOiJub25lIn0.e30.';
  else pres.presentation = flip(pres.presentation, 123);
  const p = await verifyEvidence(pres);
  expect(failing(p)).toContain('presentation');
  expect(failingCodes(p)).toContain('EVIDENCE_MISMATCH');
}

describe('requireSignature alone on a receipts verifier', () => {
  const guard = () => requireSignature({ keys: { keys: [w.agent.publicJwk] } });

  it('allowed, missing, replayed, forged and unknown-key requests each get a receipt of policy kind signature', async () => {
    const sig = await signed(w.agent, ORDERS);
    const allowed = await verifyRequest(request(ORDERS, sig), v, guard());
    expect(allowed.ok).toBe(true);
    const a = receiptOf(allowed);
    expect(a).toMatchObject({
      decision: 'allow',
      status: 200,
      reasons: [],
      policy: { kind: 'signature' },
      sub: THUMBPRINT_URN + jwkThumbprint(w.agent.publicJwk),
      request: { htm: 'GET', htu: ORDERS },
    });
    expect(a.vp).toBeUndefined();

    const forged = { ...(await signed(w.agent, ORDERS)) };
    forged.signature = forged.signature!.replace(/:([A-Za-z0-9+/])/, (_m, c: string) => `:${c === 'A' ? 'B' : 'A'}`);
    const refusals: [Record<string, string>, string][] = [
      [{}, 'SIGNATURE_MISSING'],
      [sig, 'SIGNATURE_REPLAYED'],
      [forged, 'SIGNATURE_INVALID'],
      [await signed(stranger, ORDERS), 'SIGNATURE_KEY_UNKNOWN'],
    ];
    for (const [headers, code] of refusals) {
      const d = await verifyRequest(request(ORDERS, headers), v, guard());
      expect([d.status, codes(d)], code).toEqual([401, [code]]);
      expect(receiptOf(d), code).toMatchObject({ decision: 'deny', status: 401, reasons: [code], policy: { kind: 'signature' } });
      // A presentation sent to a signature-only route is not read, so not recorded as one.
      const withBearer = await verifyRequest(request(ORDERS, { ...headers, authorization: 'Bearer abc.def.ghi' }), v, guard());
      expect(receiptOf(withBearer).vp).toBeUndefined();
    }
  });

  it('their evidence verifies as recorded; an altered receipt, log, checkpoint, an added presentation or document is caught', async () => {
    const sig = await signed(w.agent, ORDERS);
    const allowed = await verifyRequest(request(ORDERS, sig), v, guard());
    const replayed = await verifyRequest(request(ORDERS, sig), v, guard());
    const missing = await verifyRequest(request(ORDERS, {}), v, guard());
    // Decisions after the allowed one, so its log segment runs past it.
    await verifyRequest(request(ORDERS, await signed(w.agent, ORDERS)), v, guard());
    for (const d of [allowed, replayed, missing]) await expectRecordedAndChecked(await bundleOf(d), /signature/);
  });

  it('a receipt re-signed by another key claiming allow, or its decision swapped for another of the same log, is caught', async () => {
    const missing = await verifyRequest(request(ORDERS, {}), v, guard());
    const allowed = await verifyRequest(request(ORDERS, await signed(w.agent, ORDERS)), v, guard());
    const b = await bundleOf(missing);
    const claims = decodeReceipt(b.receipt) as DecisionReceipt;
    const header = JSON.parse(Buffer.from(b.receipt.split('.')[0]!, 'base64url').toString()) as Record<string, unknown>;
    // The stranger signs "allow" under the verifier's kid.
    const lie = await signJwt(header, { ...claims, decision: 'allow', status: 200, reasons: [] }, stranger.signer, shop.kid);
    const e = await verifyEvidence({ ...structuredClone(b), receipt: lie, log: { ...b.log, entries: [lie, ...b.log.entries.slice(1)] } });
    expect(e.ok).toBe(false);
    expect(failing(e)).toContain('receipt');
    // A real receipt of another decision of the same verifier does not stand in for this one's.
    const other = await bundleOf(allowed);
    const swapped = await verifyEvidence({ ...structuredClone(b), receipt: other.receipt });
    expect(swapped.ok).toBe(false);
    expect(failing(swapped)).toContain('log');
  });
});

describe('SIGNER_NOT_HOLDER refusals are receipted, and their evidence verifies', () => {
  const sigGuard = () => requireSignature({ keys: { keys: [w.app.publicJwk, w.agent.publicJwk, stranger.publicJwk, vw.agent.publicJwk] } });

  it("a vp+jwt grant signed by a stranger: a deny receipt naming no holder; evidence re-checked (the presentation is sound), ok; the holder's later use is receipted too", async () => {
    const grant = await w.grant();
    const vp = await bound(w.app, [grant.jwt], { url: EMAIL });
    const guards = [sigGuard(), requireGrant({ resource: 'profile/email', action: 'read', owner: w.alice.did })] as const;
    const d = await verifyRequest(request(EMAIL, { ...(await signed(stranger, EMAIL)), ...bearer(vp) }), v, ...guards);
    expect(codes(d)).toEqual(['SIGNER_NOT_HOLDER']);
    const r = receiptOf(d);
    expect(r).toMatchObject({
      decision: 'deny',
      status: 401,
      reasons: ['SIGNER_NOT_HOLDER'],
      policy: { kind: 'grant', resource: 'profile/email', action: 'read', owner: w.alice.did },
      vp: sha256Digest(vp),
    });
    expect(r.sub).toBeUndefined();
    const e = await verifyEvidence(await bundleOf(d));
    expect(failing(e)).toEqual([]);
    expect(e).toMatchObject({ ok: true, decision: 'rechecked' });

    const ok = await verifyRequest(request(EMAIL, { ...(await signed(w.app, EMAIL)), ...bearer(vp) }), v, ...guards);
    expect(receiptOf(ok)).toMatchObject({ decision: 'allow', sub: w.app.did, vp: sha256Digest(vp) });
    expect((await verifyEvidence(await bundleOf(ok))).ok).toBe(true);
  });

  it('an SD-JWT grant and an agent signed for by a stranger: deny receipts, evidence ok', async () => {
    const g = await sdGrant(w);
    const sd = await sdPresent(g.token, { url: EMAIL, holder: w.app });
    const a = await verifyRequest(
      request(EMAIL, { ...(await signed(stranger, EMAIL)), ...bearer(sd) }),
      v,
      sigGuard(),
      requireGrant({ resource: 'profile/email', action: 'read', owner: w.alice.did }),
    );
    expect(receiptOf(a)).toMatchObject({ decision: 'deny', reasons: ['SIGNER_NOT_HOLDER'], vp: sha256Digest(sd) });
    await expectRecordedAndChecked(await bundleOf(a), 'rechecked');

    const creds = [w.agentIdentity, await w.mandate()];
    const agentVp = await bound(w.agent, creds, { method: 'POST', url: ORDERS });
    const b = await verifyRequest(
      request(ORDERS, { ...(await signed(stranger, ORDERS, 'POST')), ...bearer(agentVp) }, 'POST'),
      v,
      sigGuard(),
      requireAgent({ action: 'purchase', amount: () => '5 USD', trust: { principals: [w.principal.did] } }),
    );
    expect(receiptOf(b)).toMatchObject({ decision: 'deny', reasons: ['SIGNER_NOT_HOLDER'], policy: { kind: 'agent', action: 'purchase' } });
    expect(receiptOf(b).spend).toBeUndefined();
    const e = await verifyEvidence(await bundleOf(b));
    expect(failing(e)).toEqual([]);
    expect(e.ok).toBe(true);
  });
});

describe('payment mandates on a receipts verifier', () => {
  const guards = () =>
    [
      requireMandate({ profile: 'verifiable-intent', trust: { issuers: [vw.issuer.publicJwk] } }),
      requireSignature({ keys: { keys: [vw.agent.publicJwk, stranger.publicJwk] } }),
    ] as const;

  it('signed by the agent key: allowed, a receipt of policy kind mandate (profile, amount), its settlement logged; evidence recorded, every part checked', async () => {
    const intent = await viIntent(vw, new Date(), { cumulative: { amount: '500', currency: 'USD', period: 'MONTHLY' } });
    const token = mandateToken('verifiable-intent', await viPayment(vw, intent, { amount: '120', aud: API, now: new Date() }));
    const d = await verifyRequest(request(PAY, { ...(await signed(vw.agent, PAY, 'POST')), ...bearer(token) }, 'POST'), v, ...guards());
    expect(codes(d)).toEqual([]);
    const r = receiptOf(d);
    expect(r).toMatchObject({
      decision: 'allow',
      policy: { kind: 'mandate', profile: 'verifiable-intent', amount: { amount: '120', currency: 'USD' } },
      sub: THUMBPRINT_URN + jwkThumbprint(vw.agent.publicJwk),
      vp: sha256Digest(token),
      spend: { state: 'reserved' },
    });
    await d.spend!.commit();
    await verifyRequest(request(PAY, {}, 'POST'), v, ...guards());
    const b = await bundleOf(d);
    expect(b.presentation).toBe(token);
    expect(b.settlements).toHaveLength(1);
    expect(decodeReceipt(b.settlements[0]!)).toMatchObject({ kind: 'settlement', receipt: r.jti, spend: { state: 'committed' } });
    await expectRecordedAndChecked(b, /mandate/);
    const s = structuredClone(b);
    s.settlements[0] = flip(s.settlements[0]!, 70);
    expect(failing(await verifyEvidence(s))).toContain('settlement 0');
  });

  it('signed by another key: SIGNER_NOT_HOLDER with a mandate receipt, nothing reserved; evidence recorded and ok', async () => {
    const intent = await viIntent(vw, new Date());
    const token = mandateToken('verifiable-intent', await viPayment(vw, intent, { amount: '10', aud: API, now: new Date() }));
    const d = await verifyRequest(request(PAY, { ...(await signed(stranger, PAY, 'POST')), ...bearer(token) }, 'POST'), v, ...guards());
    expect(codes(d)).toEqual(['SIGNER_NOT_HOLDER']);
    const r = receiptOf(d);
    expect(r).toMatchObject({ decision: 'deny', reasons: ['SIGNER_NOT_HOLDER'], policy: { kind: 'mandate', profile: 'verifiable-intent' } });
    expect(r.spend).toBeUndefined();
    expect(r.sub).toBeUndefined();
    await expectRecordedAndChecked(await bundleOf(d), /mandate/);
  });

  it('refusals on the merits of a mandate (a wrong amount, an unpinned root) verify as recorded; of an SD-JWT grant (a withheld permission, hidden terms) as re-checked', async () => {
    const trust = { issuers: [vw.issuer.publicJwk] };
    const intent = await viIntent(vw, new Date());
    const other = await viWorld(new Date());
    const odd = await oddSdGrant(w, { resources: ['profile/email'], actions: ['read'], purpose: 'p', terms: { purpose: ['research'] } }, ['grant.terms']);
    const refusals: [GuardDecision, string][] = [
      [
        await decide(
          v,
          await viPayment(vw, intent, { amount: '10', aud: API, now: new Date() }),
          { kind: 'mandate', profile: 'verifiable-intent', trust, amount: '11 USD' },
          { kind: 'none' },
        ),
        'REQUEST_MISMATCH',
      ],
      [
        await decide(
          v,
          await viPayment(other, await viIntent(other, new Date()), { amount: '10', aud: API, now: new Date() }),
          { kind: 'mandate', profile: 'verifiable-intent', trust },
          { kind: 'none' },
        ),
        'unpinned',
      ],
      [
        await decide(
          v,
          await sdPresent((await sdGrant(w)).token, { url: EMAIL, holder: w.app, disclose: [] }),
          { kind: 'grant', resource: 'profile/email', action: 'read', owner: w.alice.did },
          { kind: 'http', method: 'GET', url: EMAIL },
        ),
        'GRANT_SCOPE',
      ],
      [
        await decide(
          v,
          await sdPresent(odd.token, { url: EMAIL, holder: w.app, disclose: [] }),
          { kind: 'grant', resource: 'profile/email', action: 'read', owner: w.alice.did, purpose: 'marketing' },
          { kind: 'http', method: 'GET', url: EMAIL },
        ),
        'DISCLOSURE_INVALID',
      ],
    ];
    for (const [d, code] of refusals) {
      expect(d.ok, code).toBe(false);
      if (code !== 'unpinned') expect(codes(d), code).toContain(code);
      const r = receiptOf(d);
      expect(r.decision).toBe('deny');
      const e = await verifyEvidence(await bundleOf(d));
      expect(failing(e), code).toEqual([]);
      expect(e, code).toMatchObject({ ok: true, decision: r.policy.kind === 'mandate' ? 'recorded' : 'rechecked' });
    }
  });

  it('guardMandatePayment (the chain as an object, no transport): receipts for the payment and for its replay; evidence recorded', async () => {
    const intent = await viIntent(vw, new Date(), { cumulative: { amount: '500', currency: 'USD', period: 'MONTHLY' } });
    const chain = await viPayment(vw, intent, { amount: '50', aud: API, now: new Date() });
    const req = { verifier: v, profile: 'verifiable-intent' as const, trust: { issuers: [vw.issuer.publicJwk] } };
    const paid = await guardMandatePayment(chain, req, () => 'paid');
    expect(paid).toMatchObject({ ok: true, value: 'paid', spend: 'committed', receipt: expect.any(String) });
    const again = await guardMandatePayment(chain, req, () => 'paid twice');
    expect(again).toMatchObject({ ok: false, status: 401, reasons: [{ code: 'REPLAY_DETECTED' }], receipt: expect.any(String) });
    for (const jws of [paid.receipt!, (again as { receipt: string }).receipt]) {
      const claims = decodeReceipt(jws) as DecisionReceipt;
      expect(claims.policy).toMatchObject({ kind: 'mandate', profile: 'verifiable-intent' });
      await v.receipts!.flush();
      const e = await verifyEvidence(await exportEvidence(w.apiStore, jws, { signer: shop }));
      expect(failing(e)).toEqual([]);
      expect(e).toMatchObject({ ok: true, decision: 'recorded' });
    }
  });
});

describe('SD-JWT grant presentations on a receipts verifier', () => {
  it('a receipt of the presentation as sent; evidence re-checked and ok; one byte altered anywhere in the presentation: EVIDENCE_MISMATCH', async () => {
    const g = await sdGrant(w, { terms: { purpose: ['research'], processing: 'on-device' } });
    const p = await sdPresent(g.token, { url: EMAIL, holder: w.app, disclose: ['grant.resources.0', 'grant.actions.0'] });
    const policy: GrantPolicy = { kind: 'grant', resource: 'profile/email', action: 'read', owner: w.alice.did, purpose: 'research', processing: 'on-device' };
    const d = await decide(v, p, policy, { kind: 'http', method: 'GET', url: EMAIL });
    expect(codes(d)).toEqual([]);
    const r = receiptOf(d);
    expect(r).toMatchObject({ decision: 'allow', sub: w.app.did, vp: sha256Digest(p), credentials: [], policy: { kind: 'grant', resource: 'profile/email', owner: w.alice.did } });
    const b = await bundleOf(d);
    expect(b.presentation).toBe(p);
    await expectRecordedAndChecked(b, 'rechecked');
    // Every region: the issuer JWT, each disclosure, the key binding JWT.
    const bounds = p.split('~').reduce<number[]>((acc, part) => [...acc, (acc.at(-1) ?? -1) + part.length + 1], []);
    for (const at of [1, 30, ...bounds.map((x) => x - 3), p.length - 2]) {
      const copy = structuredClone(b);
      copy.presentation = flip(p, at);
      if (copy.presentation === p) continue;
      const e = await verifyEvidence(copy);
      expect(e.ok, `@${at}`).toBe(false);
      expect(e.parts.find((x) => x.part === 'presentation')?.reasons.map((x) => x.code)).toEqual(['EVIDENCE_MISMATCH']);
    }
    const dropped = structuredClone(b);
    delete dropped.presentation;
    expect(failing(await verifyEvidence(dropped))).toEqual(expect.arrayContaining(['presentation', 'decision']));
  });

  it('claims a holder adds to its key binding JWT (a "verifiableCredential") are not taken as credentials it presented: its evidence still verifies', async () => {
    const g = await sdGrant(w);
    const other = await w.grant();
    const p = await presentSdJwtVc(g.token, {
      holder: w.app,
      disclose: ['grant'],
      aud: API,
      nonce: `n-${Date.now()}`,
      claims: { htm: 'GET', htu: EMAIL, verifiableCredential: [other.jwt], vp: { verifiableCredential: [other.jwt] } },
    });
    const d = await decide(v, p, { kind: 'grant', resource: 'profile/email', action: 'read', owner: w.alice.did }, { kind: 'http', method: 'GET', url: EMAIL });
    expect(codes(d)).toEqual([]);
    expect(receiptOf(d).credentials).toEqual([]);
    const e = await verifyEvidence(await bundleOf(d));
    expect(failing(e)).toEqual([]);
    expect(e.ok).toBe(true);
    // Nor is this request reported as a use of that other grant (access reports go to its owner).
    await v.receipts!.flush();
    expect(await receiptsForGrant(w.apiStore, other.id)).not.toContain(d.receipt);
    expect(await receiptsForGrant(w.apiStore, g.id)).toContain(d.receipt);
  });

  it('a refusal for the terms is receipted and re-checked; a vp+jwt bundle cannot take an SD-JWT in its place', async () => {
    const g = await sdGrant(w, { terms: { purpose: ['research'], processing: 'on-device' } });
    const p = await sdPresent(g.token, { url: EMAIL, holder: w.app });
    const denied = await decide(
      v,
      p,
      { kind: 'grant', resource: 'profile/email', action: 'read', owner: w.alice.did, purpose: 'marketing', processing: 'on-device' },
      { kind: 'http', method: 'GET', url: EMAIL },
    );
    expect(codes(denied)).toEqual(['PURPOSE_NOT_ALLOWED']);
    expect(receiptOf(denied)).toMatchObject({ decision: 'deny', status: 403, reasons: ['PURPOSE_NOT_ALLOWED'], sub: w.app.did });
    const e = await verifyEvidence(await bundleOf(denied));
    expect(e.parts.filter((x) => !x.ok)).toEqual([]);
    expect(e).toMatchObject({ ok: true, decision: 'rechecked' });

    // A vp+jwt decision's bundle with an SD-JWT swapped in: the receipt's hash is of the vp+jwt.
    const grant = await w.grant();
    const vp = await bound(w.app, [grant.jwt], { url: EMAIL });
    const allowed = await decide(v, vp, { kind: 'grant', resource: 'profile/email', action: 'read', owner: w.alice.did }, { kind: 'http', method: 'GET', url: EMAIL });
    const b = await bundleOf(allowed);
    expect((await verifyEvidence(b)).decision).toBe('rechecked');
    const swapped = await verifyEvidence({ ...structuredClone(b), presentation: p });
    expect(swapped.ok).toBe(false);
    expect(failing(swapped)).toContain('presentation');
  });
});

describe('grant terms in receipts: the declared use is recorded and re-checked', () => {
  const terms = { purpose: ['research'], processing: 'on-device' as const };
  const policy = (w: World, o: Partial<GrantPolicy>): GrantPolicy => ({ kind: 'grant', resource: 'profile/email', action: 'read', owner: w.alice.did, ...o });

  it('a vp+jwt grant with terms, allowed for a use inside them: the receipt names the use, and the evidence verifies (re-checked)', async () => {
    const grant = await vcGrant(w, terms);
    const d = await decide(v, await bound(w.app, [grant.jwt], { url: EMAIL }), policy(w, { purpose: 'research', processing: 'on-device' }), {
      kind: 'http',
      method: 'GET',
      url: EMAIL,
    });
    expect(codes(d)).toEqual([]);
    expect(receiptOf(d).policy).toEqual({ kind: 'grant', resource: 'profile/email', action: 'read', owner: w.alice.did, purpose: 'research', processing: 'on-device' });
    const e = await verifyEvidence(await bundleOf(d));
    expect(failing(e)).toEqual([]);
    expect(e).toMatchObject({ ok: true, decision: 'rechecked' });
  });

  it('refused for a use outside them (PURPOSE_NOT_ALLOWED, PROCESSING_NOT_ALLOWED): receipted, evidence verifies', async () => {
    const grant = await vcGrant(w, terms);
    for (const [use, want] of [
      [{ purpose: 'marketing', processing: 'on-device' }, ['PURPOSE_NOT_ALLOWED']],
      [{ purpose: 'research', processing: 'trusted-execution' }, ['PROCESSING_NOT_ALLOWED']],
      [{}, ['PURPOSE_NOT_ALLOWED', 'PROCESSING_NOT_ALLOWED']],
    ] as [Partial<GrantPolicy>, string[]][]) {
      const d = await decide(v, await bound(w.app, [grant.jwt], { url: EMAIL }), policy(w, use), { kind: 'http', method: 'GET', url: EMAIL });
      expect(codes(d)).toEqual(want);
      expect(receiptOf(d)).toMatchObject({ decision: 'deny', reasons: want, policy: use });
      const e = await verifyEvidence(await bundleOf(d));
      expect(failing(e), JSON.stringify(use)).toEqual([]);
    }
  });

  it('a receipt that says allow for a use outside the terms (a verifier that got it wrong) fails the re-check; inside them, it holds', async () => {
    const grant = await vcGrant(w, terms);
    /** An allow signed and logged through the receipts hook, as the pipeline would, whatever the terms say. */
    const allowFor = async (purpose: string) => {
      const vp = await bound(w.app, [grant.jwt], { url: EMAIL });
      const capture = v.receipts!.capture(w.resolver, w.status)!;
      // What the decision resolved (the grant's status list), recorded as the pipeline records it.
      await verifyGrant(vp, {
        resolver: capture.resolver,
        status: capture.status,
        aud: API,
        resource: 'profile/email',
        action: 'read',
        owner: w.alice.did,
        allowMissingNonce: true,
        // The grant's status is read only for a grant that passes its terms: a wrong verifier's allow
        // below is recorded with the list a right one read (the allowed purpose's).
        purpose: 'research',
        processing: 'on-device',
      });
      const { id } = await v.receipts!.recordDecision({
        verifier: API,
        time: Date.now(),
        ok: true,
        status: 200,
        reasons: [],
        holder: w.app.did,
        presentation: vp,
        recognised: true,
        payload: JSON.parse(Buffer.from(vp.split('.')[1]!, 'base64url').toString()) as Record<string, unknown>,
        request: { htm: 'GET', htu: EMAIL },
        policy: { kind: 'grant', resource: 'profile/email', action: 'read', owner: w.alice.did, purpose, processing: 'on-device' },
        chain: [{ id: grant.id, iss: w.alice.did }],
        capture,
      });
      await v.receipts!.flush();
      return verifyEvidence(await exportEvidence(w.apiStore, id, { signer: shop }));
    };
    const wrong = await allowFor('marketing');
    expect(wrong.ok).toBe(false);
    expect(failing(wrong)).toEqual(['decision']);
    const right = await allowFor('research');
    expect(failing(right)).toEqual([]);
    expect(right).toMatchObject({ ok: true, decision: 'rechecked' });
  });
});

describe("receipts with unauthenticated: 'skip': junk is skipped, an authentic proof's refusal never is", () => {
  it('a stolen presentation signed by another key (SIGNER_NOT_HOLDER) and a replayed signed request keep their receipts; a request with no authentic proof gets none', async () => {
    const skip = w.verifier({ tokenStatus: tokenStatusOf(w), receipts: { signer: shop, unauthenticated: 'skip' } });
    const sigGuard = requireSignature({ keys: { keys: [w.app.publicJwk, stranger.publicJwk] } });
    const grantGuard = requireGrant({ resource: 'profile/email', action: 'read', owner: w.alice.did });
    const grant = await w.grant();
    const vp = await bound(w.app, [grant.jwt], { url: EMAIL });

    // No authentic proof: skipped (a flood of junk costs no signature and no log row).
    const junk = await verifyRequest(request(EMAIL, { ...(await signed(w.app, EMAIL)), authorization: 'Bearer a.b.c' }), skip, sigGuard, grantGuard);
    expect([junk.ok, junk.receipt]).toEqual([false, undefined]);
    const unsigned = await verifyRequest(request(ORDERS, {}), skip, sigGuard);
    expect([codes(unsigned), unsigned.receipt]).toEqual([['SIGNATURE_MISSING'], undefined]);

    // The presentation is authentic and the signature verifies, but they are not one party's: that is
    // exactly the refusal an audit must hold.
    const stolen = await verifyRequest(request(EMAIL, { ...(await signed(stranger, EMAIL)), ...bearer(vp) }), skip, sigGuard, grantGuard);
    expect(codes(stolen)).toEqual(['SIGNER_NOT_HOLDER']);
    expect(receiptOf(stolen)).toMatchObject({ decision: 'deny', reasons: ['SIGNER_NOT_HOLDER'] });

    // An authentic signed request, replayed, as a replayed presentation is.
    const sig = await signed(w.app, ORDERS);
    expect((await verifyRequest(request(ORDERS, sig), skip, sigGuard)).receipt).toEqual(expect.any(String));
    const replayed = await verifyRequest(request(ORDERS, sig), skip, sigGuard);
    expect(codes(replayed)).toEqual(['SIGNATURE_REPLAYED']);
    expect(receiptOf(replayed)).toMatchObject({ decision: 'deny', reasons: ['SIGNATURE_REPLAYED'], policy: { kind: 'signature' } });
    const ok = await verifyRequest(request(EMAIL, { ...(await signed(w.app, EMAIL)), ...bearer(vp) }), skip, sigGuard, grantGuard);
    expect(ok.ok).toBe(true);
    const vpReplay = await verifyRequest(request(EMAIL, { ...(await signed(w.app, EMAIL)), ...bearer(vp) }), skip, sigGuard, grantGuard);
    expect(receiptOf(vpReplay)).toMatchObject({ decision: 'deny', reasons: ['REPLAY_DETECTED'] });
  });
});

describe('races on a receipts verifier', () => {
  it('N concurrent identical requests (one signature nonce; one SD-JWT presentation): one allow, N receipts, the log chain intact', async () => {
    const N = 8;
    const sig = await signed(w.agent, ORDERS);
    const a = await Promise.all(Array.from({ length: N }, () => verifyRequest(request(ORDERS, sig), v, requireSignature({ keys: { keys: [w.agent.publicJwk] } }))));
    const g = await sdGrant(w);
    const p = await sdPresent(g.token, { url: EMAIL, holder: w.app });
    const b = await Promise.all(
      Array.from({ length: N }, () => decide(v, p, { kind: 'grant', resource: 'profile/email', action: 'read', owner: w.alice.did }, { kind: 'http', method: 'GET', url: EMAIL })),
    );
    for (const [ds, replay] of [
      [a, 'SIGNATURE_REPLAYED'],
      [b, 'REPLAY_DETECTED'],
    ] as const) {
      expect(ds.filter((d) => d.ok)).toHaveLength(1);
      expect(ds.filter((d) => !d.ok).map(codes)).toEqual(Array(N - 1).fill([replay]));
      const receipts = ds.map(receiptOf);
      expect(new Set(receipts.map((r) => r.jti)).size).toBe(N);
      expect(receipts.filter((r) => r.decision === 'allow')).toHaveLength(1);
    }
    await v.receipts!.flush();
    const log = await verifyAuditLog(w.apiStore, { resolver: w.resolver, chain: v.receipts!.chain });
    expect(log.broken).toBeUndefined();
    expect(log.ok).toBe(true);
    const e = await verifyEvidence(await bundleOf(b.find((d) => d.ok)!));
    expect(e).toMatchObject({ ok: true, decision: 'rechecked' });
  });
});
