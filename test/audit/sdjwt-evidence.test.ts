import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt, signJwt } from '../../src/credentials/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { decide, type GuardDecision } from '../../src/guard/decide.js';
import type { GrantPolicy } from '../../src/guard/policy.js';
import type { Verifier } from '../../src/guard/verifier.js';
import { GRANT_VCT, issueSdJwtVc, presentSdJwtVc, revokeSdJwtVc } from '../../src/sdjwt/index.js';
import { createTokenStatusChecker } from '../../src/status/token-checker.js';
import { encodeTokenStatusList, writeTokenStatus } from '../../src/status/token-codec.js';
import { makeIssuer, serve } from '../helpers.js';
import { didKeyRef } from '../../src/did/index.js';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import { decodeReceipt, exportEvidence, verifyEvidence, type DecisionReceipt, type EvidenceBundle, type EvidenceVerification } from '../../src/audit/index.js';
import { openWorld, type World } from '../http/world.js';
import { codes, sdGrant, sdPresent, tokenStatusOf } from '../guard/seams-fixtures.js';
import { API } from '../http/world.js';

/**
 * An SD-JWT grant's decision is re-run from its evidence bundle like a
 * vp+jwt grant's: the receipt records the IETF Token Status List the
 * decision read (signed, as fetched), the bundle carries it, and the
 * offline re-check reads the grant's status from it. Altering, dropping or
 * replacing that list (even with a genuine later one) is caught.
 */
const SITE = 'http://127.0.0.1:9999';
const EMAIL = `${SITE}/profile/email`;

let w: World;
let shop: Issuer;
let v: Verifier;

beforeAll(async () => {
  w = await openWorld();
  await w.home.createIdentity({ alias: 'shop' });
  shop = await w.home.issuer('shop');
  v = w.verifier({ tokenStatus: tokenStatusOf(w), receipts: { signer: shop } });
}, 60_000);
afterAll(async () => {
  await w?.close();
});

const policy = (): GrantPolicy => ({ kind: 'grant', resource: 'profile/email', action: 'read', owner: w.alice.did });
const ask = async (token: string) => decide(v, await sdPresent(token, { url: EMAIL, holder: w.app }), policy(), { kind: 'http', method: 'GET', url: EMAIL });
const receiptOf = (d: GuardDecision) => decodeReceipt(d.receipt!) as DecisionReceipt;
const bundleOf = async (d: GuardDecision): Promise<EvidenceBundle> => {
  await v.receipts!.flush();
  return exportEvidence(w.apiStore, d.receiptId!, { signer: shop });
};
const failing = (e: EvidenceVerification) => e.parts.filter((p) => !p.ok).map((p) => p.part);
const partCodes = (e: EvidenceVerification, part: string) => e.parts.find((p) => p.part === part)?.reasons.map((r) => r.code);
const decisionWhy = (e: EvidenceVerification) => e.parts.find((p) => p.part === 'decision')?.reasons[0]?.message ?? '';
/** The Token Status List URL the grant names (status.status_list.uri). */
const listUrlOf = (token: string) => (decodeJwt(token.split('~')[0]!).payload as { status: { status_list: { uri: string } } }).status.status_list.uri;
const flip = (s: string, at: number) => s.slice(0, at) + (s[at] === 'A' ? 'B' : 'A') + s.slice(at + 1);

