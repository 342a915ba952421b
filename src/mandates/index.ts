/** `charter/mandates`: Verifiable Intent v0.1 and AP2 v0.2 payment mandates, both sides (the documented calls; checks and wire helpers stay in their modules). */
export type {
  Ap2ChainInput,
  CalendarPeriod,
  ConstraintReport,
  ConstraintStatus,
  FinalPayment,
  MandateAuthority,
  MandateBudget,
  MandateDecision,
  MandateLayer,
  MandateLedgerLink,
  MandateLimits,
  MandateParty,
  MandateProfile,
  MandateRecord,
  MandateTrust,
  TrustAnchor,
  VerifyMandateOptions,
  ViChainInput,
} from './types.js';
export { verifyMandateChain, assertMandateChain } from './verify.js';
export { mandateLimits, type MandateLimitsOptions } from './ledger.js';
export { jwkThumbprint } from './trust.js';
export { hashAscii } from './sd.js';
export {
  issueViCredential,
  issueViIntent,
  issueViAction,
  viPresentation,
  type IssueViCredentialInput,
  type IssueViIntentInput,
  type IssuedViIntent,
  type IssueViActionInput,
  type IssuedViAction,
  type Merchant,
  type PaymentInstrument,
  type AcceptableItem,
  type LineItemRequirement,
} from './issue-vi.js';
export { issueAp2OpenMandate, closeAp2Mandate, type IssueAp2OpenMandateInput, type CloseAp2MandateInput } from './issue-ap2.js';
export { mandateToken } from './wire.js';
export { exportMandate, type ExportMandateInput, type ExportedMandate, type ExportIntent, type ExportFormat } from './export.js';
