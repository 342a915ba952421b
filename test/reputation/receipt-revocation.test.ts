import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { importAttestations, issueAttestation, reputationSource, scoreAgent, scoreFromStore } from '../../src/reputation/index.js';
import { issueCredential, schemaIdFor } from '../../src/credentials/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { createResolver } from '../../src/did/index.js';
import { allocateStatusEntry, createStatusChecker, currentStatusListJwt, setCredentialStatus } from '../../src/status/index.js';
import { openSqliteStore } from '../../src/store/sqlite/index.js';
import type { Store } from '../../src/store/types.js';
import { makeIssuer, serve, tempDir } from '../helpers.js';

/**
 * A rating rests on a receipt the agent signed. The agent cannot take it
 * back: a receipt it revokes (or suspends) after a rating it dislikes, or
 * before the rating is imported, leaves the rating counting in scoreAgent,
 * in the store and in reputationSource (the rated party must not decide
 * which feedback counts). The attestation's own revocation, by its attester,
 * still takes the rating out. An agent whose key was stolen is withdrawn as
 * a whole (its identity), not receipt by receipt.
 */
const resolver = createResolver();
let issuers: Store;
let server: Awaited<ReturnType<typeof serve>>;
const byDid = new Map<string, Issuer>();
beforeAll(async () => {
  issuers = await openSqliteStore(join(tempDir('charter-rep-rr-'), 'issuers.db'));
  server = await serve((req, res) => {
    currentStatusListJwt(issuers, (req.url ?? '').split('/').pop()!, async (d) => byDid.get(d)!).then(
      (jwt) => res.writeHead(200, { 'content-type': 'application/vc+jwt' }).end(jwt),
      () => res.writeHead(404).end(),
    );
  });
});
afterAll(async () => {
  await server.close();
  await issuers.close();
});
const party = () => {
  const i = makeIssuer();
  byDid.set(i.did, i);
  return i;
};
const fresh = () => createStatusChecker({ resolver, allowLoopback: true, allowHttp: true });
const revoke = (id: string) => setCredentialStatus(issuers, id, 'revocation', true, async (d) => byDid.get(d)!);

async function receipt(agent: Issuer, counterparty: string): Promise<{ id: string; jwt: string }> {
  const id = `urn:uuid:${randomUUID()}`;
  const vc = await issueCredential({
    issuer: agent,
    id,
    subject: counterparty,
    type: 'InteractionReceipt',
    claims: { interaction: { id, agent: agent.did, time: new Date().toISOString() } },
    credentialSchema: { id: schemaIdFor('InteractionReceipt')!, type: 'JsonSchema' },
    credentialStatus: await allocateStatusEntry(issuers, { issuerDid: agent.did, purpose: 'revocation', baseUrl: server.url, credentialId: id }),
  });
  return { id, jwt: vc.jwt };
}

