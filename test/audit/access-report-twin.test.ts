import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide } from '../../src/guard/decide.js';
import { issueGrant } from '../../src/grants/index.js';
import { acceptAccessReport, accessReports, createAccessReport, decodeReceipt, homeReportUrl } from '../../src/audit/index.js';
import { NOT_ACCEPTED } from '../../src/audit/access-report.js';
import type { Issuer } from '../../src/credentials/types.js';
import type { Verifier } from '../../src/guard/verifier.js';
import { sha256Digest } from '../../src/encoding/json.js';
import { bound } from '../http/present.js';
import { openWorld, type World } from '../http/world.js';
import { handReceipt } from './hand-receipt.js';

/**
 * ES256 signature malleability: (r, s) and (r, n - s) both verify (RFC 7518
 * §3.4 picks neither), so a grantee may present the twin spelling of a P-256
 * grant. The receipt names what was presented (its hash); the grantor's home
 * still takes a report of that use as a use of the grant it issued.
 */

const P256_N = 0xffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551n;
function twin(jwt: string): string {
  const [h, p, s] = jwt.split('.');
  const sig = Buffer.from(s!, 'base64url');
  const sv = BigInt('0x' + sig.subarray(32).toString('hex'));
  const s2 = Buffer.from((P256_N - sv).toString(16).padStart(64, '0'), 'hex');
  return `${h}.${p}.${Buffer.concat([sig.subarray(0, 32), s2]).toString('base64url')}`;
}
const algOf = (jwt: string) => (JSON.parse(Buffer.from(jwt.split('.')[0]!, 'base64url').toString()) as { alg: string }).alg;

let w: World;
let api: Issuer;
let v: Verifier;
let owner256: Issuer;
const url = 'http://127.0.0.1:9999/profile/email';

beforeAll(async () => {
  w = await openWorld();
  await w.home.createIdentity({ alias: 'owner256', keyType: 'P-256' });
  owner256 = await w.home.issuer('owner256');
  await w.home.createIdentity({ alias: 'api' });
  api = await w.home.issuer('api');
  v = w.verifier({ receipts: { signer: api } });
});
afterAll(async () => w.close());

const grantBy = (owner: Issuer) =>
  issueGrant(w.home.store, owner, {
    grantee: w.app.did,
    resources: ['profile/email'],
    actions: ['read'],
    purpose: 'tests',
    validUntil: new Date(Date.now() + 86_400_000),
    baseUrl: w.server.url,
  } as Parameters<typeof issueGrant>[2]);
const use = async (owner: Issuer, jwt: string) =>
  decide(
    v,
    await bound(w.app, [jwt], { url }),
    { kind: 'grant', resource: 'profile/email', action: 'read', owner: owner.did },
    { kind: 'claims', claims: { htm: 'GET', htu: url } },
  );
const report = async (grantId: string, receipts: string[]) =>
  acceptAccessReport(w.home.store, await createAccessReport(api, { aud: homeReportUrl(w.server.url), grant: grantId, receipts }), {
    resolver: w.home.resolver,
    aud: homeReportUrl(w.server.url),
  });

/** A receipt by the verifier about grant `g`, listing the presented credential by hash `h`. */
const citing = (owner: Issuer, g: { id: string }, h: string) =>
  handReceipt(api, {
    sub: w.app.did,
    grant: { id: g.id, iss: owner.did },
    credentials: [{ h, id: g.id, iss: owner.did, type: ['DataAccessGrant'] }],
    policy: { kind: 'grant', resource: 'profile/email', action: 'read', owner: owner.did },
    time: new Date(),
    log: { chain: 'urn:uuid:c', seq: 1, prev: null },
  });

describe('access reports of an ES256 grant presented in either signature spelling', () => {
  it('a use of the original and a use of the twin (r, n - s) are both accepted; each receipt names the bytes presented', async () => {
    const g = await grantBy(owner256);
    expect(algOf(g.jwt)).toBe('ES256');
    const t = twin(g.jwt);
    expect(t).not.toBe(g.jwt);
    const d1 = await use(owner256, g.jwt);
    const d2 = await use(owner256, t);
    // High s is not refused: honest P-256 signers emit it.
    expect([d1.ok, d2.ok]).toEqual([true, true]);
    const hashes = (d: typeof d1) => (decodeReceipt(d.receipt!) as unknown as { credentials: { h: string }[] }).credentials.map((c) => c.h);
    expect(hashes(d1)).toEqual([sha256Digest(g.jwt)]);
    expect(hashes(d2)).toEqual([sha256Digest(t)]);
    expect((await report(g.id, [d2.receipt!])).accepted).toBe(1);
    expect((await report(g.id, [d1.receipt!])).accepted).toBe(1);
    expect(await accessReports(w.home.store, g.id)).toHaveLength(2);
  });

  it('a receipt naming any other hash is still refused', async () => {
    const g = await grantBy(owner256);
    const other = await grantBy(owner256);
    for (const h of [sha256Digest(other.jwt), sha256Digest(twin(other.jwt)), sha256Digest(g.jwt + ' '), sha256Digest(g.id)]) {
      const r = await report(g.id, [await citing(owner256, g, h)]);
      expect([h, r.accepted, r.refused.map((x) => x.message)]).toEqual([h, 0, [NOT_ACCEPTED]]);
    }
    expect((await report(g.id, [await citing(owner256, g, sha256Digest(twin(g.jwt)))])).accepted).toBe(1);
  });

  it('an EdDSA grant is unchanged: its own hash is accepted, nothing else', async () => {
    const g = await grantBy(w.alice);
    expect(algOf(g.jwt)).toBe('EdDSA');
    expect((await report(g.id, [(await use(w.alice, g.jwt)).receipt!])).accepted).toBe(1);
    // The P-256 arithmetic applied to an Ed25519 signature names no spelling of this grant.
    const r = await report(g.id, [await citing(w.alice, g, sha256Digest(twin(g.jwt)))]);
    expect([r.accepted, r.refused.map((x) => x.message)]).toEqual([0, [NOT_ACCEPTED]]);
  });
});
