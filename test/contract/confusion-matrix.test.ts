import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as charter from '../../src/index.js';
import { createTokenStatusChecker, issueSdJwtVc, presentSdJwtVc, signTokenStatusList, verifySdJwtGrant, verifySdJwtVc } from '../../src/sdjwt/index.js';
import { issueAp2OpenMandate, issueViCredential, mandateToken, verifyMandateChain } from '../../src/mandates/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import type { Issuer } from '../../src/credentials/types.js';
import { tempDir } from '../helpers.js';
import { openWorld, API, type World } from '../http/world.js';
import { bound } from '../http/present.js';
import { sdGrant } from '../guard/seams-fixtures.js';
import { ap2Payment, ap2World, viIntent, viPayment, viWorld, type Ap2World, type ViWorld } from '../guard/chains.js';
import { outcome, type Outcome } from './hostile.js';

/**
 * The confusion matrix: every kind of signed artifact Charter issues, all signed by ONE key (`me`, a
 * P-256 did:key in the home: the data owner, principal, operator, attester, verifier, reporter, pool
 * member, SD-JWT issuer and mandate root at once), fed to every verifier the package exports, as
 * issued and re-wrapped (a credential inside a presentation by its subject, with a line break after
 * it, an SD-JWT without its key binding, its KB-JWT alone). A verifier accepts only what it is for
 * (the diagonal below, which must pass, so the matrix can fail), and refuses everything else with
 * listed, specific codes: never a crash, an engine TypeError, or a hang. Every cell's codes are
 * pinned in fixtures/confusion-matrix.json: a change shows as the cells it moved
 * (CONFUSION_MATRIX_WRITE=1 rewrites the file, then prettier --write it, once a reviewer has read them).
 */

let w: World;
let me: Issuer;
let apiStore: Store;
let dir: string;
let vw: ViWorld;
let aw: Ap2World;
const art: Record<string, unknown> = {};
const URL_ = 'http://127.0.0.1:9999/profile/email';
/** Every presentation (vp+jwt, KB-JWT, mandate chain) is bound to API, this nonce and GET URL_, so binding never masks what a cell is about. */
const NONCE = 'n';
const bind = { nonce: NONCE } as const;

