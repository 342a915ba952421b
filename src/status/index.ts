export { encodeBitstring, decodeBitstring, getBit, setBit, readStatus, MIN_LIST_SIZE, MAX_STATUS_SIZE } from './codec.js';
export {
  allocateStatusEntry,
  createStatusList,
  currentStatusListJwt,
  ensureStatusList,
  setStatus,
  setCredentialStatus,
  signStatusList,
  statusPropagation,
  statusChange,
  changeCredentialStatus,
  statusAllocation,
  type StatusChange,
  type StatusPropagation,
  DEFAULT_LIST_TTL_SECONDS,
  type CreateListInput,
  type IssuerFor,
  type StatusPurpose,
} from './issuer.js';
export { createStatusChecker, DEFAULT_MAX_STALENESS_SECONDS, type StatusCheckerOptions, type StatusListChecker, type StatusListSnapshot } from './checker.js';
