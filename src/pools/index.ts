export {
  createPool,
  currentEpoch,
  poolEpochs,
  leavePool,
  signLeave,
  verifyLeave,
  signAcceptance,
  joinerOf,
  membershipOf,
  acceptedStatus,
  listPools,
  LEAVE_TYP,
  type CreatePoolInput,
  type Joiner,
  type PoolEpochRecord,
  type PoolSummary,
  type EpochChange,
} from './membership.js';
export {
  propose,
  findProposal,
  receiveProposal,
  castVote,
  receiveVote,
  tally,
  listProposals,
  proposalOverview,
  revocationProposal,
  type ProposalInput,
  type ProposalOverview,
  type StoredProposal,
  type Tally,
} from './proposals.js';
export { issuePoolGrant, admitMember, revokePoolGrant, type Execution } from './execute.js';
export { issueUsageReport, readUsage, type Use, type UsageRecord, type UsageReportInput, type ReadUsageOptions } from './usage.js';
export { computePayouts, poolPayouts, poolGrantsForPayouts, ROUNDING, type PayoutGrant, type PayoutStatement, type PoolPayoutsOptions } from './payouts.js';
export { apportion, splitExact, roundHalfUp } from './split.js';
export { EPOCH_TYPE, MEMBERSHIP_TYPE, PROPOSAL_TYPE, DECISION_TYPE, USAGE_TYPE } from './records.js';
