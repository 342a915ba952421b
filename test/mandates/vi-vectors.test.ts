import { describe, expect, it } from 'vitest';
import type { CharterErrorCode } from '../../src/errors.js';
import { verifyMandateChain } from '../../src/mandates/index.js';
import { checkViConstraints } from '../../src/mandates/vi-constraints.js';
import { checkCheckoutBinding, checkL3CrossReference, checkReferenceBinding } from '../../src/mandates/vi-integrity.js';
import { codeFor, optionsFor, vi } from './vectors.js';

const conf = vi.verification_conformance;

describe('Verifiable Intent golden vectors: chain_scenarios', () => {
  it('has the 14 scenarios SOURCES.md describes', () => {
    expect(conf.chain_scenarios).toHaveLength(14);
  });

  it.each(conf.chain_scenarios.map((s) => [s.name, s] as const))('%s: same verdict as the reference, mapped code', async (_name, s) => {
    const d = await verifyMandateChain(s, optionsFor(s));
    expect(d.ok).toBe(s.expected_valid);
    if (s.expected_valid) expect(d.reasons).toEqual([]);
    else {
      expect(s.expected_errors).toHaveLength(1);
      expect(d.reasons[0]!.code).toBe(codeFor(s.expected_errors[0]!));
    }
    expect(d.issuerVerification).toBe(s.skip_issuer_verification ? 'skipped' : d.ok ? 'verified' : d.issuerVerification);
  });
});

describe('Verifiable Intent golden vectors: constraint_cases', () => {
  const CODES: Record<string, CharterErrorCode[]> = {
    amount_over_max: ['AUTHORITY_EXCEEDED'],
    amount_under_min: ['CONSTRAINT_VIOLATED'],
    amount_wrong_currency: ['CURRENCY_MISMATCH'],
    payee_not_allowed: ['COUNTERPARTY_NOT_ALLOWED'],
    line_items_over_qty: ['CONSTRAINT_VIOLATED', 'CONSTRAINT_VIOLATED'],
    line_items_wrong_id: ['CONSTRAINT_VIOLATED'],
    unknown_strict: ['UNKNOWN_CONSTRAINT'],
    unknown_open_rejected: ['UNKNOWN_CONSTRAINT'],
  };
  it('has 12 cases', () => expect(conf.constraint_cases).toHaveLength(12));
  it.each(conf.constraint_cases.map((c) => [c.name, c] as const))('%s', (name, c) => {
    const r = checkViConstraints(c.constraints, c.fulfillment, { mode: c.mode, isOpenMandate: c.is_open_mandate });
    expect({ satisfied: r.satisfied, violations: r.violations.length, checked: r.checked.length, skipped: r.skipped.length }).toEqual(c.expected);
    expect(r.violations.map((v) => v.code)).toEqual(CODES[name] ?? []);
  });
});

describe('Verifiable Intent golden vectors: integrity_cases', () => {
  it('has 6 cases', () => expect(conf.integrity_cases).toHaveLength(6));
  it.each(conf.integrity_cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const r =
      c.kind === 'checkout_hash'
        ? checkCheckoutBinding(c.checkout_mandate as Record<string, unknown>, c.payment_mandate as Record<string, unknown>)
        : c.kind === 'l3_xref'
          ? checkL3CrossReference(c.l3_payment_claims as Record<string, unknown>, c.l3_checkout_claims as Record<string, unknown>)
          : checkReferenceBinding(c.payment_mandate as Record<string, unknown>, c.checkout_disclosure as string);
    expect(r === undefined).toBe(c.expected_valid);
    if (!c.expected_valid) expect(r!.code).toBe('CHECKOUT_MISMATCH');
  });
});
