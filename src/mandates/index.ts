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
export { verifyMandateChain, assertMandateChain, readViInput, readAp2Input } from './verify.js';
export { mandateLimits, type MandateLimitsOptions } from './ledger.js';
export { checkViConstraints, type ViCheckOptions } from './vi-constraints.js';
export { checkAp2Payment, checkAp2Checkout } from './ap2-constraints.js';
export type { ConstraintCheck, ConstraintViolation, StrictnessMode } from './constraint-check.js';
export { jwkThumbprint, parseTrustAnchor } from './trust.js';
export { fromMinorUnits, toMinorUnits } from './money.js';
export { hashAscii } from './sd.js';
export { splitChain } from './ap2.js';
export { checkCheckoutBinding, checkReferenceBinding, checkL3CrossReference } from './vi-integrity.js';
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
export { readMandateInput, mandateToken, closingLayer, MAX_MANDATE_INPUT, type ClosingLayer } from './wire.js';
export { exportMandate, type ExportMandateInput, type ExportedMandate, type ExportIntent, type ExportFormat } from './export.js';
