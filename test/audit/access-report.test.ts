import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../src/guard/decide.js';
import { accessReports, createAccessReport, sendAccessReport, accessReportUrl } from '../../src/audit/index.js';
import { createAccessReportHandler } from '../../src/server/access-report.js';
import type { Issuer } from '../../src/credentials/types.js';
import type { Verifier } from '../../src/guard/verifier.js';
import { bound } from '../http/present.js';
import { openWorld, type World } from '../http/world.js';
import { makeIssuer, serve, tamper } from '../helpers.js';

/** The person's side: a platform sends its receipts of uses of a grant back to the grantor's `charter serve`. */
let w: World;
let api: Issuer;
let v: Verifier;
let grant: { id: string; jwt: string };
let used: string;
let refused: string;
let other: string;

const url = 'http://127.0.0.1:9999/profile/email';
const use = async (g: { jwt: string }, resource: string) =>
  decide(v, await bound(w.app, [g.jwt], { url }), { kind: 'grant', resource, action: 'read', owner: w.alice.did }, { kind: 'claims', claims: { htm: 'GET', htu: url } });

beforeAll(async () => {
  w = await openWorld();
  await w.home.createIdentity({ alias: 'api' });
  api = await w.home.issuer('api');
  v = w.verifier({ receipts: { signer: api } });
  grant = await w.grant({ resources: ['profile/email'] });
  used = (await use(grant, 'profile/email')).receipt!;
  refused = (await use(grant, 'profile/phone')).receipt!;
  other = (await use(await w.grant(), 'profile/email')).receipt!;
});
afterAll(async () => w.close());

const post = (body: string, type = 'application/jwt') => fetch(`${w.server.url}/access-reports`, { method: 'POST', headers: { 'content-type': type }, body });

describe('access reports', () => {
  it("the platform finds the grantor's server from the grant and sends its receipts; the person sees which platform used the grant, when, for what", async () => {
    expect(accessReportUrl(grant.jwt)).toBe(`${w.server.url}/access-reports`);
    expect(await sendAccessReport(api, { grant: grant.jwt, receipts: [used, refused] })).toEqual({ status: 202, accepted: 2 });
    // Sent again: nothing new.
    expect(await sendAccessReport(api, { grant: grant.jwt, receipts: [used] })).toEqual({ status: 202, accepted: 0 });
    const uses = await accessReports(w.home.store, grant.id);
    expect(uses.map((u) => [u.verifier, u.outcome, u.action, u.resource])).toEqual(
      expect.arrayContaining([
        [api.did, 'allow', 'read', 'profile/email'],
        [api.did, 'deny', 'read', 'profile/phone'],
      ]),
    );
    expect(uses[0]).toMatchObject({ reporter: api.did, holder: w.app.did });
    const page = await (await fetch(`${w.server.url}/consent`)).text();
    expect(page).toContain('Reported uses');
    expect(page).toContain(`data-receipt="${uses[0]!.receiptId}"`);
  });

  it('the grantee may report its own uses; anyone else, a receipt of another grant, or a forged receipt is refused receipt by receipt', async () => {
    const stranger = makeIssuer();
    const r = await post(await createAccessReport(stranger, { grant: grant.id, receipts: [used] }));
    expect(r.status).toBe(202);
    expect(await r.json()).toMatchObject({ accepted: 0, refused: [{ index: 0, code: 'RECEIPT_INVALID' }] });
    const mixed = await post(await createAccessReport(w.app, { grant: grant.id, receipts: [used, other, tamper(used, 1, (p) => (p.decision = 'deny'))] }));
    expect(((await mixed.json()) as { refused: { index: number }[] }).refused.map((x) => x.index)).toEqual([1, 2]);
  });

  it('refused reports: unknown grant (404), a bad signature (401), not a JWT or wrong type (400, 415), GET (405)', async () => {
    expect((await post(await createAccessReport(api, { grant: 'urn:uuid:nope', receipts: [used] }))).status).toBe(404);
    const bad = await createAccessReport(api, { grant: grant.id, receipts: [used] });
    expect((await post(tamper(bad, 1, (p) => (p.grant = grant.id + 'x')))).status).toBe(401);
    expect((await post('hello')).status).toBe(400);
    expect((await post(bad, 'application/json')).status).toBe(415);
    expect((await fetch(`${w.server.url}/access-reports`)).status).toBe(405);
    await expect(createAccessReport(api, { grant: grant.id, receipts: [] })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  it('rate-limited per address: beyond the limit, 429 with Retry-After', async () => {
    const s = await serve((req, res) => void createAccessReportHandlerOnce(req, res));
    try {
      const report = await createAccessReport(api, { grant: grant.id, receipts: [used] });
      const statuses: number[] = [];
      let retry: string | null = null;
      for (let i = 0; i < 4; i++) {
        const r = await fetch(`${s.url}/access-reports`, { method: 'POST', headers: { 'content-type': 'application/jwt' }, body: report });
        statuses.push(r.status);
        if (r.status === 429) retry = r.headers.get('retry-after');
        await r.body?.cancel();
      }
      expect(statuses).toEqual([202, 202, 429, 429]);
      expect(Number(retry)).toBeGreaterThan(0);
    } finally {
      await s.close();
    }
  });
});

let handler: ReturnType<typeof createAccessReportHandler> | undefined;
function createAccessReportHandlerOnce(...a: Parameters<ReturnType<typeof createAccessReportHandler>>) {
  handler ??= createAccessReportHandler(w.home, { perAddressPerMinute: 2 });
  return handler(...a);
}