beforeAll(async () => {
  w = await openWorld();
  await w.home.createIdentity({ alias: 'me', keyType: 'P-256' });
  me = await w.home.issuer('me');
  dir = tempDir('charter-confusion-');
  apiStore = await openSqliteStore(join(dir, 'api.db'));
  const exp = new Date(Date.now() + 86_400_000);
  const home = w.home.store;
  const vc = async (subject: string, format?: string) =>
    (await charter.issueCredential({ issuer: me, subject, type: 'Membership', claims: { level: 1 }, ...(format ? { format } : {}) } as charter.IssueCredentialInput)).jwt;

  // ---- vc+jwt credentials (and one VCDM 1.1 JWT) ----
  art.vc = await vc(w.app.did);
  art.vc11 = await vc(w.app.did, 'vc-jwt-1.1');
  const grant = await charter.issueGrant(home, me, {
    grantee: w.app.did,
    resources: ['profile/email'],
    actions: ['read'],
    purpose: 'tests',
    validUntil: exp,
    baseUrl: w.server.url,
  });
  art.grant = grant.jwt;
  art.identity = (await charter.issueAgentIdentity(home, me, { agent: w.agent.did, name: 'shopper', software: { name: 'bot', version: '1.0.0' } })).jwt;
  const limits = (amount: string) => ({ perTransaction: { amount, currency: 'USD' }, counterparties: [API] });
  const mandate = await charter.issueMandate(home, me, {
    agent: w.agent.did,
    authority: { actions: ['purchase'], maxDelegationDepth: 1, limits: limits('50') },
    validUntil: exp,
    baseUrl: w.server.url,
  });
  art.mandate = mandate.jwt;
  art.delegation = (
    await charter.delegateMandate(home, w.agent, {
      parentJwt: mandate.jwt,
      to: w.app.did,
      authority: { actions: ['purchase'], maxDelegationDepth: 0, limits: limits('10') },
      baseUrl: w.server.url,
    })
  ).jwt;
  art.interaction = (await charter.issueReceipt(null, w.agent, { counterparty: me.did, interactionId: 'i-1' })).jwt;
  art.attestation = (await charter.issueAttestation(null, me, { receiptJwt: art.interaction as string, score: 0.9 })).jwt;
  const lists = await home.listStatusLists({ issuerDid: me.did });
  art.statusList = await charter.currentStatusListJwt(home, lists[0]!.id, async () => me);
  art.usage = (await charter.issueUsageReport(me, { pool: w.app.did, grant: grant.id, uses: [{ member: me.did, time: new Date(), resource: 'profile/email' }] })).jwt;

  // ---- other JWS: a Status List Token, pool notices, the audit layer ----
  art.tokenList = await signTokenStatusList(
    lists.find((l) => l.purpose === 'revocation')!,
    me,
  );
  art.acceptance = await charter.signAcceptance(me, w.app.did, `${w.server.url}/status/1#0`);
  art.leave = await charter.signLeave(me, w.app.did, `${w.server.url}/status/1#0`);
  const verifier = charter.createVerifier({ aud: API, store: apiStore, resolver: w.resolver, status: w.status, http: false, receipts: { signer: me } });
  const allowed = await charter.decide(
    verifier,
    await bound(w.app, [grant.jwt], bind),
    { kind: 'grant', resource: 'profile/email', action: 'read', owner: me.did },
    { kind: 'claims', claims: { htm: 'GET', htu: URL_ } },
  );
  expect(allowed.ok).toBe(true);
  art.receipt = allowed.receipt;
  await verifier.receipts!.checkpoint();
  // The checkpoint the verifier signed over its log (charter-checkpoint+jwt).
  art.checkpoint = (await apiStore.listAuditCheckpoints()).at(-1)!.jws;
  art.bundle = await charter.exportEvidence(apiStore, allowed.receiptId!);
  art.accessReport = await charter.createAccessReport(me, { aud: charter.homeReportUrl(w.server.url), grant: grant.id, receipts: [art.receipt as string] });

  // ---- presentations: each credential in a vp+jwt by its own subject ----
  const subjectOf: Record<string, Issuer> = {
    vc: w.app,
    grant: w.app,
    identity: w.agent,
    mandate: w.agent,
    delegation: w.app,
    interaction: me,
    attestation: w.agent,
    statusList: w.app,
    usage: w.app,
  };
  for (const [k, holder] of Object.entries(subjectOf)) art[`vp[${k}]`] = await bound(holder, [art[k] as string], bind);
  art['vp[vc11]'] = await bound(w.app, [art.vc11 as string], bind);
  art['vp[identity+mandate]'] = await bound(w.agent, [art.identity as string, mandate.jwt], bind);

  // ---- SD-JWT VC, SD-JWT grant: issued (no key binding), presented, and the KB-JWT alone ----
  const kb = { aud: API, nonce: NONCE, claims: { htm: 'GET', htu: URL_ } };
  const sd = await issueSdJwtVc({
    issuer: me,
    subject: w.app.did,
    vct: 'https://example.com/vct',
    claims: { email: 'a@example.com' },
    disclosable: ['email'],
    resolver: w.resolver,
  });
  art.sdjwt = sd.token;
  art['sdjwt+kb'] = await presentSdJwtVc(sd.token, { holder: w.app, disclose: ['email'], ...kb });
  const g = await sdGrant(w, { owner: me });
  art.sdGrant = g.token;
  art['sdGrant+kb'] = await presentSdJwtVc(g.token, { holder: w.app, disclose: g.disclosable, ...kb });
  art['kb-jwt'] = (art['sdGrant+kb'] as string).slice((art['sdGrant+kb'] as string).lastIndexOf('~') + 1);

  // ---- payment mandates: a VI L1 and an AP2 open mandate signed by me; whole chains (their roots trusted too) ----
  art.viL1 = await issueViCredential({ issuer: me, user: { jwk: w.app.publicJwk as never }, subject: 'u1' });
  art.ap2Open = await issueAp2OpenMandate({
    issuer: me,
    kind: 'payment',
    agent: { jwk: w.agent.publicJwk as never },
    constraints: [{ type: 'payment.amount_range', currency: 'USD', max: 100, min: 0 }],
  });
  vw = await viWorld(new Date());
  aw = await ap2World(new Date());
  art.viChain = await viPayment(vw, await viIntent(vw, new Date()), { amount: '10', aud: API, now: new Date(), nonce: NONCE });
  art.ap2Chain = await ap2Payment(aw, { minor: 100, aud: API, now: new Date(), nonce: NONCE });

  // ---- re-wrapped: each token with a line break after it (a compact JWS has none) ----
  for (const [k, v] of Object.entries(art)) if (typeof v === 'string') art[`${k}⏎`] = `${v}\n`;
}, 120_000);
afterAll(async () => {
  await apiStore?.close().catch(() => undefined);
  await w?.close();
});

