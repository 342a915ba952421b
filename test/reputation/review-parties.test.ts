import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import { createDidWeb, didKeyRef, documentResolver, resolveDidJwk, resolveDidKey } from '../../src/did/index.js';
import { partiesOf, partyLink } from '../../src/did/parties.js';
import type { CharterResolver, DIDDocument } from '../../src/did/types.js';
import { issueCredential } from '../../src/credentials/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { issueAgentIdentity } from '../../src/agents/index.js';
import { checkReputation, importAttestations, issueAttestation, issueReceipt, reputationSource, scoreAgent, scoreFromStore, type ScorePolicy } from '../../src/reputation/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { createStatusChecker } from '../../src/status/index.js';
import { tempDir } from '../helpers.js';

/**
 * "A did:key and a did:jwk of one key (or a did:web listing it) are one
 * party, so an operator cannot rate its own agent under another name"
 * (README): at scoring, a did:web attester (or identity issuer) is looked up
 * and its keys matched against the agent's and the operator's; one that
 * cannot be looked up does not count. Every scoring path agrees.
 */

const mk = () => {
  const kp = generateKeyPair('Ed25519');
  return {
    kp,
    key: { ...didKeyRef('key', kp.publicJwk), signer: createSigner(kp.privateJwk) } as Issuer,
    jwk: { ...didKeyRef('jwk', kp.publicJwk), signer: createSigner(kp.privateJwk) } as Issuer,
  };
};
const docs = new Map<string, DIDDocument>();
const load = async (did: string): Promise<DIDDocument> => {
  const d = docs.get(did);
  if (d) return d;
  if (did.startsWith('did:key:')) return resolveDidKey(did);
  if (did.startsWith('did:jwk:')) return resolveDidJwk(did);
  throw Object.assign(new Error(`no document for ${did}`), { code: 'DID_RESOLUTION_FAILED' });
};
/** A fresh resolver (its own cache) over the documents published now. */
const freshResolver = (cacheTtlMs = 300_000) => documentResolver(load, { cacheTtlMs });
const resolver = freshResolver(0);
const status = createStatusChecker({ resolver, allowLoopback: true, allowHttp: true });

/** A did:web on `domain` listing `kp`'s key, published, with an Issuer signing as it. */
function web(domain: string, kp: ReturnType<typeof mk>['kp']): Issuer {
  const w = createDidWeb({ domain, publicJwk: kp.publicJwk });
  docs.set(w.did, w.document as DIDDocument);
  return { did: w.did, kid: w.kid, keyType: kp.publicJwk.crv === 'Ed25519' ? 'Ed25519' : 'P-256', publicJwk: kp.publicJwk, signer: createSigner(kp.privateJwk) } as Issuer;
}

let n = 0;
const rate = async (agent: Issuer, rater: Issuer, score = 1) =>
  (await issueAttestation(null, rater, { receiptJwt: (await issueReceipt(null, agent, { counterparty: rater.did, interactionId: `i-${++n}` })).jwt, score })).jwt;

let store: Store;
beforeAll(async () => {
  store = await openSqliteStore(join(tempDir('charter-rep-parties-'), 'r.db'));
});
afterAll(async () => {
  await store.close();
});

/** The four paths: { score, attesters } and the codes ignored (where the path reports them). */
async function allPaths(agent: string, jwts: string[], policy: ScorePolicy, operatorForSource: string | undefined, scoringResolver?: CharterResolver) {
  await importAttestations(store, jwts, { resolver, status });
  const p = scoringResolver ? { ...policy, resolver: scoringResolver } : policy;
  const a = await scoreAgent(agent, jwts, policy);
  const c = await checkReputation(agent, jwts, { minReputation: 0.5, minAttesters: 1, policy });
  const f = await scoreFromStore(store, agent, p);
  const { operator: _drop, ...noOperator } = p;
  const r = await reputationSource(store, noOperator)(agent, operatorForSource);
  return { a, c, f, r };
}

