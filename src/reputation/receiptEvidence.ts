import { toReason, type Reason } from '../errors.js';
import { checkJwtSignature, decodeJwt, type DecodedJwt } from '../credentials/index.js';
import type { Credential } from '../credentials/types.js';
import type { CharterResolver } from '../did/types.js';
import { receiptShapeReasons, receiptAgreementReasons } from '../credentials/receipt-shape.js';

/**
 * A verifier's decision receipt (`typ: charter-receipt+jwt`, see src/audit)
 * as the interaction proof of a ReputationAttestation, instead of (or
 * beside) the agent's own InteractionReceipt. The verifier signed that it
 * allowed this agent's transaction; the same party may then rate it, once
 * per receipt. Checked here with the JOSE layer alone (reputation sits below
 * audit): signature by the receipt's issuer, its type, canonical encoding
 * and receipt shape, an allow, the agent as the presenting holder, the
 * attester as the verifier. It is the verifier's own signed word: nothing
 * the agent signed backs it, so it weighs what the scorer trusts that
 * attester with (an unknown attester: `unknownAttesterWeight`, 0 by default).
 */
export const DECISION_RECEIPT_EVIDENCE = 'CharterDecisionReceipt';
const RECEIPT_TYP = 'charter-receipt+jwt';
const MAX = 64 * 1024;

export interface ReceiptEvidence {
  ok: boolean;
  reasons: Reason[];
  /** The receipt id: the interaction an attestation may rate once. */
  interaction?: string;
  /** The decision time (RFC 3339). */
  at?: string;
}

/** An attestation's `evidence` entry carrying a decision receipt. */
export function decisionReceiptEvidence(receipt: string): { id: string; type: string[]; receipt: string } {
  const jti = decodeJwt(receipt, { maxBytes: MAX }).payload.jti;
  return { id: typeof jti === 'string' ? jti : '', type: ['Evidence', DECISION_RECEIPT_EVIDENCE], receipt };
}

/** The decision receipt an attestation cites in `evidence`, if any. */
export function findDecisionReceipt(attestation: Credential): { id?: string; receipt: string } | undefined {
  const list = Array.isArray(attestation.evidence) ? attestation.evidence : [attestation.evidence];
  for (const e of list) {
    if (typeof e !== 'object' || e === null) continue;
    const x = e as Record<string, unknown>;
    const type = Array.isArray(x.type) ? x.type : [x.type];
    if (type.includes(DECISION_RECEIPT_EVIDENCE) && typeof x.receipt === 'string') return { ...(typeof x.id === 'string' ? { id: x.id } : {}), receipt: x.receipt };
  }
  return undefined;
}

const invalid = (message: string): ReceiptEvidence => ({ ok: false, reasons: [{ code: 'RECEIPT_INVALID', message }] });

/**
 * Accepts a decision receipt as the proof that `attester` dealt with `agent`:
 * valid signature by the attester (its assertion key), an allowed decision,
 * the agent as the authenticated holder. RECEIPT_INVALID otherwise.
 */
export async function checkReceiptEvidence(receipt: string, options: { resolver: CharterResolver; agent: string; attester: string }): Promise<ReceiptEvidence> {
  let d: DecodedJwt;
  try {
    d = decodeJwt(receipt, { maxBytes: MAX });
  } catch (e) {
    return invalid(`the decision receipt does not decode (${toReason(e).code})`);
  }
  if (typeof d.header.typ !== 'string' || d.header.typ.toLowerCase().replace(/^application\//, '') !== RECEIPT_TYP) return invalid('the evidence is not a decision receipt');
  // One string per receipt: a re-encoded copy (another padding bit) is not a second receipt.
  if (receipt.split('.').some((part) => Buffer.from(part, 'base64url').toString('base64url') !== part)) return invalid('the decision receipt is not in canonical base64url');
  const p = d.payload;
  if (p.iss !== options.attester) return invalid('the decision receipt was signed by another party than the attester');
  const sig = await checkJwtSignature(d, options.attester, options.resolver, 'assertionMethod');
  if (sig.length > 0) return invalid(`the decision receipt does not verify (${sig[0]!.code})`);
  // The whole receipt shape, as verifyReceipt holds it: a signed payload that is not a receipt proves nothing.
  // Its time too (strict RFC 3339, iat its second: receiptTimeReasons), so no host time zone dates the interaction.
  const shape = [...receiptShapeReasons(p)];
  if (shape.length === 0) shape.push(...receiptAgreementReasons(p));
  if (shape.length > 0) return invalid(`not a decision receipt: ${shape[0]!.message}`);
  if (p.kind !== 'decision' || p.decision !== 'allow') return invalid('only a receipt of an allowed transaction proves an interaction');
  if (p.sub !== options.agent) return invalid('the decision receipt is about another agent');
  return { ok: true, reasons: [], interaction: p.jti as string, at: p.time as string };
}