/** A cell: "YES", or "no CODE,CODE" (refused with these codes), "throw CODE", or "!! ..." (anything else: a defect). */
type Cell = string;
const reasonsOf = (v: unknown) => ((v as { reasons?: { code: string }[] }).reasons ?? []).map((r) => r.code);
const cell = (o: Outcome, okOf: (v: unknown) => [boolean, string[]] = (v) => [(v as { ok?: boolean }).ok === true, reasonsOf(v)]): Cell => {
  if (o.kind === 'charter') return `throw ${o.code}`;
  if (o.kind !== 'result') return `!! ${JSON.stringify(o).slice(0, 200)}`;
  const [ok, codes] = okOf(o.value);
  if (ok) return 'YES';
  return codes.length === 0 ? '!! refused with no code' : `no ${[...new Set(codes)].sort().join(',')}`;
};

const tokenStatus = () => createTokenStatusChecker({ resolver: w.resolver, allowLoopback: true, allowHttp: true });
const grantOptions = () => ({ resolver: w.resolver, status: w.status, resource: 'profile/email', action: 'read', owner: me.did, aud: API, nonce: NONCE }) as const;
const agentTrust = () => ({ principals: [me.did], identityIssuers: [me.did] });
const viTrust = () => ({ issuers: [me.publicJwk, vw.issuer.publicJwk] });
const ap2Trust = () => ({ issuers: [me.publicJwk, aw.root.publicJwk], merchants: [aw.merchant.publicJwk] });

let n = 0;
/** The guard (what every transport runs): a fresh verifier and store per cell, so no cell's nonce is another's replay. */
const guard =
  (policy: () => charter.Policy, token: (t: unknown) => unknown = (t) => t) =>
  async (t: unknown) => {
    const store = await openSqliteStore(join(dir, `guard-${n++}.db`));
    try {
      const v = charter.createVerifier({ aud: API, store, resolver: w.resolver, status: w.status, tokenStatus: tokenStatus(), http: false, skewSeconds: 5 });
      return cell(await outcome(() => charter.decide(v, token(t), policy(), { kind: 'claims', claims: { htm: 'GET', htu: URL_ } })));
    } finally {
      await store.close();
    }
  };
const wire = (profile: 'verifiable-intent' | 'ap2') => (t: unknown) =>
  t !== null && typeof t === 'object' && !Array.isArray(t) && ('l1' in t || 'payment' in t) ? mandateToken(profile, t as never) : t;

