/**
 * The one error type of Charter. `code` is stable and documented in README;
 * tests and callers match on it, never on `message`. Messages are for people
 * and never contain a key, token or credential body.
 */
export const ERROR_CODES = [
  // misuse and input
  'INVALID_ARGUMENT',
  'INPUT_TOO_LARGE',
  // JOSE layer
  'MALFORMED_JWT',
  'UNSUPPORTED_ALG',
  'ALG_KEY_MISMATCH',
  'INVALID_SIGNATURE',
  'UNKNOWN_CRITICAL',
  'INVALID_TYP',
  // keys
  'INVALID_KEY',
  'UNSUPPORTED_KEY_TYPE',
  // DIDs
  'INVALID_DID',
  'UNSUPPORTED_DID_METHOD',
  'DID_NOT_FOUND',
  'DID_RESOLUTION_FAILED',
  'DID_DOCUMENT_TOO_LARGE',
  'FORBIDDEN_ADDRESS',
  'KID_MISMATCH',
  'VERIFICATION_METHOD_NOT_FOUND',
  'VERIFICATION_METHOD_NOT_AUTHORIZED',
  // credentials and presentations
  'INVALID_CREDENTIAL',
  'SCHEMA_INVALID',
  'CREDENTIAL_EXPIRED',
  'CREDENTIAL_NOT_YET_VALID',
  'ISSUED_IN_FUTURE',
  'INVALID_PRESENTATION',
  'AUDIENCE_MISMATCH',
  'NONCE_MISMATCH',
  'HOLDER_MISMATCH',
  'REPLAY_DETECTED',
  'REQUEST_MISMATCH',
  // status
  'CREDENTIAL_REVOKED',
  'CREDENTIAL_SUSPENDED',
  'STATUS_UNAVAILABLE',
  'STATUS_INVALID',
  // grants
  'GRANT_SCOPE',
  'GRANTEE_MISMATCH',
  // agents
  'AUTHORITY_EXCEEDED',
  'AUTHORITY_WIDENED',
  'UNKNOWN_CONSTRAINT',
  'DELEGATION_BROKEN',
  'DELEGATION_DEPTH_EXCEEDED',
  'ACTION_NOT_ALLOWED',
  'COUNTERPARTY_NOT_ALLOWED',
  'CURRENCY_MISMATCH',
  'BUDGET_EXCEEDED',
  'RATE_EXCEEDED',
  'UNTRUSTED_ISSUER',
  'UNTRUSTED_PRINCIPAL',
  'IDENTITY_MISSING',
  'RESERVATION_NOT_FOUND',
  // external payment mandates (Verifiable Intent, AP2)
  'CHECKOUT_MISMATCH',
  'CONSTRAINT_VIOLATED',
  // reputation
  'RECEIPT_INVALID',
  'RECEIPT_REUSED',
  'SELF_ATTESTATION',
  'REPUTATION_TOO_LOW',
  // keystore and store
  'NOT_INITIALIZED',
  'ALREADY_EXISTS',
  'NOT_FOUND',
  'WRONG_PASSPHRASE',
  'PASSPHRASE_REQUIRED',
  'STORE_ERROR',
  'STORE_UNAVAILABLE',
  // anything else
  'INTERNAL',
] as const;

export type CharterErrorCode = (typeof ERROR_CODES)[number];

export interface CharterErrorOptions {
  details?: Record<string, unknown>;
  cause?: unknown;
}

export class CharterError extends Error {
  readonly code: CharterErrorCode;
  readonly details?: Record<string, unknown>;

  constructor(code: CharterErrorCode, message: string, options: CharterErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'CharterError';
    this.code = code;
    if (options.details !== undefined) this.details = options.details;
  }

  toJSON(): { code: CharterErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

export function isCharterError(e: unknown, code?: CharterErrorCode): e is CharterError {
  return e instanceof CharterError && (code === undefined || e.code === code);
}

/** One reason in a decision: a refusal, or a check that passed when reported as such. */
export interface Reason {
  code: CharterErrorCode;
  message: string;
  /** Which credential or link the reason is about, when there are several. */
  ref?: string;
}

/** Wrap anything thrown into a Reason without leaking bodies. */
export function toReason(e: unknown, fallback: CharterErrorCode = 'INTERNAL'): Reason {
  if (e instanceof CharterError) return { code: e.code, message: e.message };
  return { code: fallback, message: e instanceof Error ? e.message : String(e) };
}
