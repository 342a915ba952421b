/** Accountability: decision receipts, the hash-chained audit log, checkpoints, evidence bundles, access reports. */
export { createReceipts, type ReceiptOptions, type Receipts, type DecisionFacts } from './receipts.js';
export {
  verifyReceipt,
  decodeReceipt,
  type ReceiptClaims,
  type DecisionReceipt,
  type SettlementReceipt,
  type ReceiptVerification,
  type ReceiptRequest,
  type ReceiptPolicy,
  type ReceiptSpend,
  type ReceiptCredential,
  type LogPosition,
} from './receipt.js';
export { RECEIPT_TYP, CHECKPOINT_TYP, ACCESS_REPORT_TYP, payloadHash } from './jws.js';
export { createCapture, type Capture } from './capture.js';
export { signCheckpoint } from './writer.js';
export { verifyAuditLog, type AuditVerification, type AuditBreak, type ChainSummary, type VerifyAuditOptions } from './verify-log.js';
export { checkpointAudit, pruneAuditLog, type PruneOptions, type PruneResult } from './admin.js';
export { exportEvidence, type EvidenceBundle, type ExportEvidenceOptions } from './bundle.js';
export { verifyEvidence, bundleResolver, type EvidenceVerification, type EvidencePart, type VerifyEvidenceOptions } from './bundle-verify.js';
export { RECORDED_ONLY } from './recheck.js';
export {
  createAccessReport,
  acceptAccessReport,
  sendAccessReport,
  accessReportUrl,
  homeReportUrl,
  accessReports,
  receiptsForGrant,
  reportableReceipts,
  MAX_REPORT_RECEIPTS,
  MAX_KEPT_PER_GRANT,
  plainResource,
  type AccessReportInput,
  type SendAccessReportOptions,
  type AccessReportResult,
  type AccessUse,
} from './access-report.js';
