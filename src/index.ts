/**
 * Charter: DIDs, W3C Verifiable Credentials (VC-JOSE-COSE), revocable data
 * grants (Bitstring Status List), agent authority (KYA) and reputation.
 */
export { CharterError, ERROR_CODES, isCharterError, type CharterErrorCode, type Reason } from './errors.js';
export * from './encoding/decimal.js';
export { parseDuration, parseExpiry } from './encoding/duration.js';
export { canonicalJson, sha256Digest } from './encoding/json.js';
export * from './keys/index.js';
export * from './did/index.js';
export * from './credentials/index.js';
export * from './status/index.js';
export * from './grants/index.js';
export * from './agents/index.js';
export * from './reputation/index.js';
export * from './store/index.js';
export { Home, openHome, type HomeOptions, type CreateIdentityInput } from './home/home.js';
export { serveHome, type ServeOptions, type RunningServer } from './http/serve.js';
