import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { accessReports, createAccessReport, homeReportUrl } from '../../src/audit/index.js';
import { NOT_ACCEPTED } from '../../src/audit/access-report.js';
import { RECEIPT_TYP, signCanonical } from '../../src/audit/jws.js';
import type { Issuer } from '../../src/credentials/types.js';
import { sha256Digest } from '../../src/encoding/json.js';
import { issueSdJwtGrant } from '../../src/sdjwt/index.js';
import { createAccessReportHandler } from '../../src/server/access-report.js';
import { openWorld, type World } from '../http/world.js';
import { makeIssuer, serve } from '../helpers.js';
import { receiptClaims } from './hand-receipt.js';

/**
 * An access report may be signed by anyone, so how the home refuses its receipts must not tell the sender
 * anything about a grant it does not hold: an SD-JWT grant's undisclosed resources (its id and grantee are
 * clear in every presentation), whether an id was issued here, who its grantee is. Every refusal that reads
 * the grant is the same status and the same body, whatever the reason.
 */
let w: World;
let sd: { id: string };
let vc: { id: string; jwt: string };
let notAGrant: string;
/** `charter serve`'s /access-reports handler, its rate limits out of the way of the many probes here. */
let home: Awaited<ReturnType<typeof serve>>;
beforeAll(async () => {
  w = await openWorld();
  const handler = createAccessReportHandler(w.home, { perAddressPerMinute: 100_000, perReporterPerHour: 100_000 });
  home = await serve((req, res) => void handler(req, res));
  // profile/email is what a verifier is shown; medical/hiv-status is the undisclosed claim a guess must not find.
  sd = await issueSdJwtGrant(w.home.store, w.alice, {
    grantee: w.app.did,
    resources: ['profile/email', 'medical/hiv-status'],
    actions: ['read'],
    purpose: 'x',
    validUntil: new Date(Date.now() + 86_400_000),
    baseUrl: w.server.url,
    resolver: w.resolver,
  });
  vc = await w.grant({ resources: ['profile/email', 'medical/hiv-status'] });
  // A credential this home issued that is no grant.
  notAGrant = `urn:uuid:${randomUUID()}`;
  await w.home.store.putCredential({
    id: notAGrant,
    jwt: vc.jwt,
    direction: 'issued',
    issuer: w.alice.did,
    subject: w.app.did,
    types: ['AgentIdentityCredential'],
    createdAt: new Date().toISOString(),
  });
}, 60_000);
afterAll(async () => {
  await home?.close();
  await w?.close();
});

interface Probe {
  grant: string;
  resource?: string;
  action?: string;
  sub?: string;
  owner?: string;
  time?: Date;
  hash?: string;
  purpose?: string;
}
const b64 = (x: unknown) => Buffer.from(JSON.stringify(x)).toString('base64url');
const claimsOf = (by: Issuer, o: Probe) =>
  receiptClaims(by, {
    sub: o.sub ?? w.app.did,
    grant: { id: o.grant, iss: w.alice.did },
    credentials: [{ h: o.hash ?? (o.grant === vc.id ? sha256Digest(vc.jwt) : sha256Digest('presented')) }],
    request: { htm: 'GET', htu: 'https://api.example/x' },
    policy: { kind: 'grant', resource: o.resource ?? 'profile/email', action: o.action ?? 'read', owner: o.owner ?? w.alice.did, ...(o.purpose ? { purpose: o.purpose } : {}) },
    ...(o.time ? { time: o.time } : {}),
  });
/** A receipt with a signature nobody made: what anyone can write. */
const unsigned = (by: Issuer, o: Probe) => `${b64({ alg: 'EdDSA', typ: RECEIPT_TYP, kid: `${by.did}#k` })}.${b64(claimsOf(by, o))}.${Buffer.alloc(64).toString('base64url')}`;
const signed = async (by: Issuer, o: Probe) => (await signCanonical(RECEIPT_TYP, claimsOf(by, o), by)).jws;

