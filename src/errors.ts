/**
 * The one error type of Charter, the closed list of its codes, and the two
 * edge tables (code -> HTTP status, code -> CLI exit code). `code` is stable
 * and documented in README; tests and callers match on it, never on
 * `message`. Messages are for people and never contain a key, token or
 * credential body. The tables are `Record`s over the closed union, so the
 * compiler asks for a decision whenever a code is added.
 */
export const ERROR_CODES = [
  // misuse and input
  'INVALID_ARGUMENT',
  'INPUT_TOO_LARGE',
  'CONFIG_INVALID',
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
  'PRESENTATION_STALE',
  'AUDIENCE_MISMATCH',
  'NONCE_MISMATCH',
  'HOLDER_MISMATCH',
  'REPLAY_DETECTED',
  'REQUEST_MISMATCH',
  // HTTP message signatures (RFC 9421) and Web Bot Auth key directories
  'SIGNATURE_MISSING',
  'SIGNATURE_INVALID',
  'SIGNATURE_EXPIRED',
  'SIGNATURE_REPLAYED',
  'SIGNATURE_TAG_MISMATCH',
  'SIGNATURE_KEY_UNKNOWN',
  'DIRECTORY_UNAVAILABLE',
  'DIRECTORY_INVALID',
  'CONTENT_DIGEST_MISMATCH',
  'SIGNER_NOT_HOLDER',
  // SD-JWT (RFC 9901): a disclosure that is malformed, unreferenced, repeated or
  // reserved; a key binding (KB-JWT) that is missing, badly signed or for other bytes
  'DISCLOSURE_INVALID',
  'KEY_BINDING_INVALID',
  // status
  'CREDENTIAL_REVOKED',
  'CREDENTIAL_SUSPENDED',
  'STATUS_UNAVAILABLE',
  'STATUS_INVALID',
  // grants
  'GRANT_MISSING',
  'GRANT_SCOPE',
  'GRANT_NOT_OWNER',
  'GRANTEE_MISMATCH',
  'RESOURCE_INVALID',
  // grant terms and data pools
  'UNKNOWN_TERM',
  'PURPOSE_NOT_ALLOWED',
  'PROCESSING_NOT_ALLOWED',
  'QUORUM_NOT_MET',
  'NOT_A_MEMBER',
  'MEMBER_WITHDRAWN',
  'PROPOSAL_STALE',
  // agents
  'AMOUNT_REQUIRED',
  'AUTHORITY_EXCEEDED',
  'AUTHORITY_WIDENED',
  'UNKNOWN_CONSTRAINT',
  'DELEGATION_BROKEN',
  'DELEGATION_CYCLE',
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
  // accountability: the audit log, evidence bundles, access reports
  'AUDIT_CHAIN_BROKEN',
  'EVIDENCE_MISMATCH',
  'TOO_MANY_REQUESTS',
  // home, keystore and store
  'NOT_INITIALIZED',
  'ALREADY_EXISTS',
  'NOT_FOUND',
  'WRONG_PASSPHRASE',
  'PASSPHRASE_REQUIRED',
  'ADDRESS_IN_USE',
  'STORE_ERROR',
  'STORE_UNAVAILABLE',
  'UNREACHABLE',
  // anything else
  'INTERNAL',
] as const;

