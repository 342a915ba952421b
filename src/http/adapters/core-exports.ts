// What every adapter entry (charter/express, charter/fastify, charter/hono) also exports, so one import suffices.
// Each adapter exports its own requireGrant/requireAgent, typed with its request.
export { createVerifier, type Verifier, type VerifierOptions } from '../../guard/verifier.js';
export { type Guard, type GrantGuard, type AgentGuard, type GrantGuardOptions, type AgentGuardOptions, type FromRequest } from '../guards.js';
export { verifyRequest, verifyNodeRequest, type RequestDecision } from '../request.js';
export type { CharterContext } from '../context.js';
export { charterFetch, receiptOf, type CharterFetchOptions } from '../client.js';
