import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createAgent, type ICredentialPlugin, type IDIDManager, type IIdentifier, type IKeyManager, type IResolver, type TAgent } from '@veramo/core';
import { CredentialProviderJWT } from '@veramo/credential-jwt';
import { CredentialPlugin } from '@veramo/credential-w3c';
import { DIDManager, MemoryDIDStore } from '@veramo/did-manager';
import { getDidKeyResolver, KeyDIDProvider } from '@veramo/did-provider-key';
import { DIDResolverPlugin } from '@veramo/did-resolver';
import { KeyManager, MemoryKeyStore, MemoryPrivateKeyStore } from '@veramo/key-manager';
import { KeyManagementSystem } from '@veramo/kms-local';
import { isCharterError } from '../../src/errors.js';
import { createAgentPresentation, verifyAgent, type Authority } from '../../src/agents/index.js';
import { createPresentation, decodeJwt, issueCredential, signJwt, verifyCredential, verifyPresentation } from '../../src/credentials/index.js';
import { createResolver } from '../../src/did/index.js';
import { verifyGrant } from '../../src/grants/index.js';
import { CharterVeramoPlugin, veramoResolver, type CharterVeramoOptions, type ICharterVeramo } from '../../src/integrations/veramo/index.js';
import { createStatusChecker, currentStatusListJwt } from '../../src/status/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { authorizeTransaction } from '../../src/guard/transaction.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { verifyReceipt, type DecisionReceipt } from '../../src/audit/index.js';
import { makeIssuer, serve, tamper, tempDir } from '../helpers.js';

type Agent = TAgent<IResolver & IKeyManager & IDIDManager & ICredentialPlugin & ICharterVeramo>;

const AUD = 'did:web:shop.example';
const inDays = (n: number) => new Date(Date.now() + n * 86_400_000).toISOString();
const codes = (d: { reasons: { code: string }[] }) => d.reasons.map((r) => r.code);

/** A real in-memory Veramo agent: local KMS, did:key, its own resolver, JWT credentials; with the Charter plugin when given. */
function veramo(plugin?: CharterVeramoPlugin, schemaValidation = false): Agent {
  return createAgent<IResolver & IKeyManager & IDIDManager & ICredentialPlugin & ICharterVeramo>({
    schemaValidation,
    plugins: [
      new KeyManager({ store: new MemoryKeyStore(), kms: { local: new KeyManagementSystem(new MemoryPrivateKeyStore()) } }),
      new DIDManager({ store: new MemoryDIDStore(), defaultProvider: 'did:key', providers: { 'did:key': new KeyDIDProvider({ defaultKms: 'local' }) } }),
      new DIDResolverPlugin({ ...getDidKeyResolver() }),
      new CredentialPlugin([new CredentialProviderJWT()]),
      ...(plugin ? [plugin] : []),
    ],
  });
}

let store: Store;
let baseUrl: string;
let closeServer: () => Promise<void>;
const resolver = createResolver();
/** A fresh verifier's status checker: no cached lists. */
const status = () => createStatusChecker({ resolver, allowLoopback: true, allowHttp: true });
/** The Veramo agent of the principal, the operator, the data owner and the AI agent: their keys never leave its KMS. */
let wallet: Agent;
/** A verifier (a shop) running Veramo with the plugin, trusting `principal` and `operator`. */
const verifier = (extra: CharterVeramoOptions = {}) =>
  veramo(
    new CharterVeramoPlugin({
      status: status(),
      aud: AUD,
      trust: { principals: [principal.did], identityIssuers: [operator.did] },
      // The guard for charterAuthorizeTransaction: its store is the replay cache and the ledger.
      verifier: createVerifier({ aud: AUD, store, resolver, status: status(), http: false }),
      ...extra,
    }),
  );
let principal: IIdentifier;
let operator: IIdentifier;
let owner: IIdentifier;
let ai: IIdentifier;