describe('the rated agent cannot withdraw its receipt', () => {
  it.each([false, true])(
    'a bad rating survives the agent revoking its receipt: scoreAgent, scoreFromStore, reputationSource (attestation revocable too: %s)',
    async (revocableAttestation) => {
      const agent = party();
      const shop = party();
      const other = party();
      const r = await receipt(agent, shop.did);
      const kept = await receipt(agent, other.did);
      const att = await issueAttestation(revocableAttestation ? issuers : null, shop, { receiptJwt: r.jwt, score: 0, ...(revocableAttestation ? { baseUrl: server.url } : {}) });
      const control = await issueAttestation(null, other, { receiptJwt: kept.jwt, score: 1 });
      const verifier = await openSqliteStore(join(tempDir('charter-rep-rr-'), 'v.db'));
      try {
        expect((await importAttestations(verifier, [att.jwt, control.jwt], { resolver, status: fresh() })).imported).toHaveLength(2);
        // Only the attestation's own entry is kept, never the receipt's (issued by the rated agent).
        const rows = await verifier.listRatingStatus(agent.did);
        for (const row of rows) expect(row.status ?? '').not.toContain(agent.did);
        const policy = () => ({ resolver, status: fresh(), trustedAttesters: [shop.did, other.did], statusFreshnessSeconds: 0 });
        expect(await scoreFromStore(verifier, agent.did, policy())).toMatchObject({ score: 0.5, attesters: 2 });
        await revoke(r.id);
        const a = await scoreAgent(agent.did, [att.jwt, control.jwt], policy());
        expect(a).toMatchObject({ score: 0.5, attesters: 2 });
        const b = await scoreFromStore(verifier, agent.did, policy());
        expect(b).toMatchObject({ score: 0.5, attesters: 2, ignored: [] });
        expect(await reputationSource(verifier, policy())(agent.did, undefined)).toEqual({ score: 0.5, attesters: 2 });
        // Revoked before the rating reaches a new verifier: it is imported all the same.
        const late = await openSqliteStore(join(tempDir('charter-rep-rr-'), 'late.db'));
        try {
          expect((await importAttestations(late, [att.jwt, control.jwt], { resolver, status: fresh() })).imported).toHaveLength(2);
          expect(await scoreFromStore(late, agent.did, policy())).toMatchObject({ score: 0.5, attesters: 2 });
        } finally {
          await late.close();
        }
      } finally {
        await verifier.close();
      }
    },
  );

  it('a rating stored by 0.1 with its receipt entry beside the attestation: the receipt entry is not read', async () => {
    const agent = party();
    const shop = party();
    const r = await receipt(agent, shop.did);
    const att = await issueAttestation(issuers, shop, { receiptJwt: r.jwt, score: 0, baseUrl: server.url });
    const verifier = await openSqliteStore(join(tempDir('charter-rep-rr-'), 'v.db'));
    try {
      await importAttestations(verifier, [att.jwt], { resolver, status: fresh() });
      const [row] = await verifier.listRatingStatus(agent.did);
      // As 0.1 kept it: the attestation's entry, then the receipt's with the agent as its issuer.
      const own = JSON.parse(row!.status!);
      const receiptEntry = JSON.parse(JSON.stringify((await import('../../src/credentials/index.js')).decodeJwt(r.jwt).payload.credentialStatus));
      const legacy = {
        ratingStatus: [
          { issuer: shop.did, credentialStatus: own },
          { issuer: agent.did, credentialStatus: receiptEntry },
        ],
      };
      await verifier.putRatings([
        {
          agent: agent.did,
          attester: shop.did,
          id: 'urn:x:legacy',
          receipt: 'r-legacy',
          score: 0,
          issuedAt: Date.now() - 1000,
          importedAt: Date.now(),
          status: JSON.stringify(legacy),
        },
      ]);
      await revoke(r.id);
      const s = await scoreFromStore(verifier, agent.did, { resolver, status: fresh(), trustedAttesters: [shop.did], statusFreshnessSeconds: 0 });
      expect(s.ignored).toEqual([]);
      expect(s.counted).toBe(2);
    } finally {
      await verifier.close();
    }
  });

  it("the attestation's own revocation still counts when the receipt is revocable too, and an unreadable entry fails closed", async () => {
    const agent = party();
    const shop = party();
    const r = await receipt(agent, shop.did);
    const att = await issueAttestation(issuers, shop, { receiptJwt: r.jwt, score: 1, baseUrl: server.url });
    const verifier = await openSqliteStore(join(tempDir('charter-rep-rr-'), 'v.db'));
    try {
      await importAttestations(verifier, [att.jwt], { resolver, status: fresh() });
      await revoke(att.id);
      const s = await scoreFromStore(verifier, agent.did, { resolver, status: fresh(), trustedAttesters: [shop.did], statusFreshnessSeconds: 0 });
      expect(s.ignored.map((x) => x.code)).toEqual(['CREDENTIAL_REVOKED']);
      // A kept entry nobody can read (an empty list, an issuer that is no DID) counts for nothing.
      const base = { agent: agent.did, receipt: 'r', score: 1, issuedAt: Date.now() - 1000, importedAt: Date.now() };
      await verifier.putRatings([
        { ...base, id: 'urn:x:empty', attester: shop.did, receipt: 'r-empty', status: JSON.stringify({ ratingStatus: [] }) },
        { ...base, id: 'urn:x:bad', attester: shop.did, receipt: 'r-bad', status: JSON.stringify({ ratingStatus: [{ issuer: 5, credentialStatus: {} }] }) },
      ]);
      const t = await scoreFromStore(verifier, agent.did, { resolver, status: fresh(), trustedAttesters: [shop.did], statusFreshnessSeconds: 0 });
      expect(t.counted).toBe(0);
      expect(t.ignored.map((x) => x.code).sort()).toEqual(['CREDENTIAL_REVOKED', 'STATUS_INVALID', 'STATUS_INVALID']);
    } finally {
      await verifier.close();
    }
  });

  it('each scorer holds the shared status memo to its own statusFreshnessSeconds', async () => {
    const agent = party();
    const shop = party();
    const att = await issueAttestation(issuers, shop, { receiptJwt: (await receipt(agent, shop.did)).jwt, score: 1, baseUrl: server.url });
    const verifier = await openSqliteStore(join(tempDir('charter-rep-rr-'), 'v.db'));
    try {
      // One checker (its list cache bounded to 1 s) and one store: the memo is shared by both scorers.
      const status = createStatusChecker({ resolver, allowLoopback: true, allowHttp: true, maxStalenessSeconds: 1 });
      await importAttestations(verifier, [att.jwt], { resolver, status });
      const base = { resolver, status, trustedAttesters: [shop.did] };
      expect((await scoreFromStore(verifier, agent.did, { ...base, statusFreshnessSeconds: 3600 })).score).toBe(1);
      await revoke(att.id);
      await new Promise((r) => setTimeout(r, 1200));
      // The scorer that asked for an hour still gets its remembered answer; the one that asked for 1 s does not.
      expect((await scoreFromStore(verifier, agent.did, { ...base, statusFreshnessSeconds: 3600 })).score).toBe(1);
      const b = await scoreFromStore(verifier, agent.did, { ...base, statusFreshnessSeconds: 1 });
      expect([b.score, b.ignored.map((x) => x.code)]).toEqual([null, ['CREDENTIAL_REVOKED']]);
    } finally {
      await verifier.close();
    }
  });
});
