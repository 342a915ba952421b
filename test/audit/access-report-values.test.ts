import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomUUID } from 'node:crypto';
import { acceptAccessReport, accessReports, createAccessReport, decodeReceipt, type DecisionReceipt, homeReportUrl } from '../../src/audit/index.js';
import { NOT_ACCEPTED } from '../../src/audit/access-report.js';
import { RECEIPT_TYP, signCanonical } from '../../src/audit/jws.js';
import { createPresentation } from '../../src/credentials/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { sha256Digest } from '../../src/encoding/json.js';
import { decide } from '../../src/guard/decide.js';
import type { GrantPolicy } from '../../src/guard/policy.js';
import type { Verifier } from '../../src/guard/verifier.js';
import { issueGrant, type GrantTerms } from '../../src/grants/index.js';
import { toolBinding } from '../../src/integrations/mcp/binding.js';
import { bound } from '../http/present.js';
import { API, openWorld, type World } from '../http/world.js';
import { makeIssuer } from '../helpers.js';
import { receiptClaims } from './hand-receipt.js';

/**
 * A report stores its receipts as sent, so each receipt's values (not only its member names) must be of
 * the forms Charter's verifiers write: digests, error codes, DIDs, ids Charter mints, known credential
 * types, a purpose the vocabulary or the grant names. Personal data hidden in any of them is refused.
 */
let w: World;
let api: Issuer;
let v: Verifier;
beforeAll(async () => {
  w = await openWorld();
  await w.home.createIdentity({ alias: 'api' });
  api = await w.home.issuer('api');
  v = w.verifier({ receipts: { signer: api } });
}, 60_000);
afterAll(async () => w.close());

const PII = 'Jane Doe, born 1970-01-01, diagnosis: HIV+, jane@example.com';
const grantOf = async (terms?: GrantTerms) =>
  issueGrant(w.home.store, w.alice, {
    grantee: w.app.did,
    resources: ['profile/email'],
    actions: ['read'],
    purpose: 'tests',
    ...(terms ? { terms } : {}),
    validUntil: new Date(Date.now() + 86_400_000),
    baseUrl: w.server.url,
  });

/** A receipt by `by` about grant `g` in the form a verifier writes it, then changed by `change`. */
const receipt = async (by: Issuer, g: { id: string; jwt: string }, change: (c: Record<string, unknown>) => void = () => undefined) => {
  const c = receiptClaims(by, {
    sub: w.app.did,
    grant: { id: g.id, iss: w.alice.did },
    credentials: [{ h: sha256Digest(g.jwt), id: g.id, iss: w.alice.did, type: ['DataAccessGrant'] }],
    request: { htm: 'GET', htu: 'https://api.example/profile/email' },
    policy: { kind: 'grant', resource: 'profile/email', action: 'read', owner: w.alice.did },
    extra: {
      vp: sha256Digest('vp'),
      evidence: { did: { [w.alice.did]: sha256Digest('a'), [by.did]: sha256Digest('b') }, status: { [`${w.server.url}/status/1`]: sha256Digest('s') } },
      window: { skew: 60, maxAge: 300, nonces: 'iat' },
    },
  });
  change(c);
  return (await signCanonical(RECEIPT_TYP, c, by)).jws;
};
const report = async (reporter: Issuer, g: { id: string }, receipts: string[]) =>
  acceptAccessReport(w.home.store, await createAccessReport(reporter, { aud: homeReportUrl(w.server.url), grant: g.id, receipts }), {
    resolver: w.home.resolver,
    aud: homeReportUrl(w.server.url),
  });
const deny = (c: Record<string, unknown>, reasons: unknown[] = ['GRANT_SCOPE']) => Object.assign(c, { decision: 'deny', status: 403, reasons });
const policy = (c: Record<string, unknown>) => c.policy as Record<string, unknown>;

