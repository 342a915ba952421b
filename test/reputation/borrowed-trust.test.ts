import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import { didKeyRef, documentResolver, resolveDidJwk, resolveDidKey } from '../../src/did/index.js';
import type { DIDDocument } from '../../src/did/types.js';
import type { Issuer } from '../../src/credentials/types.js';
import { issueCredential } from '../../src/credentials/index.js';
import { schemaIdFor } from '../../src/credentials/schemas.js';
import { createStatusChecker } from '../../src/status/index.js';
import { signPayload, RECEIPT_TYP } from '../../src/audit/jws.js';
import { verifyReceipt } from '../../src/audit/receipt.js';
import { canonicalJson } from '../../src/encoding/json.js';
import { checkReceiptEvidence, decisionReceiptEvidence, importAttestations, scoreAgent, scoreFromStore } from '../../src/reputation/index.js';
import { issueAgentIdentity } from '../../src/agents/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import { tempDir } from '../helpers.js';

/**
 * Decision receipts let an attester prove an "interaction" with no part
 * played by the rated agent, so trust must come only from the scorer's own
 * lists: a stranger's did:web that lists a trusted attester's public key (no
 * private key needed) must neither borrow that attester's weight nor merge
 * two trusted attesters into one; an operator's second credential type for
 * its own agents must not split its fleet into separate voices; and a
 * receipt verifyReceipt refuses proves nothing here either.
 */
const docs = new Map<string, DIDDocument>();
const resolver = documentResolver(
  async (did) => {
    const d = docs.get(did);
    if (d) return d;
    if (did.startsWith('did:key:')) return resolveDidKey(did);
    if (did.startsWith('did:jwk:')) return resolveDidJwk(did);
    throw Object.assign(new Error(`no document for ${did}`), { code: 'DID_RESOLUTION_FAILED' });
  },
  { cacheTtlMs: 0 },
);
const status = createStatusChecker({ resolver });
const mk = () => {
  const kp = generateKeyPair('Ed25519');
  return { kp, id: { ...didKeyRef('key', kp.publicJwk), signer: createSigner(kp.privateJwk) } as Issuer };
};
/** A did:web whose document lists its own key and others' public keys (for authentication and assertions). */
function web(domain: string, own: ReturnType<typeof generateKeyPair>, listed: ReturnType<typeof generateKeyPair>[]): Issuer {
  const did = `did:web:${domain}`;
  const vms = [own, ...listed].map((k, i) => ({ id: `${did}#key-${i + 1}`, type: 'JsonWebKey2020', controller: did, publicKeyJwk: k.publicJwk }));
  docs.set(did, {
    '@context': ['https://www.w3.org/ns/did/v1'],
    id: did,
    verificationMethod: vms,
    authentication: vms.map((v) => v.id),
    assertionMethod: vms.map((v) => v.id),
  } as unknown as DIDDocument);
  return { did, kid: `${did}#key-1`, keyType: 'Ed25519', publicJwk: own.publicJwk, signer: createSigner(own.privateJwk) } as Issuer;
}
async function receipt(verifier: Issuer, agent: string, o: { status?: number; log?: Record<string, unknown> } = {}) {
  const t = new Date(Date.now() - 5000);
  const claims = {
    iss: verifier.did,
    jti: `urn:uuid:${randomUUID()}`,
    iat: Math.floor(t.getTime() / 1000),
    time: t.toISOString(),
    kind: 'decision',
    verifier: verifier.did,
    decision: 'allow',
    status: o.status ?? 200,
    reasons: [],
    sub: agent,
    request: { none: true },
    policy: { kind: 'presentation' },
    credentials: [],
    chain: [],
    log: o.log ?? { chain: `urn:uuid:${randomUUID()}`, seq: 1, prev: null },
  };
  return signPayload(RECEIPT_TYP, canonicalJson(claims), verifier);
}
async function rate(attester: Issuer, agent: string, score: number, r?: string) {
  const ev = decisionReceiptEvidence(r ?? (await receipt(attester, agent)));
  return (
    await issueCredential({
      issuer: attester,
      subject: agent,
      type: 'ReputationAttestation',
      claims: { rating: { score }, interaction: ev.id },
      credentialSchema: { id: schemaIdFor('ReputationAttestation')!, type: 'JsonSchema' },
      extra: { evidence: [ev] },
    })
  ).jwt;
}

