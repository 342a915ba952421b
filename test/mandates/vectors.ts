import { readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import type { CharterErrorCode } from '../../src/errors.js';
import type { PublicJwk } from '../../src/keys/types.js';

/**
 * The Verifiable Intent reference's golden vectors (shared/vectors/sdjwt/vi,
 * see SOURCES.md), replayed verdict for verdict. The reference's error
 * strings stay in the tables for traceability; Charter asserts its codes.
 */
export const VECTORS = resolve(__dirname, '../../../shared/vectors/sdjwt/vi/vectors.json');
export const vi = JSON.parse(readFileSync(VECTORS, 'utf8')) as {
  keys: Record<'issuer' | 'user' | 'agent' | 'merchant', { kid: string; public: Record<string, string>; private: Record<string, string> }>;
  verification_conformance: {
    chain_scenarios: ChainScenario[];
    constraint_cases: {
      name: string;
      constraints: unknown[];
      fulfillment: unknown;
      mode: 'strict' | 'permissive';
      is_open_mandate: boolean;
      expected: { satisfied: boolean; violations: number; checked: number; skipped: number };
    }[];
    integrity_cases: { name: string; kind: string; expected_valid: boolean; [k: string]: unknown }[];
  };
};

export interface ChainScenario {
  name: string;
  current_time: number;
  issuer_public: Record<string, string> | null;
  skip_issuer_verification: boolean;
  l1: string;
  l2: string;
  l3_payment: string | null;
  l3_checkout: string | null;
  l2_payment_serialized: string | null;
  l2_checkout_serialized: string | null;
  expected_l2_aud: string | null;
  expected_l2_nonce: string | null;
  expected_l3_payment_aud: string | null;
  expected_l3_payment_nonce: string | null;
  expected_l3_checkout_aud: string | null;
  expected_l3_checkout_nonce: string | null;
  expected_valid: boolean;
  expected_errors: string[];
}

/** The reference's error string (prefix) -> the Charter code it maps to. */
export const REFERENCE_ERRORS: [prefix: string, code: CharterErrorCode][] = [
  ['L2 aud mismatch: expected', 'AUDIENCE_MISMATCH'],
  ['L2 nonce mismatch: expected', 'NONCE_MISMATCH'],
  ['L2 expired at', 'CREDENTIAL_EXPIRED'],
  ['L1 credential iat is in the future', 'ISSUED_IN_FUTURE'],
  ['L1 signature verification failed', 'INVALID_SIGNATURE'],
  ['issuer_public_key is required for chain verification', 'UNTRUSTED_ISSUER'],
  ['L1 _sd contains a duplicate disclosure digest (RFC 9901 section 7.1)', 'INVALID_CREDENTIAL'],
  ['L3a (payment) sd_hash does not match L2 serialized form', 'DELEGATION_BROKEN'],
  ['L3a (payment) aud mismatch: expected', 'AUDIENCE_MISMATCH'],
  ['L2 mandate cnf.jwk values must be identical across all pairs but differ', 'DELEGATION_BROKEN'],
];

export function codeFor(referenceError: string): CharterErrorCode {
  const hit = REFERENCE_ERRORS.find(([p]) => referenceError.startsWith(p));
  if (!hit) throw new Error(`no Charter code mapped for the reference error ${JSON.stringify(referenceError)}`);
  return hit[1];
}

export function optionsFor(s: ChainScenario) {
  const o = (v: string | null) => v ?? undefined;
  return {
    profile: 'verifiable-intent' as const,
    trust: { issuers: s.issuer_public ? [s.issuer_public as unknown as PublicJwk] : [] },
    skipIssuerVerification: s.skip_issuer_verification,
    now: new Date(s.current_time * 1000),
    aud: o(s.expected_l2_aud),
    nonce: o(s.expected_l2_nonce),
    paymentAud: o(s.expected_l3_payment_aud),
    paymentNonce: o(s.expected_l3_payment_nonce),
    checkoutAud: o(s.expected_l3_checkout_aud),
    checkoutNonce: o(s.expected_l3_checkout_nonce),
    // A scenario that expects no aud or nonce for a layer verifies it without one (the reference checks none then).
    ...([s.expected_l2_aud, s.expected_l2_nonce, s.expected_l3_payment_aud, s.expected_l3_payment_nonce, s.expected_l3_checkout_aud, s.expected_l3_checkout_nonce].some(
      (x) => x === null || x === undefined,
    )
      ? { allowMissingNonce: true }
      : {}),
  };
}