/** Posts a report of one receipt; the answer with the report's own grant id written as GRANT (the sender chose it). */
const post = async (by: Issuer, grant: string, receipt: string) => {
  const r = await fetch(`${home.url}/access-reports`, {
    method: 'POST',
    headers: { 'content-type': 'application/jwt' },
    body: await createAccessReport(by, { aud: homeReportUrl(w.server.url), grant, receipts: [receipt] }),
  });
  return `${r.status} ${r.headers.get('content-type')} ${(await r.text()).split(grant).join('GRANT')}`;
};

const later = () => new Date(Date.now() + 3_600_000);
const before = () => new Date(Date.now() - 86_400_000);
/** Every way a receipt may fail what the grant says, for a grant `g` whose grantee is w.app. */
const grantDependent = (g: string): [string, Probe][] => [
  ['a resource the grant covers (undisclosed), dated in the future', { grant: g, resource: 'medical/hiv-status', time: later() }],
  ['a resource it does not cover, dated in the future', { grant: g, resource: 'medical/cancer', time: later() }],
  ['a resource the grant covers, dated before it was issued', { grant: g, resource: 'medical/hiv-status', time: before() }],
  ['a resource it does not cover', { grant: g, resource: 'medical/cancer' }],
  ['an action it does not cover', { grant: g, action: 'delete' }],
  ['another grantee', { grant: g, sub: makeIssuer().did }],
  ["a third party's resource (another owner)", { grant: g, owner: makeIssuer().did }],
  ['a purpose the grant does not name', { grant: g, purpose: 'x-something' }],
  ['an unknown grant id', { grant: `urn:uuid:${randomUUID()}` }],
  ['a credential issued here that is no grant', { grant: notAGrant }],
];