describe('an operator rating its own agent under a did:web name', () => {
  it('did:key operator, did:web rater listing its key: SELF_ATTESTATION in every path', async () => {
    const agent = mk();
    const op = mk();
    const alias = web('shop-1.example', op.kp);
    const honest = mk().key;
    const jwts = [await rate(agent.key, alias), await rate(agent.key, honest, 0.2)];
    const policy: ScorePolicy = { resolver, status, operator: op.key.did, trustedAttesters: [alias.did, honest.did] };
    const { a, c, f, r } = await allPaths(agent.key.did, jwts, policy, op.key.did);
    for (const s of [a, f]) {
      expect(s).toMatchObject({ score: 0.2, attesters: 1 });
      expect(s.ignored.map((i) => i.code)).toEqual(['SELF_ATTESTATION']);
    }
    expect(c.ok).toBe(false);
    expect(r).toEqual({ score: 0.2, attesters: 1 });
  });

  it('the operator as did:jwk, the rater a did:web of the same key', async () => {
    const agent = mk();
    const op = mk();
    const alias = web('shop-2.example', op.kp);
    const jwts = [await rate(agent.key, alias)];
    const policy: ScorePolicy = { resolver, status, operator: op.jwk.did, trustedAttesters: [alias.did] };
    const { a, c, f, r } = await allPaths(agent.key.did, jwts, policy, op.jwk.did);
    for (const s of [a, f]) expect(s).toMatchObject({ score: null, attesters: 0, ignored: [{ code: 'SELF_ATTESTATION' }] });
    expect(c.ok).toBe(false);
    expect(r).toEqual({ score: null, attesters: 0 });
  });

  it('a did:web operator rating through another did:web listing one of its keys', async () => {
    const agent = mk();
    const op = mk();
    const opWeb = web('op-3.example', op.kp);
    const alias = web('alias-3.example', op.kp);
    const jwts = [await rate(agent.key, alias)];
    const policy: ScorePolicy = { resolver, status, operator: opWeb.did, trustedAttesters: [alias.did] };
    const { a, c, f, r } = await allPaths(agent.key.did, jwts, policy, opWeb.did);
    for (const s of [a, f]) expect(s).toMatchObject({ score: null, attesters: 0, ignored: [{ code: 'SELF_ATTESTATION' }] });
    expect(c.ok).toBe(false);
    expect(r).toEqual({ score: null, attesters: 0 });
  });

  it('the operator named only by the guard (reputationSource(agent, operator)) is caught the same way', async () => {
    const agent = mk();
    const op = mk();
    const alias = web('shop-4.example', op.kp);
    await importAttestations(store, [await rate(agent.key, alias)], { resolver, status });
    const source = reputationSource(store, { resolver, status, trustedAttesters: [alias.did] });
    expect(await source(agent.key.did, op.key.did)).toEqual({ score: null, attesters: 0 });
    // someone else's agent: the same rater counts
    expect(await source(agent.key.did, mk().key.did)).toEqual({ score: 1, attesters: 1 });
  });

  it('a did:web rater of another key still counts (not every did:web is the operator)', async () => {
    const agent = mk();
    const op = mk();
    const other = web('shop-5.example', mk().kp);
    const jwts = [await rate(agent.key, other, 0.9)];
    const policy: ScorePolicy = { resolver, status, operator: op.key.did, trustedAttesters: [other.did] };
    const { a, c, f, r } = await allPaths(agent.key.did, jwts, policy, op.key.did);
    for (const s of [a, f]) expect(s).toMatchObject({ score: 0.9, attesters: 1, ignored: [] });
    expect(c.ok).toBe(true);
    expect(r).toEqual({ score: 0.9, attesters: 1 });
  });

  it('a did:web rater whose document can no longer be had does not count at scoring (fail closed)', async () => {
    const agent = mk();
    const op = mk();
    const gone = web('gone-6.example', mk().kp);
    const jwt = await rate(agent.key, gone);
    await importAttestations(store, [jwt], { resolver, status });
    docs.delete(gone.did);
    const policy: ScorePolicy = { resolver: freshResolver(), status, operator: op.key.did, trustedAttesters: [gone.did] };
    const f = await scoreFromStore(store, agent.key.did, policy);
    expect(f).toMatchObject({ score: null, attesters: 0, ignored: [{ code: 'DID_RESOLUTION_FAILED' }] });
    expect(await reputationSource(store, { ...policy, operator: undefined })(agent.key.did, op.key.did)).toEqual({ score: null, attesters: 0 });
  });

  it('attesters that weigh nothing are not looked up (a flood of strangers costs no resolution)', async () => {
    const agent = mk();
    const trusted = mk().key;
    const strangers = [web('s1-7.example', mk().kp), web('s2-7.example', mk().kp)];
    const jwts = [await rate(agent.key, trusted, 0.8), ...(await Promise.all(strangers.map((s) => rate(agent.key, s, 0))))];
    await importAttestations(store, jwts, { resolver, status });
    const loads: string[] = [];
    const counting = documentResolver(async (did) => {
      loads.push(did);
      return load(did);
    });
    const f = await scoreFromStore(store, agent.key.did, { resolver: counting, status, operator: mk().key.did, trustedAttesters: [trusted.did] });
    expect(f).toMatchObject({ score: 0.8, attesters: 1 });
    expect(loads.filter((d) => d.startsWith('did:web:'))).toEqual([]);
  });
});

