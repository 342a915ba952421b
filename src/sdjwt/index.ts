/**
 * SD-JWT VC with key binding (RFC 9901, draft-ietf-oauth-sd-jwt-vc) and the
 * IETF Token Status List (draft-ietf-oauth-status-list): everything public
 * for the package entry to re-export.
 */
export * from './types.js';
export { issueSdJwtVc } from './issue.js';
export { presentSdJwtVc } from './present.js';
export { verifySdJwtVc, assertSdJwtVc, splitSdJwt, type SplitSdJwt } from './verify.js';
export { issueStoredSdJwtVc, revokeSdJwtVc, SD_JWT_RECORD_TYPE, type IssueStoredSdJwtVcInput, type StoredSdJwtVc } from './manage.js';
export { issueSdJwtGrant, verifySdJwtGrant, GRANT_VCT, type IssueSdJwtGrantInput, type IssuedSdJwtGrant, type VerifySdJwtGrantOptions, type SdJwtGrantDecision } from './grant.js';
export {
  createTokenStatusChecker,
  type TokenStatusChecker,
  type TokenStatusCheckerOptions,
  type TokenStatusContext,
} from '../status/token-checker.js';
export {
  allocateTokenStatus,
  currentTokenStatusListJwt,
  setTokenStatus,
  signTokenStatusList,
  tokenStatusListUrl,
  STATUS_LIST_JWT_TYP,
  STATUS_LIST_MEDIA_TYPE,
  TOKEN_STATUS_PATH,
  type SignTokenStatusListOptions,
  type TokenStatusReference,
} from '../status/token-issuer.js';
export { publishTokenStatusLists } from '../status/token-publish.js';
export {
  decodeTokenStatusList,
  encodeTokenStatusList,
  readTokenStatus,
  writeTokenStatus,
  tokenListFromBitstring,
  tokenStatusCount,
  TOKEN_STATUS,
  type StatusBits,
} from '../status/token-codec.js';
