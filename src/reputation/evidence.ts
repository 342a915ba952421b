import type { Reason } from '../errors.js';
import { soleSubject } from '../credentials/index.js';
import { parseDateTime } from '../encoding/time.js';
import type { CredentialVerification } from '../credentials/types.js';
import type { CharterResolver } from '../did/types.js';
import { checkReceiptEvidence, DECISION_RECEIPT_EVIDENCE } from './receiptEvidence.js';
import { RECEIPT_TYPE } from './types.js';

/**
 * What a rating rests on: an interaction between the rated agent and the
 * attester, proven by evidence the agent (or a verifier it dealt with)
 * signed. Its `id` is the interaction as the attestation names it
 * (`credentialSubject.interaction`); one rating counts per proof.
 */
export interface InteractionProof {
  id: string;
  /** The proof's own status entries and who issued them (a revocable receipt): scoring re-checks them with the rating's. */
  status?: { issuer: string; credentialStatus: unknown };
  /** When the interaction happened (ms): a rating cannot be older, and the interaction cannot be in the future. */
  at?: number;
  /**
   * When the proof stops being valid (ms; a receipt's validUntil or exp): the
   * agent's consent to be rated lasts that long, so the rating counts no
   * longer than its proof, in the store as in scoreAgent (which verifies the
   * receipt at the scoring time).
   */
  until?: number;
}

/** What an evidence check is given: the parties, and verification under the import's resolver, status checker and clock. */
export interface EvidenceContext {
  /** The rated agent (the attestation's subject). */
  agent: string;
  /** The attestation's verified issuer. */
  attester: string;
  now: Date;
  resolver: CharterResolver;
  /**
   * Verifies an embedded credential JWT as the import does: signature,
   * validity, status, `requireType`, and the JSON Schema of that type
   * whether or not the credential names it.
   */
  verify(jwt: string, requireType: string): Promise<CredentialVerification>;
}

/**
 * Reads one entry of an attestation's `evidence` (VCDM 2.0 §5.7). Returns
 * undefined when the entry is not this kind of evidence, a proof when it
 * proves an interaction of the agent with the attester, or the reason it
 * does not. The importer tries each check on each entry; the seam for other
 * kinds of proof (e.g. a decision receipt of an allowed transaction).
 */
export type EvidenceCheck = (entry: Record<string, unknown>, ctx: EvidenceContext) => Promise<InteractionProof | Reason | undefined>;

const first = (v: CredentialVerification) => v.reasons[0]?.code ?? 'INVALID_CREDENTIAL';
const refuse = (message: string): Reason => ({ code: 'RECEIPT_INVALID', message });

/**
 * When the interaction happened (ms), read as verifyCredential reads validFrom: a strict RFC 3339
 * date-time with a time zone (encoding/time.ts). The schemas' `format: date-time` lets through what
 * no clock reads (a leap second `23:59:60`, an offset `+01`); a time given but unreadable refuses the
 * proof, or it would skip the time-order checks (DESIGN.md "Time", verify.ts) for any date at all.
 */
function interactionTime(time: unknown, what: string): { at?: number } | Reason {
  if (time === undefined) return {};
  const at = parseDateTime(time);
  return at === undefined ? refuse(`${what} is not dated by an RFC 3339 date-time with a time zone`) : { at };
}

/** The earlier of validUntil and exp (ms), as verifyCredential reads them; undefined when neither is given, null when validUntil cannot be read. */
function validEnd(validUntil: unknown, exp: unknown): number | undefined | null {
  const v = validUntil === undefined ? undefined : parseDateTime(validUntil);
  if (validUntil !== undefined && v === undefined) return null;
  // Whole milliseconds, rounded inward (a fractional exp is legal; a store keeps integers).
  const until = Math.floor(Math.min(v ?? Infinity, typeof exp === 'number' && Number.isFinite(exp) ? exp * 1000 : Infinity));
  return Number.isFinite(until) ? until : undefined;
}

const typesOf = (entry: Record<string, unknown>) => (Array.isArray(entry.type) ? entry.type : [entry.type]);

/**
 * The agent's InteractionReceipt, embedded as `{ id, receipt: <jwt> }`: it
 * must verify, be signed by the rated agent about itself, name the attester
 * as the counterparty, and be the entry's id.
 */
export const interactionReceiptEvidence: EvidenceCheck = async (entry, ctx) => {
  if (typeof entry.receipt !== 'string' || typesOf(entry).includes(DECISION_RECEIPT_EVIDENCE)) return undefined;
  const r = await ctx.verify(entry.receipt, RECEIPT_TYPE);
  if (!r.ok || !r.credential) return refuse(`the receipt does not verify (${first(r)})`);
  const id = r.credential.id;
  if (typeof id !== 'string') return refuse('the receipt has no id');
  const interaction = soleSubject(r.credential)?.interaction as Record<string, unknown> | undefined;
  if (r.issuer !== ctx.agent || interaction?.agent !== ctx.agent) return refuse('the receipt is not signed by the rated agent');
  if (r.subject !== ctx.attester) return refuse('the receipt names another counterparty');
  if (entry.id !== id) return refuse('the evidence entry and its receipt disagree on the interaction');
  const at = interactionTime(interaction?.time, 'the interaction the receipt proves');
  if ('code' in at) return at;
  const until = validEnd(r.credential.validUntil, r.credential.exp);
  if (until === null) return refuse('the receipt is not valid until an RFC 3339 date-time with a time zone');
  // No status: the rated agent cannot take back its receipt once rated (verify.ts receiptStatusNotRead).
  return { id, ...at, ...(until !== undefined ? { until } : {}) };
};

/**
 * A verifier's decision receipt of an allowed transaction with the agent
 * (`{ id, type: [..., 'CharterDecisionReceipt'], receipt: <jws> }`, made by
 * decisionReceiptEvidence): signed by the attester as the verifier, the
 * agent as the holder it allowed (checkReceiptEvidence), and the entry's id.
 */
export const decisionReceiptEvidenceCheck: EvidenceCheck = async (entry, ctx) => {
  if (typeof entry.receipt !== 'string' || !typesOf(entry).includes(DECISION_RECEIPT_EVIDENCE)) return undefined;
  const r = await checkReceiptEvidence(entry.receipt, { resolver: ctx.resolver, agent: ctx.agent, attester: ctx.attester });
  if (!r.ok || r.interaction === undefined) return r.reasons[0] ?? refuse('the decision receipt does not prove an interaction');
  if (entry.id !== r.interaction) return refuse('the evidence entry and its decision receipt disagree on the interaction');
  const at = interactionTime(r.at, 'the decision receipt');
  if ('code' in at) return at;
  return { id: r.interaction, ...at };
};

/** Evidence the importer accepts unless told otherwise: the agent's receipt, or a verifier's decision receipt. */
export const DEFAULT_EVIDENCE: readonly EvidenceCheck[] = [interactionReceiptEvidence, decisionReceiptEvidenceCheck];
