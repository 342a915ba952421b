export { issueGrant, GRANT_TYPE, type IssueGrantInput, type IssuedGrant } from './issue.js';
export { verifyGrant, type GrantDecision, type VerifyGrantOptions } from './verify.js';
export { listGrants, revokeGrant, suspendGrant, resumeGrant, revokeGrantsTo, type GrantSummary, type GrantState } from './manage.js';
export { resourceCovered, actionCovered, normalizeResource, normalizeGrantResource } from './scope.js';
export { readGrantClaims, type GrantClaims } from './claims.js';
