import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CharterError } from '../../src/errors.js';
import { documentResolver } from '../../src/did/index.js';
import type { CharterResolver, DIDDocument, VerificationRelationship } from '../../src/did/types.js';
import type { Issuer } from '../../src/credentials/types.js';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import { createPresentation, issueCredential, verifyCredential, verifyPresentation } from '../../src/credentials/index.js';
import { verifyGrant } from '../../src/grants/index.js';
import { delegateMandate, issueAgentIdentity, issueMandate, createAgentPresentation, verifyAgent } from '../../src/agents/index.js';
import { verifyReceipt } from '../../src/audit/receipt.js';
import { issueAttestation, issueReceipt, scoreAgent } from '../../src/reputation/index.js';
import { createTokenStatusChecker, issueSdJwtGrant, issueSdJwtVc, presentSdJwtVc, verifySdJwtGrant, verifySdJwtVc } from '../../src/sdjwt/index.js';
import { issueUsageReport, readUsage } from '../../src/pools/usage.js';
import { handReceipt } from '../audit/hand-receipt.js';
import { bound } from '../http/present.js';
import { openWorld, API, type World } from '../http/world.js';

/**
 * DID Core §5.3: a verification relationship says what a key may be used for. One did:web document
 * lists five keys, each under one relationship only (and one under none); every Charter artifact is
 * signed with each in turn. What an issuer asserts (a credential, an SD-JWT VC, a decision receipt,
 * a mandate, an agent identity, a rating) verifies only with the assertionMethod key (§5.3.2); what a
 * holder proves of itself (a presentation: a grant's, an agent's) only with the authentication key
 * (§5.3.1). A key listed for keyAgreement (§5.3.3, encryption), capabilityInvocation or
 * capabilityDelegation (§5.3.4-5) signs neither, and nothing is accepted under the wrong purpose.
 */
const DID = 'did:web:purposes.example';
const KEYS = ['authentication', 'assertionMethod', 'keyAgreement', 'capabilityInvocation', 'capabilityDelegation', 'none'] as const;
type Slot = (typeof KEYS)[number];
const pairs = Object.fromEntries(KEYS.map((k) => [k, generateKeyPair('Ed25519')])) as Record<Slot, ReturnType<typeof generateKeyPair>>;
const doc: DIDDocument = {
  '@context': ['https://www.w3.org/ns/did/v1'],
  id: DID,
  verificationMethod: KEYS.map((k) => ({ id: `${DID}#${k}`, type: 'JsonWebKey2020', controller: DID, publicKeyJwk: pairs[k].publicJwk })),
  ...Object.fromEntries(KEYS.filter((k) => k !== 'none').map((k) => [k, [`${DID}#${k}`]])),
} as DIDDocument;
const as = (k: Slot): Issuer => ({ did: DID, kid: `${DID}#${k}`, signer: createSigner(pairs[k].privateJwk), publicJwk: pairs[k].publicJwk }) as Issuer;

let w: World;
let resolver: CharterResolver;
beforeAll(async () => {
  w = await openWorld();
  const web = documentResolver(async (did) => {
    if (did !== DID) throw new CharterError('DID_NOT_FOUND', 'no such document');
    return doc;
  });
  resolver = {
    resolve: (did) => (did === DID ? web.resolve(did) : w.resolver.resolve(did)),
    resolveKey: (did, kid, rel) => (did === DID ? web.resolveKey(did, kid, rel) : w.resolver.resolveKey(did, kid, rel)),
    clear: (did) => (did === DID ? web.clear(did) : w.resolver.clear(did)),
  };
}, 60_000);
afterAll(async () => w?.close());

type Verdict = { ok: boolean; codes: string[] };
const verdict = async (f: () => Promise<{ ok: boolean; reasons: readonly { code: string }[] }>): Promise<Verdict> => {
  try {
    const r = await f();
    return { ok: r.ok, codes: [...new Set(r.reasons.map((x) => x.code))] };
  } catch (e) {
    if (e instanceof CharterError) return { ok: false, codes: [e.code] };
    throw e;
  }
};
const exp = () => new Date(Date.now() + 86_400_000);

