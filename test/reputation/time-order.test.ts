import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { issueCredential, schemaIdFor, signJwt } from '../../src/credentials/index.js';
import type { Issuer } from '../../src/credentials/types.js';
import { createResolver } from '../../src/did/index.js';
import { decisionReceiptEvidence, issueReceipt, scoreAgent } from '../../src/reputation/index.js';
import { makeIssuer } from '../helpers.js';

/** A rating rates an interaction that happened: it is not older than it, and the interaction is not in the future. */
const resolver = createResolver();
const noStatus = async () => [];
const DAY = 86_400_000;

const rate = (shop: Issuer, agent: string, interaction: string, evidence: unknown, validFrom: Date) =>
  issueCredential({
    issuer: shop,
    subject: agent,
    type: 'ReputationAttestation',
    validFrom,
    claims: { rating: { score: 1 }, interaction },
    credentialSchema: { id: schemaIdFor('ReputationAttestation')!, type: 'JsonSchema' },
    extra: { evidence: [evidence] },
  }).then((c) => c.jwt);

async function decisionReceipt(verifier: Issuer, agent: string, at: Date): Promise<string> {
  return signJwt(
    { typ: 'charter-receipt+jwt' },
    {
      iss: verifier.did,
      sub: agent,
      kind: 'decision',
      decision: 'allow',
      jti: `urn:uuid:${randomUUID()}`,
      iat: Math.floor(at.getTime() / 1000),
      time: at.toISOString(),
      log: { chain: `urn:uuid:${randomUUID()}`, seq: 1, prev: null },
      verifier: verifier.did,
      status: 200,
      reasons: [],
      request: { kind: 'none' },
      policy: { kind: 'agent' },
      credentials: [],
      chain: [],
    },
    verifier.signer,
    verifier.kid,
  );
}

describe('ratings come after the interaction they rate', () => {
  it('an attestation dated before the interaction of its receipt is refused; at or after it (within the skew) it counts', async () => {
    const [agent, shop] = [makeIssuer(), makeIssuer()];
    const policy = { resolver, status: noStatus, trustedAttesters: [shop.did] };
    for (const [offset, counts] of [
      [-365 * DAY, false],
      [-DAY, false],
      [-120_000, false],
      [-30_000, true],
      [0, true],
      [DAY / 24, true],
    ] as const) {
      const receipt = await issueReceipt(null, agent, { counterparty: shop.did, interactionId: randomUUID(), at: new Date(Date.now() - 2 * DAY) });
      const at = Date.now() - 2 * DAY;
      const jwt = await rate(shop, agent.did, receipt.id, { id: receipt.id, type: ['Evidence', 'InteractionReceipt'], receipt: receipt.jwt }, new Date(at + offset));
      const s = await scoreAgent(agent.did, [jwt], policy);
      expect([offset, s.counted]).toEqual([offset, counts ? 1 : 0]);
      if (!counts) expect(s.ignored.map((i) => i.code)).toEqual(['INVALID_CREDENTIAL']);
    }
  });
  it('a decision receipt dated in the future proves nothing; one dated before the rating does', async () => {
    const [agent, shop] = [makeIssuer(), makeIssuer()];
    const policy = { resolver, status: noStatus, trustedAttesters: [shop.did] };
    const cases: [Date, Date, string | undefined][] = [
      [new Date('2099-01-01T00:00:00Z'), new Date(), 'RECEIPT_INVALID'],
      [new Date(Date.now() + DAY), new Date(), 'RECEIPT_INVALID'],
      [new Date(Date.now() - DAY), new Date(Date.now() - 2 * DAY), 'INVALID_CREDENTIAL'],
      [new Date(Date.now() - DAY), new Date(), undefined],
    ];
    for (const [decided, rated, code] of cases) {
      const ev = decisionReceiptEvidence(await decisionReceipt(shop, agent.did, decided));
      const s = await scoreAgent(agent.did, [await rate(shop, agent.did, ev.id, ev, rated)], policy);
      expect(s.ignored.map((i) => i.code)).toEqual(code ? [code] : []);
      expect(s.counted).toBe(code ? 0 : 1);
    }
  });
});
