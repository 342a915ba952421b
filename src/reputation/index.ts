export * from './types.js';
export { issueReceipt, issueAttestation, type ReceiptInput, type AttestationInput } from './issue.js';
export { scoreAgent, checkReputation, type ReputationCheck } from './score.js';
export { importAttestations, type ImportOptions, type ImportResult } from './import.js';
export { scoreFromStore, reputationSource } from './stored.js';
export { receiptEvidence, DEFAULT_EVIDENCE, type EvidenceCheck, type EvidenceContext, type InteractionProof } from './evidence.js';
export { aggregate, oneRatingPerReceipt, type Aggregate, type VerifiedRating, type WeightPolicy } from './aggregate.js';
export { SCORE_RANGE } from './verify.js';
