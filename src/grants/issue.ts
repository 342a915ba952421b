import { randomUUID } from 'node:crypto';
import { CharterError } from '../errors.js';
import { issueCredential, recordCredential, schemaIdFor } from '../credentials/index.js';
import type { Credential, Issuer } from '../credentials/types.js';
import { allocateStatusEntry } from '../status/index.js';
import { readGrantClaims } from './claims.js';
import type { CredentialStore, StatusStore } from '../store/types.js';
import { checkTermsInput, type GrantTerms } from './terms.js';
import type { PoolEvidence } from './collective.js';

export const GRANT_TYPE = 'DataAccessGrant';
/**
 * The `vct` of a DataAccessGrant issued as an SD-JWT VC (src/sdjwt issues and
 * verifies those); named here so listing and revoking see both formats.
 */
export const SD_JWT_GRANT_VCT = 'https://charter.dev/vct/DataAccessGrant';

export interface IssueGrantInput {
  grantee: string;
  resources: string[];
  actions: string[];
  purpose: string;
  validUntil: Date;
  validFrom?: Date;
  /** Base URL under which this home's status lists are published. */
  baseUrl: string;
  constraints?: Record<string, unknown>;
  /** Terms of use: purposes, retention, onward sharing, processing, compensation. */
  terms?: GrantTerms;
  /**
   * A collective grant (src/pools issues these): the proposal the pool's
   * members voted on and their approving votes, carried in the grant so any
   * verifier checks the quorum itself.
   */
  pool?: PoolEvidence;
  /** The grant's id (default a fresh urn:uuid). */
  id?: string;
}

export interface IssuedGrant {
  id: string;
  jwt: string;
  /** Index in the revocation list. */
  statusIndex: number;
  credential: Credential;
}

/**
 * Issues a DataAccessGrant (DESIGN.md): issuer = data owner, subject = grantee,
 * a required expiry, and two status entries: revocation (permanent) and
 * suspension (reversible). Stored as issued, so it can be listed and revoked.
 */
export async function issueGrant(store: CredentialStore & StatusStore, owner: Issuer, input: IssueGrantInput): Promise<IssuedGrant> {
  if (!(input.validUntil instanceof Date) || Number.isNaN(input.validUntil.getTime())) throw new CharterError('INVALID_ARGUMENT', 'a grant needs an expiry (validUntil)');
  if (input.validUntil.getTime() <= Date.now()) throw new CharterError('INVALID_ARGUMENT', 'a grant must expire in the future');
  const terms = input.terms === undefined ? undefined : checkTermsInput(input.terms, { collective: input.pool !== undefined });
  const claims = readGrantClaims({
    resources: input.resources,
    actions: input.actions,
    purpose: input.purpose,
    ...(input.constraints ? { constraints: input.constraints } : {}),
    ...(terms ? { terms } : {}),
  });
  if (!claims.grant) throw new CharterError('INVALID_ARGUMENT', claims.reasons[0]!.message);
  const id = input.id ?? `urn:uuid:${randomUUID()}`;
  const status = { issuerDid: owner.did, baseUrl: input.baseUrl, credentialId: id };
  const revocation = await allocateStatusEntry(store, { ...status, purpose: 'revocation' });
  const suspension = await allocateStatusEntry(store, { ...status, purpose: 'suspension' });
  const issued = await issueCredential({
    issuer: owner,
    id,
    subject: input.grantee,
    type: GRANT_TYPE,
    claims: { grant: claims.grant, ...(input.pool ? { pool: input.pool } : {}) },
    validUntil: input.validUntil,
    ...(input.validFrom ? { validFrom: input.validFrom } : {}),
    credentialSchema: { id: schemaIdFor(GRANT_TYPE)!, type: 'JsonSchema' },
    extra: { credentialStatus: [revocation, suspension] },
  });
  await recordCredential(store, issued, { direction: 'issued', types: [GRANT_TYPE] });
  return { id, jwt: issued.jwt, statusIndex: Number(revocation.statusListIndex), credential: issued.credential };
}
