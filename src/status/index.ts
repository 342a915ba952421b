export { encodeBitstring, decodeBitstring, getBit, setBit, MIN_LIST_SIZE } from './codec.js';
export {
  allocateStatusEntry,
  createStatusList,
  currentStatusListJwt,
  ensureStatusList,
  setStatus,
  setCredentialStatus,
  signStatusList,
  type CreateListInput,
  type IssuerFor,
  type StatusPurpose,
} from './issuer.js';
export { createStatusChecker, type StatusCheckerOptions } from './checker.js';
