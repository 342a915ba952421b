import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { acceptAccessReport, accessReports, accessReportUrl, createAccessReport, sendAccessReport, homeReportUrl } from '../../src/audit/index.js';
import { NOT_ACCEPTED } from '../../src/audit/access-report.js';
import type { Issuer } from '../../src/credentials/types.js';
import { sha256Digest } from '../../src/encoding/json.js';
import { decide } from '../../src/guard/decide.js';
import type { Verifier } from '../../src/guard/verifier.js';
import { issueSdJwtGrant } from '../../src/sdjwt/index.js';
import { codes, sdGrant, sdPresent, tokenStatusOf } from '../guard/seams-fixtures.js';
import { openWorld, type World } from '../http/world.js';
import { makeIssuer } from '../helpers.js';
import { handReceipt } from './hand-receipt.js';

/**
 * Access reports about SD-JWT grants (README: accepted, named by id): the sender finds the grantor's
 * server from the Token Status List URI, the home takes the report, and an allowed use must lie inside
 * the grant's resources and actions, read from the disclosures it issued.
 */
let w: World;
let shop: Issuer;
let v: Verifier;
const EMAIL = 'http://127.0.0.1:9999/profile/email';
const local = { allowLoopback: true, allowHttp: true };

beforeAll(async () => {
  w = await openWorld();
  await w.home.createIdentity({ alias: 'shop' });
  shop = await w.home.issuer('shop');
  v = w.verifier({ tokenStatus: tokenStatusOf(w), receipts: { signer: shop } });
}, 60_000);
afterAll(async () => w?.close());

const ask = async (token: string, url = EMAIL, resource = 'profile/email') =>
  decide(v, await sdPresent(token, { url, holder: w.app }), { kind: 'grant', resource, action: 'read', owner: w.alice.did }, { kind: 'http', method: 'GET', url });

/** A receipt by `by` about SD-JWT grant `id` (named by id, as its receipts do), allowing `resource`/`action`. */
const signed = (by: Issuer, id: string, o: { resource?: string; action?: string; decision?: 'allow' | 'deny' } = {}) =>
  handReceipt(by, {
    sub: w.app.did,
    grant: { id, iss: w.alice.did },
    credentials: [{ h: sha256Digest('presented') }],
    request: { htm: 'GET', htu: 'https://api.example/x' },
    policy: { kind: 'grant', resource: o.resource ?? 'profile/email', action: o.action ?? 'read', owner: w.alice.did },
    ...(o.decision ? { decision: o.decision } : {}),
  });