describe('access reports tell a sender nothing of a grant it does not hold', () => {
  for (const [format, grantOf] of [
    ['SD-JWT', () => sd.id],
    ['vc+jwt', () => vc.id],
  ] as const) {
    it(`${format}: an unsigned receipt gets the same status and body whatever the grant says (inside or outside its scope, its grantee or not, issued here or not)`, async () => {
      const attacker = makeIssuer();
      const cases: [string, Probe][] = [['a resource the grant covers, dated now', { grant: grantOf(), resource: 'medical/hiv-status' }], ...grantDependent(grantOf())];
      const answers = await Promise.all(cases.map(async ([what, o]) => [what, await post(attacker, o.grant, unsigned(attacker, o))]));
      const first = answers[0]![1];
      expect(first).toMatch(/^202 application\/json .*"accepted":0.*does not verify/);
      expect(answers).toEqual(cases.map(([what]) => [what, first]));
    });

    it(`${format}: a receipt its sender signed, refused for anything the grant says, is the one NOT_ACCEPTED answer`, async () => {
      const attacker = makeIssuer();
      // An SD-JWT grant's verifier is judged blind to its scope (it may not have been shown all of it): an
      // allow outside is kept and marked for the person, never refused (below), so it tells nothing.
      const scopeOnly = new Set(['a resource it does not cover', 'an action it does not cover']);
      const cases = grantDependent(grantOf()).filter(([what]) => format === 'vc+jwt' || !scopeOnly.has(what));
      const answers = await Promise.all(cases.map(async ([what, o]) => [what, await post(attacker, o.grant, await signed(attacker, o))]));
      const expected = `202 application/json ${JSON.stringify({ grant: 'GRANT', accepted: 0, refused: [{ index: 0, code: 'RECEIPT_INVALID', message: NOT_ACCEPTED }] })}`;
      expect(answers).toEqual(cases.map(([what]) => [what, expected]));
    });
  }

  it('SD-JWT: a receipt its sender signed gets the same answer inside the undisclosed scope and outside it (both kept, those outside marked)', async () => {
    const attacker = makeIssuer();
    const cases: [string, Probe][] = [
      ['the undisclosed resource', { grant: sd.id, resource: 'medical/hiv-status' }],
      ['a resource it does not cover', { grant: sd.id, resource: 'medical/cancer' }],
      ['an action it does not cover', { grant: sd.id, action: 'delete' }],
      ['the disclosed resource', { grant: sd.id }],
    ];
    const answers = await Promise.all(cases.map(async ([what, o]) => [what, await post(attacker, o.grant, await signed(attacker, o))]));
    const expected = `202 application/json ${JSON.stringify({ grant: 'GRANT', accepted: 1, refused: [] })}`;
    expect(answers).toEqual(cases.map(([what]) => [what, expected]));
    const uses = await accessReports(w.home.store, sd.id);
    const mine = uses.filter((u) => u.verifier === attacker.did);
    expect(mine.map((u) => [u.resource, u.action, u.outsideGrant === true]).sort()).toEqual(
      [
        ['medical/cancer', 'read', true],
        ['medical/hiv-status', 'read', false],
        ['profile/email', 'delete', true],
        ['profile/email', 'read', false],
      ].sort(),
    );
  });

  it("a vc+jwt receipt without the grant's hash is refused like any other misfit, signed or not", async () => {
    const attacker = makeIssuer();
    const o: Probe = { grant: vc.id, hash: sha256Digest('not the grant') };
    const expected = `202 application/json ${JSON.stringify({ grant: 'GRANT', accepted: 0, refused: [{ index: 0, code: 'RECEIPT_INVALID', message: NOT_ACCEPTED }] })}`;
    expect(await post(attacker, vc.id, await signed(attacker, o))).toBe(expected);
    expect(await post(attacker, vc.id, unsigned(attacker, o))).toBe(await post(attacker, vc.id, unsigned(attacker, { grant: vc.id, sub: makeIssuer().did })));
  });

  it('a receipt by another verifier than the sender is refused before any signature, the same for every grant, known or not', async () => {
    const sender = makeIssuer();
    const verifier = makeIssuer();
    const answers = await Promise.all(
      [sd.id, vc.id, `urn:uuid:${randomUUID()}`, notAGrant].map(async (g) => [
        await post(sender, g, unsigned(verifier, { grant: g })),
        await post(sender, g, await signed(verifier, { grant: g, resource: 'medical/hiv-status' })),
        await post(sender, g, await signed(verifier, { grant: g, resource: 'medical/cancer' })),
      ]),
    );
    const expected = `202 application/json ${JSON.stringify({ grant: 'GRANT', accepted: 0, refused: [{ index: 0, code: 'RECEIPT_INVALID', message: NOT_ACCEPTED }] })}`;
    expect(answers.flat()).toEqual(answers.flat().map(() => expected));
  });

  it('what the receipt alone shows is still told precisely, the same for a known grant and an unknown one', async () => {
    const sender = makeIssuer();
    for (const g of [sd.id, `urn:uuid:${randomUUID()}`]) {
      const other = unsigned(sender, { grant: `urn:uuid:${randomUUID()}` });
      expect(await post(sender, g, other)).toBe(
        `202 application/json ${JSON.stringify({ grant: 'GRANT', accepted: 0, refused: [{ index: 0, code: 'RECEIPT_INVALID', message: 'the receipt is not about this grant' }] })}`,
      );
    }
  });

  it('the grantee, who holds the whole grant, is refused with the same answer before any signature', async () => {
    const answers = await Promise.all(grantDependent(sd.id).map(async ([what, o]) => [what, await post(w.app, o.grant, unsigned(makeIssuer(), o))]));
    const expected = `202 application/json ${JSON.stringify({ grant: 'GRANT', accepted: 0, refused: [{ index: 0, code: 'RECEIPT_INVALID', message: NOT_ACCEPTED }] })}`;
    expect(answers).toEqual(grantDependent(sd.id).map(([what]) => [what, expected]));
  });
});
