export { createVerifier, type Verifier, type VerifierOptions, type FreshnessMode, type GuardStore } from './verifier.js';
export { decide, assertAllowed, type GuardDecision } from './decide.js';
export { htuOf, type Binding } from './binding.js';
export {
  checkTrust,
  checkOwnerRule,
  checkMandatePolicy,
  type Policy,
  type GrantPolicy,
  type AgentPolicy,
  type MandatePolicy,
  type PresentationPolicy,
  type SignaturePolicy,
  type ReputationSource,
} from './policy.js';
export { signerId, THUMBPRINT_URN, type SignatureBinding } from './signature.js';
export { holdSpend, type SpendHold, type SpendState } from './spend.js';
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
} from './transaction.js';
export { problemBody, problemHeaders, PROBLEM_BASE, type ProblemDetails } from './problem.js';
