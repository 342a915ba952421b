export { issueGrant, GRANT_TYPE, SD_JWT_GRANT_VCT, type IssueGrantInput, type IssuedGrant } from './issue.js';
export { verifyGrant, type GrantDecision, type VerifyGrantOptions } from './verify.js';
export { listGrants, revokeGrant, suspendGrant, resumeGrant, revokeGrantsTo, type GrantSummary, type GrantState, type GrantFormat } from './manage.js';
export { resourceCovered, actionCovered, normalizeResource, normalizeGrantResource } from './scope.js';
export { ACTION as GRANT_ACTION, readGrantClaims, unenforcedConstraints, type GrantClaims } from './claims.js';
export {
  readTerms,
  checkTermsInput,
  termsReasons,
  checkDeclaredUse,
  describeTerms,
  PURPOSES,
  PROCESSING,
  type GrantTerms,
  type Compensation,
  type Split,
  type Processing,
  type DeclaredProcessing,
  type DeclaredUse,
} from './terms.js';
export {
  proposalHash,
  readProposal,
  readVote,
  countVotes,
  checkCollectiveGrant,
  verifyAcceptance,
  joinStatusEntry,
  VOTE_TYPE,
  JOIN_TYP,
  MAX_POOL_MEMBERS,
  EXECUTION_WINDOW_MS,
  type Proposal,
  type ProposalAction,
  type PoolEpoch,
  type PoolMember,
  type GrantProposalBody,
  type JoinClaims,
  type VoteClaims,
  type Quorum,
  type PoolEvidence,
  type PoolGrantInfo,
} from './collective.js';