describe('a vouch by the operator under a did:web name is its own word', () => {
  it('an identity credential from a did:web listing the operator key vouches for no one; an independent issuer does', async () => {
    const agent = mk();
    const op = mk();
    const opWeb = web('registry-8.example', op.kp);
    const registry = mk().key;
    const crony = mk().key;
    const vetted = mk().key;
    const byOp = (await issueCredential({ issuer: opWeb, subject: crony.did, type: 'OrganizationCredential', claims: { name: 'crony' } })).jwt;
    const byRegistry = (await issueCredential({ issuer: registry, subject: vetted.did, type: 'OrganizationCredential', claims: { name: 'vetted' } })).jwt;
    const jwts = [await rate(agent.key, crony, 1), await rate(agent.key, vetted, 0.4)];
    const policy: ScorePolicy = { resolver, status, operator: op.key.did, trustedIdentityIssuers: [opWeb.did, registry.did], attesterCredentials: [byOp, byRegistry] };
    const { a, f, r } = await allPaths(agent.key.did, jwts, policy, op.key.did);
    for (const s of [a, f]) expect(s).toMatchObject({ score: 0.4, attesters: 1 });
    expect(r).toEqual({ score: 0.4, attesters: 1 });
    // for an agent someone else operates, the same did:web's vouch counts
    const other = await scoreAgent(agent.key.did, jwts, { ...policy, operator: mk().key.did });
    expect(other.attesters).toBe(2);
  });

  it('a voucher that cannot be looked up vouches for no one', async () => {
    const agent = mk();
    const v = web('vanished-9.example', mk().kp);
    const rater = mk().key;
    const cred = (await issueCredential({ issuer: v, subject: rater.did, type: 'OrganizationCredential', claims: { name: 'r' } })).jwt;
    const jwts = [await rate(agent.key, rater)];
    await importAttestations(store, jwts, { resolver, status });
    const policy: ScorePolicy = { resolver: freshResolver(), status, operator: mk().key.did, trustedIdentityIssuers: [v.did], attesterCredentials: [cred] };
    expect((await scoreFromStore(store, agent.key.did, policy)).attesters).toBe(1);
    docs.delete(v.did);
    expect((await scoreFromStore(store, agent.key.did, { ...policy, resolver: freshResolver() })).attesters).toBe(0);
  });
});

describe('partyLink', () => {
  it('matches a did:web by the keys it lists, throws when it cannot look', async () => {
    const op = mk();
    const alias = web('p-10.example', op.kp);
    const parties = await partiesOf(resolver, [mk().key.did, op.key.did]);
    expect(await partyLink(resolver, parties, alias.did)).toBe('self');
    expect(await partyLink(resolver, parties, op.jwk.did)).toBe('self');
    expect(await partyLink(resolver, parties, web('p2-10.example', mk().kp).did)).toBeUndefined();
    expect(await partyLink(resolver, parties, mk().key.did)).toBeUndefined();
    await expect(partyLink(resolver, parties, 'did:web:nowhere-10.example')).rejects.toThrow();
  });
});