beforeAll(async () => {
  store = await openSqliteStore(join(tempDir('charter-veramo-'), 'charter.db'));
  // Publishes the store's lists as stored: no key here, so every list must already be signed by the plugin.
  const server = await serve((req, res) => {
    const m = /^\/status\/([A-Za-z0-9_-]+)$/.exec(req.url ?? '');
    if (!m) return void res.writeHead(404).end();
    currentStatusListJwt(store, m[1]!, async () => Promise.reject(new Error('no keys on the status server'))).then(
      (jwt) => res.writeHead(200, { 'content-type': 'application/vc+jwt' }).end(jwt),
      () => res.writeHead(500).end(),
    );
  });
  baseUrl = server.url;
  closeServer = server.close;
  wallet = veramo(new CharterVeramoPlugin({ store, baseUrl }));
  const ed = () => wallet.didManagerCreate({ provider: 'did:key', options: { keyType: 'Ed25519' } });
  [principal, operator, owner, ai] = await Promise.all([ed(), ed(), ed(), ed()]);
});
afterAll(async () => {
  await closeServer();
  await store.close();
});

describe('credentials and presentations between Veramo and Charter', () => {
  it('a VCDM 1.1 JWT credential Veramo issues verifies in Charter; tampered or refused as v1, it fails with a code', async () => {
    const vc = await wallet.createVerifiableCredential({ credential: { issuer: { id: owner.did }, credentialSubject: { id: ai.did, degree: 'BSc' } }, proofFormat: 'jwt' });
    const jwt = vc.proof.jwt as string;
    const v = await verifyCredential(jwt, { resolver });
    expect(v.reasons).toEqual([]);
    expect(v).toMatchObject({ ok: true, format: 'vc-jwt-1.1', issuer: owner.did, subject: ai.did, credential: { credentialSubject: { degree: 'BSc' } } });
    const forged = tamper(jwt, 1, (p) => ((p.vc as { credentialSubject: Record<string, unknown> }).credentialSubject.degree = 'PhD'));
    expect(codes(await verifyCredential(forged, { resolver }))).toEqual(['INVALID_SIGNATURE']);
    expect(codes(await verifyCredential(jwt, { resolver, acceptV1: false }))).toEqual(['INVALID_TYP']);
    // The same through the plugin, resolving with Veramo's own resolver.
    expect(await wallet.charterVerifyCredential({ credential: jwt })).toMatchObject({ ok: true, issuer: owner.did });
    expect(codes(await wallet.charterVerifyCredential({ credential: forged }))).toEqual(['INVALID_SIGNATURE']);
    // A credential for one audience verifies through the plugin only for it (RFC 7519 §4.1.3).
    const school = makeIssuer();
    const audJwt = await signJwt(
      { typ: 'vc+jwt', cty: 'vc' },
      {
        '@context': ['https://www.w3.org/ns/credentials/v2'],
        type: ['VerifiableCredential', 'DegreeCredential'],
        issuer: school.did,
        validFrom: new Date(Date.now() - 60_000).toISOString(),
        credentialSubject: { id: ai.did, degree: 'BSc' },
        aud: 'did:web:shop.example',
      },
      school.signer,
      school.kid,
    );
    expect(codes(await wallet.charterVerifyCredential({ credential: audJwt }))).toEqual(['AUDIENCE_MISMATCH']);
    expect(codes(await wallet.charterVerifyCredential({ credential: audJwt, aud: 'did:web:other.example' }))).toEqual(['AUDIENCE_MISMATCH']);
    expect(await wallet.charterVerifyCredential({ credential: audJwt, aud: 'did:web:shop.example' })).toMatchObject({ ok: true, issuer: school.did });
  });

  it('a credential Charter issues as vc-jwt-1.1 verifies in Veramo; a tampered one does not', async () => {
    const issuer = makeIssuer();
    const vc = await issueCredential({
      issuer,
      subject: ai.did,
      type: 'EmailCredential',
      claims: { email: 'a@example.com' },
      format: 'vc-jwt-1.1',
      validUntil: new Date(inDays(1)),
    });
    const r = await wallet.verifyCredential({ credential: vc.jwt });
    expect(r.error).toBeUndefined();
    expect(r.verified).toBe(true);
    expect(r.verifiableCredential?.credentialSubject.id).toBe(ai.did);
    const forged = tamper(vc.jwt, 1, (p) => ((p.vc as { credentialSubject: Record<string, unknown> }).credentialSubject.email = 'b@example.com'));
    expect((await wallet.verifyCredential({ credential: forged })).verified).toBe(false);
  });

  it('a Veramo presentation verifies in Charter, bound to audience and nonce', async () => {
    const vc = await wallet.createVerifiableCredential({ credential: { issuer: { id: owner.did }, credentialSubject: { id: ai.did, degree: 'BSc' } }, proofFormat: 'jwt' });
    const vp = await wallet.createVerifiablePresentation({ presentation: { holder: ai.did, verifiableCredential: [vc] }, proofFormat: 'jwt', challenge: 'n-1', domain: AUD });
    const jwt = vp.proof.jwt as string;
    const v = await verifyPresentation(jwt, { resolver, aud: AUD, nonce: 'n-1' });
    expect(v.reasons).toEqual([]);
    expect(v.holder).toBe(ai.did);
    expect(v.credentials.map((c) => c.issuer)).toEqual([owner.did]);
    expect(codes(await verifyPresentation(jwt, { resolver, aud: AUD, nonce: 'n-2' }))).toEqual(['NONCE_MISMATCH']);
    expect(codes(await verifyPresentation(jwt, { resolver, aud: 'did:web:other.example', nonce: 'n-1' }))).toEqual(['AUDIENCE_MISMATCH']);
  });

  it('a Charter VCDM 1.1 presentation verifies in Veramo, for its domain only', async () => {
    const holder = makeIssuer();
    const vc = await issueCredential({ issuer: makeIssuer(), subject: holder.did, type: 'EmailCredential', claims: { email: 'a@example.com' }, format: 'vc-jwt-1.1' });
    const jwt = await createPresentation({ holder, credentials: [vc.jwt], aud: AUD, nonce: 'n-1', format: 'vp-jwt-1.1' });
    const r = await wallet.verifyPresentation({ presentation: jwt, challenge: 'n-1', domain: AUD });
    expect(r.error).toBeUndefined();
    expect(r.verified).toBe(true);
    expect((await wallet.verifyPresentation({ presentation: jwt, challenge: 'n-1', domain: 'did:web:other.example' })).verified).toBe(false);
    expect((await wallet.verifyPresentation({ presentation: jwt, challenge: 'n-2', domain: AUD })).verified).toBe(false);
  });
});