/** Each artifact kind: signed by `key` of the document, then verified; the relationship it needs. */
const kinds: Array<[string, VerificationRelationship, (key: Issuer) => Promise<Verdict>]> = [
  [
    'vc+jwt credential',
    'assertionMethod',
    async (k) => {
      const vc = await issueCredential({ issuer: k, subject: w.app.did, type: 'Membership', claims: { level: 1 } });
      return verdict(() => verifyCredential(vc.jwt, { resolver }));
    },
  ],
  [
    'VCDM 1.1 JWT credential',
    'assertionMethod',
    async (k) => {
      const vc = await issueCredential({ issuer: k, subject: w.app.did, type: 'Membership', claims: { level: 1 }, format: 'vc-jwt-1.1' } as never);
      return verdict(() => verifyCredential(vc.jwt, { resolver }));
    },
  ],
  [
    'SD-JWT VC (issuer JWT)',
    'assertionMethod',
    async (k) => {
      const sd = await issueSdJwtVc({ issuer: k, subject: w.app.did, vct: 'https://example.com/vct', claims: { email: 'a@example.com' }, disclosable: ['email'], resolver });
      const t = await presentSdJwtVc(sd.token, { holder: w.app, disclose: ['email'], aud: API, nonce: 'n' });
      return verdict(() => verifySdJwtVc(t, { resolver, aud: API, nonce: 'n' }));
    },
  ],
  [
    'decision receipt',
    'assertionMethod',
    async (k) => {
      const r = await handReceipt(k, {
        sub: w.app.did,
        grant: { id: 'urn:uuid:1', iss: w.alice.did },
        credentials: [{ h: 'x' }],
        policy: { kind: 'grant', resource: 'a', action: 'read', anyOwner: true },
      });
      return verdict(() => verifyReceipt(r, { resolver, issuers: [DID] }));
    },
  ],
  [
    'agent mandate (principal)',
    'assertionMethod',
    async (k) => {
      const m = await issueMandate(w.home.store, k, {
        agent: w.agent.did,
        authority: { actions: ['purchase'], maxDelegationDepth: 0, limits: { perTransaction: { amount: '5', currency: 'USD' }, counterparties: [API] } },
        validUntil: exp(),
        baseUrl: w.server.url,
      });
      const vp = await createAgentPresentation({ agent: w.agent, chain: [m.jwt], identity: w.agentIdentity, aud: API, nonce: 'n' });
      // The home signs status lists only for DIDs it holds: this one's entry is taken as unrevoked.
      return verdict(() =>
        verifyAgent(vp, { resolver, status: async () => [], aud: API, nonce: 'n', action: 'purchase', amount: '1 USD', counterparty: API, trust: { principals: [DID] } }),
      );
    },
  ],
  [
    'agent identity (operator)',
    'assertionMethod',
    async (k) => {
      const id = await issueAgentIdentity(null as never, k, { agent: w.agent.did, name: 'shopper', software: { name: 'bot', version: '1.0.0' } });
      const m = await w.mandate();
      const vp = await createAgentPresentation({ agent: w.agent, chain: [m], identity: id.jwt, aud: API, nonce: 'n' });
      return verdict(() =>
        verifyAgent(vp, {
          resolver,
          status: w.status,
          aud: API,
          nonce: 'n',
          action: 'purchase',
          amount: '1 USD',
          counterparty: API,
          trust: { principals: [w.principal.did], identityIssuers: [DID] },
        }),
      );
    },
  ],
  [
    'reputation attestation',
    'assertionMethod',
    async (k) => {
      const receipt = await issueReceipt(null, w.agent, { counterparty: DID, interactionId: `i-${Math.random()}` });
      const a = await issueAttestation(null, k, { receiptJwt: receipt.jwt, score: 0.9 });
      const s = await scoreAgent(w.agent.did, [a.jwt], { resolver, status: w.status, trustedAttesters: [DID] });
      return { ok: s.counted > 0, codes: s.ignored.map((i) => i.code) };
    },
  ],
  [
    'delegated mandate (delegating agent)',
    'assertionMethod',
    async (k) => {
      const root = await issueMandate(w.home.store, w.principal, {
        agent: DID,
        authority: { actions: ['purchase'], maxDelegationDepth: 1, limits: { perTransaction: { amount: '5', currency: 'USD' }, counterparties: [API] } },
        validUntil: exp(),
        baseUrl: w.server.url,
      });
      const child = await delegateMandate(w.home.store, k, {
        parentJwt: root.jwt,
        to: w.app.did,
        authority: { actions: ['purchase'], maxDelegationDepth: 0, limits: { perTransaction: { amount: '5', currency: 'USD' }, counterparties: [API] } },
        baseUrl: w.server.url,
      });
      const vp = await createAgentPresentation({ agent: w.app, chain: [root.jwt, child.jwt], aud: API, nonce: 'n' });
      const trust = { principals: [w.principal.did], requireIdentity: false };
      return verdict(() => verifyAgent(vp, { resolver, status: async () => [], aud: API, nonce: 'n', action: 'purchase', amount: '1 USD', counterparty: API, trust }));
    },
  ],
  [
    'pool usage report (reporter)',
    'assertionMethod',
    async (k) => {
      const u = await issueUsageReport(k, { pool: w.alice.did, grant: 'urn:uuid:g', uses: [{ member: w.app.did, time: new Date() }] });
      const r = await readUsage([u.jwt], { resolver, pool: w.alice.did, grants: new Map([['urn:uuid:g', { grantee: DID }]]) });
      return { ok: r.uses.length > 0, codes: r.ignored.map((i) => i.code) };
    },
  ],
  [
    'SD-JWT grant key binding (grantee)',
    'authentication',
    async (k) => {
      // The grant binds this very key in cnf (holderKey), so only the subject's document decides.
      const g = await issueSdJwtGrant(w.home.store, w.alice, {
        grantee: DID,
        holderKey: k.publicJwk,
        resources: ['profile/email'],
        actions: ['read'],
        purpose: 'key purposes',
        validUntil: exp(),
        baseUrl: w.server.url,
        resolver,
      });
      const t = await presentSdJwtVc(g.token, { holder: k, disclose: g.disclosable, aud: API, nonce: 'n' });
      const status = createTokenStatusChecker({ resolver: w.resolver, allowLoopback: true, allowHttp: true });
      return verdict(() => verifySdJwtGrant(t, { resolver, status, resource: 'profile/email', action: 'read', owner: w.alice.did, aud: API, nonce: 'n' }));
    },
  ],
  [
    'presentation (holder)',
    'authentication',
    async (k) => {
      const vc = await issueCredential({ issuer: w.alice, subject: DID, type: 'Membership', claims: { level: 1 } });
      const vp = await createPresentation({ holder: k, credentials: [vc.jwt], aud: API, nonce: 'n' });
      return verdict(() => verifyPresentation(vp, { resolver, aud: API, nonce: 'n' }));
    },
  ],
  [
    'grant presentation (grantee)',
    'authentication',
    async (k) => {
      const g = await w.grant({ to: DID });
      const vp = await bound(k, [g.jwt], { nonce: 'n' });
      return verdict(() => verifyGrant(vp, { resolver, status: w.status, resource: 'profile/email', action: 'read', owner: w.alice.did, aud: API, nonce: 'n' }));
    },
  ],
];

describe('every artifact verifies only under the relationship its purpose needs (DID Core §5.3)', () => {
  it.each(kinds)('%s: only the %s key signs it', async (name, needs, sign) => {
    const out: Record<string, Verdict> = {};
    for (const k of KEYS) out[k] = await sign(as(k));
    expect(Object.entries(out).flatMap(([k, v]) => (v.ok ? [k] : []))).toEqual([needs]);
    // A key listed for another purpose is VERIFICATION_METHOD_NOT_AUTHORIZED; an SD-JWT key binding with a
    // key its subject lists for no signing purpose at all (keyAgreement, or none) is no key of the subject's.
    for (const [k, v] of Object.entries(out)) {
      if (k === needs) continue;
      const unlisted = name.startsWith('SD-JWT grant') && (k === 'keyAgreement' || k === 'none');
      expect(v.codes, k).toEqual([unlisted ? 'HOLDER_MISMATCH' : 'VERIFICATION_METHOD_NOT_AUTHORIZED']);
    }
  });
});
