export { createVerifier, type Verifier, type VerifierOptions, type FreshnessMode, type GuardStore } from './verifier.js';
export { decide, assertAllowed, type GuardDecision } from './decide.js';
export { htuOf, type Binding } from './binding.js';
export { checkTrust, checkOwnerRule, type Policy, type GrantPolicy, type AgentPolicy, type PresentationPolicy, type SignaturePolicy, type ReputationSource } from './policy.js';
export { signerId, THUMBPRINT_URN, type SignatureBinding } from './signature.js';
export { holdSpend, type SpendHold, type SpendState } from './spend.js';
export { authorizeTransaction, guardTransaction, type TransactionRequest, type TransactionOutcome, type Settlement } from './transaction.js';
export { problemBody, problemHeaders, PROBLEM_BASE, type ProblemDetails } from './problem.js';