describe('CharterVeramoPlugin: grants signed by keys in Veramo', () => {
  const request = { resource: 'https://files.example/photos/2024/a.jpg', action: 'read', anyOwner: true };

  it('dates given as strings are RFC 3339 date-times with a zone on a real day: anything else is INVALID_ARGUMENT, never rolled over or read in the host zone', async () => {
    const grant = (validUntil: string) =>
      wallet.charterIssueGrant({ issuer: owner.did, grantee: ai.did, resources: ['https://files.example/a'], actions: ['read'], purpose: 'dates', validUntil });
    const mandate = (validUntil: string) =>
      wallet.charterIssueMandate({ issuer: principal.did, agent: ai.did, authority: { actions: ['read'], maxDelegationDepth: 0 }, validUntil });
    for (const bad of [
      '2030-02-30T00:00:00Z',
      '2030-02-31',
      '2030-01-01T00:00:00',
      'Jan 1 2030',
      '2030-13-01T00:00:00Z',
      '2030-01-01T24:00:00Z',
      '1e12',
      '',
      ' 2030-01-01T00:00:00Z',
    ]) {
      await expect(grant(bad)).rejects.toSatisfy((e) => isCharterError(e, 'INVALID_ARGUMENT'));
      await expect(mandate(bad)).rejects.toSatisfy((e) => isCharterError(e, 'INVALID_ARGUMENT'));
    }
    const g = await grant('2030-01-01T00:00:00+02:00');
    expect(Date.parse(decodeJwt(g.jwt).payload.validUntil as string)).toBe(Date.UTC(2029, 11, 31, 22));
  });

  it.each(['Ed25519', 'Secp256k1'] as const)('a grant issued with a Veramo %s key verifies in Charter and is refused out of scope', async (keyType) => {
    const grantor = keyType === 'Ed25519' ? owner : await wallet.didManagerCreate({ provider: 'did:key', options: { keyType } });
    const g = await wallet.charterIssueGrant({
      issuer: grantor.did,
      grantee: ai.did,
      resources: ['https://files.example/photos/*'],
      actions: ['read'],
      purpose: 'backup',
      validUntil: inDays(30),
    });
    const header = decodeJwt(g.jwt).header;
    expect(header.alg).toBe(keyType === 'Ed25519' ? 'EdDSA' : 'ES256K');
    expect(header.kid).toBe(`${grantor.did}#${grantor.did.slice('did:key:'.length)}`);
    expect((await store.getCredential(g.id))?.jwt).toBe(g.jwt);
    const d = await verifyGrant(g.jwt, { resolver, status: status(), ...request, grantee: ai.did });
    expect(d.reasons).toEqual([]);
    expect(d).toMatchObject({ ok: true, grantor: grantor.did, grantee: ai.did });
    expect(codes(await verifyGrant(g.jwt, { resolver, status: status(), ...request, action: 'delete' }))).toEqual(['GRANT_SCOPE']);
    expect(codes(await verifyGrant(g.jwt, { resolver, status: status(), ...request, grantee: operator.did }))).toEqual(['GRANTEE_MISMATCH']);
  });

  it('a signature from the key manager that does not verify is never used or stored (INVALID_SIGNATURE)', async () => {
    const w = veramo(new CharterVeramoPlugin({ store, baseUrl }));
    const grantor = await w.didManagerCreate({ provider: 'did:key', options: { keyType: 'Ed25519' } });
    vi.spyOn(w, 'keyManagerSign').mockResolvedValue(Buffer.alloc(64, 1).toString('base64url'));
    const issuing = w.charterIssueGrant({
      issuer: grantor.did,
      grantee: ai.did,
      resources: ['https://files.example/photos/*'],
      actions: ['read'],
      purpose: 'backup',
      validUntil: inDays(30),
    });
    await expect(issuing).rejects.toSatisfy((e) => isCharterError(e, 'INVALID_SIGNATURE'));
    expect(await store.listCredentials({ issuer: grantor.did })).toEqual([]);
  });

  it('a grant revoked through the plugin is refused by a fresh verifier (CREDENTIAL_REVOKED)', async () => {
    const g = await wallet.charterIssueGrant({
      issuer: owner.did,
      grantee: ai.did,
      resources: ['https://files.example/photos/*'],
      actions: ['read'],
      purpose: 'backup',
      validUntil: inDays(30),
    });
    expect((await verifier().charterVerifyGrant({ grant: g.jwt, ...request })).ok).toBe(true);
    // Asked for a presentation (a nonce, an audience): the bare grant proves nothing about who sends it.
    for (const asked of [{ nonce: 'n1' }, { aud: AUD }, { allowMissingNonce: true }]) {
      expect(codes(await verifier().charterVerifyGrant({ grant: g.jwt, ...request, ...asked }))).toEqual(['INVALID_PRESENTATION']);
    }
    expect(await wallet.charterRevokeGrant({ id: g.id })).toBe(true);
    expect(codes(await verifier().charterVerifyGrant({ grant: g.jwt, ...request }))).toEqual(['CREDENTIAL_REVOKED']);
  });
});

