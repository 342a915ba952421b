import { randomUUID } from 'node:crypto';
import { CharterError } from '../errors.js';
import { decodeCredential, issueCredential, recordCredential, schemaIdFor, soleSubject } from '../credentials/index.js';
import type { IssuedCredential, Issuer } from '../credentials/types.js';
import { allocateStatusEntry } from '../status/index.js';
import type { CredentialStore, StatusStore } from '../store/types.js';
import { ATTESTATION_TYPE, RECEIPT_TYPE } from './types.js';
import { pureKeyOf } from '../did/parties.js';

export interface ReceiptInput {
  counterparty: string;
  interactionId: string;
  at?: Date;
  amount?: { amount: string; currency: string };
  /** Digest of what was exchanged, e.g. `sha256-…`. */
  digest?: string;
}

/** The agent's signed receipt of a finished interaction: its consent to be rated for it by that counterparty. Kept in `store` unless it is null. */
export async function issueReceipt(store: CredentialStore | null, agent: Issuer, input: ReceiptInput): Promise<IssuedCredential> {
  const own = pureKeyOf(agent.did);
  if (input.counterparty === agent.did || (own !== undefined && pureKeyOf(input.counterparty) === own)) {
    throw new CharterError('INVALID_ARGUMENT', 'an agent cannot be its own counterparty (under any DID of its key)');
  }
  const time = (input.at ?? new Date()).toISOString();
  const issued = await issueCredential({
    issuer: agent,
    subject: input.counterparty,
    type: RECEIPT_TYPE,
    claims: {
      interaction: { id: input.interactionId, agent: agent.did, time, ...(input.amount ? { amount: input.amount } : {}), ...(input.digest ? { digest: input.digest } : {}) },
    },
    credentialSchema: { id: schemaIdFor(RECEIPT_TYPE)!, type: 'JsonSchema' },
  });
  await recordCredential(store, issued, { direction: 'issued', types: [RECEIPT_TYPE] });
  return issued;
}

export interface AttestationInput {
  receiptJwt: string;
  score: number;
  dimension?: string;
  comment?: string;
  /** With a store, a base URL gives the attestation a revocation entry, so the attester can withdraw it. */
  baseUrl?: string;
}

/**
 * The counterparty's rating of the agent, carrying the agent's receipt as
 * evidence (VCDM 2.0 §5.7 `evidence`): only the counterparty the receipt
 * names may rate, once per receipt.
 */
export async function issueAttestation(store: (CredentialStore & StatusStore) | null, attester: Issuer, input: AttestationInput): Promise<IssuedCredential> {
  if (typeof input.score !== 'number' || !(input.score >= 0 && input.score <= 1)) throw new CharterError('INVALID_ARGUMENT', 'a score is a number from 0 to 1');
  const receipt = decodeCredential(input.receiptJwt);
  if (!receipt.type.includes(RECEIPT_TYPE) || typeof receipt.id !== 'string') throw new CharterError('INVALID_ARGUMENT', 'the evidence must be an InteractionReceipt with an id');
  if (soleSubject(receipt)?.id !== attester.did) throw new CharterError('INVALID_ARGUMENT', 'only the counterparty the receipt names may rate this interaction');
  const agent = typeof receipt.issuer === 'string' ? receipt.issuer : receipt.issuer.id;
  const id = `urn:uuid:${randomUUID()}`;
  const status =
    store !== null && input.baseUrl ? await allocateStatusEntry(store, { issuerDid: attester.did, purpose: 'revocation', baseUrl: input.baseUrl, credentialId: id }) : undefined;
  const issued = await issueCredential({
    issuer: attester,
    id,
    subject: agent,
    type: ATTESTATION_TYPE,
    claims: {
      rating: { score: input.score, ...(input.dimension ? { dimension: input.dimension } : {}), ...(input.comment ? { comment: input.comment } : {}) },
      interaction: receipt.id,
    },
    credentialSchema: { id: schemaIdFor(ATTESTATION_TYPE)!, type: 'JsonSchema' },
    ...(status ? { credentialStatus: status } : {}),
    extra: { evidence: [{ id: receipt.id, type: ['Evidence', RECEIPT_TYPE], receipt: input.receiptJwt }] },
  });
  await recordCredential(store, issued, { direction: 'issued', types: [ATTESTATION_TYPE] });
  return issued;
}
