/**
 * Charter: DIDs, W3C Verifiable Credentials (VC-JOSE-COSE), revocable data
 * grants (Bitstring Status List), agent authority (KYA) and reputation.
 *
 * The package entry, listed by hand: the calls and types README documents,
 * nothing internal (test/package.test.ts holds both lists equal). It loads no
 * native module and no server code; the stores, the home (keystore) and
 * `charter serve` are sub-path entries: charter/sqlite, charter/postgres,
 * charter/home, charter/server; the framework adapters are charter/express,
 * charter/fastify, charter/hono, charter/mcp, charter/veramo. The 2026
 * formats are charter/sdjwt (SD-JWT VC, SD-JWT grants, IETF Token Status
 * List: issuing and presenting load @sd-jwt/sd-jwt-vc) and charter/mandates
 * (Verifiable Intent, AP2); the guard below takes both and loads their code
 * on first use.
 */

// ---- errors and the edge tables ----
export { CharterError, isCharterError, ERROR_CODES, HTTP_STATUS, EXIT_CODE } from './errors.js';
export type { CharterErrorCode, Reason, HttpStatus, ExitCode } from './errors.js';

// ---- keys ----
export { generateKeyPair } from './keys/generate.js';
export { createSigner } from './keys/sign.js';
export { importVerificationKey, verifySignature, verifySignatureAsync } from './keys/verify.js';
export { validatePublicJwk, validatePrivateJwk } from './keys/jwk.js';
export { publicJwkToMultibase, multibaseToPublicJwk, privateJwkToMultibase, multibaseToPrivateJwk } from './keys/multibase.js';
export type { JwsAlg, KeyPair, KeyType, PrivateJwk, PublicJwk, Signer, LocalSigner, VerificationKey } from './keys/types.js';

// ---- DIDs ----
export { didKeyFromJwk } from './did/key.js';
export { didJwkFromJwk } from './did/jwk.js';
export { createDidWeb } from './did/web.js';
export { didKeyRef } from './did/ref.js';
export { createResolver } from './did/resolver.js';
export { documentResolver, type DocumentResolverOptions } from './did/document-resolver.js';
export type { CharterResolver, DIDDocument, DidKeyRef, ResolvedKey, ResolveOptions, VerificationRelationship } from './did/types.js';

// ---- credentials and presentations ----
export { issueCredential } from './credentials/issue.js';
export { verifyCredential, assertCredential, decodeCredential } from './credentials/verify.js';
export { createPresentation, verifyPresentation } from './credentials/present.js';
export { recordCredential, type RecordableCredential, type RecordCredentialOptions } from './credentials/record.js';
export type {
  Credential,
  CredentialFormat,
  CredentialStatusEntry,
  CredentialVerification,
  CreatePresentationInput,
  IssueCredentialInput,
  IssuedCredential,
  Issuer,
  PresentationVerification,
  StatusChecker,
  VerifyCredentialOptions,
  VerifyPresentationOptions,
} from './credentials/types.js';

// ---- status lists ----
export { createStatusChecker, type StatusCheckerOptions } from './status/checker.js';
export {
  allocateStatusEntry,
  setStatus,
  currentStatusListJwt,
  statusPropagation,
  type IssuerFor,
  type StatusPurpose,
  type StatusChange,
  type StatusPropagation,
} from './status/issuer.js';
export { encodeBitstring, decodeBitstring } from './status/codec.js';

// ---- data grants ----
export { issueGrant, type IssueGrantInput, type IssuedGrant } from './grants/issue.js';
export { verifyGrant, type GrantDecision, type VerifyGrantOptions } from './grants/verify.js';
export { listGrants, revokeGrant, suspendGrant, resumeGrant, revokeGrantsTo, type GrantSummary, type GrantState } from './grants/manage.js';
export { normalizeResource } from './grants/scope.js';
export type { GrantClaims } from './grants/claims.js';
export { describeTerms, PURPOSES, PROCESSING, type GrantTerms, type Compensation, type Split, type Processing, type DeclaredProcessing } from './grants/terms.js';
export { countVotes, proposalHash, type Proposal, type PoolEpoch, type PoolMember, type PoolGrantInfo, type Quorum } from './grants/collective.js';

// ---- data pools ----
export {
  createPool,
  listPools,
  currentEpoch,
  poolEpochs,
  leavePool,
  signLeave,
  signAcceptance,
  joinerOf,
  type CreatePoolInput,
  type Joiner,
  type PoolSummary,
  type PoolEpochRecord,
} from './pools/membership.js';
export {
  propose,
  findProposal,
  receiveProposal,
  castVote,
  receiveVote,
  tally,
  listProposals,
  proposalOverview,
  type ProposalInput,
  type StoredProposal,
  type Tally,
} from './pools/proposals.js';
export { issuePoolGrant, admitMember, revokePoolGrant, type Execution } from './pools/execute.js';
export { issueUsageReport, readUsage, type Use, type UsageRecord } from './pools/usage.js';
export { computePayouts, poolPayouts, type PayoutGrant, type PayoutStatement, type PoolPayoutsOptions } from './pools/payouts.js';

