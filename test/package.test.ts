import { describe, expect, it } from 'vitest';

/** The names README documents, as a user imports them from the built package. */
const DOCUMENTED = [
  'CharterError', 'generateKeyPair', 'createSigner', 'importVerificationKey', 'verifySignature', 'publicJwkToMultibase', 'multibaseToPublicJwk',
  'privateJwkToMultibase', 'multibaseToPrivateJwk', 'didKeyFromJwk', 'didJwkFromJwk', 'createDidWeb', 'didKeyRef', 'createResolver', 'documentResolver',
  'issueCredential', 'verifyCredential', 'assertCredential', 'createPresentation', 'verifyPresentation',
  'createStatusChecker', 'allocateStatusEntry', 'setStatus', 'currentStatusListJwt', 'encodeBitstring', 'decodeBitstring',
  'issueGrant', 'verifyGrant', 'revokeGrant', 'suspendGrant', 'resumeGrant', 'revokeGrantsTo', 'listGrants',
  'issueAgentIdentity', 'issueMandate', 'delegateMandate', 'revokeMandate', 'listMandates', 'createAgentPresentation', 'verifyAgent',
  'commitSpend', 'releaseSpend', 'previewSpend', 'staleReservations', 'checkNarrowing', 'parseMoney', 'parseBudget', 'parseRate',
  'issueReceipt', 'issueAttestation', 'scoreAgent', 'checkReputation', 'importAttestations', 'revokeAttestation', 'scoreFromStore', 'reputationSource',
  'interactionReceiptEvidence', 'decisionReceiptEvidenceCheck',
  'recordCredential', 'statusPropagation', 'chainFor',
  'createVerifier', 'decide', 'requireGrant', 'requireAgent', 'verifyRequest', 'verifyNodeRequest', 'charterFetch',
  'authorizeTransaction', 'guardTransaction', 'authorizeMandatePayment', 'guardMandatePayment', 'requireMandate',
  'requireSignature', 'signRequest', 'signatureHeaders', 'verifyRequestSignature', 'signDirectory', 'directoryFor', 'verifyDirectoryResponse',
  'createDirectoryResolver', 'contentDigest', 'jwkThumbprint',
  'describeTerms', 'countVotes', 'proposalHash', 'createPool', 'listPools', 'currentEpoch', 'propose', 'castVote', 'receiveVote', 'receiveProposal', 'tally',
  'issuePoolGrant', 'admitMember', 'revokePoolGrant', 'leavePool', 'signLeave', 'signAcceptance', 'joinerOf', 'issueUsageReport', 'poolPayouts', 'computePayouts',
  'verifyReceipt', 'receiptOf', 'verifyAuditLog', 'checkpointAudit', 'pruneAuditLog', 'exportEvidence', 'verifyEvidence',
  'createAccessReport', 'acceptAccessReport', 'sendAccessReport', 'accessReports', 'checkReceiptEvidence', 'decisionReceiptEvidence',
];

/** Sub-path exports: the heavy or optional parts, each with the calls README shows. */
const SUBPATHS: Record<string, string[]> = {
  'charter/express': ['charter', 'challenge', 'createVerifier', 'requireGrant', 'requireAgent', 'requireMandate', 'requireSignature', 'keepRawBody', 'charterFetch', 'receiptOf'],
  'charter/fastify': ['charter', 'challenge', 'createVerifier', 'requireGrant', 'requireAgent', 'requireMandate', 'requireSignature', 'keepRawBody'],
  'charter/hono': ['charter', 'challenge', 'createVerifier', 'requireGrant', 'requireAgent', 'requireMandate', 'requireSignature'],
  'charter/postgres': ['openPostgresStore'],
  'charter/sqlite': ['openSqliteStore'],
  'charter/home': ['openHome', 'initHome', 'openStore'],
  'charter/server': ['serveHome', 'publishHome', 'agentDirectory', 'signatureAgentOf'],
  'charter/veramo': ['CharterVeramoPlugin', 'veramoResolver', 'routedResolver'],
  'charter/mcp': ['guardTool', 'callGuardedTool', 'callMandateTool', 'presentForTool', 'toolRefusal', 'toolReceipt', 'verifyReceipt', 'guardTransaction', 'guardMandatePayment', 'createVerifier'],
  'charter/sdjwt': [
    'issueSdJwtVc', 'presentSdJwtVc', 'verifySdJwtVc', 'assertSdJwtVc', 'issueStoredSdJwtVc', 'revokeSdJwtVc', 'issueSdJwtGrant', 'verifySdJwtGrant',
    'createTokenStatusChecker', 'allocateTokenStatus', 'currentTokenStatusListJwt', 'signTokenStatusList', 'publishTokenStatusLists',
  ],
  'charter/mandates': [
    'verifyMandateChain', 'assertMandateChain', 'mandateLimits', 'mandateToken', 'exportMandate',
    'issueViCredential', 'issueViIntent', 'issueViAction', 'issueAp2OpenMandate', 'closeAp2Mandate',
  ],
};

describe('package entry', () => {
  it('exports every documented call from "charter" (the built dist, via the exports map)', async () => {
    const mod = (await import('charter')) as Record<string, unknown>;
    const missing = DOCUMENTED.filter((n) => typeof mod[n] !== 'function');
    expect(missing).toEqual([]);
  });
  it.each(Object.entries(SUBPATHS))('exports what README shows from "%s"', async (entry, names) => {
    const mod = (await import(entry)) as Record<string, unknown>;
    expect(names.filter((n) => typeof mod[n] !== 'function')).toEqual([]);
  });
});