describe('a did:web listing a trusted attester’s public key gains nothing by it', () => {
  it('a stranger rating through its own receipts weighs as a stranger, listing the key or not (scoreAgent and the store)', async () => {
    const X = mk().id;
    const T = mk();
    const borrower = web('borrower.example', mk().kp, [T.kp]);
    const plain = web('plain.example', mk().kp, []);
    const honest = await rate(T.id, X.did, 0);
    const policy = { resolver, status, trustedAttesters: [T.id.did], unknownAttesterWeight: 0.1 };
    const scores: number[] = [];
    for (const s of [borrower, plain]) {
      const fake = await Promise.all(Array.from({ length: 9 }, () => rate(s, X.did, 1)));
      const a = await scoreAgent(X.did, [honest, ...fake], policy);
      expect([s.did, a.attesters]).toEqual([s.did, 1]);
      scores.push(a.score!);
      // Every stranger rating weighs the stranger weight, never the trusted attester's 1.
      for (const c of a.attestations.filter((c) => c.attester === s.did)) expect(c.weight).toBeCloseTo(0.1, 5);
      const store = await openSqliteStore(join(tempDir(), 'r.db'));
      await importAttestations(store, [honest, ...fake], { resolver, status });
      expect((await scoreFromStore(store, X.did, policy)).score).toBeCloseTo(a.score!, 9);
      await store.close();
    }
    expect(scores[0]).toBeCloseTo(scores[1]!, 9);
    expect(scores[0]).toBeLessThan(0.2);
    // The default (strangers weigh 0): the honest rating alone.
    const d = await scoreAgent(X.did, [honest, ...(await Promise.all([1, 2].map(() => rate(borrower, X.did, 1))))], { resolver, status, trustedAttesters: [T.id.did] });
    expect([d.score, d.attesters]).toEqual([0, 1]);
  });

  it('a stranger listing two trusted attesters’ keys does not merge them: both still count', async () => {
    const X = mk().id;
    const [T1, T2] = [mk(), mk()];
    const griefer = web('griefer.example', mk().kp, [T1.kp, T2.kp]);
    const honest = [await rate(T1.id, X.did, 1), await rate(T2.id, X.did, 1)];
    const policy = { resolver, status, trustedAttesters: [T1.id.did, T2.id.did], unknownAttesterWeight: 0.1 };
    const after = await scoreAgent(X.did, [...honest, await rate(griefer, X.did, 0)], policy);
    expect(after.attesters).toBe(2);
    expect(after.score).toBeGreaterThan(0.9);
  });

  it('two trusted names signing with one key (a did:web signing with a trusted did:key) still count once', async () => {
    const X = mk().id;
    const T = mk();
    const alias = web('alias.example', T.kp, []);
    const a = await scoreAgent(X.did, [await rate(T.id, X.did, 1), await rate(alias, X.did, 1)], { resolver, status, trustedAttesters: [T.id.did, alias.did] });
    expect(a.attesters).toBe(1);
    // Listing T's key without signing with it ties nothing: two signers, two voices.
    const lister = web('lister.example', mk().kp, [T.kp]);
    const b = await scoreAgent(X.did, [await rate(T.id, X.did, 1), await rate(lister, X.did, 1)], { resolver, status, trustedAttesters: [T.id.did, lister.did] });
    expect(b.attesters).toBe(2);
  });
});

describe('an operator’s fleet stays one voice', () => {
  it('a second credential type from the same operator does not split its agents; another issuer’s vouch does', async () => {
    const X = mk().id;
    const O = mk().id;
    const other = mk().id;
    const fleet = [mk().id, mk().id, mk().id];
    const ids = await Promise.all(fleet.map((a, i) => issueAgentIdentity(null, O, { agent: a.did, name: `bot-${i}` }).then((c) => c.jwt)));
    const member = (by: Issuer) =>
      Promise.all(fleet.map((a) => issueCredential({ issuer: by, subject: a.did, type: 'MemberCredential', claims: { member: true } }).then((c) => c.jwt)));
    const ratings = await Promise.all(fleet.map((a) => rate(a, X.did, 1)));
    const base = { resolver, status, trustedIdentityIssuers: [O.did, other.did] };
    expect((await scoreAgent(X.did, ratings, { ...base, attesterCredentials: ids })).attesters).toBe(1);
    expect((await scoreAgent(X.did, ratings, { ...base, attesterCredentials: [...ids, ...(await member(O))] })).attesters).toBe(1);
    // A vouch from an issuer that does not operate them makes each its own attester, as before.
    expect((await scoreAgent(X.did, ratings, { ...base, attesterCredentials: [...ids, ...(await member(other))] })).attesters).toBe(3);
  });
});