// ---- Know Your Agent ----
export {
  issueAgentIdentity,
  issueMandate,
  delegateMandate,
  type IssueAgentIdentityInput,
  type IssueMandateInput,
  type DelegateMandateInput,
  type IssuedMandate,
} from './agents/issue.js';
export { listMandates, revokeAgentIdentity, revokeMandate, type MandateState, type MandateSummary } from './agents/manage.js';
export { chainFor } from './agents/stored.js';
export { createAgentPresentation, type CreateAgentPresentationInput } from './agents/present.js';
export { verifyAgent } from './agents/verify.js';
export { checkNarrowing } from './agents/attenuation.js';
export { parseMoney, parseBudget, parseRate, type AmountInput } from './agents/limits.js';
export { commitSpend, releaseSpend, previewSpend, staleReservations, type SpendReservation } from './agents/ledger.js';
export type {
  AgentDecision,
  AgentInfo,
  AgentRemaining,
  AgentReputation,
  AgentTrust,
  Authority,
  Budget,
  CalendarPeriod,
  CalendarUnit,
  ChainLinkResult,
  Limits,
  Money,
  Rate,
  VerifyAgentOptions,
} from './agents/types.js';

// ---- reputation ----
export { issueReceipt, issueAttestation, type ReceiptInput, type AttestationInput } from './reputation/issue.js';
export { scoreAgent, checkReputation, type ReputationCheck } from './reputation/score.js';
export { importAttestations, type ImportOptions, type ImportResult } from './reputation/import.js';
export { revokeAttestation } from './reputation/manage.js';
export { scoreFromStore, reputationSource } from './reputation/stored.js';
export {
  interactionReceiptEvidence,
  decisionReceiptEvidenceCheck,
  DEFAULT_EVIDENCE,
  type EvidenceCheck,
  type EvidenceContext,
  type InteractionProof,
} from './reputation/evidence.js';
export type { ReputationScore, ScorePolicy, StoreScorePolicy } from './reputation/types.js';

// ---- accountability: decision receipts, the audit log, evidence bundles, access reports ----
export { verifyReceipt, decodeReceipt, type ReceiptClaims, type DecisionReceipt, type SettlementReceipt, type ReceiptVerification } from './audit/receipt.js';
export type { ReceiptOptions } from './audit/receipts.js';
export { verifyAuditLog, type AuditVerification, type AuditBreak, type VerifyAuditOptions } from './audit/verify-log.js';
export { checkpointAudit, pruneAuditLog, type PruneOptions, type PruneResult } from './audit/admin.js';
export { exportEvidence, type EvidenceBundle, type ExportEvidenceOptions } from './audit/bundle.js';
export { verifyEvidence, type EvidenceVerification, type EvidencePart, type VerifyEvidenceOptions } from './audit/bundle-verify.js';
export {
  createAccessReport,
  acceptAccessReport,
  sendAccessReport,
  accessReportUrl,
  homeReportUrl,
  reportableReceipts,
  accessReports,
  type AccessReportResult,
  type AccessUse,
} from './audit/access-report.js';
export { checkReceiptEvidence, decisionReceiptEvidence, type ReceiptEvidence } from './reputation/receiptEvidence.js';

// ---- the store port (adapters: charter/sqlite, charter/postgres) ----
export type {
  Store,
  Ledger,
  NonceStore,
  CredentialStore,
  StatusStore,
  ReservationRecord,
  AuditStore,
  AccessReportStore,
  AuditEntryRecord,
  AuditCheckpointRecord,
  ReputationStore,
  RatingRecord,
  NewRating,
  RatingKey,
} from './store/types.js';

// ---- the guard: one decision pipeline under every transport ----
export { createVerifier, type Verifier, type VerifierOptions } from './guard/verifier.js';
export { decide, type GuardDecision } from './guard/decide.js';
export {
  authorizeTransaction,
  guardTransaction,
  authorizeMandatePayment,
  guardMandatePayment,
  type TransactionRequest,
  type TransactionOutcome,
  type TransactionRun,
  type Settlement,
  type MandatePaymentRequest,
  type MandateChain,
} from './guard/transaction.js';
export type { Binding } from './guard/binding.js';
export type { Policy, MandatePolicy, ReputationSource } from './guard/policy.js';
export type { SpendHold, SpendState } from './guard/spend.js';

// ---- HTTP: the framework-neutral core (adapters: charter/express, charter/fastify, charter/hono) ----
export {
  requireGrant,
  requireAgent,
  requireSignature,
  requireMandate,
  type Guard,
  type GrantGuard,
  type AgentGuard,
  type SignatureGuard,
  type MandateGuard,
  type GrantGuardOptions,
  type AgentGuardOptions,
  type SignatureGuardOptions,
  type MandateGuardOptions,
  type FromRequest,
} from './http/guards.js';
export { verifyRequest, verifyNodeRequest, type RequestDecision } from './http/request.js';
export type { CharterContext } from './http/context.js';
export { charterFetch, receiptOf, type CharterFetchOptions, type CharterFetchSigning } from './http/client.js';

// ---- HTTP message signatures (RFC 9421) and Web Bot Auth ----
export {
  signRequest,
  signatureHeaders,
  verifyRequestSignature,
  WEB_BOT_AUTH_TAG,
  signDirectory,
  directoryFor,
  verifyDirectoryResponse,
  createDirectoryResolver,
  DIRECTORY_PATH,
  DIRECTORY_MEDIA_TYPE,
  contentDigest,
  jwkThumbprint,
  type DirectoryResolver,
  type DirectoryResponse,
  type JwkSet,
  type KeysOption,
  type RequestLike,
  type RequestSignatureDecision,
  type SignDirectoryOptions,
  type SignRequestOptions,
  type VerifiedDirectory,
  type VerifyRequestSignatureOptions,
} from './httpsig/index.js';