const verifiers: Record<string, (t: unknown) => Promise<Cell>> = {
  verifyCredential: async (t) => cell(await outcome(() => charter.verifyCredential(t as string, { resolver: w.resolver, status: w.status }))),
  verifyPresentation: async (t) => cell(await outcome(() => charter.verifyPresentation(t as string, { resolver: w.resolver, status: w.status, aud: API, nonce: NONCE }))),
  verifyGrant: async (t) => cell(await outcome(() => charter.verifyGrant(t as string, grantOptions()))),
  verifyAgent: async (t) =>
    cell(
      await outcome(() =>
        charter.verifyAgent(t as string, {
          resolver: w.resolver,
          status: w.status,
          aud: API,
          nonce: NONCE,
          action: 'purchase',
          amount: '1 USD',
          counterparty: API,
          trust: agentTrust(),
        }),
      ),
    ),
  verifyReceipt: async (t) => cell(await outcome(() => charter.verifyReceipt(t as string, { resolver: w.resolver, issuers: [me.did] }))),
  checkReceiptEvidence: async (t) => cell(await outcome(() => charter.checkReceiptEvidence(t as string, { resolver: w.resolver, agent: w.app.did, attester: me.did }))),
  scoreAgent: async (t) =>
    cell(await outcome(() => charter.scoreAgent(w.agent.did, [t as string], { resolver: w.resolver, status: w.status, trustedAttesters: [me.did] })), (v) => [
      (v as charter.ReputationScore).counted > 0,
      (v as charter.ReputationScore).ignored.map((i) => i.code),
    ]),
  importAttestations: async (t) =>
    cell(await outcome(() => charter.importAttestations(w.home.store, [t as string], { resolver: w.resolver, status: w.status })), (v) => [
      (v as charter.ImportResult).imported.length > 0,
      (v as charter.ImportResult).skipped.map((i) => i.code),
    ]),
  readUsage: async (t) =>
    cell(
      await outcome(() =>
        charter.readUsage([t as string], { resolver: w.resolver, pool: w.app.did, grants: new Map([[grantIdOf(), { grantee: w.app.did }]]), trustedReporters: [me.did] }),
      ),
      (v) => [(v as { uses: unknown[] }).uses.length > 0, (v as { ignored: { code: string }[] }).ignored.map((i) => i.code)],
    ),
  verifySdJwtVc: async (t) => cell(await outcome(() => verifySdJwtVc(t as string, { resolver: w.resolver, aud: API, nonce: NONCE, status: tokenStatus() }))),
  verifySdJwtGrant: async (t) => cell(await outcome(() => verifySdJwtGrant(t as string, { ...grantOptions(), status: tokenStatus() }))),
  'verifyMandateChain vi': async (t) =>
    cell(await outcome(() => verifyMandateChain(t as never, { profile: 'verifiable-intent', trust: viTrust(), paymentAud: API, paymentNonce: NONCE }))),
  'verifyMandateChain ap2': async (t) =>
    cell(
      await outcome(() =>
        verifyMandateChain(t as never, { profile: 'ap2', trust: ap2Trust(), paymentAud: API, paymentNonce: NONCE, checkoutAud: 'merchant', checkoutNonce: 'n-merchant' }),
      ),
    ),
  verifyEvidence: async (t) => cell(await outcome(() => charter.verifyEvidence(t, { issuers: [me.did] }))),
  'guard grant': guard(() => ({ kind: 'grant', resource: 'profile/email', action: 'read', owner: me.did })),
  'guard agent': guard(() => ({ kind: 'agent', action: 'purchase', amount: '1 USD', counterparty: API, trust: agentTrust() })),
  'guard presentation': guard(() => ({ kind: 'presentation' })),
  'guard mandate vi': guard(() => ({ kind: 'mandate', profile: 'verifiable-intent', trust: viTrust() }), wire('verifiable-intent')),
  'guard mandate ap2': guard(() => ({ kind: 'mandate', profile: 'ap2', trust: ap2Trust() }), wire('ap2')),
};
let grantId = '';
const grantIdOf = () => grantId || (grantId = charter.decodeCredential(art.grant as string).id!);

