import { randomUUID } from 'node:crypto';
import { RECEIPT_TYP, signCanonical } from '../../src/audit/jws.js';
import type { Issuer } from '../../src/credentials/types.js';

/**
 * What a hand-made decision receipt about a grant says beyond the form every receipt has. Tests of
 * access reports write receipts a verifier never made (forged, misdated, about another grant), so
 * they build the claims themselves; this keeps the form in one place.
 */
export interface HandReceipt {
  /** The grantee the decision was about. */
  sub: string;
  /** The grant, as the receipt's chain names it. */
  grant: { id: string; iss: string };
  /** What the receipt cites as presented: `[{ h }]` at the least. */
  credentials: unknown[];
  /** What was asked: resource, action, owner (or anyOwner / ownerWithheld), purpose. */
  policy: Record<string, unknown>;
  decision?: 'allow' | 'deny';
  /** Default: none for an allow, GRANT_SCOPE for a deny. */
  reasons?: unknown[];
  /** Default: no request binding. */
  request?: Record<string, unknown>;
  /** Default: one second ago. */
  time?: Date;
  jti?: string;
  /** Default: the signer's DID. */
  verifier?: string;
  /** Default: the first entry of a chain of its own. */
  log?: { chain: string; seq: number; prev: string | null };
  /** More claims (vp, evidence, window), or any to override. */
  extra?: Record<string, unknown>;
}

/** The claims of a decision receipt `by` signs. */
export function receiptClaims(by: { did: string }, r: HandReceipt): Record<string, unknown> {
  const now = r.time ?? new Date(Date.now() - 1000);
  const deny = r.decision === 'deny';
  return {
    iss: by.did,
    jti: r.jti ?? `urn:uuid:${randomUUID()}`,
    iat: Math.floor(now.getTime() / 1000),
    time: now.toISOString(),
    kind: 'decision',
    verifier: r.verifier ?? by.did,
    decision: deny ? 'deny' : 'allow',
    status: deny ? 403 : 200,
    reasons: r.reasons ?? (deny ? ['GRANT_SCOPE'] : []),
    sub: r.sub,
    request: r.request ?? { none: true },
    policy: r.policy,
    credentials: r.credentials,
    chain: [{ id: r.grant.id, iss: r.grant.iss }],
    log: r.log ?? { chain: `urn:uuid:${randomUUID()}`, seq: 1, prev: null },
    ...r.extra,
  };
}

/** A decision receipt (compact JWS) signed by `by`. */
export async function handReceipt(by: Issuer, r: HandReceipt): Promise<string> {
  return (await signCanonical(RECEIPT_TYP, receiptClaims(by, r), by)).jws;
}
