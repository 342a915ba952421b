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
// The framework-neutral HTTP core; the adapters are sub-path exports (charter/express, charter/fastify, charter/hono).
export { createVerifier, type Verifier, type VerifierOptions } from './http/verifier.js';
export { requireGrant, requireAgent, type Guard, type GrantGuard, type AgentGuard, type GrantGuardOptions, type AgentGuardOptions, type FromRequest } from './http/guards.js';
export { verifyRequest, verifyNodeRequest, type RequestDecision, type BoundRequest } from './http/request.js';
export { httpStatusFor } from './http/status-map.js';
export type { CharterContext } from './http/context.js';
export { charterFetch, type CharterFetchOptions } from './http/client.js';
// The generic KYA guard for any framework; MCP and Veramo are sub-path exports (charter/mcp, charter/veramo).
export { guardTransaction, type TransactionRequest, type TransactionOutcome, type Settlement } from './integrations/transaction.js';
