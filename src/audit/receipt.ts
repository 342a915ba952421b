import type { Reason } from '../errors.js';
import type { CharterResolver } from '../did/types.js';
import { decodeJwt } from '../credentials/index.js';
import { receiptAgreementReasons, receiptShapeReasons } from '../credentials/receipt-shape.js';
import { checkAuditJws, MAX_AUDIT_JWS, RECEIPT_TYP, recordTimeReasons } from './jws.js';
import { identifierSet } from '../encoding/lists.js';

export { receiptShapeReasons };

/**
 * The receipt's shape (receiptShapeReasons), then what its members must say
 * together: a non-empty `jti`; `time` a strict RFC 3339 date-time and `iat`
 * its second; the chain's first entry (seq 1), and only it, with no `prev`;
 * a decision's HTTP status a whole 100-599, below 400 for an allow and 400
 * or above for a deny. Every receipt Charter writes holds; a record that
 * does not is not one.
 */
export function receiptReasons(p: Record<string, unknown>): Reason[] {
  const shape = receiptShapeReasons(p);
  if (shape.length > 0) return shape;
  if (p.jti === '') return receiptAgreementReasons(p);
  const time = recordTimeReasons(p, 'RECEIPT_INVALID');
  if (time.length > 0) return time;
  return receiptAgreementReasons(p);
}

/** Where an entry sits in its verifier's hash chain. */
export interface LogPosition {
  /** The chain: one per verifier instance (a random URN). */
  chain: string;
  seq: number;
  /** The previous entry's payload hash; null for the chain's first entry. */
  prev: string | null;
}

/** What the decision was bound to: the HTTP request, the MCP call, other claims (by digest), or nothing. */
export type ReceiptRequest = { htm: string; htu: string } | { mcp: { tool: string; args: string } } | { claims: string } | { none: true };

/** What the verifier required, with the values taken from the request. */
/** A grant policy names its owner, waives it (anyOwner) or withholds it: more than one of these is no receipt a verifier writes. */
export function ownerFormsClash(p: { owner?: unknown; anyOwner?: unknown; ownerWithheld?: unknown }): boolean {
  return [p.owner, p.anyOwner, p.ownerWithheld].filter((x) => x !== undefined).length > 1;
}

export type ReceiptPolicy =
  | { kind: 'presentation' }
  /** requireSignature alone: the request's RFC 9421 signature was the only proof (the holder is its signer). */
  | { kind: 'signature' }
  /** requireMandate / guardMandatePayment: an external payment mandate chain (Verifiable Intent, AP2). */
  | { kind: 'mandate'; profile: string; amount?: { amount: string; currency: string }; payee?: string }
  /**
   * `purpose` and `processing`: the use the route declared, which the grant's terms must allow; recorded
   * so a re-check applies the same terms (without them a use inside the terms would look refused).
   * `ownerWithheld`: a refusal where the owner of the data was not the presented grant's issuer; the
   * owner's DID is not written (the receipt goes to whoever asked, who would learn whose data the route
   * serves), and a re-check takes the owner's codes (GRANT_NOT_OWNER, MEMBER_WITHDRAWN) as recorded.
   */
  | { kind: 'grant'; resource: string; action: string; owner?: string; anyOwner?: true; ownerWithheld?: true; purpose?: string; processing?: string }
  | { kind: 'agent'; action: string; amount?: { amount: string; currency: string }; counterparty: string };

/** A credential the presentation carried: its hash, and its id, issuer and types when it could be read. */
export interface ReceiptCredential {
  h: string;
  id?: string;
  iss?: string;
  type?: string[];
}

export interface ReceiptSpend {
  reservation: string;
  state: 'reserved' | 'committed' | 'released';
  amount?: { amount: string; currency: string };
}

/**
 * The claims of a decision receipt (`typ: charter-receipt+jwt`), signed by
 * the verifier: what was decided, on what evidence (hashes: the presentation,
 * each credential, the DID documents and status lists as used) and under
 * whose authority (the chain), bound to the request, placed in the
 * verifier's hash chain. Hashes and ids only: no credential content.
 */
