// What every adapter entry (charter/express, charter/fastify, charter/hono) also exports, so one import suffices.
// Each adapter exports its own requireGrant/requireAgent/requireMandate, typed with its request; requireSignature reads no request type.
export { createVerifier, type Verifier, type VerifierOptions } from '../../guard/verifier.js';
export {
  requireSignature,
  type Guard,
  type GrantGuard,
  type AgentGuard,
  type MandateGuard,
  type SignatureGuard,
  type GrantGuardOptions,
  type AgentGuardOptions,
  type MandateGuardOptions,
  type SignatureGuardOptions,
  type FromRequest,
} from '../guards.js';
export { verifyRequest, verifyNodeRequest, type RequestDecision } from '../request.js';
export type { CharterContext } from '../context.js';
export { charterFetch, receiptOf, type CharterFetchOptions } from '../client.js';
