/**
 * `charter/sdjwt`: SD-JWT VC with key binding (RFC 9901,
 * draft-ietf-oauth-sd-jwt-vc) and the IETF Token Status List
 * (draft-ietf-oauth-status-list). The documented calls only (README,
 * Library); wire constants and codec internals stay in their modules.
 */
export type * from './types.js';
export { issueSdJwtVc } from './issue.js';
export { presentSdJwtVc } from './present.js';
export { verifySdJwtVc, assertSdJwtVc } from './verify.js';
export { issueStoredSdJwtVc, revokeSdJwtVc, type IssueStoredSdJwtVcInput, type StoredSdJwtVc } from './manage.js';
export { issueSdJwtGrant, verifySdJwtGrant, GRANT_VCT, type IssueSdJwtGrantInput, type IssuedSdJwtGrant, type VerifySdJwtGrantOptions, type SdJwtGrantDecision } from './grant.js';
export { createTokenStatusChecker, type TokenStatusChecker, type TokenStatusCheckerOptions, type TokenStatusContext } from '../status/token-checker.js';
export {
  allocateTokenStatus,
  currentTokenStatusListJwt,
  setTokenStatus,
  signTokenStatusList,
  STATUS_LIST_MEDIA_TYPE,
  type SignTokenStatusListOptions,
  type TokenStatusReference,
} from '../status/token-issuer.js';
export { publishTokenStatusLists } from '../status/token-publish.js';
export { decodeTokenStatusList, encodeTokenStatusList, readTokenStatus, TOKEN_STATUS, type StatusBits } from '../status/token-codec.js';
