import { randomUUID } from 'node:crypto';
import { CharterError } from '../errors.js';
import type { Issuer } from '../credentials/types.js';
import { recordCredential } from '../credentials/record.js';
import { changeCredentialStatus, type IssuerFor, type StatusChange } from '../status/issuer.js';
import { allocateTokenStatus } from '../status/token-issuer.js';
import type { Store } from '../store/types.js';
import { issueSdJwtVc } from './issue.js';
import type { IssueSdJwtVcInput, IssuedSdJwtVc } from './types.js';

/**
 * The store's `types` for an issued SD-JWT VC: this marker and its vct. Not
 * the VCDM type names (`DataAccessGrant`, ...), so code that lists and
 * decodes vc+jwt credentials of a type never meets an SD-JWT.
 */
export const SD_JWT_RECORD_TYPE = 'SdJwtVc';

export interface IssueStoredSdJwtVcInput extends Omit<IssueSdJwtVcInput, 'issuer' | 'status' | 'id'> {
  /** Where this home publishes status lists: given, the credential gets a revocation entry. */
  baseUrl?: string;
}

export interface StoredSdJwtVc extends IssuedSdJwtVc {
  /** The index in the revocation list, when `baseUrl` was given. */
  statusIndex?: number;
}

/**
 * Issues an SD-JWT VC from a home: a revocation index allocated from the
 * issuer's shared status lists when `baseUrl` is given (published as a
 * Status List Token at `<baseUrl>/statuslists/<list>`), and the token kept
 * as issued so `revokeSdJwtVc` finds it.
 */
export async function issueStoredSdJwtVc(store: Store, issuer: Issuer, input: IssueStoredSdJwtVcInput): Promise<StoredSdJwtVc> {
  const id = `urn:uuid:${randomUUID()}`;
  const { baseUrl, ...rest } = input;
  const status = baseUrl === undefined ? undefined : (await allocateTokenStatus(store, { issuerDid: issuer.did, baseUrl, credentialId: id })).status_list;
  const issued = await issueSdJwtVc({ ...rest, issuer, id, ...(status ? { status } : {}) });
  await recordCredential(
    store,
    { id, jwt: issued.token },
    {
      direction: 'issued',
      issuer: issuer.did,
      subject: input.subject,
      types: [SD_JWT_RECORD_TYPE, input.vct],
      ...(input.validFrom ? { validFrom: input.validFrom.toISOString() } : {}),
      ...(input.validUntil ? { validUntil: input.validUntil.toISOString() } : {}),
    },
  );
  return { ...issued, ...(status ? { statusIndex: status.idx } : {}) };
}

/**
 * Revokes for good an SD-JWT VC issued from this store: the issuer's key is
 * unlocked, the bit committed, then the Bitstring list re-signed (the Status
 * List Token is signed from the committed bits on its next fetch). NOT_FOUND
 * when it was not issued here or has no status entry.
 */
export async function revokeSdJwtVc(store: Store, id: string, issuerFor: IssuerFor): Promise<StatusChange> {
  const rec = await store.getCredential(id);
  if (!rec || rec.direction !== 'issued' || !rec.types.includes(SD_JWT_RECORD_TYPE)) throw new CharterError('NOT_FOUND', `no SD-JWT VC ${id.slice(0, 80)} issued from this home`);
  return changeCredentialStatus(store, id, 'revocation', true, issuerFor);
}
