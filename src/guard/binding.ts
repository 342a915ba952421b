import { bindingReasons, type ProofBinding } from '../credentials/binding.js';
import { decodeJwt } from '../credentials/index.js';
import type { Reason } from '../errors.js';
import type { SignatureBinding } from './signature.js';

export { bindingReasons, freshnessReasons, htuOf, nonceProofReasons, type FreshnessContext } from '../credentials/binding.js';

/**
 * What binds a presentation to this verifier, this moment and this one
 * request (credentials/binding.ts holds the rules): for an HTTP request,
 * optionally also the request's own RFC 9421 signature over that method
 * and URL.
 */
export type Binding = Exclude<ProofBinding, { kind: 'http' }> | (Extract<ProofBinding, { kind: 'http' }> & { signature?: SignatureBinding });

/**
 * REQUEST_MISMATCH when a presentation carries transport claims (htm, htu,
 * mcp) where there is no request to bind them to (a pure verify: the CLI's
 * `agent verify` and `grant verify`, the Veramo plugin's verify methods): it
 * is for that one request, and checked against it only where it arrives.
 * An SD-JWT presentation carries them in its key binding JWT.
 * Nothing when it does not decode (its verifier says what is wrong with it).
 */
function boundElsewhere(presentation: string): Reason[] {
  try {
    // An SD-JWT presentation (issuer-jwt~disclosures~kb-jwt) is bound by its key binding JWT, the last part.
    const proof = presentation.includes('~') ? presentation.slice(presentation.lastIndexOf('~') + 1) : presentation;
    if (proof === '') return [];
    return bindingReasons(decodeJwt(proof, { maxBytes: 512 * 1024 }).payload, { kind: 'none' });
  } catch {
    return [];
  }
}

/** A pure verification's decision, refused (boundElsewhere's reasons added) when its presentation is bound to a request. */
export function unlessBoundElsewhere<D extends { ok: boolean; reasons: Reason[] }>(d: D, presentation: string): D {
  const foreign = boundElsewhere(presentation);
  return foreign.length === 0 ? d : { ...d, ok: false, reasons: [...d.reasons, ...foreign] };
}
