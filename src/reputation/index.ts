export * from './types.js';
export { issueReceipt, issueAttestation, type ReceiptInput, type AttestationInput } from './issue.js';
export { scoreAgent, checkReputation, type ReputationCheck } from './score.js';
export { aggregate, oneRatingPerReceipt, type VerifiedRating, type WeightPolicy } from './aggregate.js';
export { importAttestations, attestationsAbout, revokeAttestation, type AttestationImport } from './manage.js';
export { checkReceiptEvidence, decisionReceiptEvidence, findDecisionReceipt, DECISION_RECEIPT_EVIDENCE, type ReceiptEvidence } from './receiptEvidence.js';
