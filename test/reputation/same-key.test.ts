import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import { createDidWeb, didKeyRef, documentResolver, resolveDidJwk, resolveDidKey } from '../../src/did/index.js';
import { issueCredential, schemaIdFor } from '../../src/credentials/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import type { KeyType } from '../../src/keys/types.js';
import { checkReputation, importAttestations, issueAttestation, issueReceipt, reputationSource, scoreAgent, scoreFromStore } from '../../src/reputation/index.js';
import { issueAgentIdentity, issueMandate } from '../../src/agents/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { createStatusChecker } from '../../src/status/index.js';
import { tempDir } from '../helpers.js';
import { openWorld, type World } from '../agents/fixture.js';
import { attempt, days, ROOT } from '../agents/setup.js';

/** One key pair, and an Issuer for it under a DID of `method` (did:jwk spellings: extra members, member order). */
const party = (type: KeyType = 'Ed25519') => {
  const kp = generateKeyPair(type);
  const as = (method: 'key' | 'jwk'): Issuer => ({ ...didKeyRef(method, kp.publicJwk), signer: createSigner(kp.privateJwk) });
  const jwkSpelling = (extra: Record<string, string>, reverse = false): Issuer => {
    const members = Object.entries({ ...kp.publicJwk, ...extra });
    const did = `did:jwk:${Buffer.from(JSON.stringify(Object.fromEntries(reverse ? members.reverse() : members))).toString('base64url')}`;
    return { ...didKeyRef('jwk', kp.publicJwk), did, kid: `${did}#0`, signer: createSigner(kp.privateJwk) };
  };
  return { kp, key: as('key'), jwk: as('jwk'), jwkSpelling };
};

const world = { resolver: documentResolver(async (did) => (did.startsWith('did:key:') ? resolveDidKey(did) : resolveDidJwk(did))) };
const status = createStatusChecker({ resolver: world.resolver, allowLoopback: true, allowHttp: true });

/** A receipt signed by `agent` naming `counterparty`, made by hand (issueReceipt refuses the agent's own key). */
async function receiptTo(agent: Issuer, counterparty: string, id: string): Promise<string> {
  const vc = await issueCredential({
    issuer: agent,
    id: `urn:uuid:${id}`,
    subject: counterparty,
    type: 'InteractionReceipt',
    claims: { interaction: { id, agent: agent.did, time: new Date().toISOString() } },
    credentialSchema: { id: schemaIdFor('InteractionReceipt')!, type: 'JsonSchema' },
  });
  return vc.jwt;
}
const rate = async (attester: Issuer, receiptJwt: string, score: number) => (await issueAttestation(null, attester, { receiptJwt, score })).jwt;

let store: Store;
beforeAll(async () => {
  store = await openSqliteStore(join(tempDir('charter-rep-samekey-'), 'r.db'));
});
afterAll(async () => {
  await store.close();
});

