import type { ProofBinding } from '../credentials/binding.js';
import type { SignatureBinding } from './signature.js';

export { bindingReasons, freshnessReasons, htuOf, nonceProofReasons, type FreshnessContext } from '../credentials/binding.js';

/**
 * What binds a presentation to this verifier, this moment and this one
 * request (credentials/binding.ts holds the rules): for an HTTP request,
 * optionally also the request's own RFC 9421 signature over that method
 * and URL.
 */
export type Binding = Exclude<ProofBinding, { kind: 'http' }> | (Extract<ProofBinding, { kind: 'http' }> & { signature?: SignatureBinding });