export interface DecisionReceipt {
  iss: string;
  jti: string;
  iat: number;
  /** The decision time, RFC 3339 with milliseconds. */
  time: string;
  kind: 'decision';
  /** The verifier's identifier presentations are bound to (`aud`). */
  verifier: string;
  decision: 'allow' | 'deny';
  status: number;
  /** Every reason code, in order. */
  reasons: string[];
  /** The presenting holder, once authenticated. */
  sub?: string;
  request: ReceiptRequest;
  policy: ReceiptPolicy;
  /** `sha256-<b64u>` of the presentation as sent; absent when none was. */
  vp?: string;
  credentials: ReceiptCredential[];
  /** The authority: a grant's id and grantor, or every mandate link (root first) and the principal. */
  chain: { id: string; iss: string }[];
  principal?: string;
  spend?: ReceiptSpend;
  /** Hashes of the DID documents and status list credentials as resolved for this decision. */
  evidence?: { did: Record<string, string>; status: Record<string, string> };
  /**
   * The verifier's freshness configuration for this decision: clock skew and
   * presentation max age (seconds) and its nonce mode. A re-check applies
   * exactly these (without them, the widest a verifier may be configured with).
   */
  window?: ReceiptWindow;
  log: LogPosition;
}

/** The freshness rules a decision was made under. */
export interface ReceiptWindow {
  skew: number;
  maxAge: number;
  nonces: 'iat' | 'challenge';
}

/** A settlement: the spend a decision reserved was committed or released. */
export interface SettlementReceipt {
  iss: string;
  jti: string;
  iat: number;
  time: string;
  kind: 'settlement';
  sub?: string;
  /** The decision receipt's id. */
  receipt: string;
  spend: ReceiptSpend;
  log: LogPosition;
}

export type ReceiptClaims = DecisionReceipt | SettlementReceipt;

export interface ReceiptVerification {
  ok: boolean;
  reasons: Reason[];
  claims?: ReceiptClaims;
  /** The payload hash: the receipt's place in the chain (the next entry's `prev`). */
  hash?: string;
}

/**
 * Verifies a decision (or settlement) receipt signed by a verifier you trust:
 * its signature by `iss`, that `iss` is one of `issuers` (the DIDs whose
 * receipts you accept, e.g. the verifier's signing DID), its `typ`, canonical
 * encoding, the form Charter signs, and its shape and rules (receiptReasons).
 * A receipt signed by anyone else proves nothing (an agent can sign an
 * "allow" with its own key): UNTRUSTED_ISSUER. `resolver` may be an offline
 * one (an evidence bundle's documents).
 */
export async function verifyReceipt(jws: string, options: { resolver: CharterResolver; issuers: readonly string[] }): Promise<ReceiptVerification> {
  if (!options?.resolver || typeof options.resolver.resolveKey !== 'function') throw new TypeError('verifyReceipt needs { resolver, issuers }');
  const issuers = identifierSet('verifyReceipt: issuers', options.issuers);
  if (!issuers || issuers.size === 0) throw new TypeError('verifyReceipt needs issuers: the DIDs whose receipts you accept (a receipt signed by anyone else proves nothing)');
  const v = await checkReceipt(jws, options.resolver);
  const iss = v.claims?.iss;
  if (!v.claims || typeof iss !== 'string' || issuers.has(iss)) return v;
  return { ...v, ok: false, reasons: [{ code: 'UNTRUSTED_ISSUER', message: `the receipt is signed by ${iss.slice(0, 200)}, not by an issuer you accept` }, ...v.reasons] };
}

/**
 * A receipt's signature by its own `iss`, `typ`, encoding, shape and rules,
 * whoever signed it: for callers that judge the signer themselves (an
 * access report shows which verifier reported; an evidence bundle holds one
 * verifier's entries and names it).
 */
export async function checkReceipt(jws: string, resolver: CharterResolver): Promise<ReceiptVerification> {
  const c = await checkAuditJws(jws, RECEIPT_TYP, resolver, 'RECEIPT_INVALID');
  if (!c.decoded) return { ok: false, reasons: c.reasons };
  const reasons = [...c.reasons, ...receiptReasons(c.decoded.payload)];
  return { ok: reasons.length === 0, reasons, claims: c.decoded.payload as unknown as ReceiptClaims, ...(c.hash ? { hash: c.hash } : {}) };
}

/** A receipt's claims without checking anything (for display; verify before relying on them). */
export function decodeReceipt(jws: string): ReceiptClaims {
  return decodeJwt(jws, { maxBytes: MAX_AUDIT_JWS }).payload as unknown as ReceiptClaims;
}
