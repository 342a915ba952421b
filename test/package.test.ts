import { describe, expect, it } from 'vitest';

/** The names README documents, as a user imports them from the built package. */
const DOCUMENTED = [
  'CharterError', 'generateKeyPair', 'createSigner', 'importVerificationKey', 'verifySignature', 'publicJwkToMultibase', 'multibaseToPublicJwk',
  'privateJwkToMultibase', 'multibaseToPrivateJwk', 'didKeyFromJwk', 'didJwkFromJwk', 'createDidWeb', 'didKeyRef', 'createResolver',
  'issueCredential', 'verifyCredential', 'assertCredential', 'createPresentation', 'verifyPresentation',
  'createStatusChecker', 'allocateStatusEntry', 'setStatus', 'currentStatusListJwt', 'encodeBitstring', 'decodeBitstring',
  'issueGrant', 'verifyGrant', 'revokeGrant', 'suspendGrant', 'resumeGrant', 'revokeGrantsTo', 'listGrants',
  'issueAgentIdentity', 'issueMandate', 'delegateMandate', 'revokeMandate', 'listMandates', 'createAgentPresentation', 'verifyAgent',
  'commitSpend', 'releaseSpend', 'checkNarrowing', 'parseMoney', 'parseBudget', 'parseRate',
  'issueReceipt', 'issueAttestation', 'scoreAgent', 'checkReputation', 'openHome', 'openStore', 'openSqliteStore', 'serveHome',
];

describe('package entry', () => {
  it('exports every documented call from "charter" (the built dist, via the exports map)', async () => {
    const mod = (await import('charter')) as Record<string, unknown>;
    const missing = DOCUMENTED.filter((n) => typeof mod[n] !== 'function');
    expect(missing).toEqual([]);
  });
});
