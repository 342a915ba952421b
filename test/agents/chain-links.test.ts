import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeJwt, issueCredential, signJwt } from '../../src/credentials/index.js';
import { schemaIdFor } from '../../src/credentials/schemas.js';
import { allocateStatusEntry } from '../../src/status/index.js';
import { issueMandate, mandateDigest, verifyChain, type Authority } from '../../src/agents/index.js';
import { AGENT_IDENTITY_TYPE } from '../../src/agents/types.js';
import type { Issuer } from '../../src/credentials/types.js';
import { openWorld, type World } from './fixture.js';
import { attempt, buildChain, days, ROOT, step } from './setup.js';

/**
 * Chain rules that only verifyChain reaches with a crafted link (verifyAgent
 * picks mandates out of a presentation by type): found by mutation testing,
 * each rule here could be removed without a test noticing before.
 */
let w: World;
beforeAll(async () => {
  w = await openWorld();
});
afterAll(async () => {
  await w.close();
});

/** A delegated link signed by `issuer`, with the given type and id (signLink's, with both open). */
async function link(issuer: Issuer, subject: string, authority: Authority, o: { type?: string; id?: string }): Promise<string> {
  const id = o.id ?? `urn:uuid:${randomUUID()}`;
  const type = o.type ?? 'AgentAuthorityCredential';
  // The status entry is the store's, under an id of its own: the store refuses one credential id for two issuers.
  const status = await allocateStatusEntry(w.store, { issuerDid: issuer.did, baseUrl: w.baseUrl, purpose: 'revocation', credentialId: `urn:uuid:${randomUUID()}` });
  const schema = schemaIdFor(type);
  const issued = await issueCredential({
    issuer,
    id,
    subject,
    type,
    claims: { authority: authority as unknown as Record<string, unknown> },
    validUntil: days(10),
    ...(schema ? { credentialSchema: { id: schema, type: 'JsonSchema' } } : {}),
    credentialStatus: status,
  });
  return issued.jwt;
}

async function rootAndParties() {
  const tag = randomUUID();
  const [p, a1, a2] = [w.issuer(`p-${tag}`), w.issuer(`a1-${tag}`), w.issuer(`a2-${tag}`)];
  const root = await issueMandate(w.store, p, { agent: a1.did, authority: ROOT, validUntil: days(30), baseUrl: w.baseUrl });
  const child = step(ROOT, { parent: { id: root.id, digest: mandateDigest(root.jwt) } });
  const verify = (chain: string[]) => verifyChain(chain, { resolver: w.resolver, status: w.status(), trust: { principals: [p.did] }, agent: a2.did });
  return { p, a1, a2, root, child, verify };
}

describe('verifyChain: what may be a link', () => {
  it('a well-formed delegated link verifies (the control for the refusals below)', async () => {
    const { a1, a2, root, child, verify } = await rootAndParties();
    const v = await verify([root.jwt, await link(a1, a2.did, child, {})]);
    expect(v.reasons).toEqual([]);
    expect(v.ok).toBe(true);
  });

  it('a credential of another type carrying a valid authority is no mandate: INVALID_CREDENTIAL, never a link', async () => {
    const { a1, a2, root, child, verify } = await rootAndParties();
    for (const type of ['PurchaseApprovalCredential', 'DelegatedAuthorityCredential']) {
      const v = await verify([root.jwt, await link(a1, a2.did, child, { type })]);
      expect(v.ok).toBe(false);
      expect(v.reasons.map((r) => r.code)).toContain('INVALID_CREDENTIAL');
    }
  });

  it('a link reusing the id of the mandate above it is refused (DELEGATION_BROKEN), though every other rule holds', async () => {
    const { a1, a2, root, child, verify } = await rootAndParties();
    const v = await verify([root.jwt, await link(a1, a2.did, child, { id: root.id })]);
    expect(v.ok).toBe(false);
    expect(v.reasons.map((r) => r.code)).toEqual(['DELEGATION_BROKEN']);
  });

  it('a delegated link that names no parent is refused (DELEGATION_BROKEN), though it narrows and is issued by the right agent', async () => {
    const { a1, a2, root, child, verify } = await rootAndParties();
    const { parent: _, ...orphan } = child;
    const v = await verify([root.jwt, await link(a1, a2.did, orphan, {})]);
    expect(v.ok).toBe(false);
    expect(v.reasons.map((r) => [r.code, r.ref])).toEqual([['DELEGATION_BROKEN', v.links[1]!.id]]);
  });

  it('a link whose authority cannot be read (above or below) is refused with its reason, and the chain check does not throw', async () => {
    const { p, a1, a2, root, child, verify } = await rootAndParties();
    const odd = { ...ROOT, geofence: 'EU' } as unknown as Authority;
    const oddRoot = await link(p, a1.did, odd, {});
    const v1 = await verify([oddRoot, await link(a1, a2.did, child, {})]);
    expect(v1.ok).toBe(false);
    expect(v1.reasons.map((r) => r.code)).toContain('UNKNOWN_CONSTRAINT');
    const v2 = await verify([root.jwt, await link(a1, a2.did, { ...child, geofence: 'EU' } as unknown as Authority, {})]);
    expect(v2.ok).toBe(false);
    expect(v2.reasons.map((r) => r.code)).toContain('UNKNOWN_CONSTRAINT');
  });
});