describe('CharterVeramoPlugin: Know Your Agent with keys in Veramo', () => {
  const authority: Authority = {
    actions: ['payments:card'],
    maxDelegationDepth: 1,
    limits: { perTransaction: { amount: '50', currency: 'USD' }, budget: { amount: '100', currency: 'USD', period: 'P30D' } },
  };
  let mandate: { id: string; jwt: string };
  let identity: string;
  const present = (nonce: string, chain = [mandate.jwt]) => wallet.charterCreateAgentPresentation({ agent: ai.did, identity, chain, aud: AUD, nonce });

  beforeAll(async () => {
    mandate = await wallet.charterIssueMandate({ issuer: principal.did, agent: ai.did, authority, validUntil: inDays(30) });
    identity = (await wallet.charterIssueAgentIdentity({ issuer: operator.did, agent: ai.did, name: 'shopper' })).jwt;
  });

  it("Charter's verifyAgent accepts a mandate, identity and presentation all signed in Veramo", async () => {
    const d = await verifyAgent(await present('n-1'), {
      resolver,
      status: status(),
      aud: AUD,
      nonce: 'n-1',
      action: 'payments:card',
      amount: '20 USD',
      trust: { principals: [principal.did] },
    });
    expect(d.reasons).toEqual([]);
    expect(d).toMatchObject({ ok: true, agent: ai.did, operator: operator.did, principal: principal.did, agentInfo: { name: 'shopper' }, cumulativeLimits: true });
  });

  it('agent.charterVerifyAgent returns refusals as decisions with Charter codes', async () => {
    const shop = verifier();
    const vp = await present('n-2');
    const check = (args: { action?: string; amount?: string; nonce?: string }) =>
      shop.charterVerifyAgent({ presentation: vp, nonce: 'n-2', action: 'payments:card', amount: '20 USD', ...args });
    expect(await check({})).toMatchObject({ ok: true, principalTrust: 'listed', cumulativeLimits: true });
    expect(codes(await check({ action: 'payments:wire' }))).toEqual(['ACTION_NOT_ALLOWED']);
    expect(codes(await check({ amount: '70 USD' }))).toEqual(['AUTHORITY_EXCEEDED']);
    expect(codes(await check({ nonce: 'n-3' }))).toEqual(['NONCE_MISMATCH']);
    expect(codes(await verifier({ trust: { principals: [owner.did] } }).charterVerifyAgent({ presentation: vp, nonce: 'n-2', action: 'payments:card', amount: '20 USD' }))).toEqual(
      ['UNTRUSTED_PRINCIPAL'],
    );
  });

  it('charterAuthorizeTransaction uses a presentation once (REPLAY_DETECTED) and holds no budget for the replay', async () => {
    const m = await wallet.charterIssueMandate({ issuer: principal.did, agent: ai.did, authority, validUntil: inDays(30) });
    const shop = verifier();
    const vp = await present('n-6', [m.jwt]);
    const first = await shop.charterAuthorizeTransaction({ presentation: vp, action: 'payments:card', amount: '45 USD' });
    expect(first).toMatchObject({ ok: true, status: 200 });
    const again = await shop.charterAuthorizeTransaction({ presentation: vp, action: 'payments:card', amount: '45 USD' });
    expect([again.status, codes(again)]).toEqual([401, ['REPLAY_DETECTED']]);
    expect(again.reservationId).toBeUndefined();
  });

  it('budgets are enforced through the ledger across calls (BUDGET_EXCEEDED)', async () => {
    const m = await wallet.charterIssueMandate({ issuer: principal.did, agent: ai.did, authority, validUntil: inDays(30) });
    const shop = verifier();
    // Each transaction with its own presentation: the pipeline uses each one up.
    const spend = async () => shop.charterAuthorizeTransaction({ presentation: await present(`n-4-${Math.random()}`, [m.jwt]), action: 'payments:card', amount: '45 USD' });
    expect((await spend()).ok).toBe(true);
    expect((await spend()).remaining?.budget).toEqual({ amount: '10', currency: 'USD' });
    const refused = await spend();
    expect(codes(refused)).toEqual(['BUDGET_EXCEEDED']);
    expect(refused.reservationId).toBeUndefined();
  });

  it('charterReleaseSpend gives a reservation back, charterCommitSpend keeps it; each only once', async () => {
    const m = await wallet.charterIssueMandate({ issuer: principal.did, agent: ai.did, authority, validUntil: inDays(30) });
    const shop = verifier();
    const spend = async () => shop.charterAuthorizeTransaction({ presentation: await present(`n-5-${Math.random()}`, [m.jwt]), action: 'payments:card', amount: '45 USD' });
    const first = await spend();
    expect(await shop.charterReleaseSpend({ reservationId: first.reservationId! })).toBe(true);
    await expect(shop.charterReleaseSpend({ reservationId: first.reservationId! })).rejects.toMatchObject({ code: 'RESERVATION_NOT_FOUND' });
    const second = await spend();
    expect(second.remaining?.budget).toEqual({ amount: '55', currency: 'USD' }); // the released 45 no longer counts
    expect(await shop.charterCommitSpend({ reservationId: second.reservationId! })).toBe(true);
    await expect(shop.charterReleaseSpend({ reservationId: second.reservationId! })).rejects.toMatchObject({ code: 'RESERVATION_NOT_FOUND' });
    expect((await spend()).remaining?.budget).toEqual({ amount: '10', currency: 'USD' });
  });

  it("settles only the reservations its own charterAuthorizeTransaction made: another verifier's (its id known from a receipt) or an unknown id is RESERVATION_NOT_FOUND, and that hold stays", async () => {
    const m = await wallet.charterIssueMandate({ issuer: principal.did, agent: ai.did, authority, validUntil: inDays(30) });
    // Another verifier on the same store (the bank's HTTP guard, say) reserves 90 of the 100.
    const bank = createVerifier({ aud: 'did:web:bank.example', store, resolver, status: status(), http: false });
    const vp = await wallet.charterCreateAgentPresentation({ agent: ai.did, identity, chain: [m.jwt], aud: 'did:web:bank.example', nonce: 'n-bank' });
    const held = await authorizeTransaction(vp, {
      verifier: bank,
      action: 'payments:card',
      amount: '45 USD',
      trust: { principals: [principal.did], identityIssuers: [operator.did] },
    });
    expect(held.ok).toBe(true);
    const id = held.spend!.reservationId;
    const shop = verifier();
    for (const settle of [shop.charterReleaseSpend.bind(shop), shop.charterCommitSpend.bind(shop)]) {
      for (const reservationId of [id, 'urn:uuid:00000000-0000-4000-8000-000000000000', id.toUpperCase()]) {
        await expect(settle({ reservationId })).rejects.toMatchObject({ code: 'RESERVATION_NOT_FOUND' });
      }
    }
    // Concurrent attempts change nothing either.
    const tries = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => (i % 2 ? shop.charterReleaseSpend({ reservationId: id }) : shop.charterCommitSpend({ reservationId: id }))),
    );
    expect(tries.every((t) => t.status === 'rejected')).toBe(true);
    // The bank's hold is intact: the plugin's own spend sees it, and the bank settles it.
    const own = await shop.charterAuthorizeTransaction({ presentation: await present('n-own-1', [m.jwt]), action: 'payments:card', amount: '45 USD' });
    expect(own.remaining?.budget).toEqual({ amount: '10', currency: 'USD' });
    await held.spend!.commit();
    // Its own reservation, made without a receipts verifier, it settles once.
    expect(await shop.charterReleaseSpend({ reservationId: own.reservationId! })).toBe(true);
    await expect(shop.charterCommitSpend({ reservationId: own.reservationId! })).rejects.toMatchObject({ code: 'RESERVATION_NOT_FOUND' });
    // Another plugin instance on the same store did not make it either.
    const again = await shop.charterAuthorizeTransaction({ presentation: await present('n-own-2', [m.jwt]), action: 'payments:card', amount: '10 USD' });
    await expect(verifier().charterCommitSpend({ reservationId: again.reservationId! })).rejects.toMatchObject({ code: 'RESERVATION_NOT_FOUND' });
    expect(await shop.charterCommitSpend({ reservationId: again.reservationId! })).toBe(true);
  });

  it('with a receipts verifier, charterAuthorizeTransaction returns the signed receipt, and charterCommitSpend logs the settlement', async () => {
    const m = await wallet.charterIssueMandate({ issuer: principal.did, agent: ai.did, authority, validUntil: inDays(30) });
    const signer = makeIssuer();
    const shop = verifier({ verifier: createVerifier({ aud: AUD, store, resolver, status: status(), http: false, receipts: { signer } }) });
    const a = await shop.charterAuthorizeTransaction({ presentation: await present('n-r1', [m.jwt]), action: 'payments:card', amount: '10 USD' });
    const r = await verifyReceipt(a.receipt!, { resolver, issuers: [signer.did] });
    expect(r.reasons).toEqual([]);
    expect(r.claims).toMatchObject({ iss: signer.did, decision: 'allow', sub: ai.did, spend: { reservation: a.reservationId, state: 'reserved' } });
    expect(await shop.charterCommitSpend({ reservationId: a.reservationId! })).toBe(true);
    const chain = (r.claims as DecisionReceipt).log.chain;
    expect((await store.listAudit({ chain })).map((e) => e.outcome)).toEqual(['allow', 'committed']);
    const refused = await shop.charterAuthorizeTransaction({ presentation: await present('n-r2', [m.jwt]), action: 'payments:wire', amount: '1 USD' });
    expect((await verifyReceipt(refused.receipt!, { resolver, issuers: [signer.did] })).claims).toMatchObject({ decision: 'deny', reasons: ['ACTION_NOT_ALLOWED'] });
  });

  it('a delegation through the plugin verifies, widening is refused, and revoking the root cuts off both', async () => {
    const root = await wallet.charterIssueMandate({ issuer: principal.did, agent: ai.did, authority, validUntil: inDays(30) });
    const sub = await wallet.didManagerCreate({ provider: 'did:key', options: { keyType: 'Ed25519' } });
    const narrower = {
      actions: ['payments:card'],
      maxDelegationDepth: 0,
      limits: { perTransaction: { amount: '10', currency: 'USD' }, budget: { amount: '20', currency: 'USD', period: 'P30D' } },
    };
    const link = await wallet.charterDelegateMandate({ issuer: ai.did, parent: root.jwt, to: sub.did, authority: narrower, validUntil: inDays(10) });
    const wider = wallet.charterDelegateMandate({ issuer: ai.did, parent: root.jwt, to: sub.did, authority: { ...narrower, actions: ['payments:*'] }, validUntil: inDays(10) });
    await expect(wider).rejects.toSatisfy((e) => isCharterError(e, 'AUTHORITY_WIDENED'));
    const vp = await wallet.charterCreateAgentPresentation({ agent: sub.did, chain: [link.jwt, root.jwt], aud: AUD, nonce: 'n-5' });
    const trust = { principals: [principal.did], requireIdentity: false };
    const ask = () => verifier({ trust }).charterVerifyAgent({ presentation: vp, nonce: 'n-5', action: 'payments:card', amount: '5 USD' });
    const first = await ask();
    expect(first.reasons).toEqual([]);
    expect(first).toMatchObject({ ok: true, agent: sub.did, principal: principal.did });
    expect(await wallet.charterRevokeMandate({ id: root.id })).toBe(true);
    expect(codes(await ask())).toEqual(['CREDENTIAL_REVOKED']);
  });

  it('a Charter-held agent key presents a Veramo-issued mandate (keys may live on either side)', async () => {
    const agent = makeIssuer();
    const m = await wallet.charterIssueMandate({ issuer: principal.did, agent: agent.did, authority: { actions: ['read'], maxDelegationDepth: 0 }, validUntil: inDays(1) });
    const vp = await createAgentPresentation({ agent, chain: [m.jwt], aud: AUD, nonce: 'n-6' });
    const d = await verifier({ trust: { principals: [principal.did], requireIdentity: false } }).charterVerifyAgent({ presentation: vp, nonce: 'n-6', action: 'read' });
    expect(d.reasons).toEqual([]);
    expect(d.ok).toBe(true);
  });

  it('issuing for a DID the agent does not manage, or without a store, is refused', async () => {
    const args = { issuer: makeIssuer().did, agent: ai.did, authority, validUntil: inDays(1) };
    await expect(wallet.charterIssueMandate(args)).rejects.toSatisfy((e) => isCharterError(e, 'NOT_FOUND'));
    await expect(verifier().charterIssueMandate({ ...args, issuer: principal.did })).rejects.toThrow(TypeError);
  });
});

