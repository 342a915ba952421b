import { HTTP_STATUS, isCharterError } from '../../errors.js';
import type { Verifier } from '../../guard/verifier.js';
import type { Refused } from '../refusal.js';

/** A verifier for HTTP routes: built by createVerifier, and not with `http: false`. Checked when the middleware is built. */
export function checkHttpVerifier(verifier: Verifier): void {
  if (!verifier || typeof verifier.issueNonce !== 'function') throw new TypeError('charter(verifier): build the verifier with createVerifier()');
  if (verifier.http === false) throw new TypeError('charter(verifier): this verifier was built with http: false; give createVerifier a publicOrigin for HTTP routes');
}

/** A store fault outside the pipeline (the challenge route) as the documented 503, not a 500. */
export function storeFaultRefusal(e: unknown): Refused | undefined {
  return isCharterError(e) && HTTP_STATUS[e.code] === 503 ? { status: 503, reasons: [{ code: e.code, message: e.message }] } : undefined;
}