describe('verifyChain: a mandate names itself and its agent', () => {
  /** The link signed again by `issuer` with one change to its payload (issueCredential always gives an id). */
  async function resigned(jwt: string, issuer: Issuer, change: (p: Record<string, unknown>) => void): Promise<string> {
    const d = decodeJwt(jwt);
    const p = structuredClone(d.payload) as Record<string, unknown>;
    change(p);
    return signJwt(d.header as Parameters<typeof signJwt>[0], p, issuer.signer, issuer.kid);
  }
  const noId = (p: Record<string, unknown>) => {
    delete p.id;
    delete p.jti;
  };
  const noSubject = (p: Record<string, unknown>) => {
    delete (p.credentialSubject as Record<string, unknown>).id;
    delete p.sub;
  };

  // Without an id a link would take a positional one ("mandate 0"): two id-less mandates of one principal would
  // share its ledger budget, and a child could name that made-up id as its parent.
  it('a root or a delegated link without an id, or without a subject, is refused (INVALID_CREDENTIAL) with a reason, never a throw', async () => {
    const { p, a1, a2, root, child, verify } = await rootAndParties();
    const below = await link(a1, a2.did, child, {});
    for (const [name, change] of [
      ['no id', noId],
      ['no subject', noSubject],
    ] as const) {
      // A chain of its root alone: no parent link to break, only this rule stands.
      const alone = await verifyChain([await resigned(root.jwt, p, change)], { resolver: w.resolver, status: w.status(), trust: { principals: [p.did] }, agent: a1.did });
      expect(alone.ok, `root alone, ${name}`).toBe(false);
      expect(
        alone.reasons.map((r) => r.code),
        `root alone, ${name}`,
      ).toContain('INVALID_CREDENTIAL');
      const v1 = await verify([await resigned(root.jwt, p, change), below]);
      expect(v1.ok, `root, ${name}`).toBe(false);
      expect(
        v1.reasons.map((r) => [r.code, r.ref]),
        `root, ${name}`,
      ).toContainEqual(['INVALID_CREDENTIAL', v1.links[0]!.id]);
      const v2 = await verify([root.jwt, await resigned(below, a1, change)]);
      expect(v2.ok, `link, ${name}`).toBe(false);
      expect(
        v2.reasons.map((r) => [r.code, r.ref]),
        `link, ${name}`,
      ).toContainEqual(['INVALID_CREDENTIAL', v2.links[1]!.id]);
    }
  });
});

describe('verifyAgent: the identity credential answers for its issuer only', () => {
  it('an identity credential naming an operator other than its issuer is refused (INVALID_CREDENTIAL), even from a trusted operator', async () => {
    const c = await buildChain(w, 1);
    const agent = c.agents[0]!;
    const chain = [c.mandates[0]!.jwt];
    const trust = { anyPrincipal: true, identityIssuers: [c.operator.did] };
    expect((await attempt(w, { agent, identity: c.identity, chain, options: { trust } })).ok).toBe(true);
    // Signed by the trusted operator, but naming the principal as the agent's operator: a claim about someone else.
    for (const operator of [c.principal.did, w.issuer(`other-${randomUUID()}`).did, 'did:web:operator.example']) {
      const other = (await issueCredential({ issuer: c.operator, subject: agent.did, type: AGENT_IDENTITY_TYPE, claims: { agent: { name: 'shopper', operator } } })).jwt;
      const d = await attempt(w, { agent, identity: other, chain, options: { trust } });
      expect(d.ok).toBe(false);
      expect(d.reasons.map((r) => r.code)).toEqual(['INVALID_CREDENTIAL']);
    }
  });
});
