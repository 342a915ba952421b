import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { acceptAccessReport, accessReports, homeReportUrl } from '../../src/audit/index.js';
import { MAX_REPORT_RECEIPTS, NOT_ACCEPTED } from '../../src/audit/access-report.js';
import { ACCESS_REPORT_TYP, RECEIPT_TYP, signCanonical } from '../../src/audit/jws.js';
import type { Issuer } from '../../src/credentials/types.js';
import { sha256Digest } from '../../src/encoding/json.js';
import { issueGrant } from '../../src/grants/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { join } from 'node:path';
import { openWorld, type World } from '../http/world.js';
import { makeIssuer, tempDir } from '../helpers.js';
import { receiptClaims } from './hand-receipt.js';

/**
 * acceptAccessReport's checks of the report itself, each alone, on reports signed by hand as no Charter
 * sender writes them (found by mutation testing of src/audit/access-report.ts: any one of these could be
 * loosened with every earlier test passing).
 */
let w: World;
beforeAll(async () => {
  w = await openWorld();
}, 60_000);
afterAll(async () => w.close());

const grantOf = async () =>
  issueGrant(w.home.store, w.alice, {
    grantee: w.app.did,
    resources: ['profile/email'],
    actions: ['read'],
    purpose: 'tests',
    validUntil: new Date(Date.now() + 86_400_000),
    baseUrl: w.server.url,
  });
const receiptBy = async (by: Issuer, g: { id: string; jwt: string }, grantor = w.alice.did) =>
  (
    await signCanonical(
      RECEIPT_TYP,
      receiptClaims(by, {
        sub: w.app.did,
        grant: { id: g.id, iss: grantor },
        credentials: [{ h: sha256Digest(g.jwt), id: g.id, iss: grantor, type: ['DataAccessGrant'] }],
        request: { htm: 'GET', htu: 'https://api.example/profile/email' },
        policy: { kind: 'grant', resource: 'profile/email', action: 'read', owner: grantor },
      }),
      by,
    )
  ).jws;
/** A report `by` signs with these claims, as createAccessReport would but without its own checks. */
const handReport = async (by: Issuer, claims: Record<string, unknown>) =>
  (
    await signCanonical(
      ACCESS_REPORT_TYP,
      { iss: by.did, aud: homeReportUrl(w.server.url), jti: `urn:uuid:${crypto.randomUUID()}`, iat: Math.floor(Date.now() / 1000), ...claims },
      by,
    )
  ).jws;
const accept = (jws: string) => acceptAccessReport(w.home.store, jws, { resolver: w.home.resolver, aud: homeReportUrl(w.server.url) });

describe('acceptAccessReport: the report itself, each check alone', () => {
  it(`a report of ${MAX_REPORT_RECEIPTS} receipts is read; one of ${MAX_REPORT_RECEIPTS + 1} is refused whole (INVALID_ARGUMENT), nothing read`, async () => {
    const g = await grantOf();
    const p = makeIssuer();
    const one = await receiptBy(p, g);
    const full = await accept(await handReport(p, { grant: g.id, receipts: Array.from({ length: MAX_REPORT_RECEIPTS }, () => one) }));
    expect(full.reasons).toEqual([]);
    expect(full.accepted).toBe(1);
    const over = await accept(await handReport(p, { grant: g.id, receipts: Array.from({ length: MAX_REPORT_RECEIPTS + 1 }, () => one) }));
    expect(over).toMatchObject({ ok: false, accepted: 0, refused: [] });
    expect(over.reasons.map((r) => r.code)).toEqual(['INVALID_ARGUMENT']);
  });

  it('a grant this home holds (given to it by someone else), not one it issued, takes no reported use: every receipt NOT_ACCEPTED, nothing kept', async () => {
    const elsewhere = await openSqliteStore(join(tempDir('charter-held-grant-'), 'other.db'));
    const stranger = makeIssuer();
    const g = await issueGrant(elsewhere, stranger, {
      grantee: w.app.did,
      resources: ['profile/email'],
      actions: ['read'],
      purpose: 'tests',
      validUntil: new Date(Date.now() + 86_400_000),
      baseUrl: 'https://stranger.example',
    });
    const rec = (await elsewhere.getCredential(g.id))!;
    await elsewhere.close();
    await w.home.store.putCredential({ ...rec, direction: 'held' });
    const p = makeIssuer();
    const r = await accept(await handReport(p, { grant: g.id, receipts: [await receiptBy(p, g, stranger.did)] }));
    expect(r).toMatchObject({ ok: false, accepted: 0, refused: [{ index: 0, code: 'RECEIPT_INVALID', message: NOT_ACCEPTED }] });
    expect(await accessReports(w.home.store, g.id)).toEqual([]);
  });

  it("a settlement receipt in a report is refused as what it is, 'not a decision receipt', nothing kept", async () => {
    const g = await grantOf();
    const p = makeIssuer();
    const t = new Date(Date.now() - 1000);
    const settlement = (
      await signCanonical(
        RECEIPT_TYP,
        {
          iss: p.did,
          jti: `urn:uuid:${crypto.randomUUID()}`,
          iat: Math.floor(t.getTime() / 1000),
          time: t.toISOString(),
          kind: 'settlement',
          receipt: `urn:uuid:${crypto.randomUUID()}`,
          spend: { reservation: 'r', state: 'committed' },
          log: { chain: `urn:uuid:${crypto.randomUUID()}`, seq: 2, prev: sha256Digest('x') },
        },
        p,
      )
    ).jws;
    const r = await accept(await handReport(p, { grant: g.id, receipts: [settlement] }));
    expect(r).toMatchObject({ ok: false, accepted: 0, refused: [{ index: 0, code: 'RECEIPT_INVALID', message: 'not a decision receipt' }] });
    expect(await accessReports(w.home.store, g.id)).toEqual([]);
  });
});