describe('SD-JWT grants: the Token Status List is evidence', () => {
  it('an allow records the list it read; the bundle carries it (statuslist+jwt) and the decision is re-checked from it', async () => {
    const g = await sdGrant(w);
    const d = await ask(g.token);
    expect(codes(d)).toEqual([]);
    const url = listUrlOf(g.token);
    const r = receiptOf(d);
    expect(Object.keys(r.evidence!.status)).toEqual([url]);
    const b = await bundleOf(d);
    expect(decodeJwt(b.statusLists[url]!).header.typ).toBe('statuslist+jwt');
    const e = await verifyEvidence(b);
    expect(failing(e)).toEqual([]);
    expect(e).toMatchObject({ ok: true, decision: 'rechecked' });
  });

  it('the list altered in the bundle (header, bits, signature): its part and the decision fail', async () => {
    const g = await sdGrant(w);
    const b = await bundleOf(await ask(g.token));
    const url = listUrlOf(g.token);
    const jwt = b.statusLists[url]!;
    const [h, p] = jwt.split('.') as [string, string];
    for (const at of [5, h.length + 20, h.length + p.length - 4, jwt.length - 3]) {
      const copy = structuredClone(b);
      copy.statusLists[url] = flip(jwt, at);
      if (copy.statusLists[url] === jwt) continue;
      const e = await verifyEvidence(copy);
      expect(e.ok, `@${at}`).toBe(false);
      expect(partCodes(e, `status ${url}`), `@${at}`).toEqual(['EVIDENCE_MISMATCH']);
    }
  });

  it('the list dropped from the bundle: named missing, and the re-check cannot read the status', async () => {
    const g = await sdGrant(w);
    const b = await bundleOf(await ask(g.token));
    const url = listUrlOf(g.token);
    delete b.statusLists[url];
    const e = await verifyEvidence(b);
    expect(e.ok).toBe(false);
    expect(failing(e)).toEqual(expect.arrayContaining([`status ${url}`, 'decision']));
    expect(decisionWhy(e)).toMatch(/STATUS_UNAVAILABLE/);
  });

  it('revoked after the allow: the genuine later list swapped into the allow bundle is caught twice (hash, and the re-run decision)', async () => {
    const g = await sdGrant(w);
    const allowed = await ask(g.token);
    expect(codes(allowed)).toEqual([]);
    const before = await bundleOf(allowed);
    await revokeSdJwtVc(w.home.store, g.id, (did) => w.home.issuer(did));
    const denied = await ask(g.token);
    expect(codes(denied)).toEqual(['CREDENTIAL_REVOKED']);
    const after = await bundleOf(denied);
    const url = listUrlOf(g.token);
    expect(after.statusLists[url]).not.toBe(before.statusLists[url]);

    // Each bundle alone verifies: allowed then, refused since.
    expect(await verifyEvidence(before)).toMatchObject({ ok: true, decision: 'rechecked' });
    expect(await verifyEvidence(after)).toMatchObject({ ok: true, decision: 'rechecked' });
    expect(receiptOf(denied)).toMatchObject({ decision: 'deny', reasons: ['CREDENTIAL_REVOKED'] });

    const swapped = structuredClone(before);
    swapped.statusLists[url] = after.statusLists[url]!;
    const e = await verifyEvidence(swapped);
    expect(e.ok).toBe(false);
    expect(partCodes(e, `status ${url}`)).toEqual(['EVIDENCE_MISMATCH']);
    expect(decisionWhy(e)).toMatch(/allow.*CREDENTIAL_REVOKED/);
    // And the other way: the deny's bundle with the earlier (unrevoked) list.
    const back = structuredClone(after);
    back.statusLists[url] = before.statusLists[url]!;
    const e2 = await verifyEvidence(back);
    expect(e2.ok).toBe(false);
    expect(failing(e2)).toEqual(expect.arrayContaining([`status ${url}`, 'decision']));
  });

  it('re-checked at a later time (--at) the grant has expired: the decision no longer holds, and says so', async () => {
    const g = await sdGrant(w);
    const b = await bundleOf(await ask(g.token));
    const e = await verifyEvidence(b, { at: new Date(Date.now() + 2 * 86_400_000) });
    expect(e.ok).toBe(false);
    expect(failing(e)).toContain('decision');
  });
});

