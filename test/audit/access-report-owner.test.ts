import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptAccessReport, createAccessReport, decodeReceipt, receiptsForGrant, reportableReceipts, sendAccessReport, homeReportUrl } from '../../src/audit/index.js';
import { NOT_ACCEPTED } from '../../src/audit/access-report.js';
import type { Issuer } from '../../src/credentials/types.js';
import { sha256Digest } from '../../src/encoding/json.js';
import { decide } from '../../src/guard/decide.js';
import type { Verifier } from '../../src/guard/verifier.js';
import { issueSdJwtGrant } from '../../src/sdjwt/index.js';
import { bound } from '../http/present.js';
import { openWorld, type World } from '../http/world.js';
import { handReceipt } from './hand-receipt.js';

/**
 * A grantee may present Alice's grant on Bob's resource (refused, GRANT_NOT_OWNER): the receipt of that
 * refusal names Bob (policy.owner) and Bob's resource. It is no use of Alice's grant on what is Alice's, so
 * the platform does not send it to Alice's home, and Alice's home does not keep it.
 */
let w: World;
let api: Issuer;
let bob: Issuer;
let v: Verifier;
const local = { allowLoopback: true, allowHttp: true };
beforeAll(async () => {
  w = await openWorld();
  await w.home.createIdentity({ alias: 'api' });
  await w.home.createIdentity({ alias: 'bob' });
  api = await w.home.issuer('api');
  bob = await w.home.issuer('bob');
  v = w.verifier({ receipts: { signer: api } });
}, 60_000);
afterAll(async () => w?.close());

const url = (who: string) => `http://127.0.0.1:9999/users/${who}/email`;
/** A real decision on the grant, on `owner`'s resource. */
const use = async (g: { jwt: string }, owner: string, who: string) =>
  (
    await decide(
      v,
      await bound(w.app, [g.jwt], { url: url(who) }),
      { kind: 'grant', resource: `profile/${who}/email`, action: 'read', owner },
      { kind: 'http', method: 'GET', url: url(who) },
    )
  ).receipt!;
/** A receipt `api` signs about grant `g` (cited by hash when a vc+jwt), on a resource of `owner` (none: no owner named; withheld: ownerWithheld). */
const signed = (g: { id: string; jwt?: string }, o: { owner?: string; withheld?: true; decision?: 'allow' | 'deny' }) =>
  handReceipt(api, {
    sub: w.app.did,
    grant: { id: g.id, iss: w.alice.did },
    credentials: [{ h: g.jwt !== undefined ? sha256Digest(g.jwt) : sha256Digest('presented') }],
    policy: {
      kind: 'grant',
      resource: 'profile/email',
      action: 'read',
      ...(o.withheld ? { ownerWithheld: true } : o.owner !== undefined ? { owner: o.owner } : { anyOwner: true }),
    },
    ...(o.decision === 'deny' ? { decision: 'deny' as const, reasons: ['GRANT_NOT_OWNER'] } : {}),
  });
const stored = async (grantId: string) => (await w.home.store.listAccessReceipts({ grantId, limit: 100 })).map((r) => JSON.stringify(decodeReceipt(r.jws)));

describe("access reports never carry a third party's DID", () => {
  it("the platform sends the uses on the grantor's resources and skips the refusal on Bob's (GRANT_NOT_OWNER)", async () => {
    const g = await w.grant({ resources: ['profile/*'] });
    const bobs = await use(g, bob.did, 'bob');
    expect((decodeReceipt(bobs) as { reasons: string[] }).reasons).toContain('GRANT_NOT_OWNER');
    const alices = await use(g, w.alice.did, 'alice');
    const receipts = await receiptsForGrant(w.apiStore, g.id);
    expect(receipts).toEqual(expect.arrayContaining([bobs, alices]));
    expect(reportableReceipts(g.jwt, receipts)).toEqual([alices]);
    expect(await sendAccessReport(api, { grant: g.jwt, receipts }, local)).toEqual({ status: 202, accepted: 1 });
    const kept = await stored(g.id);
    expect(kept.length).toBe(1);
    expect(kept.join()).not.toContain(bob.did);
    expect(kept.join()).not.toContain('profile/bob');
  });

  it('a report of nothing but third-party receipts is not sent at all', async () => {
    const g = await w.grant({ resources: ['profile/*'] });
    const bobs = await use(g, bob.did, 'bob');
    await expect(sendAccessReport(api, { grant: g.jwt, receipts: [bobs] }, local)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await stored(g.id)).toEqual([]);
  });

  it("the sender reads the issuer of an SD-JWT grant too; a receipt naming no owner (anyOwner) or the grant's issuer is sent, one that does not decode is left to the home", async () => {
    const g = await issueSdJwtGrant(w.home.store, w.alice, {
      grantee: w.app.did,
      resources: ['profile/email'],
      actions: ['read'],
      purpose: 'x',
      validUntil: new Date(Date.now() + 86_400_000),
      baseUrl: w.server.url,
      resolver: w.resolver,
    });
    const mine = await signed(g, { owner: w.alice.did });
    const any = await signed(g, {});
    const third = await signed(g, { owner: bob.did });
    const thirdDeny = await signed(g, { owner: bob.did, decision: 'deny' });
    const withheld = await signed(g, { withheld: true, decision: 'deny' });
    expect(reportableReceipts(g.token, [mine, third, any, thirdDeny, withheld, 'junk'])).toEqual([mine, any, 'junk']);
  });

  it('the home refuses a receipt naming another owner, allowed or refused, vc+jwt or SD-JWT, with the one NOT_ACCEPTED answer, and keeps none of it', async () => {
    const vc = await w.grant({ resources: ['profile/*'] });
    const sd = await issueSdJwtGrant(w.home.store, w.alice, {
      grantee: w.app.did,
      resources: ['profile/email'],
      actions: ['read'],
      purpose: 'x',
      validUntil: new Date(Date.now() + 86_400_000),
      baseUrl: w.server.url,
      resolver: w.resolver,
    });
    for (const g of [vc, { id: sd.id }]) {
      const receipts = [
        await signed(g, { owner: bob.did }),
        await signed(g, { owner: bob.did, decision: 'deny' }),
        await signed(g, { owner: w.alice.did }),
        await signed(g, {}),
        // A refusal whose receipt withholds the owner (guard/receipt.ts): another owner's resource too.
        await signed(g, { withheld: true, decision: 'deny' }),
      ];
      for (const reporter of [api, w.app]) {
        const r = await acceptAccessReport(w.home.store, await createAccessReport(reporter, { aud: homeReportUrl(w.server.url), grant: g.id, receipts }), {
          resolver: w.home.resolver,
          aud: homeReportUrl(w.server.url),
        });
        expect(r.refused).toEqual([
          { index: 0, code: 'RECEIPT_INVALID', message: NOT_ACCEPTED },
          { index: 1, code: 'RECEIPT_INVALID', message: NOT_ACCEPTED },
          { index: 4, code: 'RECEIPT_INVALID', message: NOT_ACCEPTED },
        ]);
      }
      const kept = await stored(g.id);
      expect(kept.length).toBe(2);
      expect(kept.join()).not.toContain(bob.did);
    }
  });
});
