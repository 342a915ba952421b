export { issueGrant, GRANT_TYPE, SD_JWT_GRANT_VCT, type IssueGrantInput, type IssuedGrant } from './issue.js';
export { verifyGrant, type GrantDecision, type VerifyGrantOptions } from './verify.js';
export { listGrants, revokeGrant, suspendGrant, resumeGrant, revokeGrantsTo, type GrantSummary, type GrantState, type GrantFormat } from './manage.js';
export { resourceCovered, actionCovered, normalizeResource, normalizeGrantResource } from './scope.js';
export { readGrantClaims, type GrantClaims } from './claims.js';
