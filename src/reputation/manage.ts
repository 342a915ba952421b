import { CharterError } from '../errors.js';
import { decodeCredential, recordCredential } from '../credentials/index.js';
import { changeCredentialStatus, type IssuerFor, type StatusChange } from '../status/index.js';
import type { CredentialStore, StatusStore } from '../store/types.js';
import { ATTESTATION_TYPE } from './types.js';

export interface AttestationImport {
  /** Ids of the attestations now kept as held. */
  imported: string[];
  /** What was left out and why: not a credential, not an attestation with an id, or already kept. */
  skipped: { id: string; why: string }[];
}

/**
 * Keeps attestations received from others as held credentials, for
 * `scoreAgent` to weigh later. Nothing is verified here: a score verifies
 * every attestation (and its receipt) when it counts it, so a bad one kept
 * here is ignored there, with its reason.
 */
export async function importAttestations(store: CredentialStore, jwts: readonly string[]): Promise<AttestationImport> {
  const out: AttestationImport = { imported: [], skipped: [] };
  for (const jwt of jwts) {
    let c;
    try {
      c = decodeCredential(jwt);
    } catch {
      out.skipped.push({ id: `${jwt.slice(0, 16)}…`, why: 'not a credential JWT' });
      continue;
    }
    if (!c.type.includes(ATTESTATION_TYPE) || typeof c.id !== 'string') {
      out.skipped.push({ id: c.id ?? '?', why: 'not a ReputationAttestation with an id' });
      continue;
    }
    if (await store.getCredential(c.id)) {
      out.skipped.push({ id: c.id, why: 'already kept' });
      continue;
    }
    await recordCredential(store, { id: c.id, jwt, credential: c }, { direction: 'held' });
    out.imported.push(c.id);
  }
  return out;
}

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
