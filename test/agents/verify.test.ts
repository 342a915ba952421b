import { randomUUID } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isCharterError } from '../../src/errors.js';
import { decodeCredential, issueCredential } from '../../src/credentials/index.js';
import { AGENT_IDENTITY_TYPE } from '../../src/agents/types.js';
import {
  commitSpend,
  createAgentPresentation,
  delegateMandate,
  issueAgentIdentity,
  issueMandate,
  mandateDigest,
  releaseSpend,
  revokeAgentIdentity,
  revokeMandate,
  verifyAgent,
  verifyChain,
} from '../../src/agents/index.js';
import { tamper } from '../helpers.js';
import { createSigner, generateKeyPair } from '../../src/keys/index.js';
import { didKeyRef } from '../../src/did/index.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { authorizeTransaction } from '../../src/guard/transaction.js';
import { openWorld, type World } from './fixture.js';
import { attempt, AUD, buildChain, codes, days, ROOT, signLink, step } from './setup.js';
import { authority, WIDENINGS } from './arbitraries.js';

let w: World;
beforeAll(async () => {
  w = await openWorld();
});
afterAll(async () => {
  await w.close();
});

describe('verifyAgent: chains that verify', () => {
  it.each([1, 2, 3])('a chain of depth %i verifies, naming agent, operator and principal', async (depth) => {
    const c = await buildChain(w, depth);
    const leaf = c.agents[depth - 1]!;
    const d = await attempt(w, { agent: leaf, identity: c.identity, chain: [...c.mandates.map((m) => m.jwt)].reverse(), options: { trust: { principals: [c.principal.did] } } });
    expect(d.reasons).toEqual([]);
    expect(d.ok).toBe(true);
    expect(d.agent).toBe(leaf.did);
    expect(d.operator).toBe(c.operator.did);
    expect(d.agentInfo?.name).toBe('shopper');
    expect(d.principal).toBe(c.principal.did);
    expect(d.principalTrust).toBe('listed');
    expect(d.chain.map((l) => l.id)).toEqual(c.mandates.map((m) => m.id));
    expect(d.chain.map((l) => l.issuer)).toEqual([c.principal.did, ...c.agents.slice(0, -1).map((a) => a.did)]);
    expect(d.chain.every((l) => l.checks.length === 0)).toBe(true);
    expect(d.cumulativeLimits).toBe(true);
    expect(d.remaining).toEqual({ budget: { amount: '90', currency: 'USD' }, rate: 19 });
  });

  it('reports a chain accepted through anyPrincipal', async () => {
    const c = await buildChain(w, 1);
    const d = await attempt(w, { agent: c.agents[0]!, identity: c.identity, chain: [c.mandates[0]!.jwt], options: { trust: { anyPrincipal: true } } });
    expect(d.ok).toBe(true);
    expect(d.principalTrust).toBe('any');
  });

  it('accepts a missing identity only when told, and trusted operators only when listed', async () => {
    const c = await buildChain(w, 1);
    const agent = c.agents[0]!;
    const chain = [c.mandates[0]!.jwt];
    expect(codes(await attempt(w, { agent, chain }))).toEqual(['IDENTITY_MISSING']);
    expect((await attempt(w, { agent, chain, options: { trust: { anyPrincipal: true, requireIdentity: false } } })).ok).toBe(true);
    expect(codes(await attempt(w, { agent, identity: c.identity, chain, options: { trust: { anyPrincipal: true, identityIssuers: [c.principal.did] } } }))).toEqual([
      'UNTRUSTED_ISSUER',
    ]);
    expect((await attempt(w, { agent, identity: c.identity, chain, options: { trust: { anyPrincipal: true, identityIssuers: [c.operator.did] } } })).ok).toBe(true);
  });

  it('an identity credential the agent issued about itself names no operator: UNTRUSTED_ISSUER, even when the agent is listed or a real one follows', async () => {
    const c = await buildChain(w, 1);
    const agent = c.agents[0]!;
    const chain = [c.mandates[0]!.jwt];
    // issueAgentIdentity refuses to make one (below); signed by hand, as an attacker would.
    const own = (await issueCredential({ issuer: agent, subject: agent.did, type: AGENT_IDENTITY_TYPE, claims: { agent: { name: 'Acme Official Shopper', operator: agent.did } } }))
      .jwt;
    for (const trust of [{ anyPrincipal: true }, { anyPrincipal: true, identityIssuers: [agent.did] }, { principals: [c.principal.did] }]) {
      const d = await attempt(w, { agent, identity: own, chain, options: { trust } });
      expect([trust, codes(d), d.ok]).toEqual([trust, ['UNTRUSTED_ISSUER'], false]);
    }
    // Its operator's own credential still works.
    expect((await attempt(w, { agent, identity: c.identity, chain, options: { trust: { anyPrincipal: true } } })).ok).toBe(true);
  });

  it.each(['Ed25519', 'P-256', 'secp256k1'] as const)(
    'the agent under its other DID of the same %s key (did:jwk ~ did:key) is still itself: UNTRUSTED_ISSUER as operator, DELEGATION_CYCLE in a chain, refused at issuance',
    async (type) => {
      const kp = generateKeyPair(type);
      const signer = createSigner(kp.privateJwk);
      const asKey = { ...didKeyRef('key', kp.publicJwk), signer };
      const asJwk = { ...didKeyRef('jwk', kp.publicJwk), signer };
      const principal = w.issuer(`alias-principal-${type}`);
      for (const [agent, alias] of [
        [asKey, asJwk],
        [asJwk, asKey],
      ] as const) {
        const m = await issueMandate(w.store, principal, { agent: agent.did, authority: ROOT, validUntil: days(30), baseUrl: w.baseUrl });
        const own = (
          await issueCredential({ issuer: alias, subject: agent.did, type: AGENT_IDENTITY_TYPE, claims: { agent: { name: 'Acme Official Shopper', operator: alias.did } } })
        ).jwt;
        for (const trust of [{ anyPrincipal: true }, { anyPrincipal: true, identityIssuers: [alias.did] }, { principals: [principal.did] }]) {
          const d = await attempt(w, { agent, identity: own, chain: [m.jwt], options: { trust } });
          expect([trust, codes(d), d.ok]).toEqual([trust, ['UNTRUSTED_ISSUER'], false]);
        }
        // Issuance refuses the same aliases: operator = agent, principal = agent, delegation back to the delegator or the principal.
        await expect(issueAgentIdentity(null, alias, { agent: agent.did, name: 'x' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
        await expect(issueMandate(w.store, alias, { agent: agent.did, authority: ROOT, validUntil: days(30), baseUrl: w.baseUrl })).rejects.toMatchObject({
          code: 'DELEGATION_CYCLE',
        });
        await expect(delegateMandate(w.store, agent, { parentJwt: m.jwt, to: alias.did, authority: step(ROOT), validUntil: days(29), baseUrl: w.baseUrl })).rejects.toMatchObject({
          code: 'DELEGATION_CYCLE',
        });
        // A delegation handing authority back to the same key under its other DID, signed by hand: a cycle.
        const sub = w.issuer(`alias-sub-${type}-${agent.did.slice(4, 7)}`);
        const down = await delegateMandate(w.store, agent, { parentJwt: m.jwt, to: sub.did, authority: step(ROOT), validUntil: days(29), baseUrl: w.baseUrl });
        const back = await signLink(w, sub, alias.did, { ...step(step(ROOT)), parent: { id: down.id, digest: mandateDigest(down.jwt) } });
        const identity = (await issueAgentIdentity(null, w.issuer(`alias-op-${type}`), { agent: alias.did, name: 'y' })).jwt;
        const d = await attempt(w, { agent: alias, identity, chain: [m.jwt, down.jwt, back], options: { trust: { anyPrincipal: true } } });
        expect(codes(d)).toContain('DELEGATION_CYCLE');
        expect(d.ok).toBe(false);
      }
    },
  );

  it('two identity credentials about the agent: INVALID_PRESENTATION, so the agent cannot pick the operator a verifier checks (and whose ratings count)', async () => {
    const c = await buildChain(w, 1);
    const agent = c.agents[0]!;
    const chain = [c.mandates[0]!.jwt];
    const throwaway = w.issuer('throwaway-operator');
    const other = (await issueAgentIdentity(null, throwaway, { agent: agent.did, name: 'shopper' })).jwt;
    const asked: (string | undefined)[] = [];
    const reputation = async (_a: string, operator: string | undefined) => (asked.push(operator), { score: 1, attesters: 1 });
    for (const ids of [
      [other, c.identity],
      [c.identity, other],
      [c.identity, c.identity],
    ]) {
      for (const trust of [
        { anyPrincipal: true },
        { anyPrincipal: true, identityIssuers: [c.operator.did, throwaway.did] },
        { anyPrincipal: true, minReputation: 0.5, identityIssuers: [c.operator.did, throwaway.did] },
      ]) {
        const d = await attempt(w, { agent, chain: [...ids, ...chain], raw: true, options: { trust, reputation } });
        expect(d.ok).toBe(false);
        expect(codes(d)).toContain('INVALID_PRESENTATION');
      }
    }
    expect(asked).toEqual([]);
    // One of them alone is fine.
    expect((await attempt(w, { agent, identity: c.identity, chain })).ok).toBe(true);
  });

  it("an operator revokes its identity credential (a stolen agent key): every verifier refuses the agent's presentations with it", async () => {
    const c = await buildChain(w, 1);
    const agent = c.agents[0]!;
    const chain = [c.mandates[0]!.jwt];
    const issued = await issueAgentIdentity(w.store, c.operator, { agent: agent.did, name: 'shopper', baseUrl: w.baseUrl });
    expect(issued.credential.credentialStatus).toMatchObject({ type: 'BitstringStatusListEntry', statusPurpose: 'revocation' });
    const trust = { anyPrincipal: true, identityIssuers: [c.operator.did] };
    expect((await attempt(w, { agent, identity: issued.jwt, chain, options: { trust } })).ok).toBe(true);
    // A mandate is not an identity, and the other way round.
    await expect(revokeMandate(w.store, issued.id, w.issuerFor)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(revokeAgentIdentity(w.store, c.mandates[0]!.id, w.issuerFor)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await revokeAgentIdentity(w.store, issued.id, w.issuerFor);
    expect(codes(await attempt(w, { agent, identity: issued.jwt, chain, options: { trust } }))).toEqual(['CREDENTIAL_REVOKED']);
    // One issued without a status list cannot be revoked: said, not silently "done".
    const plain = await issueAgentIdentity(w.store, c.operator, { agent: agent.did, name: 'shopper' });
    await expect(revokeAgentIdentity(w.store, plain.id, w.issuerFor)).rejects.toMatchObject({ code: 'NOT_FOUND', message: expect.stringContaining('no revocation entry') });
  });

  it('an identity credential is never open-ended (one year unless told), an agent is never its own operator, and a revocable one needs a store', async () => {
    const c = await buildChain(w, 1);
    const agent = c.agents[0]!;
    const plain = await issueAgentIdentity(null, c.operator, { agent: agent.did, name: 'shopper' });
    const until = Date.parse(plain.credential.validUntil as string);
    expect(until - Date.now()).toBeGreaterThan(364 * 86_400_000);
    expect(until - Date.now()).toBeLessThanOrEqual(365 * 86_400_000);
    const short = await issueAgentIdentity(null, c.operator, { agent: agent.did, name: 'shopper', validUntil: new Date(Date.now() + 3_600_000) });
    expect(Date.parse(short.credential.validUntil as string) - Date.now()).toBeLessThanOrEqual(3_600_000);
    for (const validUntil of [new Date(Date.now() - 1000), new Date(Number.NaN), 'tomorrow' as unknown as Date]) {
      await expect(issueAgentIdentity(null, c.operator, { agent: agent.did, name: 'shopper', validUntil })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    await expect(issueAgentIdentity(null, agent, { agent: agent.did, name: 'me' })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(issueAgentIdentity(null, c.operator, { agent: agent.did, name: 'shopper', baseUrl: w.baseUrl })).rejects.toThrow(TypeError);
  });

  it('verifyChain checks a chain of JWTs on its own', async () => {
    const c = await buildChain(w, 3);
    const v = await verifyChain(
      c.mandates.map((m) => m.jwt),
      { resolver: w.resolver, status: w.status(), trust: { principals: [c.principal.did] }, agent: c.agents[2]!.did },
    );
    expect(v.reasons).toEqual([]);
    expect(v.ok).toBe(true);
    // Its trust list is a list too: the principal's DID inside a string is not a list holding it.
    for (const principals of [`${c.principal.did}X`, { includes: () => true }]) {
      await expect(
        verifyChain(
          c.mandates.map((m) => m.jwt),
          { resolver: w.resolver, status: w.status(), trust: { principals } as never, agent: c.agents[2]!.did },
        ),
      ).rejects.toThrow(TypeError);
    }
  });
});

describe('revocation', () => {
  it('revoking the middle link cuts off the leaf; the link above still verifies', async () => {
    const c = await buildChain(w, 3);
    const jwts = c.mandates.map((m) => m.jwt);
    expect((await attempt(w, { agent: c.agents[2]!, identity: c.identity, chain: jwts })).ok).toBe(true);
    await revokeMandate(w.store, c.mandates[1]!.id, w.issuerFor);
    const d = await attempt(w, { agent: c.agents[2]!, identity: c.identity, chain: jwts });
    expect(codes(d)).toEqual(['CREDENTIAL_REVOKED']);
    expect(d.reasons[0]!.ref).toBe(c.mandates[1]!.id);
    expect(d.chain[1]!.checks.map((r) => r.code)).toEqual(['CREDENTIAL_REVOKED']);
    const above = await attempt(w, { agent: c.agents[0]!, chain: [jwts[0]!], options: { trust: { anyPrincipal: true, requireIdentity: false } } });
    expect(above.ok).toBe(true);
  });

  it('revokeMandate refuses what this home did not issue', async () => {
    await expect(revokeMandate(w.store, 'urn:uuid:nope', w.issuerFor)).rejects.toSatisfy((e) => isCharterError(e, 'NOT_FOUND'));
  });
});

describe('verifyAgent: every refusal has its code', () => {
  it('UNTRUSTED_PRINCIPAL: a root the verifier does not trust', async () => {
    const c = await buildChain(w, 2);
    const d = await attempt(w, { agent: c.agents[1]!, identity: c.identity, chain: c.mandates.map((m) => m.jwt), options: { trust: { principals: ['did:web:bank.example'] } } });
    expect(codes(d)).toEqual(['UNTRUSTED_PRINCIPAL']);
    expect(codes(await attempt(w, { agent: c.agents[1]!, identity: c.identity, chain: c.mandates.map((m) => m.jwt), options: { trust: {} } }))).toEqual(['UNTRUSTED_PRINCIPAL']);
  });

  it('AUDIENCE_MISMATCH, NONCE_MISMATCH and INVALID_SIGNATURE on the presentation', async () => {
    const c = await buildChain(w, 1);
    const base = { agent: c.agents[0]!, identity: c.identity, chain: [c.mandates[0]!.jwt] };
    expect(codes(await attempt(w, { ...base, aud: 'did:web:evil.example' }))).toEqual(['AUDIENCE_MISMATCH']);
    expect(codes(await attempt(w, { ...base, options: { nonce: 'another' } }))).toEqual(['NONCE_MISMATCH']);
    const nonce = randomUUID();
    const vp = await createAgentPresentation({ ...base, aud: AUD, nonce });
    const forged = tamper(vp, 1, (p) => void (p.aud = AUD + ':x'));
    const d = await verifyAgent(forged, { resolver: w.resolver, status: w.status(), aud: AUD + ':x', nonce, action: 'pay:card', counterparty: AUD, trust: { anyPrincipal: true } });
    expect(codes(d)).toContain('INVALID_SIGNATURE');
  });

  it('HOLDER_MISMATCH: an agent presenting a mandate or identity given to another', async () => {
    const c = await buildChain(w, 2);
    const jwts = c.mandates.map((m) => m.jwt);
    // agent 0 presents the whole chain: the leaf is about agent 1, and so is the identity.
    const d = await attempt(w, { agent: c.agents[0]!, identity: c.identity, chain: jwts });
    expect(codes(d)).toEqual(['HOLDER_MISMATCH']);
    expect(d.reasons).toHaveLength(2);
  });

  it('DELEGATION_BROKEN: links out of order, a missing root, a wrong delegator, a digest that does not match', async () => {
    const c = await buildChain(w, 3);
    const [a, b, leaf] = c.mandates.map((m) => m.jwt) as [string, string, string];
    const agent = c.agents[2]!;
    expect(codes(await attempt(w, { agent, identity: c.identity, chain: [b, a, leaf], raw: true }))).toContain('DELEGATION_BROKEN');
    expect(codes(await attempt(w, { agent, identity: c.identity, chain: [b, leaf] }))).toEqual(['DELEGATION_BROKEN']);
    expect(codes(await attempt(w, { agent, identity: c.identity, chain: [a, leaf], raw: true }))).toEqual(['DELEGATION_BROKEN']);
    expect(codes(await attempt(w, { agent, identity: c.identity, chain: [], raw: true }))).toEqual(['DELEGATION_BROKEN']);

    // A link signed by someone other than its parent's subject, naming the right parent.
    const parent = decodeCredential(a);
    const stranger = w.issuer('stranger');
    const rogue = await signLink(w, stranger, agent.did, { ...step(ROOT), parent: { id: parent.id, digest: mandateDigest(a) } });
    expect(codes(await attempt(w, { agent, identity: c.identity, chain: [a, rogue] }))).toEqual(['DELEGATION_BROKEN']);

    // The right delegator naming the parent with a wrong digest (another mandate with the same id would pass the id check).
    const badDigest = await signLink(w, c.agents[0]!, agent.did, { ...step(ROOT), parent: { id: parent.id, digest: mandateDigest(b) } });
    expect(codes(await attempt(w, { agent, identity: c.identity, chain: [a, badDigest] }))).toEqual(['DELEGATION_BROKEN']);
  });

  it('AUTHORITY_WIDENED: a link that widens is refused by the verifier even though it was signed', async () => {
    const c = await buildChain(w, 1);
    const [root] = c.mandates;
    const sub = w.issuer('sub-' + randomUUID());
    const parent = { id: root!.id, digest: mandateDigest(root!.jwt) };
    const widened = await signLink(w, c.agents[0]!, sub.did, { ...step(ROOT), limits: { ...ROOT.limits, perTransaction: { amount: '5000', currency: 'USD' } }, parent });
    const identity = (await issueAgentIdentity(null, c.operator, { agent: sub.did, name: 'sub' })).jwt;
    const d = await attempt(w, { agent: sub, identity, chain: [root!.jwt, widened] });
    expect(codes(d)).toEqual(['AUTHORITY_WIDENED']);
    expect(d.chain[1]!.checks[0]!.message).toMatch(/^perTransaction/);

    const late = await signLink(w, c.agents[0]!, sub.did, { ...step(ROOT), parent }, { validUntil: days(60) });
    expect(codes(await attempt(w, { agent: sub, identity, chain: [root!.jwt, late] }))).toEqual(['AUTHORITY_WIDENED']);
  });

  it('what the chain rules derive once per mandate never carries over: to another child, another parent, or through a caller changing a decision', async () => {
    const c = await buildChain(w, 1);
    const [root] = c.mandates;
    const sub = w.issuer('sub-' + randomUUID());
    const parent = { id: root!.id, digest: mandateDigest(root!.jwt) };
    const narrow = await signLink(w, c.agents[0]!, sub.did, { ...step(ROOT), limits: { ...ROOT.limits, perTransaction: { amount: '20', currency: 'USD' } }, parent });
    const wide = await signLink(w, c.agents[0]!, sub.did, { ...step(ROOT), limits: { ...ROOT.limits, perTransaction: { amount: '5000', currency: 'USD' } }, parent });
    const late = await signLink(w, c.agents[0]!, sub.did, { ...step(ROOT), parent }, { validUntil: days(60) });
    const identity = (await issueAgentIdentity(null, c.operator, { agent: sub.did, name: 'sub' })).jwt;
    const run = (link: string) => attempt(w, { agent: sub, identity, chain: [root!.jwt, link] });
    // Alternating, so each decision follows one that filled the memo for the same parent.
    for (let i = 0; i < 3; i++) {
      expect(codes(await run(narrow))).toEqual([]);
      expect(codes(await run(wide))).toEqual(['AUTHORITY_WIDENED']);
      expect(codes(await run(late))).toEqual(['AUTHORITY_WIDENED']);
    }
    // Another root (its own digest) under the same child: the child names the first root, so it is broken.
    const other = (await buildChain(w, 1, ROOT)).mandates[0]!;
    expect(codes(await attempt(w, { agent: sub, identity, chain: [other.jwt, narrow], raw: true }))).toContain('DELEGATION_BROKEN');
    expect(codes(await run(narrow))).toEqual([]);
    // A caller that changes what a decision returned cannot widen the next one.
    const d = await run(narrow);
    try {
      (d.chain[1]!.authority!.limits!.perTransaction as { amount: string }).amount = '9999';
      (d.chain[1]!.authority!.actions as string[]).push('steal');
    } catch {
      // frozen: the memo's objects cannot be changed
    }
    expect(codes(await attempt(w, { agent: sub, identity, chain: [root!.jwt, narrow], options: { amount: '30 USD' } }))).toEqual(['AUTHORITY_EXCEEDED']);
    expect(codes(await attempt(w, { agent: sub, identity, chain: [root!.jwt, narrow], options: { action: 'steal' } }))).toEqual(['ACTION_NOT_ALLOWED']);
  });

  it('DELEGATION_DEPTH_EXCEEDED: delegating a mandate of depth 0', async () => {
    const c = await buildChain(w, 1, { ...ROOT, maxDelegationDepth: 0 });
    const sub = w.issuer('sub-' + randomUUID());
    const root = c.mandates[0]!;
    const link = await signLink(w, c.agents[0]!, sub.did, { ...ROOT, maxDelegationDepth: 0, parent: { id: root.id, digest: mandateDigest(root.jwt) } });
    const identity = (await issueAgentIdentity(null, c.operator, { agent: sub.did, name: 'sub' })).jwt;
    expect(codes(await attempt(w, { agent: sub, identity, chain: [root.jwt, link] }))).toEqual(['DELEGATION_DEPTH_EXCEEDED']);
  });

  it('UNKNOWN_CONSTRAINT: a mandate with a field this verifier does not understand fails closed', async () => {
    const principal = w.issuer('p-' + randomUUID());
    const agent = w.issuer('a-' + randomUUID());
    const identity = (await issueAgentIdentity(null, principal, { agent: agent.did, name: 'x' })).jwt;
    const tighter = await signLink(w, principal, agent.did, { ...ROOT, limits: { ...ROOT.limits, geofence: ['EU'] } });
    const d = await attempt(w, { agent, identity, chain: [tighter] });
    expect(codes(d)).toEqual(['UNKNOWN_CONSTRAINT']);
    const top = await signLink(w, principal, agent.did, { ...ROOT, requiresHumanApproval: true });
    expect(codes(await attempt(w, { agent, identity, chain: [top] }))).toEqual(['UNKNOWN_CONSTRAINT']);
  });

  it('INVALID_CREDENTIAL / STATUS_INVALID: a mandate that never expires or cannot be revoked', async () => {
    const principal = w.issuer('p-' + randomUUID());
    const agent = w.issuer('a-' + randomUUID());
    const identity = (await issueAgentIdentity(null, principal, { agent: agent.did, name: 'x' })).jwt;
    expect(codes(await attempt(w, { agent, identity, chain: [await signLink(w, principal, agent.did, ROOT, { validUntil: null })] }))).toEqual(['INVALID_CREDENTIAL']);
    expect(codes(await attempt(w, { agent, identity, chain: [await signLink(w, principal, agent.did, ROOT, { status: false })] }))).toEqual(['STATUS_INVALID']);
  });

  it('CREDENTIAL_EXPIRED: an expired link', async () => {
    const c = await buildChain(w, 2);
    const d = await attempt(w, { agent: c.agents[1]!, identity: c.identity, chain: c.mandates.map((m) => m.jwt), options: { now: days(29) } });
    expect(codes(d)).toContain('CREDENTIAL_EXPIRED');
  });

  it('ACTION_NOT_ALLOWED, AUTHORITY_EXCEEDED, CURRENCY_MISMATCH, COUNTERPARTY_NOT_ALLOWED, checked in every link', async () => {
    const c = await buildChain(w, 2);
    const base = { agent: c.agents[1]!, identity: c.identity, chain: c.mandates.map((m) => m.jwt) };
    const act = await attempt(w, { ...base, options: { action: 'refund:card' } });
    expect(codes(act)).toEqual(['ACTION_NOT_ALLOWED']);
    expect(act.reasons.map((r) => r.ref)).toEqual(c.mandates.map((m) => m.id));
    expect(codes(await attempt(w, { ...base, options: { amount: '50.01 USD' } }))).toEqual(['AUTHORITY_EXCEEDED']);
    expect(codes(await attempt(w, { ...base, options: { amount: { amount: '10', currency: 'EUR' } } }))).toEqual(['CURRENCY_MISMATCH']);
    expect(codes(await attempt(w, { ...base, options: { counterparty: 'did:web:evil.example' } }))).toEqual(['COUNTERPARTY_NOT_ALLOWED']);
    const none = await attempt(w, { ...base, options: { counterparty: undefined } });
    expect(codes(none)).toEqual(['COUNTERPARTY_NOT_ALLOWED']);
  });

  it('a narrower child refuses what only its parent would allow', async () => {
    const principal = w.issuer('p-' + randomUUID());
    const [a1, a2] = [w.issuer('a1-' + randomUUID()), w.issuer('a2-' + randomUUID())];
    const root = await issueMandate(w.store, principal, { agent: a1.did, authority: ROOT, validUntil: days(30), baseUrl: w.baseUrl });
    const child = await delegateMandate(w.store, a1, {
      parentJwt: root.jwt,
      to: a2.did,
      authority: step(ROOT, { actions: ['pay:card'], limits: { ...ROOT.limits, perTransaction: { amount: '5', currency: 'USD' }, counterparties: [AUD] } }),
      validUntil: days(10),
      baseUrl: w.baseUrl,
    });
    const identity = (await issueAgentIdentity(null, principal, { agent: a2.did, name: 'x' })).jwt;
    const base = { agent: a2, identity, chain: [root.jwt, child.jwt] };
    const d = await attempt(w, { ...base, options: { action: 'pay:bank', amount: '6 USD', counterparty: 'did:web:other.example' } });
    expect(codes(d)).toEqual(['ACTION_NOT_ALLOWED', 'AUTHORITY_EXCEEDED', 'COUNTERPARTY_NOT_ALLOWED']);
    expect(new Set(d.reasons.map((r) => r.ref))).toEqual(new Set([child.id]));
    expect((await attempt(w, { ...base, options: { amount: '5 USD' } })).ok).toBe(true);
  });

  it('verifyAgent is a pure decision: it reports cumulative limits and writes nothing', async () => {
    const c = await buildChain(w, 1);
    const nonce = randomUUID();
    const vp = await createAgentPresentation({ agent: c.agents[0]!, identity: c.identity, chain: [c.mandates[0]!.jwt], aud: AUD, nonce });
    const before = await w.store.listReservations({});
    const d = await verifyAgent(vp, {
      resolver: w.resolver,
      status: w.status(),
      aud: AUD,
      nonce,
      action: 'pay:card',
      amount: '10 USD',
      counterparty: AUD,
      trust: { anyPrincipal: true },
    });
    expect(d.ok).toBe(true);
    expect(d.cumulativeLimits).toBe(true);
    expect(await w.store.listReservations({})).toEqual(before);
    // The options of the old recording verifyAgent are refused, not silently ignored.
    for (const gone of [{ ledger: w.store }, { record: true }, { reservationId: 'r' }, { at: new Date() }]) {
      await expect(
        verifyAgent(vp, { resolver: w.resolver, status: w.status(), aud: AUD, nonce, action: 'pay:card', amount: '10 USD', trust: { anyPrincipal: true }, ...gone } as never),
      ).rejects.toThrow(TypeError);
    }
  });

  it('AMOUNT_REQUIRED: a money-limited link refuses a request without an amount, in any shape of the chain', async () => {
    const c = await buildChain(w, 2);
    const base = { agent: c.agents[1]!, identity: c.identity, chain: c.mandates.map((m) => m.jwt) };
    const none = await attempt(w, { ...base, options: { amount: undefined } });
    expect(codes(none)).toEqual(['AMOUNT_REQUIRED']);
    expect(none.reasons.map((r) => r.ref)).toEqual(c.mandates.map((m) => m.id));
    // A per-transaction limit alone, or a budget alone, is enough to require it.
    for (const limits of [{ perTransaction: { amount: '5', currency: 'USD' } }, { budget: { amount: '5', currency: 'USD', period: 'P1D' } }]) {
      const one = await buildChain(w, 1, { ...ROOT, limits });
      const d = await attempt(w, { agent: one.agents[0]!, identity: one.identity, chain: [one.mandates[0]!.jwt], options: { amount: undefined, record: true } });
      expect(codes(d)).toEqual(['AMOUNT_REQUIRED']);
      expect(d.reservationId).toBeUndefined();
    }
    // A rate alone limits how often, not how much: no amount needed.
    const rate = await buildChain(w, 1, { ...ROOT, limits: { rate: { count: 5, period: 'PT1H' } } });
    expect((await attempt(w, { agent: rate.agents[0]!, identity: rate.identity, chain: [rate.mandates[0]!.jwt], options: { amount: undefined, record: true } })).ok).toBe(true);
  });

  it('refuses misuse with exceptions, not decisions', async () => {
    const c = await buildChain(w, 1);
    const base = { agent: c.agents[0]!, identity: c.identity, chain: [c.mandates[0]!.jwt] };
    await expect(attempt(w, { ...base, options: { amount: '10' } })).rejects.toSatisfy((e) => isCharterError(e, 'INVALID_ARGUMENT'));
    await expect(attempt(w, { ...base, options: { action: 'pay:*' } })).rejects.toSatisfy((e) => isCharterError(e, 'INVALID_ARGUMENT'));
    await expect(verifyAgent('x', { resolver: w.resolver, status: w.status(), aud: AUD, nonce: 'n', action: 'pay:card' } as never)).rejects.toThrow(TypeError);
  });

  it('trust lists must be arrays of DIDs: a string would match substrings (did:web:acme.com inside did:web:acme.com.au)', async () => {
    const c = await buildChain(w, 1);
    const base = { agent: c.agents[0]!, identity: c.identity, chain: [c.mandates[0]!.jwt] };
    // The honest lists decide as before.
    expect((await attempt(w, { ...base, options: { trust: { principals: [c.principal.did], identityIssuers: [c.operator.did] } } })).ok).toBe(true);
    expect(codes(await attempt(w, { ...base, options: { trust: { principals: [`${c.principal.did}-retired`] } } }))).toEqual(['UNTRUSTED_PRINCIPAL']);
    expect(codes(await attempt(w, { ...base, options: { trust: { anyPrincipal: true, identityIssuers: [`${c.operator.did}.au`] } } }))).toEqual(['UNTRUSTED_ISSUER']);
    const bad: unknown[] = [`${c.principal.did}-retired`, `${c.operator.did}.au`, { includes: () => true }, [c.principal.did, 5], [''], new Set([c.principal.did])];
    for (const list of bad) {
      for (const trust of [{ principals: list }, { anyPrincipal: true, identityIssuers: list }]) {
        // Directly, and through a guard (authorizeTransaction) that checks its trust before any decision.
        for (const record of [false, true]) {
          await expect(attempt(w, { ...base, options: { trust: trust as never, record } }), JSON.stringify([trust, record])).rejects.toThrow(TypeError);
        }
      }
    }
  });

  it('a malformed presentation is a refusal', async () => {
    const d = await verifyAgent('not-a-jwt', { resolver: w.resolver, status: w.status(), aud: AUD, nonce: 'n', action: 'pay:card', trust: { anyPrincipal: true } });
    expect(d.ok).toBe(false);
    expect(codes(d)).toContain('MALFORMED_JWT');
  });
});

describe('budgets and rates through the ledger', () => {
  it('BUDGET_EXCEEDED: spends recorded under a sub-agent count against its parent', async () => {
    const c = await buildChain(w, 2);
    // The sub-agent's own budget equals the root's; a direct spend by agent 0 shares the root's.
    const sub = { agent: c.agents[1]!, identity: c.identity, chain: c.mandates.map((m) => m.jwt) };
    const r1 = await attempt(w, { ...sub, options: { amount: '45 USD', record: true } });
    expect(r1.ok).toBe(true);
    expect(r1.reservationId).toBeDefined();
    await commitSpend(w.store, r1.reservationId!);
    const direct = { agent: c.agents[0]!, chain: [c.mandates[0]!.jwt], options: { trust: { anyPrincipal: true, requireIdentity: false }, record: true } };
    const r2 = await attempt(w, { ...direct, options: { ...direct.options, amount: '45 USD' } });
    expect(r2.ok).toBe(true);
    expect(r2.remaining.budget).toEqual({ amount: '10', currency: 'USD' });
    const r3 = await attempt(w, { ...sub, options: { amount: '11 USD', record: true } });
    expect(codes(r3)).toEqual(['BUDGET_EXCEEDED']);
    expect(r3.reasons.map((r) => r.ref)).toEqual([c.mandates[0]!.id]);
    expect(r3.reservationId).toBeUndefined();
    // Releasing gives it back.
    await releaseSpend(w.store, r2.reservationId!);
    expect((await attempt(w, { ...sub, options: { amount: '11 USD' } })).ok).toBe(true);
  });

  it('RATE_EXCEEDED: the tightest rate of the chain applies', async () => {
    const c = await buildChain(w, 1, { ...ROOT, limits: { rate: { count: 2, period: 'PT1H' } } });
    const base = { agent: c.agents[0]!, identity: c.identity, chain: [c.mandates[0]!.jwt], options: { record: true, amount: undefined } };
    expect((await attempt(w, base)).remaining.rate).toBe(1);
    expect((await attempt(w, base)).remaining.rate).toBe(0);
    expect(codes(await attempt(w, base))).toEqual(['RATE_EXCEEDED']);
    // Without record, usage only: nothing is reserved.
    expect(codes(await attempt(w, { ...base, options: { amount: undefined } }))).toEqual(['RATE_EXCEEDED']);
  });

  it('nothing is reserved when any other check fails', async () => {
    const c = await buildChain(w, 1, { ...ROOT, limits: { rate: { count: 1, period: 'PT1H' } } });
    const base = { agent: c.agents[0]!, identity: c.identity, chain: [c.mandates[0]!.jwt] };
    const refused = await attempt(w, { ...base, options: { record: true, action: 'refund:x', amount: undefined } });
    expect(codes(refused)).toEqual(['ACTION_NOT_ALLOWED']);
    expect(refused.reservationId).toBeUndefined();
    expect((await attempt(w, { ...base, options: { record: true, amount: undefined } })).ok).toBe(true);
  });

  it('REPLAY_DETECTED: a presentation used twice holds no budget the second time', async () => {
    const c = await buildChain(w, 1);
    const nonce = randomUUID();
    const vp = await createAgentPresentation({ agent: c.agents[0]!, identity: c.identity, chain: [c.mandates[0]!.jwt], aud: AUD, nonce });
    const verifier = createVerifier({ aud: AUD, store: w.store, resolver: w.resolver, status: w.status(), http: false });
    const request = { verifier, action: 'pay:card', amount: '10 USD', counterparty: AUD, trust: { anyPrincipal: true } };
    const first = await authorizeTransaction(vp, request);
    expect(first.ok).toBe(true);
    const again = await authorizeTransaction(vp, request);
    expect(again.reasons.map((r) => r.code)).toEqual(['REPLAY_DETECTED']);
    expect(again.spend).toBeUndefined();
    const held = (await w.store.listReservations({ state: 'reserved' })).filter((r) => r.entries.some((e) => e.mandateId.endsWith(c.mandates[0]!.id)));
    expect(held.map((r) => r.reservationId)).toEqual([first.spend!.reservationId]);
  });

  it('commitSpend and releaseSpend refuse an unknown reservation', async () => {
    await expect(commitSpend(w.store, 'nope')).rejects.toSatisfy((e) => isCharterError(e, 'RESERVATION_NOT_FOUND'));
    await expect(releaseSpend(w.store, 'nope')).rejects.toSatisfy((e) => isCharterError(e, 'RESERVATION_NOT_FOUND'));
  });
});

describe('properties with real signatures', () => {
  it('every widening link is refused by the verifier, even when properly signed', async () => {
    await fc.assert(
      fc.asyncProperty(
        authority.filter((a) => a.maxDelegationDepth >= 1),
        fc.integer({ min: 0, max: WIDENINGS.length - 1 }),
        async (parentAuthority, m) => {
          const child = WIDENINGS[m]![1](parentAuthority);
          fc.pre(child !== undefined);
          const tag = randomUUID();
          const [p, a1, a2] = [w.issuer(`p-${tag}`), w.issuer(`a1-${tag}`), w.issuer(`a2-${tag}`)];
          const root = await issueMandate(w.store, p, { agent: a1.did, authority: parentAuthority, validUntil: days(30), baseUrl: w.baseUrl });
          const link = await signLink(w, a1, a2.did, { ...child, parent: { id: root.id, digest: mandateDigest(root.jwt) } });
          const v = await verifyChain([root.jwt, link], { resolver: w.resolver, status: w.status(), trust: { principals: [p.did] }, agent: a2.did });
          expect(v.ok).toBe(false);
          expect(codes(v)).toEqual(['AUTHORITY_WIDENED']);
          expect(v.reasons.every((r) => r.ref === v.links[1]!.id)).toBe(true);
        },
      ),
      { numRuns: 40 },
    );
  });
});
