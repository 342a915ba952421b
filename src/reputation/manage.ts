import { CharterError } from '../errors.js';
import { changeCredentialStatus, type IssuerFor, type StatusChange } from '../status/index.js';
import type { CredentialStore, StatusStore } from '../store/types.js';
import { ATTESTATION_TYPE } from './types.js';

/** Attestations about `agentDid` this store holds or issued. */
export async function attestationsAbout(store: CredentialStore, agentDid: string): Promise<string[]> {
  return (await store.listCredentials({ type: ATTESTATION_TYPE, subject: agentDid })).map((r) => r.jwt);
}

/**
 * Withdraws an attestation issued from this store: the attester's key is
 * unlocked, the revocation bit committed, then the list re-signed. NOT_FOUND
 * when it was not issued here, or was issued without a revocation entry.
 */
export async function revokeAttestation(store: CredentialStore & StatusStore, id: string, issuerFor: IssuerFor): Promise<StatusChange> {
  const rec = await store.getCredential(id);
  if (!rec || rec.direction !== 'issued' || !rec.types.includes(ATTESTATION_TYPE)) throw new CharterError('NOT_FOUND', `no attestation ${id.slice(0, 80)} issued from this home`);
  return changeCredentialStatus(store, id, 'revocation', true, issuerFor);
}