export type CharterErrorCode = (typeof ERROR_CODES)[number];
const KNOWN_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

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
    // A code is one of ERROR_CODES, whatever a caller computed it from (a table looked up by a name from outside):
    // anything else would reach the HTTP and exit-code tables, and JSON, as no code at all.
    this.code = typeof code === 'string' && KNOWN_CODES.has(code) ? code : 'INTERNAL';
    if (options.details !== undefined) this.details = options.details;
  }

  toJSON(): { code: CharterErrorCode; message: string; details?: Record<string, unknown> } {
    return this.details === undefined ? { code: this.code, message: this.message } : { code: this.code, message: this.message, details: this.details };
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

/**
 * A value from outside (a JOSE header, a payload member, an option) as text
 * for a message, at most `max` characters, and never a throw: `String()` of
 * an object whose `toString` is not a function (JSON such as
 * `{"toString":1}`, or an object without a prototype) throws a TypeError,
 * which would turn a refusal into a crash.
 */
export function shown(v: unknown, max: number): string {
  if (typeof v === 'string') return v.slice(0, max);
  try {
    return String(v).slice(0, max);
  } catch {
    return Array.isArray(v) ? '[array]' : `[${typeof v}]`;
  }
}

/** Wrap anything thrown into a Reason without leaking bodies. */
export function toReason(e: unknown, fallback: CharterErrorCode = 'INTERNAL'): Reason {
  if (e instanceof CharterError) return { code: e.code, message: e.message };
  return { code: fallback, message: e instanceof Error ? e.message : shown(e, 500) };
}

// ---- the edge tables ----

export type HttpStatus = 400 | 401 | 403 | 404 | 409 | 429 | 500 | 503;

/**
 * The HTTP status of a refusal or error with this code (README "Error
 * codes"). 401 (RFC 6750 invalid_token): the proof is missing or cannot be
 * authenticated, or is not bound to this verifier, request and moment. 403
 * (insufficient_scope): an authentic proof that does not allow the request.
 * 400 (invalid_request): the request itself is malformed. 503 (with
 * Retry-After): a store fault, so nothing could be decided; retry.
 */
export const HTTP_STATUS: Record<CharterErrorCode, HttpStatus> = {
  INVALID_ARGUMENT: 400,
  INPUT_TOO_LARGE: 401,
  CONFIG_INVALID: 500,
  MALFORMED_JWT: 401,
  UNSUPPORTED_ALG: 401,
  ALG_KEY_MISMATCH: 401,
  INVALID_SIGNATURE: 401,
  UNKNOWN_CRITICAL: 401,
  INVALID_TYP: 401,
  INVALID_KEY: 401,
  UNSUPPORTED_KEY_TYPE: 401,
  INVALID_DID: 401,
  UNSUPPORTED_DID_METHOD: 401,
  DID_NOT_FOUND: 401,
  DID_RESOLUTION_FAILED: 401,
  DID_DOCUMENT_TOO_LARGE: 401,
  FORBIDDEN_ADDRESS: 401,
  KID_MISMATCH: 401,
  VERIFICATION_METHOD_NOT_FOUND: 401,
  VERIFICATION_METHOD_NOT_AUTHORIZED: 401,
  INVALID_CREDENTIAL: 403,
  SCHEMA_INVALID: 403,
  CREDENTIAL_EXPIRED: 403,
  CREDENTIAL_NOT_YET_VALID: 403,
  ISSUED_IN_FUTURE: 401,
  INVALID_PRESENTATION: 401,
  PRESENTATION_STALE: 401,
  AUDIENCE_MISMATCH: 401,
  NONCE_MISMATCH: 401,
  HOLDER_MISMATCH: 403,
  REPLAY_DETECTED: 401,
  REQUEST_MISMATCH: 401,
  SIGNATURE_MISSING: 401,
  SIGNATURE_INVALID: 401,
  SIGNATURE_EXPIRED: 401,
  SIGNATURE_REPLAYED: 401,
  SIGNATURE_TAG_MISMATCH: 401,
  SIGNATURE_KEY_UNKNOWN: 401,
  DIRECTORY_UNAVAILABLE: 503,
  DIRECTORY_INVALID: 401,
  CONTENT_DIGEST_MISMATCH: 401,
  SIGNER_NOT_HOLDER: 401,
  DISCLOSURE_INVALID: 401,
  KEY_BINDING_INVALID: 401,
  CREDENTIAL_REVOKED: 403,
  CREDENTIAL_SUSPENDED: 403,
  STATUS_UNAVAILABLE: 503,
  STATUS_INVALID: 403,
  GRANT_MISSING: 403,
  GRANT_SCOPE: 403,
  GRANT_NOT_OWNER: 403,
  GRANTEE_MISMATCH: 403,
  RESOURCE_INVALID: 400,
  UNKNOWN_TERM: 403,
  PURPOSE_NOT_ALLOWED: 403,
  PROCESSING_NOT_ALLOWED: 403,
  QUORUM_NOT_MET: 403,
  NOT_A_MEMBER: 403,
  MEMBER_WITHDRAWN: 403,
  PROPOSAL_STALE: 409,
  AMOUNT_REQUIRED: 400,
  AUTHORITY_EXCEEDED: 403,
  AUTHORITY_WIDENED: 403,
  UNKNOWN_CONSTRAINT: 403,
  DELEGATION_BROKEN: 403,
  DELEGATION_CYCLE: 403,
  DELEGATION_DEPTH_EXCEEDED: 403,
  ACTION_NOT_ALLOWED: 403,
  COUNTERPARTY_NOT_ALLOWED: 403,
  CURRENCY_MISMATCH: 403,
  BUDGET_EXCEEDED: 403,
  RATE_EXCEEDED: 403,
  CHECKOUT_MISMATCH: 403,
  CONSTRAINT_VIOLATED: 403,
  UNTRUSTED_ISSUER: 403,
  UNTRUSTED_PRINCIPAL: 403,
  IDENTITY_MISSING: 403,
  RESERVATION_NOT_FOUND: 404,
  RECEIPT_INVALID: 403,
  RECEIPT_REUSED: 403,
  SELF_ATTESTATION: 403,
  REPUTATION_TOO_LOW: 403,
  // Never a guard refusal: what an integrity check of the log or a bundle found (500: the record is wrong).
  AUDIT_CHAIN_BROKEN: 500,
  EVIDENCE_MISMATCH: 500,
  // RFC 6585 §4: a reporter sending too much; Retry-After says when to try again.
  TOO_MANY_REQUESTS: 429,
  NOT_INITIALIZED: 500,
  ALREADY_EXISTS: 409,
  NOT_FOUND: 404,
  WRONG_PASSPHRASE: 500,
  PASSPHRASE_REQUIRED: 500,
  ADDRESS_IN_USE: 500,
  STORE_ERROR: 503,
  STORE_UNAVAILABLE: 503,
  UNREACHABLE: 503,
  INTERNAL: 500,
};

/** CLI exit codes (README "Exit codes"): 0 ok, 1 refused, 2 usage, 3 fault. */
export const EXIT = { OK: 0, REFUSED: 1, USAGE: 2, FAULT: 3 } as const;
export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/**
 * The exit code of a command that fails with this code. A decision that
 * refuses exits 1 whatever its reasons (the decision is printed); this table
 * is for errors: 1 when the code is a refusal raised as an error, 2 when the
 * caller asked wrongly (fix the command line, the home or the input), 3 when
 * something broke (store, network, bug).
 */
export const EXIT_CODE: Record<CharterErrorCode, ExitCode> = {
  INVALID_ARGUMENT: 2,
  INPUT_TOO_LARGE: 2,
  CONFIG_INVALID: 2,
  MALFORMED_JWT: 2,
  UNSUPPORTED_ALG: 1,
  ALG_KEY_MISMATCH: 1,
  INVALID_SIGNATURE: 1,
  UNKNOWN_CRITICAL: 1,
  INVALID_TYP: 1,
  INVALID_KEY: 2,
  UNSUPPORTED_KEY_TYPE: 2,
  INVALID_DID: 2,
  UNSUPPORTED_DID_METHOD: 2,
  DID_NOT_FOUND: 1,
  DID_RESOLUTION_FAILED: 3,
  DID_DOCUMENT_TOO_LARGE: 1,
  FORBIDDEN_ADDRESS: 2,
  KID_MISMATCH: 1,
  VERIFICATION_METHOD_NOT_FOUND: 1,
  VERIFICATION_METHOD_NOT_AUTHORIZED: 1,
  INVALID_CREDENTIAL: 1,
  SCHEMA_INVALID: 2,
  CREDENTIAL_EXPIRED: 1,
  CREDENTIAL_NOT_YET_VALID: 1,
  ISSUED_IN_FUTURE: 1,
  INVALID_PRESENTATION: 1,
  PRESENTATION_STALE: 1,
  AUDIENCE_MISMATCH: 1,
  NONCE_MISMATCH: 1,
  HOLDER_MISMATCH: 1,
  REPLAY_DETECTED: 1,
  REQUEST_MISMATCH: 1,
  SIGNATURE_MISSING: 1,
  SIGNATURE_INVALID: 1,
  SIGNATURE_EXPIRED: 1,
  SIGNATURE_REPLAYED: 1,
  SIGNATURE_TAG_MISMATCH: 1,
  SIGNATURE_KEY_UNKNOWN: 1,
  DIRECTORY_UNAVAILABLE: 3,
  DIRECTORY_INVALID: 1,
  CONTENT_DIGEST_MISMATCH: 1,
  SIGNER_NOT_HOLDER: 1,
  DISCLOSURE_INVALID: 1,
  KEY_BINDING_INVALID: 1,
  CREDENTIAL_REVOKED: 1,
  CREDENTIAL_SUSPENDED: 1,
  STATUS_UNAVAILABLE: 3,
  STATUS_INVALID: 1,
  GRANT_MISSING: 1,
  GRANT_SCOPE: 1,
  GRANT_NOT_OWNER: 1,
  GRANTEE_MISMATCH: 1,
  RESOURCE_INVALID: 2,
  UNKNOWN_TERM: 1,
  PURPOSE_NOT_ALLOWED: 1,
  PROCESSING_NOT_ALLOWED: 1,
  QUORUM_NOT_MET: 1,
  NOT_A_MEMBER: 1,
  MEMBER_WITHDRAWN: 1,
  PROPOSAL_STALE: 1,
  AMOUNT_REQUIRED: 2,
  AUTHORITY_EXCEEDED: 1,
  AUTHORITY_WIDENED: 2,
  UNKNOWN_CONSTRAINT: 1,
  DELEGATION_BROKEN: 2,
  DELEGATION_CYCLE: 2,
  DELEGATION_DEPTH_EXCEEDED: 2,
  ACTION_NOT_ALLOWED: 1,
  COUNTERPARTY_NOT_ALLOWED: 1,
  CURRENCY_MISMATCH: 1,
  BUDGET_EXCEEDED: 1,
  RATE_EXCEEDED: 1,
  CHECKOUT_MISMATCH: 1,
  CONSTRAINT_VIOLATED: 1,
  UNTRUSTED_ISSUER: 1,
  UNTRUSTED_PRINCIPAL: 1,
  IDENTITY_MISSING: 1,
  RESERVATION_NOT_FOUND: 2,
  RECEIPT_INVALID: 1,
  RECEIPT_REUSED: 1,
  SELF_ATTESTATION: 1,
  REPUTATION_TOO_LOW: 1,
  AUDIT_CHAIN_BROKEN: 1,
  EVIDENCE_MISMATCH: 1,
  TOO_MANY_REQUESTS: 3,
  NOT_INITIALIZED: 2,
  ALREADY_EXISTS: 2,
  NOT_FOUND: 2,
  WRONG_PASSPHRASE: 2,
  PASSPHRASE_REQUIRED: 2,
  ADDRESS_IN_USE: 2,
  STORE_ERROR: 3,
  STORE_UNAVAILABLE: 3,
  UNREACHABLE: 3,
  INTERNAL: 3,
};

/*
 * What a remote party is told of a fetch that failed. A presentation, a report or a receipt names
 * any DID it likes: were a host name refused for the address it resolves to (FORBIDDEN_ADDRESS,
 * "resolves to a non-public address") told apart from one that could not be reached, any client
 * could map which internal names resolve. So the guard's decisions (and the receipts signing
 * their codes), and so the HTTP and MCP answers built from them, and the access-report route say
 * one thing for both, in one fixed message per code (the precise messages name what failed: an
 * address, a status). Library results, the CLI and the nested decisions of a guard decision keep
 * the precise reason for the local caller.
 */
const UNRESOLVED_DID: Reason = { code: 'DID_RESOLUTION_FAILED', message: 'a DID could not be resolved' };
const TOLD_REMOTELY: Partial<Record<CharterErrorCode, Reason>> = {
  FORBIDDEN_ADDRESS: UNRESOLVED_DID,
  DID_RESOLUTION_FAILED: UNRESOLVED_DID,
  STATUS_UNAVAILABLE: { code: 'STATUS_UNAVAILABLE', message: 'a status list could not be retrieved' },
};

/** A reason as a remote party is told it: a refused address reads as an unreachable one (above). */
export function remoteReason(r: Reason): Reason {
  const told = TOLD_REMOTELY[r.code];
  return told === undefined ? r : { ...r, code: told.code, message: told.message };
}

/** The HTTP status of a decision: the most telling of its reasons' statuses (200 with none). */
export function statusOfReasons(reasons: readonly Reason[]): HttpStatus | 200 {
  if (reasons.length === 0) return 200;
  // A store fault decides nothing. Something else that could not be reached (a status list, a key
  // directory) is a 503 only when nothing else refused the request: asking again would not help a
  // presentation that is forged, stale or out of scope anyway.
  const storeFault = reasons.some((r) => r.code === 'STORE_UNAVAILABLE' || r.code === 'STORE_ERROR');
  const decisive = storeFault ? reasons : reasons.filter((r) => HTTP_STATUS[r.code] !== 503);
  const statuses = new Set((decisive.length > 0 ? decisive : reasons).map((r) => HTTP_STATUS[r.code]));
  // A fault decides nothing; an unauthenticated caller learns nothing more; then a malformed request; then the merits.
  for (const s of [503, 500, 429, 401, 400, 404, 409, 403] as const) if (statuses.has(s)) return s;
  return 403;
}
