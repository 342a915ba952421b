import type { CharterErrorCode, Reason } from '../errors.js';

export type DecisionStatus = 200 | 400 | 401 | 403 | 503;

/** Faults of the store (replay cache, ledger): the request can be neither allowed nor refused on its merits. */
export const STORE_FAULTS: ReadonlySet<CharterErrorCode> = new Set<CharterErrorCode>(['STORE_UNAVAILABLE', 'STORE_ERROR']);

/**
 * 401: the proof is missing or cannot be authenticated (RFC 6750 §3.1
 * invalid_token): malformed, badly signed, for another audience, request or
 * nonce, stale, or replayed. 403 (insufficient_scope): an authentic proof
 * whose credentials do not allow this request (expired, revoked, out of
 * scope, over budget, untrusted, ...). 400: the request itself is malformed.
 * 503 (not from a reason, see request.ts): the store failed, so the request
 * is refused without a decision, and may be retried.
 */
const UNAUTHENTICATED: ReadonlySet<CharterErrorCode> = new Set<CharterErrorCode>([
  'MALFORMED_JWT',
  'INPUT_TOO_LARGE',
  'UNSUPPORTED_ALG',
  'ALG_KEY_MISMATCH',
  'INVALID_SIGNATURE',
  'UNKNOWN_CRITICAL',
  'INVALID_TYP',
  'INVALID_KEY',
  'UNSUPPORTED_KEY_TYPE',
  'INVALID_DID',
  'UNSUPPORTED_DID_METHOD',
  'DID_NOT_FOUND',
  'DID_RESOLUTION_FAILED',
  'DID_DOCUMENT_TOO_LARGE',
  'FORBIDDEN_ADDRESS',
  'KID_MISMATCH',
  'VERIFICATION_METHOD_NOT_FOUND',
  'VERIFICATION_METHOD_NOT_AUTHORIZED',
  'INVALID_PRESENTATION',
  'AUDIENCE_MISMATCH',
  'NONCE_MISMATCH',
  'REPLAY_DETECTED',
  'REQUEST_MISMATCH',
]);

/** The HTTP status of one refusal code, as documented in README. */
export function httpStatusFor(code: CharterErrorCode): DecisionStatus {
  if (code === 'INVALID_ARGUMENT') return 400;
  return UNAUTHENTICATED.has(code) ? 401 : 403;
}

/** The status of a decision: 401 if any reason is an authentication failure, else 403 (200 with none). */
export function statusOf(reasons: readonly Reason[]): DecisionStatus {
  if (reasons.length === 0) return 200;
  if (reasons.some((r) => httpStatusFor(r.code) === 400)) return 400;
  return reasons.some((r) => httpStatusFor(r.code) === 401) ? 401 : 403;
}