describe('access reports: the values of a receipt, not only its member names', () => {
  it('personal data in any value a receipt may hold is refused, and none of it is stored', async () => {
    const g = await grantOf();
    const p = makeIssuer();
    const smuggled: [string, (c: Record<string, unknown>) => void][] = [
      ['request.claims', (c) => (c.request = { claims: PII })],
      ['request.claims object', (c) => (c.request = { claims: { patient: PII } })],
      ['mcp.args string', (c) => (c.request = { mcp: { tool: 'lookup', args: PII } })],
      ['mcp.args object', (c) => (c.request = { mcp: { tool: 'lookup', args: { patient: PII } } })],
      ['mcp.args a near-digest', (c) => (c.request = { mcp: { tool: 'lookup', args: `sha256-${Buffer.from(PII).toString('base64url')}` } })],
      ['mcp.tool', (c) => (c.request = { mcp: { tool: PII, args: sha256Digest({}) } })],
      ['htm', (c) => (c.request = { htm: PII, htu: 'https://api.example/profile/email' })],
      ['htm a made-up token', (c) => (c.request = { htm: 'JANEDOE', htu: 'https://api.example/profile/email' })],
      ['htm a made-up token in lower case', (c) => (c.request = { htm: 'janedoe', htu: 'https://api.example/profile/email' })],
      ['a reason', (c) => deny(c, [PII])],
      ['a reason beside a code', (c) => deny(c, ['GRANT_SCOPE', PII])],
      ['a reason message', (c) => deny(c, [{ code: 'GRANT_SCOPE', message: PII }])],
      ['policy.purpose', (c) => (policy(c).purpose = PII)],
      ['policy.purpose slug', (c) => (policy(c).purpose = 'x-jane-doe-hiv-positive')],
      ['policy.processing', (c) => (policy(c).processing = PII)],
      ['policy.owner', (c) => (policy(c).owner = PII)],
      ['policy.anyOwner', (c) => (policy(c).anyOwner = PII)],
      ['principal', (c) => (c.principal = PII)],
      ['vp', (c) => (c.vp = PII)],
      ['verifier', (c) => (c.verifier = PII)],
      ['verifier URL with a query', (c) => (c.verifier = 'https://api.example/?patient=jane')],
      ['credentials[].iss URL with a path', (c) => (c.credentials as unknown[]).push({ h: sha256Digest('x'), iss: 'https://issuer.example/patients/jane-doe' })],
      ['chain issuer URL with a path', (c) => (c.chain as unknown[]).push({ id: `urn:uuid:${randomUUID()}`, iss: 'https://issuer.example/jane.doe@example.com' })],
      [
        'an agent policy counterparty URL with a path',
        (c) => deny(Object.assign(c, { policy: { kind: 'agent', action: 'purchase', counterparty: 'https://shop.example/customers/jane' } })),
      ],
      ['a refused resource in words', (c) => deny(c) && (policy(c).resource = PII)],
      ['a refused resource with spaces', (c) => deny(c) && (policy(c).resource = 'patients/Jane Doe/records')],
      ['a refused resource too long', (c) => deny(c) && (policy(c).resource = `records/${'a'.repeat(300)}`)],
      ['a refused action in words', (c) => deny(c) && (policy(c).action = 'read the HIV status of Jane Doe')],
      ['jti', (c) => (c.jti = PII)],
      ['evidence.did key', (c) => (c.evidence = { did: { [PII]: sha256Digest('x') }, status: {} })],
      ['evidence.did value', (c) => (c.evidence = { did: { [w.alice.did]: PII }, status: {} })],
      ['evidence.status key', (c) => (c.evidence = { did: {}, status: { 'https://lists.example/1?email=jane@example.com': sha256Digest('x') } })],
      ['evidence member', (c) => (c.evidence = { did: {}, status: {}, note: PII })],
      ['spend.reservation', (c) => (c.spend = { reservation: PII, state: 'committed' })],
      ['spend.amount', (c) => (c.spend = { reservation: randomUUID(), state: 'committed', amount: { amount: PII, currency: 'USD' } })],
      ['credentials[].type', (c) => ((c.credentials as Record<string, unknown>[])[0]!.type = ['DataAccessGrant', PII])],
      ['credentials[].type short', (c) => ((c.credentials as Record<string, unknown>[])[0]!.type = ['DataAccessGrant', 'JaneDoeHivPositive'])],
      ['credentials[].id', (c) => (c.credentials as unknown[]).push({ h: sha256Digest('x'), id: PII })],
      ['credentials[].iss', (c) => (c.credentials as unknown[]).push({ h: sha256Digest('x'), iss: PII })],
      ['credentials[].h', (c) => (c.credentials as unknown[]).push({ h: PII })],
      ['chain link', (c) => (c.chain as unknown[]).push({ id: PII, iss: w.alice.did })],
      ['chain issuer', (c) => (c.chain as unknown[]).push({ id: `urn:uuid:${randomUUID()}`, iss: PII })],
      ['log.chain', (c) => (c.log = { chain: PII, seq: 1, prev: null })],
      ['log.prev', (c) => (c.log = { chain: `urn:uuid:${randomUUID()}`, seq: 2, prev: PII })],
      ['window member', (c) => (c.window = { skew: 60, maxAge: 300, nonces: 'iat', note: PII })],
      ['a mandate policy payee', (c) => deny(Object.assign(c, { policy: { kind: 'mandate', profile: 'ap2', payee: PII } }))],
      ['a mandate policy profile', (c) => deny(Object.assign(c, { policy: { kind: 'mandate', profile: PII } }))],
      ['an agent policy counterparty', (c) => deny(Object.assign(c, { policy: { kind: 'agent', action: 'purchase', counterparty: PII } }))],
      ['a presentation policy with a grant member', (c) => deny(Object.assign(c, { policy: { kind: 'presentation', purpose: 'analytics' } }))],
      ['a policy kind of its own', (c) => deny(Object.assign(c, { policy: { kind: PII } }))],
    ];
    const results = await report(p, g, await Promise.all(smuggled.map(([, change]) => receipt(p, g, change))));
    expect(results.accepted).toBe(0);
    expect(results.refused.map((x) => [smuggled[x.index]![0], x.code, x.message])).toEqual(
      // A purpose or a credential type is allowed by the grant's own terms and types, so one the grant does not
      // name is refused with the one answer that tells nothing of the grant (NOT_ACCEPTED).
      smuggled.map(([what]) => [
        what,
        'RECEIPT_INVALID',
        /^policy\.purpose|^credentials\[\]\.type/.test(what) ? NOT_ACCEPTED : expect.stringMatching(/which no Charter receipt does|does not verify/),
      ]),
    );
    expect(await w.home.store.listAccessReceipts({ grantId: g.id, limit: 100 })).toEqual([]);
  });

  it('the same receipts in the forms verifiers write are taken', async () => {
    const g = await grantOf();
    const p = makeIssuer();
    const honest: [string, (c: Record<string, unknown>) => void][] = [
      ['as built', () => undefined],
      ['bound claims by digest', (c) => (c.request = { claims: sha256Digest({ order: 1 }) })],
      ['unhashable claims', (c) => (c.request = { claims: 'unhashable' })],
      ['an MCP call', (c) => (c.request = toolBinding('lookup_patient', { patient: PII }))],
      ['no binding', (c) => (c.request = { none: true })],
      // The method as received (methods are case-sensitive: an HTTP/2 client may send `patch`).
      ['a lower-case method', (c) => (c.request = { htm: 'patch', htu: 'https://api.example/profile/email' })],
      ['a documented purpose', (c) => Object.assign(policy(c), { purpose: 'analytics', processing: 'on-device' })],
      ['reason codes', (c) => deny(c, ['GRANT_SCOPE', 'CREDENTIAL_REVOKED'])],
      ['a spend', (c) => (c.spend = { reservation: randomUUID(), state: 'reserved', amount: { amount: '12.50', currency: 'EUR' } })],
      ['an origin URL verifier', (c) => (c.verifier = 'https://api.example')],
      ['an origin URL verifier with its slash and a port', (c) => (c.verifier = 'https://api.example:8443/')],
      ['a verifier whose aud is a resource URI with a path (an MCP server)', (c) => (c.verifier = 'https://api.example/mcp')],
      ['a refusal of an action a grant may name (a digit first)', (c) => deny(c) && Object.assign(policy(c), { resource: 'account/security', action: '2fa' })],
      [
        'a credential id that is a URL with a path',
        (c) => (c.credentials as unknown[]).push({ h: sha256Digest('y'), id: 'https://issuer.example/credentials/3732', iss: 'https://issuer.example' }),
      ],
      ['a refusal of a plain resource path', (c) => deny(c) && Object.assign(policy(c), { resource: 'photos/2026/a.jpg', action: 'write' })],
      ['a principal', (c) => (c.principal = w.principal.did)],
      [
        'a deny under a mandate policy',
        (c) => deny(Object.assign(c, { policy: { kind: 'mandate', profile: 'ap2', amount: { amount: '5', currency: 'USD' }, payee: 'did:web:shop.example' } })),
      ],
      [
        'another Charter credential',
        (c) => (c.credentials as unknown[]).push({ h: sha256Digest('m'), id: `urn:uuid:${randomUUID()}`, iss: w.principal.did, type: ['AgentAuthorityCredential'] }),
      ],
    ];
    const r = await report(p, g, await Promise.all(honest.map(([, change]) => receipt(p, g, change))));
    expect(r.refused.map((x) => [honest[x.index]![0], x.message])).toEqual([]);
    expect(r.accepted).toBe(honest.length);
  });

  it('a use a store kept before these rules (a refusal naming a resource or action in words) is listed without them', async () => {
    const g = await grantOf();
    const p = makeIssuer();
    const rows = await Promise.all(
      [
        (c: Record<string, unknown>) => deny(c) && Object.assign(policy(c), { resource: PII }),
        (c: Record<string, unknown>) => deny(c) && Object.assign(policy(c), { action: 'read the HIV status of Jane Doe' }),
        (c: Record<string, unknown>) => deny(c) && Object.assign(policy(c), { resource: 'photos/2026/a.jpg', action: 'write' }),
      ].map(async (change) => {
        const jws = await receipt(p, g, change);
        const c = decodeReceipt(jws) as DecisionReceipt;
        return { grantId: g.id, receiptId: c.jti, verifier: c.iss, reporter: p.did, holder: w.app.did, outcome: 'deny' as const, at: c.time, receivedAt: c.time, jws };
      }),
    );
    expect(await w.home.store.putAccessReceipts(rows)).toEqual(['added', 'added', 'added']);
    const uses = await accessReports(w.home.store, g.id);
    expect(JSON.stringify(uses)).not.toContain('Jane');
    expect(uses.map((u) => [u.resource, u.action]).sort()).toEqual(
      [
        [undefined, 'read'],
        ['profile/email', undefined],
        ['photos/2026/a.jpg', 'write'],
      ].sort(),
    );
  });

  it("receipts a real verifier signs (HTTP, MCP, other claims, a refusal, a declared purpose) are taken; the grantee's report of them too", async () => {
    const g = await grantOf({ purpose: ['x-fraud-screening'] });
    const grant = (o: Partial<GrantPolicy> = {}): GrantPolicy => ({ kind: 'grant', resource: 'profile/email', action: 'read', owner: w.alice.did, ...o });
    const url = 'http://127.0.0.1:9999/profile/email';
    const http = await decide(v, await bound(w.app, [g.jwt], { url }), grant({ purpose: 'x-fraud-screening' }), { kind: 'http', method: 'GET', url });
    const mcpBinding = toolBinding('lookup_patient', { patient: PII });
    const mcp = await decide(v, await createPresentation({ holder: w.app, credentials: [g.jwt], aud: API, claims: mcpBinding }), grant({ purpose: 'x-fraud-screening' }), {
      kind: 'claims',
      claims: mcpBinding,
    });
    const other = await decide(v, await createPresentation({ holder: w.app, credentials: [g.jwt], aud: API, claims: { order: PII } }), grant({ purpose: 'x-fraud-screening' }), {
      kind: 'claims',
      claims: { order: PII },
    });
    const refusedPurpose = await decide(v, await bound(w.app, [g.jwt], { url }), grant({ purpose: 'analytics' }), { kind: 'http', method: 'GET', url });
    expect([http.ok, mcp.ok, other.ok, refusedPurpose.reasons.map((x) => x.code)]).toEqual([true, true, true, ['PURPOSE_NOT_ALLOWED']]);
    const receipts = [http, mcp, other, refusedPurpose].map((d) => d.receipt!);
    for (const r of receipts) expect(JSON.stringify(decodeReceipt(r))).not.toContain('Jane');
    expect((decodeReceipt(receipts[1]!) as DecisionReceipt).request).toEqual(mcpBinding);
    const byApi = await report(api, g, receipts);
    expect([byApi.accepted, byApi.refused]).toEqual([4, []]);
    const byGrantee = await report(w.app, g, receipts);
    expect([byGrantee.accepted, byGrantee.refused]).toEqual([0, []]);
    expect((await accessReports(w.home.store, g.id)).map((u) => u.outcome).sort()).toEqual(['allow', 'allow', 'allow', 'deny']);
  });

  it("an allow for a purpose or processing the grant's terms do not allow is out of scope; a purpose the grant names is taken", async () => {
    const g = await grantOf({ purpose: ['x-fraud-screening'], processing: 'on-device' });
    const p = makeIssuer();
    const inTerms = (c: Record<string, unknown>) => Object.assign(policy(c), { purpose: 'x-fraud-screening', processing: 'on-device' });
    const cases: [string, (c: Record<string, unknown>) => void, boolean][] = [
      ['inside the terms', inTerms, true],
      ['no purpose declared', (c) => (inTerms(c), delete policy(c).purpose), false],
      ['another documented purpose', (c) => (inTerms(c), (policy(c).purpose = 'marketing')), false],
      ['no processing declared', (c) => (inTerms(c), delete policy(c).processing), false],
      ['other processing', (c) => (inTerms(c), (policy(c).processing = 'trusted-execution')), false],
      // A refusal for a purpose outside the terms is an attempt the person sees.
      ['refused: another documented purpose', (c) => (inTerms(c), (policy(c).purpose = 'marketing'), deny(c, ['PURPOSE_NOT_ALLOWED'])), true],
    ];
    const r = await report(p, g, await Promise.all(cases.map(([, change]) => receipt(p, g, change))));
    expect(cases.map(([what], i) => [what, r.refused.find((x) => x.index === i)?.message])).toEqual(cases.map(([what, , ok]) => [what, ok ? undefined : NOT_ACCEPTED]));
    expect(r.accepted).toBe(2);
  });
});