describe('SD-JWT grants: honest bundles of decisions configured past the defaults', () => {
  /** A grant whose status is a list at `url` that `provider` signs (a status provider, not the grant's issuer). */
  async function providerWorld(revoked: boolean, provider: Issuer = makeIssuer()) {
    const url = `https://status.example/lists/${Math.random().toString(36).slice(2)}`;
    const iat = Math.floor(Date.now() / 1000);
    const bytes = new Uint8Array(16);
    if (revoked) writeTokenStatus(bytes, 1, 3, 1);
    const list = await signJwt(
      { typ: 'statuslist+jwt' },
      { iss: provider.did, sub: url, iat, exp: iat + 86_400, status_list: { bits: 1, lst: encodeTokenStatusList(bytes) } },
      provider.signer,
      provider.kid,
    );
    const grant = await issueSdJwtVc({
      issuer: w.alice,
      subject: w.app.did,
      vct: GRANT_VCT,
      claims: { grant: { resources: ['profile/email'], actions: ['read'], purpose: 'p' } },
      validUntil: new Date(Date.now() + 86_400_000),
      status: { idx: 3, uri: url },
      resolver: w.resolver,
    });
    const checker = (trusted: string[]) => createTokenStatusChecker({ resolver: w.resolver, source: async () => list, trustedListSigners: trusted });
    return { provider, grant, checker };
  }
  const decideWith = async (vv: Verifier, token: string) =>
    decide(vv, await sdPresent(token, { url: EMAIL, holder: w.app }), policy(), { kind: 'http', method: 'GET', url: EMAIL });
  const bundleFrom = async (vv: Verifier, d: GuardDecision) => {
    await vv.receipts!.flush();
    return exportEvidence(w.apiStore, d.receiptId!, { signer: shop });
  };

  it("a list signed by a status provider the verifier trusts: allow and revoked-deny bundles re-check; an untrusted signer's deny too", async () => {
    for (const revoked of [false, true]) {
      const { provider, grant, checker } = await providerWorld(revoked);
      const vv = w.verifier({ tokenStatus: checker([provider.did]), receipts: { signer: shop } });
      const d = await decideWith(vv, grant.token);
      expect(codes(d)).toEqual(revoked ? ['CREDENTIAL_REVOKED'] : []);
      const e = await verifyEvidence(await bundleFrom(vv, d));
      expect(failing(e), `revoked: ${revoked}`).toEqual([]);
      expect(e).toMatchObject({ ok: true, decision: 'rechecked' });
    }
    const { grant, checker } = await providerWorld(false);
    const untrusting = w.verifier({ tokenStatus: checker([]), receipts: { signer: shop } });
    const d = await decideWith(untrusting, grant.token);
    expect(codes(d)).toEqual(['STATUS_INVALID']);
    expect(await verifyEvidence(await bundleFrom(untrusting, d))).toMatchObject({ ok: true, decision: 'rechecked' });
  });

  it("a list signed by a did:web status provider, resolved by the checker's own resolver: its document is in the bundle, which re-checks with the provider's site gone", async () => {
    // A did:key provider resolves offline from its name, so only a did:web one shows whether the capture records
    // the document of a list signer that the decision's own resolver never saw (capture.ts, tokenStatus).
    const kp = generateKeyPair('Ed25519');
    const served: { document?: unknown } = {};
    const site = await serve((req, res) => {
      if (req.url === '/.well-known/did.json') res.writeHead(200, { 'content-type': 'application/did+json' }).end(JSON.stringify(served.document));
      else res.writeHead(404).end();
    });
    const ref = didKeyRef('web', kp.publicJwk, `127.0.0.1:${site.port}`);
    served.document = ref.document;
    const provider: Issuer = { ...ref, signer: createSigner(kp.privateJwk) };
    try {
      for (const revoked of [false, true]) {
        const { grant, checker } = await providerWorld(revoked, provider);
        const vv = w.verifier({ tokenStatus: checker([provider.did]), receipts: { signer: shop } });
        const d = await decideWith(vv, grant.token);
        expect(codes(d)).toEqual(revoked ? ['CREDENTIAL_REVOKED'] : []);
        const b = await bundleFrom(vv, d);
        expect(Object.keys(b.dids), `revoked: ${revoked}`).toContain(provider.did);
        if (revoked) await site.close();
        const e = await verifyEvidence(b);
        expect(failing(e), `revoked: ${revoked}`).toEqual([]);
        expect(e).toMatchObject({ ok: true, decision: 'rechecked' });
      }
    } finally {
      await site.close().catch(() => undefined);
    }
  });

  it('a verifier with a wide clock skew: a key binding JWT signed by a clock 200 s ahead is allowed, and its bundle re-checks', async () => {
    const vv = w.verifier({ tokenStatus: tokenStatusOf(w), receipts: { signer: shop }, skewSeconds: 300 });
    const g = await sdGrant(w);
    const p = await presentSdJwtVc(g.token, {
      holder: w.app,
      disclose: ['grant'],
      aud: API,
      nonce: `n-${Date.now()}`,
      now: new Date(Date.now() + 200_000),
      claims: { htm: 'GET', htu: EMAIL },
    });
    const d = await decide(vv, p, policy(), { kind: 'http', method: 'GET', url: EMAIL });
    expect(codes(d)).toEqual([]);
    const e = await verifyEvidence(await bundleFrom(vv, d));
    expect(failing(e)).toEqual([]);
    expect(e.ok).toBe(true);
  });

  it("refusals of the key binding JWT before any signature (an over-long nonce, another transport's claim) re-check as refused for the same reason", async () => {
    const g = await sdGrant(w);
    const long = await sdPresent(g.token, { url: EMAIL, holder: w.app, nonce: 'n'.repeat(300) });
    const foreign = await presentSdJwtVc(g.token, {
      holder: w.app,
      disclose: ['grant'],
      aud: API,
      nonce: `n-${Date.now()}`,
      claims: { htm: 'GET', htu: EMAIL, mcp: { tool: 'read', args: 'x' } },
    });
    for (const [p, code] of [
      [long, 'INVALID_PRESENTATION'],
      [foreign, 'REQUEST_MISMATCH'],
    ] as const) {
      const d = await decide(v, p, policy(), { kind: 'http', method: 'GET', url: EMAIL });
      expect(codes(d)).toEqual([code]);
      const e = await verifyEvidence(await bundleOf(d));
      expect(failing(e), code).toEqual([]);
      expect(e).toMatchObject({ ok: true, decision: 'rechecked' });
    }
  });
});
