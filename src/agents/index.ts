export * from './types.js';
export { actionAllowed, actionCovers, actionMatches, isAction, isActionPattern } from './actions.js';
export { MAX_PERIOD_SECONDS, CALENDAR_UNITS, canonicalTimeZone, periodText, type AmountInput } from './limits.js';
export { parseMoney, parseBudget, parseRate, toMoney, validateMoney, validateBudget, validateRate, validateLimits, checkLimits, type ParseMoneyOptions } from './limits.js';
export { parseAuthority, readAuthority, checkRequest, unknownConstraints, mandateDigest, MAX_DELEGATION_DEPTH } from './authority.js';
export { checkNarrowing } from './attenuation.js';
export {
  ledgerKey,
  ledgerEntries,
  ledgerWindow,
  hasCumulativeLimits,
  commitSpend,
  releaseSpend,
  reserveSpend,
  reserveLinks,
  previewSpend,
  staleReservations,
  type LedgerLink,
  type LedgerLimits,
  type ReserveSpendOptions,
  type SpendReservation,
} from './ledger.js';
export { issueAgentIdentity, issueMandate, delegateMandate, type IssueAgentIdentityInput, type IssueMandateInput, type DelegateMandateInput, type IssuedMandate } from './issue.js';
export { agentIdentityState, listMandates, revokeAgentIdentity, revokeMandate, type MandateState, type MandateSummary } from './manage.js';
export { chainFor, identityFor, operatorFor } from './stored.js';
export { checkChainLinks, verifyChain, type ChainCheck, type ChainCheckOptions, type ChainVerification, type VerifyChainOptions } from './chain.js';
export { createAgentPresentation, orderChain, type CreateAgentPresentationInput } from './present.js';
export { verifyAgent } from './verify.js';
