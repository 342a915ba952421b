import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPresentation, decodeJwt, issueCredential, schemaIdFor, signJwt } from '../../src/credentials/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { mandateDigest, verifyAgent } from '../../src/agents/index.js';
import { allocateStatusEntry } from '../../src/status/index.js';
import { createVerifier } from '../../src/guard/verifier.js';
import { guardTransaction } from '../../src/guard/transaction.js';
import { charter, requireAgent } from '../../src/http/adapters/express.js';
import { verifyGrant } from '../../src/grants/index.js';
import { makeIssuer } from '../helpers.js';
import { openWorld, type World } from './fixture.js';

/**
 * Mandate fields of the wrong shape, signed or not, by anyone: every
 * entry point refuses with reasons (never a TypeError, never a 500), and the
 * guarded function never runs. A malformed validUntil/validFrom on a chain
 * link reached the window comparison as a string; a null status entry was
 * read as an object.
 */
const AUD = 'did:web:shop.example';
const days = (n: number) => new Date(Date.now() + n * 86_400_000);

let w: World;
beforeAll(async () => {
  w = await openWorld();
});
afterAll(() => w.close());

async function link(issuer: Issuer, subject: string, authority: Record<string, unknown>) {
  const id = `urn:uuid:${randomUUID()}`;
  const credentialStatus = await allocateStatusEntry(w.store, { issuerDid: issuer.did, baseUrl: w.baseUrl, purpose: 'revocation', credentialId: id });
  const { jwt } = await issueCredential({
    issuer,
    id,
    subject,
    type: 'AgentAuthorityCredential',
    claims: { authority },
    validUntil: days(10),
    credentialSchema: { id: schemaIdFor('AgentAuthorityCredential')!, type: 'JsonSchema' },
    credentialStatus,
  });
  return { id, jwt };
}

/** The credential signed again by `issuer` with one change to its payload. */
async function resign(jwt: string, issuer: Issuer, change: (p: Record<string, unknown>) => void): Promise<string> {
  const d = decodeJwt(jwt);
  const p = structuredClone(d.payload) as Record<string, unknown>;
  change(p);
  return signJwt(d.header as Parameters<typeof signJwt>[0], p, issuer.signer, issuer.kid);
}

const corrupt = (jwt: string) => jwt.replace(/\.[^.]+$/, (s) => '.' + 'A'.repeat(s.length - 1));

describe('malformed mandate fields are refused, never thrown', () => {
  const cases = async () => {
    const principal = makeIssuer();
    const mid = makeIssuer();
    const agent = makeIssuer();
    const out: Array<{ name: string; agent: Issuer; principal: Issuer; chain: string[] }> = [];
    for (const bad of [null, [null], [null, 'x'], 'x', 5, []] as unknown[]) {
      const m = await link(principal, agent.did, { actions: ['pay:card'], maxDelegationDepth: 0 });
      out.push({ name: `credentialStatus ${JSON.stringify(bad)}`, agent, principal, chain: [await resign(m.jwt, principal, (p) => void (p.credentialStatus = bad))] });
    }
    for (const field of ['validUntil', 'validFrom'] as const) {
      for (const bad of ['not-a-date', '2025-13-45T99:00:00Z', '', 5, null, ['2025-01-01T00:00:00Z'], {}] as unknown[]) {
        const root = await link(principal, mid.did, { actions: ['pay:*'], maxDelegationDepth: 1 });
        const rootBad = await resign(root.jwt, principal, (p) => void (p[field] = bad));
        const child = await link(mid, agent.did, { actions: ['pay:card'], maxDelegationDepth: 0, parent: { id: root.id, digest: mandateDigest(rootBad) } });
        out.push({ name: `parent ${field} ${JSON.stringify(bad)}`, agent, principal, chain: [rootBad, child.jwt] });
        const childBad = await resign(child.jwt, mid, (p) => void (p[field] = bad));
        out.push({ name: `child ${field} ${JSON.stringify(bad)}`, agent, principal, chain: [root.jwt, childBad] });
      }
    }
    return out;
  };

  it('verifyAgent and guardTransaction: refused with reasons, signed or with every signature broken; nothing runs', async () => {
    const verifier = createVerifier({ aud: AUD, store: w.store, resolver: w.resolver, status: w.status(), http: false });
    for (const c of await cases()) {
      for (const broken of [false, true]) {
        const chain = broken ? c.chain.map(corrupt) : c.chain;
        const nonce = randomUUID();
        const vp = await createPresentation({ holder: c.agent, credentials: chain, aud: AUD, nonce });
        const trust = { principals: [c.principal.did] };
        const d = await verifyAgent(broken ? corrupt(vp) : vp, { resolver: w.resolver, status: w.status(), aud: AUD, nonce, trust, action: 'pay:card', amount: '1 USD' });
        expect([c.name, broken, d.ok]).toEqual([c.name, broken, false]);
        expect(d.reasons.length).toBeGreaterThan(0);
        let ran = 0;
        const t = await guardTransaction(broken ? corrupt(vp) : vp, { verifier, action: 'pay:card', amount: '1 USD', trust }, () => ran++);
        expect([c.name, broken, t.ok, ran]).toEqual([c.name, broken, false, 0]);
      }
    }
  });

  it('over HTTP (requireAgent): a 4xx problem, never a 500', async () => {
    const app = express();
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((r) => server.once('listening', () => r()));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const verifier = createVerifier({ aud: AUD, store: w.store, resolver: w.resolver, status: w.status(), publicOrigin: url });
    const all = await cases();
    let ran = 0;
    app.post('/pay', charter(verifier, requireAgent({ action: 'pay:card', amount: () => '1 USD', trust: { principals: [all[0]!.principal.did] } })), (_req, res) => {
      ran++;
      res.json({});
    });
    try {
      for (const c of all) {
        const vp = await createPresentation({ holder: c.agent, credentials: c.chain, aud: AUD, claims: { htm: 'POST', htu: `${url}/pay` } });
        const r = await fetch(`${url}/pay`, { method: 'POST', headers: { authorization: `Bearer ${vp}` } });
        expect([c.name, r.status >= 400 && r.status < 500]).toEqual([c.name, true]);
      }
      expect(ran).toBe(0);
    } finally {
      server.closeAllConnections();
      server.close();
    }
  });

  it('a grant whose credentialStatus is null or holds null: STATUS_INVALID among its reasons, no throw', async () => {
    const alice = makeIssuer();
    const app = makeIssuer();
    const id = `urn:uuid:${randomUUID()}`;
    const credentialStatus = await allocateStatusEntry(w.store, { issuerDid: alice.did, baseUrl: w.baseUrl, purpose: 'revocation', credentialId: id });
    const { jwt } = await issueCredential({
      issuer: alice,
      id,
      subject: app.did,
      type: 'DataAccessGrant',
      claims: { grant: { resources: ['profile/email'], actions: ['read'], purpose: 'p' } },
      validUntil: days(1),
      credentialSchema: { id: schemaIdFor('DataAccessGrant')!, type: 'JsonSchema' },
      credentialStatus,
    });
    for (const bad of [null, [null]] as unknown[]) {
      const g = await resign(jwt, alice, (p) => void (p.credentialStatus = bad));
      const d = await verifyGrant(g, { resolver: w.resolver, status: w.status(), resource: 'profile/email', action: 'read', owner: alice.did, grantee: app.did });
      expect(d.ok).toBe(false);
      expect(d.reasons.map((r) => r.code)).toContain('STATUS_INVALID');
    }
  });
});