describe('an operator’s fleet stays one voice, whatever keys its agents’ documents list', () => {
  it('did:web agents paired by a key listed in both documents are still one attester with their fleet', async () => {
    const X = mk().id;
    const O = mk().id;
    const [k1, k2] = [generateKeyPair('Ed25519'), generateKeyPair('Ed25519')];
    for (const [label, listed] of [
      ['separate keys', (_i: number) => []],
      ['pairs sharing a listed key', (i: number) => [i < 2 ? k1 : k2]],
      ['all sharing one listed key', () => [k1]],
    ] as const) {
      const agents = [0, 1, 2, 3].map((i) => web(`${label.replace(/ /g, '-')}-${i}.fleet.example`, generateKeyPair('Ed25519'), listed(i)));
      const ids = await Promise.all(agents.map((a, i) => issueAgentIdentity(null, O, { agent: a.did, name: `bot-${i}` }).then((c) => c.jwt)));
      const ratings = await Promise.all(agents.map((a) => rate(a, X.did, 1)));
      const s = await scoreAgent(X.did, ratings, { resolver, status, trustedIdentityIssuers: [O.did], attesterCredentials: ids });
      expect([label, s.attesters]).toEqual([label, 1]);
    }
  });

  it('a key signing for agents of two operators’ fleets joins them: one voice, never two per pair', async () => {
    const X = mk().id;
    const [O1, O2] = [mk().id, mk().id];
    const k = generateKeyPair('Ed25519');
    const a = [web('a0.one.example', k, []), web('a1.one.example', generateKeyPair('Ed25519'), [])];
    const b = [web('b0.two.example', k, []), web('b1.two.example', generateKeyPair('Ed25519'), [])];
    const ids = await Promise.all([
      ...a.map((x, i) => issueAgentIdentity(null, O1, { agent: x.did, name: `a${i}` }).then((c) => c.jwt)),
      ...b.map((x, i) => issueAgentIdentity(null, O2, { agent: x.did, name: `b${i}` }).then((c) => c.jwt)),
    ]);
    const ratings = await Promise.all([...a, ...b].map((x) => rate(x, X.did, 1)));
    const s = await scoreAgent(X.did, ratings, { resolver, status, trustedIdentityIssuers: [O1.did, O2.did], attesterCredentials: ids });
    expect(s.attesters).toBe(1);
    // Without the shared key, two operators: two voices.
    const c = [web('c0.one.example', generateKeyPair('Ed25519'), []), web('c1.two.example', generateKeyPair('Ed25519'), [])];
    const cIds = [await issueAgentIdentity(null, O1, { agent: c[0]!.did, name: 'c0' }), await issueAgentIdentity(null, O2, { agent: c[1]!.did, name: 'c1' })].map((x) => x.jwt);
    const t = await scoreAgent(X.did, await Promise.all(c.map((x) => rate(x, X.did, 1))), {
      resolver,
      status,
      trustedIdentityIssuers: [O1.did, O2.did],
      attesterCredentials: cIds,
    });
    expect(t.attesters).toBe(2);
  });
});

describe('receipt evidence: held to every rule verifyReceipt holds a receipt to', () => {
  it('an allow with an error status, a status out of range, or a chain position that does not hold proves nothing', async () => {
    const X = mk().id;
    const V = mk().id;
    const policy = { resolver, status, trustedAttesters: [V.did] };
    const good = await receipt(V, X.did);
    expect((await checkReceiptEvidence(good, { resolver, agent: X.did, attester: V.did })).ok).toBe(true);
    expect((await scoreAgent(X.did, [await rate(V, X.did, 1, good)], policy)).counted).toBe(1);
    for (const o of [
      { status: 500 },
      { status: 99999 },
      { status: 200.5 },
      { log: { chain: 'urn:uuid:c', seq: 2, prev: null } },
      { log: { chain: 'urn:uuid:c', seq: 1, prev: 'x'.repeat(43) } },
    ]) {
      const r = await receipt(V, X.did, o);
      expect([o, (await verifyReceipt(r, { resolver, issuers: [V.did] })).ok]).toEqual([o, false]);
      expect([o, (await checkReceiptEvidence(r, { resolver, agent: X.did, attester: V.did })).ok]).toEqual([o, false]);
      const s = await scoreAgent(X.did, [await rate(V, X.did, 1, r)], policy);
      expect([o, s.counted, s.ignored.map((i) => i.code)]).toEqual([o, 0, ['RECEIPT_INVALID']]);
    }
  });
});