/** A VCDM 1.1 JWT re-labelled with another issuer (its signature no longer matters: resolution comes first). */
const forgedIssuer = (jwt: string, did: string) => {
  const [h, p, sig] = jwt.split('.') as [string, string, string];
  const payload = JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>;
  const header = JSON.parse(Buffer.from(h, 'base64url').toString()) as Record<string, unknown>;
  const enc = (o: object) => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${enc({ ...header, kid: `${did}#key-1` })}.${enc({ ...payload, iss: did })}.${sig}`;
};

describe('resolution through the Veramo agent', () => {
  it("the plugin resolves did:key, did:jwk and did:web itself (SSRF-safe) and other methods through the agent's resolveDid", async () => {
    const shop = verifier();
    const spy = vi.spyOn(shop, 'resolveDid');
    const vc = await wallet.createVerifiableCredential({ credential: { issuer: { id: owner.did }, credentialSubject: { id: ai.did, degree: 'BSc' } }, proofFormat: 'jwt' });
    expect((await shop.charterVerifyCredential({ credential: vc.proof.jwt as string })).ok).toBe(true);
    expect(spy).not.toHaveBeenCalled();
    // A did:web pointing at a link-local address (cloud metadata) is refused before any request.
    const web = await shop.charterVerifyCredential({ credential: forgedIssuer(vc.proof.jwt as string, 'did:web:169.254.169.254') });
    expect(web.reasons.map((r) => r.code)).toContain('FORBIDDEN_ADDRESS');
    expect(spy).not.toHaveBeenCalled();
    // A method Charter does not implement goes to the agent (which has no resolver for it here).
    const other = await shop.charterVerifyCredential({ credential: forgedIssuer(vc.proof.jwt as string, 'did:example:123') });
    expect(spy).toHaveBeenCalledWith({ didUrl: 'did:example:123' });
    expect(other.ok).toBe(false);
  });

  it('veramoResolver applies Charter key rules to what the agent returns', async () => {
    const r = veramoResolver(wallet);
    const key = await r.resolveKey(ai.did, undefined, 'assertionMethod');
    expect(key).toMatchObject({ did: ai.did, keyType: 'Ed25519', alg: 'EdDSA' });
    const fails = (p: Promise<unknown>, code: Parameters<typeof isCharterError>[1]) => expect(p).rejects.toSatisfy((e) => isCharterError(e, code));
    await fails(r.resolveKey(ai.did, `${owner.did}#x`, 'assertionMethod'), 'KID_MISMATCH');
    const agreement = (await wallet.resolveDid({ didUrl: ai.did })).didDocument!.keyAgreement![0] as string;
    await fails(r.resolveKey(ai.did, agreement, 'assertionMethod'), 'VERIFICATION_METHOD_NOT_AUTHORIZED');
    const liar = veramoResolver({ resolveDid: async () => ({ didDocument: { id: owner.did }, didResolutionMetadata: {} }) });
    await fails(liar.resolveKey(ai.did, undefined, 'assertionMethod'), 'DID_RESOLUTION_FAILED');
    const missing = veramoResolver({ resolveDid: async () => ({ didDocument: null, didResolutionMetadata: { error: 'notFound' } }) });
    await fails(missing.resolve(ai.did), 'DID_NOT_FOUND');
    // A driver's error name is looked up among the known ones only: Object's own member names are unknown errors.
    for (const error of ['constructor', '__proto__', 'toString', 'hasOwnProperty', 'somethingElse']) {
      const odd = veramoResolver({ resolveDid: async () => ({ didDocument: null, didResolutionMetadata: { error } }) });
      const e = await odd.resolve(ai.did).catch((x: unknown) => x);
      expect([error, (e as { code?: unknown }).code]).toEqual([error, 'DID_RESOLUTION_FAILED']);
    }
  });

  it('with schemaValidation, Veramo refuses a misspelt argument before Charter runs', async () => {
    const shop = veramo(new CharterVeramoPlugin({ status: status(), aud: AUD, trust: { anyPrincipal: true } }), true);
    await expect(shop.charterVerifyAgent({ presentation: 'x.y.z', action: 'payments:card', ammount: '5 USD' } as never)).rejects.toThrow(/ammount/);
    expect(codes(await shop.charterVerifyAgent({ presentation: 'not-a-jwt', nonce: 'n-7', action: 'payments:card' }))).toContain('MALFORMED_JWT');
  });
});