describe('one key is one party, whatever DID names it', () => {
  it.each(['Ed25519', 'P-256', 'secp256k1'] as const)('issueReceipt refuses the agent itself as counterparty under any DID of its key (%s)', async (type) => {
    const agent = party(type);
    for (const other of [agent.key, agent.jwk, agent.jwkSpelling({ use: 'sig' }), agent.jwkSpelling({ kid: 'k1' }, true)]) {
      await expect(issueReceipt(null, agent.key, { counterparty: other.did, interactionId: 'x' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
      await expect(issueReceipt(null, agent.jwk, { counterparty: other.did, interactionId: 'x' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    // Another key is a counterparty.
    expect((await issueReceipt(null, agent.key, { counterparty: party(type).jwk.did, interactionId: 'x' })).jwt).toBeTruthy();
  });

  it('an agent rating itself through a did:jwk (or did:key) of its own key is SELF_ATTESTATION, scored, imported or checked', async () => {
    const agent = party();
    const shop = party();
    const honest = await rate(shop.key, await receiptTo(agent.key, shop.key.did, 'shop'), 0);
    const selfRatings: string[] = [];
    for (const [i, alias] of [agent.jwk, agent.jwkSpelling({ use: 'sig' }), agent.jwkSpelling({ alg: 'EdDSA' }, true)].entries()) {
      selfRatings.push(await rate(alias, await receiptTo(agent.key, alias.did, `self-${i}`), 1));
    }
    // The agent known by its did:jwk, rating itself with its did:key.
    const policy = { resolver: world.resolver, status, unknownAttesterWeight: 1 };
    const s = await scoreAgent(agent.key.did, [honest, ...selfRatings], policy);
    expect(s.score).toBe(0);
    expect(s.counted).toBe(1);
    expect(s.ignored.map((x) => x.code)).toEqual(['SELF_ATTESTATION', 'SELF_ATTESTATION', 'SELF_ATTESTATION']);
    const back = await rate(agent.key, await receiptTo(agent.jwk, agent.key.did, 'back'), 1);
    expect((await scoreAgent(agent.jwk.did, [back], policy)).ignored.map((x) => x.code)).toEqual(['SELF_ATTESTATION']);
    const imported = await importAttestations(store, [honest, ...selfRatings, back], { resolver: world.resolver, status });
    expect(imported.imported).toHaveLength(1);
    expect(imported.skipped.map((x) => x.code)).toEqual(['SELF_ATTESTATION', 'SELF_ATTESTATION', 'SELF_ATTESTATION', 'SELF_ATTESTATION']);
  });

  it.each(['Ed25519', 'P-256', 'secp256k1'] as const)('ratings by the operator under other DIDs of its key count for nothing (%s)', async (type) => {
    const agent = party();
    const operator = party(type);
    const aliases = [operator.key, operator.jwk, operator.jwkSpelling({ use: 'sig' }), operator.jwkSpelling({ kid: 'op' }, true)];
    const ratings: string[] = [];
    for (const [i, alias] of aliases.entries())
      ratings.push(await rate(alias, await issueReceipt(null, agent.key, { counterparty: alias.did, interactionId: `op-${i}` }).then((r) => r.jwt), 1));
    // Every alias trusted by name, the operator known by each of its DIDs in turn: none counts.
    const trustedAttesters = aliases.map((a) => a.did);
    for (const named of [operator.key.did, operator.jwk.did]) {
      const policy = { resolver: world.resolver, status, operator: named, trustedAttesters };
      const s = await scoreAgent(agent.key.did, ratings, policy);
      expect(s.counted).toBe(0);
      expect(s.ignored.every((x) => x.code === 'SELF_ATTESTATION')).toBe(true);
      expect((await checkReputation(agent.key.did, ratings, { minReputation: 0.5, minAttesters: 1, policy })).ok).toBe(false);
    }
    const own = await openSqliteStore(join(tempDir('charter-rep-samekey-'), 'op.db'));
    try {
      await importAttestations(own, ratings, { resolver: world.resolver, status });
      const s = await scoreFromStore(own, agent.key.did, { resolver: world.resolver, status, operator: operator.jwk.did, trustedAttesters });
      expect(s.counted).toBe(0);
      expect(s.attesters).toBe(0);
      // A stranger's key is no alias: the control.
      const stranger = party(type);
      const fair = await rate(stranger.jwk, (await issueReceipt(null, agent.key, { counterparty: stranger.jwk.did, interactionId: 'fair' })).jwt, 1);
      await importAttestations(own, [fair], { resolver: world.resolver, status });
      const t = await scoreFromStore(own, agent.key.did, {
        resolver: world.resolver,
        status,
        operator: operator.jwk.did,
        trustedAttesters: [...trustedAttesters, stranger.jwk.did],
      });
      expect(t).toMatchObject({ counted: 1, attesters: 1, score: 1 });
    } finally {
      await own.close();
    }
  });

  it('an operator known by a did:web rating through a did:key of a key its document lists counts for nothing', async () => {
    const agent = party();
    const operatorKey = party();
    const web = createDidWeb({ domain: 'operator.example', publicJwk: operatorKey.kp.publicJwk });
    const resolver = documentResolver(async (did) => (did === web.did ? web.document : did.startsWith('did:key:') ? resolveDidKey(did) : resolveDidJwk(did)));
    const rating = await rate(operatorKey.key, (await issueReceipt(null, agent.key, { counterparty: operatorKey.key.did, interactionId: 'w' })).jwt, 1);
    const s = await scoreAgent(agent.key.did, [rating], { resolver, status, operator: web.did, trustedAttesters: [operatorKey.key.did] });
    expect(s.ignored.map((x) => x.code)).toEqual(['SELF_ATTESTATION']);
    expect(s.attesters).toBe(0);
  });
});

describe('the agent guard: an operator cannot vouch for its agent under another name', () => {
  let w: World;
  beforeAll(async () => {
    w = await openWorld();
  });
  afterAll(async () => {
    await w.close();
  });
  it('identity issued by the operator as did:jwk, rating made as did:key of the same key: REPUTATION_TOO_LOW', async () => {
    const principal = w.issuer('principal');
    const agent = w.issuer('agent');
    const operator = party();
    const mandate = await issueMandate(w.store, principal, { agent: agent.did, authority: ROOT, validUntil: days(30), baseUrl: w.baseUrl });
    const own = await openSqliteStore(join(tempDir('charter-rep-samekey-'), 'kya.db'));
    try {
      const receipt = await issueReceipt(null, agent, { counterparty: operator.key.did, interactionId: 'self-dealing' });
      await importAttestations(own, [await rate(operator.key, receipt.jwt, 1)], { resolver: w.resolver, status: w.status() });
      const reputation = reputationSource(own, { resolver: w.resolver, status: w.status(), trustedAttesters: [operator.key.did] });
      const names = [operator.jwk, operator.key, operator.jwkSpelling({ use: 'sig' })];
      const trust = { anyPrincipal: true, identityIssuers: names.map((n) => n.did), minReputation: 0.9, minAttesters: 1 };
      for (const issuer of names) {
        const identity = await issueAgentIdentity(w.store, issuer, { agent: agent.did, name: 'shopper' });
        const d = await attempt(w, { agent, identity: identity.jwt, chain: [mandate.jwt], options: { reputation, trust } });
        expect(d.reasons.map((r) => r.code)).toEqual(['REPUTATION_TOO_LOW']);
        expect(d.reputation).toEqual({ score: null, attesters: 0 });
      }
    } finally {
      await own.close();
    }
  });

  it('an agent that leaves its identity credential out is not scored as if it had no operator: IDENTITY_MISSING under a reputation rule', async () => {
    const principal = w.issuer('principal-2');
    const agent = w.issuer('agent-2');
    const operator = party();
    const mandate = await issueMandate(w.store, principal, { agent: agent.did, authority: ROOT, validUntil: days(30), baseUrl: w.baseUrl });
    const own = await openSqliteStore(join(tempDir('charter-rep-samekey-'), 'noid.db'));
    try {
      const receipt = await issueReceipt(null, agent, { counterparty: operator.key.did, interactionId: 'self-dealing' });
      await importAttestations(own, [await rate(operator.key, receipt.jwt, 1)], { resolver: w.resolver, status: w.status() });
      const reputation = reputationSource(own, { resolver: w.resolver, status: w.status(), trustedAttesters: [operator.key.did] });
      const trust = { anyPrincipal: true, requireIdentity: false, identityIssuers: [operator.key.did], minReputation: 0.9, minAttesters: 1 };
      const identity = await issueAgentIdentity(w.store, operator.key, { agent: agent.did, name: 'shopper' });
      const shown = await attempt(w, { agent, identity: identity.jwt, chain: [mandate.jwt], options: { reputation, trust } });
      expect(shown.reasons.map((r) => r.code)).toEqual(['REPUTATION_TOO_LOW']);
      const hidden = await attempt(w, { agent, chain: [mandate.jwt], options: { reputation, trust } });
      expect(hidden.ok).toBe(false);
      expect(hidden.reasons.map((r) => r.code)).toEqual(['IDENTITY_MISSING']);
      // Without a reputation rule, requireIdentity: false still means what it says.
      const { minReputation: _m, minAttesters: _a, ...plain } = trust;
      expect((await attempt(w, { agent, chain: [mandate.jwt], options: { trust: plain } })).reasons).toEqual([]);
    } finally {
      await own.close();
    }
  });
});