describe('one operator, many agents: one attester', () => {
  const fleetOf = async (operator: Issuer, agent: Issuer, size: number, score = 1) => {
    const creds: string[] = [];
    const jwts: string[] = [];
    for (let i = 0; i < size; i++) {
      const bot = mk().key;
      creds.push((await issueAgentIdentity(null, operator, { agent: bot.did, name: `bot-${i}` })).jwt);
      jwts.push(await rate(agent, bot, score));
    }
    return { creds, jwts };
  };

  it('five agents of one trusted operator count once for minAttesters, and weigh as one', async () => {
    const A = mk().key;
    const O2 = mk().key;
    const shop = mk().key;
    const fleet = await fleetOf(O2, A, 5);
    const jwts = [...fleet.jwts, await rate(A, shop, 0)];
    const policy: ScorePolicy = { resolver, status, trustedIdentityIssuers: [O2.did], attesterCredentials: fleet.creds, trustedAttesters: [shop.did] };
    const { a, f, r } = await allPaths(A.did, jwts, policy, undefined);
    for (const s of [a, f]) {
      expect(s.attesters).toBe(2);
      expect(s.score).toBeCloseTo(0.5, 12); // the fleet is one voice against the shop's, not five
      expect(s.counted).toBe(6);
    }
    expect(r.attesters).toBe(2);
    expect(r.score).toBeCloseTo(0.5, 12);
    for (const minAttesters of [3, 6]) expect((await checkReputation(A.did, jwts, { minReputation: 0, minAttesters, policy })).ok).toBe(false);
    expect((await checkReputation(A.did, fleet.jwts, { minReputation: 0.9, minAttesters: 2, policy })).ok).toBe(false);
  });

  it('one operator under two DIDs of its key is still one operator; two operators are two', async () => {
    const A = mk().key;
    const O = mk();
    const O3 = mk().key;
    const byKey = await fleetOf(O.key, A, 2);
    const byJwk = await fleetOf(O.jwk, A, 2);
    const third = await fleetOf(O3, A, 3);
    const jwts = [...byKey.jwts, ...byJwk.jwts, ...third.jwts];
    const policy: ScorePolicy = { resolver, status, trustedIdentityIssuers: [O.key.did, O.jwk.did, O3.did], attesterCredentials: [...byKey.creds, ...byJwk.creds, ...third.creds] };
    const { a, f, r } = await allPaths(A.did, jwts, policy, undefined);
    for (const s of [a, f]) expect(s).toMatchObject({ score: 1, attesters: 2, counted: 7 });
    expect(r).toEqual({ score: 1, attesters: 2 });
  });

  it('an agent also trusted by name, or also vouched for by an identity credential of another kind, stands alone', async () => {
    const A = mk().key;
    const O2 = mk().key;
    const registry = mk().key;
    const fleet = await fleetOf(O2, A, 3);
    const bots = fleet.creds.map((c) => JSON.parse(Buffer.from(c.split('.')[1]!, 'base64url').toString()).credentialSubject.id as string);
    const kyc = (await issueCredential({ issuer: registry, subject: bots[1]!, type: 'OrganizationCredential', claims: { name: 'b1' } })).jwt;
    const policy: ScorePolicy = {
      resolver,
      status,
      trustedIdentityIssuers: [O2.did, registry.did],
      attesterCredentials: [...fleet.creds, kyc],
      trustedAttesters: [bots[0]!],
    };
    const { a, f, r } = await allPaths(A.did, fleet.jwts, policy, undefined);
    for (const s of [a, f]) expect(s.attesters).toBe(3);
    expect(r.attesters).toBe(3);
    // without those, the three are one
    const plain: ScorePolicy = { resolver, status, trustedIdentityIssuers: [O2.did], attesterCredentials: fleet.creds };
    expect((await scoreAgent(A.did, fleet.jwts, plain)).attesters).toBe(1);
    expect((await scoreFromStore(store, A.did, plain)).attesters).toBe(1);
  });

  it('attesterWeight keeps full control: an agent it weighs stands alone', async () => {
    const A = mk().key;
    const O2 = mk().key;
    const fleet = await fleetOf(O2, A, 3);
    const policy: ScorePolicy = { resolver, status, trustedIdentityIssuers: [O2.did], attesterCredentials: fleet.creds, attesterWeight: () => 1 };
    expect((await scoreAgent(A.did, fleet.jwts, policy)).attesters).toBe(3);
  });
});

describe('option lists hold DIDs (or JWTs), nothing else', () => {
  const agent = mk().key.did;
  const bad: [string, Partial<ScorePolicy>][] = [
    ['trustedAttesters with a number', { trustedAttesters: ['did:key:z6Mk', 42 as unknown as string] }],
    ['trustedAttesters with an empty string', { trustedAttesters: [''] }],
    ['trustedAttesters with null', { trustedAttesters: [null as unknown as string] }],
    ['trustedAttesters as a string', { trustedAttesters: 'did:web:acme.example' as unknown as string[] }],
    ['trustedIdentityIssuers with an object', { trustedIdentityIssuers: [{ did: 'did:web:x' } as unknown as string] }],
    ['trustedIdentityIssuers with an array', { trustedIdentityIssuers: [['did:web:x'] as unknown as string] }],
    ['attesterCredentials with undefined', { attesterCredentials: [undefined as unknown as string] }],
    ['attesterCredentials with a number', { attesterCredentials: [1 as unknown as string] }],
  ];
  it.each(bad)('%s is a TypeError in every path', async (_, extra) => {
    const policy = { resolver, status, ...extra } as ScorePolicy;
    await expect(scoreAgent(agent, [], policy)).rejects.toThrow(TypeError);
    await expect(checkReputation(agent, [], { minReputation: 0, policy })).rejects.toThrow(TypeError);
    await expect(scoreFromStore(store, agent, policy)).rejects.toThrow(TypeError);
    expect(() => reputationSource(store, policy)).toThrow(TypeError);
  });
});