/** What each verifier is for: these cells must say YES (and only these). */
const DIAGONAL: Record<string, string[]> = {
  verifyCredential: ['vc', 'vc11', 'grant', 'identity', 'mandate', 'delegation', 'interaction', 'attestation', 'statusList', 'usage'],
  // Generic: any presentation of credentials about its holder (a usage report is about its pool).
  verifyPresentation: ['vp[vc]', 'vp[grant]', 'vp[identity]', 'vp[mandate]', 'vp[delegation]', 'vp[interaction]', 'vp[attestation]', 'vp[usage]', 'vp[identity+mandate]'],
  verifyGrant: ['vp[grant]'],
  verifyAgent: ['vp[identity+mandate]'],
  verifyReceipt: ['receipt'],
  checkReceiptEvidence: ['receipt'],
  scoreAgent: ['attestation'],
  importAttestations: ['attestation'],
  readUsage: ['usage'],
  verifySdJwtVc: ['sdjwt+kb', 'sdGrant+kb'],
  verifySdJwtGrant: ['sdGrant+kb'],
  'verifyMandateChain vi': ['viChain'],
  'verifyMandateChain ap2': ['ap2Chain'],
  verifyEvidence: ['bundle'],
  'guard grant': ['vp[grant]', 'sdGrant+kb'],
  'guard agent': ['vp[identity+mandate]'],
  'guard presentation': ['vp[vc]', 'vp[grant]', 'vp[identity]', 'vp[mandate]', 'vp[delegation]', 'vp[interaction]', 'vp[attestation]', 'vp[usage]', 'vp[identity+mandate]'],
  'guard mandate vi': ['viChain'],
  'guard mandate ap2': ['ap2Chain'],
};

const FIXTURE = join(import.meta.dirname, 'fixtures', 'confusion-matrix.json');
let matrix: Record<string, Record<string, Cell>>;

beforeAll(async () => {
  matrix = {};
  for (const v of Object.keys(verifiers)) matrix[v] = {};
  for (const [a, t] of Object.entries(art)) for (const [v, f] of Object.entries(verifiers)) matrix[v]![a] = await f(t);
  if (process.env.CONFUSION_MATRIX_WRITE === '1') writeFileSync(FIXTURE, `${JSON.stringify(matrix, null, 1)}\n`);
}, 600_000);

describe('the artifact × verifier confusion matrix', () => {
  it('covers every artifact at every verifier', () => {
    expect(Object.keys(verifiers).length).toBeGreaterThanOrEqual(19);
    expect(Object.keys(art).length).toBeGreaterThanOrEqual(60);
    for (const v of Object.keys(verifiers)) expect(Object.keys(matrix[v]!).sort()).toEqual(Object.keys(art).sort());
  });

  it('the diagonal: every verifier accepts what it is for', () => {
    const refused = Object.entries(DIAGONAL).flatMap(([v, as]) => as.flatMap((a) => (matrix[v]![a] === 'YES' ? [] : [`${v} × ${a}: ${matrix[v]![a]}`])));
    expect(refused).toEqual([]);
  });

  it('off the diagonal: every cell is a refusal with listed codes (no wrong yes, no crash, no engine error, no hang)', () => {
    const wrong = Object.entries(matrix).flatMap(([v, row]) =>
      Object.entries(row).flatMap(([a, c]) => {
        if (DIAGONAL[v]!.includes(a)) return [];
        if (
          /^(no|throw) [A-Z_]+(,[A-Z_]+)*$/.test(c) &&
          c
            .slice(c.indexOf(' ') + 1)
            .split(',')
            .every((code) => (charter.ERROR_CODES as readonly string[]).includes(code))
        )
          return [];
        return [`${v} × ${a}: ${c}`];
      }),
    );
    expect(wrong).toEqual([]);
  });

  it('a token with a line break after it is refused everywhere, its own verifier included', () => {
    const yes = Object.entries(matrix).flatMap(([v, row]) => Object.entries(row).flatMap(([a, c]) => (a.endsWith('⏎') && c === 'YES' ? [`${v} × ${a}`] : [])));
    expect(yes).toEqual([]);
  });

  it('every cell says what it said when last reviewed (fixtures/confusion-matrix.json)', () => {
    const pinned = JSON.parse(readFileSync(FIXTURE, 'utf8')) as typeof matrix;
    const changed = Object.entries(matrix).flatMap(([v, row]) => Object.entries(row).flatMap(([a, c]) => (pinned[v]?.[a] === c ? [] : [`${v} × ${a}: ${pinned[v]?.[a]} -> ${c}`])));
    expect(changed).toEqual([]);
  });
});