describe('access reports about SD-JWT grants', () => {
  it("the platform reports a real decision on an SD-JWT grant: found from the grant's Token Status List, accepted, shown to the person", async () => {
    const g = await sdGrant(w);
    const d = await ask(g.token);
    expect(codes(d)).toEqual([]);
    expect(accessReportUrl(g.token)).toBe(`${w.server.url}/access-reports`);
    expect(await sendAccessReport(shop, { grant: g.token, receipts: [d.receipt!] }, local)).toEqual({ status: 202, accepted: 1 });
    // The grantee reporting the same use (with the disclosures it holds, or a presentation of it) finds the same server.
    const presented = await sdPresent(g.token, { url: EMAIL, holder: w.app });
    expect(accessReportUrl(presented)).toBe(`${w.server.url}/access-reports`);
    expect(await sendAccessReport(w.app, { grant: presented, receipts: [d.receipt!] }, local)).toEqual({ status: 202, accepted: 0 });
    const uses = await accessReports(w.home.store, g.id);
    expect(uses.map((u) => [u.verifier, u.outcome, u.action, u.resource])).toEqual([[shop.did, 'allow', 'read', 'profile/email']]);
    // The same default address policy as for a vc+jwt grant.
    await expect(sendAccessReport(shop, { grant: g.token, receipts: [d.receipt!] })).rejects.toMatchObject({ code: 'FORBIDDEN_ADDRESS' });
  });

  it('POST /access-reports about an SD-JWT grant is 202, not 404', async () => {
    const g = await sdGrant(w);
    const p = makeIssuer();
    const r = await fetch(`${w.server.url}/access-reports`, {
      method: 'POST',
      headers: { 'content-type': 'application/jwt' },
      body: await createAccessReport(p, { aud: homeReportUrl(w.server.url), grant: g.id, receipts: [await signed(p, g.id)] }),
    });
    expect([r.status, await r.json()]).toEqual([202, expect.objectContaining({ grant: g.id, accepted: 1 })]);
  });

  it("an allowed use outside the SD-JWT grant's resources or actions: the grantee's report is refused it; a verifier's own report keeps it, marked outside the grant", async () => {
    const g = await sdGrant(w); // profile/email and photos/*, read; every item a disclosure of its own
    const p = makeIssuer();
    // [case, receipt, kept in the grantee's report, kept in the verifier's own, outside the grant]
    const cases: [string, { resource?: string; action?: string; decision?: 'allow' | 'deny' }, boolean, boolean, boolean][] = [
      ['inside', {}, true, true, false],
      ['inside a wildcard', { resource: 'photos/2024/beach' }, true, true, false],
      ['another resource', { resource: 'medical/records' }, false, true, true],
      ['another action', { action: 'delete' }, false, true, true],
      ['both', { resource: 'medical/records', action: 'delete' }, false, true, true],
      ['escaping by dot segments (no plain path)', { resource: 'photos/../medical/records' }, false, false, false],
      ['a refusal outside', { resource: 'medical/records', action: 'delete', decision: 'deny' }, true, true, false],
    ];
    const receipts = await Promise.all(cases.map(([, o]) => signed(p, g.id, o)));
    // The grantee holds the whole grant: its report is held to the grant's scope.
    const byGrantee = await acceptAccessReport(w.home.store, await createAccessReport(w.app, { aud: homeReportUrl(w.server.url), grant: g.id, receipts }), {
      resolver: w.home.resolver,
      aud: homeReportUrl(w.server.url),
    });
    expect(cases.map(([what], i) => [what, !byGrantee.refused.some((x) => x.index === i)])).toEqual(cases.map(([what, , ok]) => [what, ok]));
    // The verifier may have been shown a part of it only: judged blind to the rest (else its answers would tell
    // anyone who signs a receipt the grant's undisclosed scope), and what lies outside is kept and marked.
    const g2 = await sdGrant(w);
    const again = await Promise.all(cases.map(([, o]) => signed(p, g2.id, o)));
    const byVerifier = await acceptAccessReport(w.home.store, await createAccessReport(p, { aud: homeReportUrl(w.server.url), grant: g2.id, receipts: again }), {
      resolver: w.home.resolver,
      aud: homeReportUrl(w.server.url),
    });
    expect(cases.map(([what], i) => [what, !byVerifier.refused.some((x) => x.index === i)])).toEqual(cases.map(([what, , , ok]) => [what, ok]));
    const uses = await accessReports(w.home.store, g2.id);
    const outside = new Set(uses.filter((u) => u.outsideGrant).map((u) => u.receiptId));
    const idOf = (jws: string) => (JSON.parse(Buffer.from(jws.split('.')[1]!, 'base64url').toString()) as { jti: string }).jti;
    expect(cases.filter(([, , , kept]) => kept).map(([what]) => [what, outside.has(idOf(again[cases.findIndex(([x]) => x === what)]!))])).toEqual(
      cases.filter(([, , , kept]) => kept).map(([what, , , , out]) => [what, out]),
    );
  });

  it('only the grant issued here, to its grantee: a receipt about another presenter, or an unknown id, is refused', async () => {
    const other = await issueSdJwtGrant(w.home.store, w.alice, {
      grantee: w.agent.did,
      resources: ['profile/email'],
      actions: ['read'],
      purpose: 'x',
      validUntil: new Date(Date.now() + 86_400_000),
      baseUrl: w.server.url,
      resolver: w.resolver,
    });
    const p = makeIssuer();
    const r = await acceptAccessReport(w.home.store, await createAccessReport(p, { aud: homeReportUrl(w.server.url), grant: other.id, receipts: [await signed(p, other.id)] }), {
      resolver: w.home.resolver,
      aud: homeReportUrl(w.server.url),
    });
    expect(r.refused.map((x) => x.message)).toEqual([NOT_ACCEPTED]);
    // An unknown id is answered as a grant whose receipts all fail: whether it was issued here is not told.
    const unknown = `urn:uuid:${randomUUID()}`;
    const none = await acceptAccessReport(w.home.store, await createAccessReport(p, { aud: homeReportUrl(w.server.url), grant: unknown, receipts: [await signed(p, unknown)] }), {
      resolver: w.home.resolver,
      aud: homeReportUrl(w.server.url),
    });
    expect([none.reasons, none.accepted, none.refused]).toEqual([[], 0, [{ index: 0, code: 'RECEIPT_INVALID', message: NOT_ACCEPTED }]]);
  });
});
