import type { Reason } from '../errors.js';
import { soleSubject } from '../credentials/index.js';
import type { CredentialVerification } from '../credentials/types.js';
import { RECEIPT_TYPE } from './types.js';

/**
 * What a rating rests on: an interaction between the rated agent and the
 * attester, proven by evidence the agent (or a verifier it dealt with)
 * signed. Its `id` is the interaction as the attestation names it
 * (`credentialSubject.interaction`); one rating counts per proof.
 */
export interface InteractionProof {
  id: string;
}

/** What an evidence check is given: the parties, and verification under the import's resolver, status checker and clock. */
export interface EvidenceContext {
  /** The rated agent (the attestation's subject). */
  agent: string;
  /** The attestation's verified issuer. */
  attester: string;
  now: Date;
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
 * The agent's InteractionReceipt, embedded as `{ id, receipt: <jwt> }`: it
 * must verify, be signed by the rated agent about itself, name the attester
 * as the counterparty, and be the entry's id.
 */
export const receiptEvidence: EvidenceCheck = async (entry, ctx) => {
  if (typeof entry.receipt !== 'string') return undefined;
  const r = await ctx.verify(entry.receipt, RECEIPT_TYPE);
  if (!r.ok || !r.credential) return refuse(`the receipt does not verify (${first(r)})`);
  const id = r.credential.id;
  if (typeof id !== 'string') return refuse('the receipt has no id');
  const interaction = soleSubject(r.credential)?.interaction as Record<string, unknown> | undefined;
  if (r.issuer !== ctx.agent || interaction?.agent !== ctx.agent) return refuse('the receipt is not signed by the rated agent');
  if (r.subject !== ctx.attester) return refuse('the receipt names another counterparty');
  if (entry.id !== id) return refuse('the evidence entry and its receipt disagree on the interaction');
  return { id };
};

/** Evidence the importer accepts unless told otherwise. */
export const DEFAULT_EVIDENCE: readonly EvidenceCheck[] = [receiptEvidence];
