import { randomUUID } from 'node:crypto';
import { CharterError } from '../errors.js';
import { issueCredential, schemaIdFor } from '../credentials/index.js';
import type { Credential, Issuer } from '../credentials/types.js';
import { allocateStatusEntry } from '../status/index.js';
import { readGrantClaims } from './claims.js';
import type { Store } from '../store/types.js';

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
export async function issueGrant(store: Store, owner: Issuer, input: IssueGrantInput): Promise<IssuedGrant> {
  if (!(input.validUntil instanceof Date) || Number.isNaN(input.validUntil.getTime())) throw new CharterError('INVALID_ARGUMENT', 'a grant needs an expiry (validUntil)');
  if (input.validUntil.getTime() <= Date.now()) throw new CharterError('INVALID_ARGUMENT', 'a grant must expire in the future');
  const claims = readGrantClaims({ resources: input.resources, actions: input.actions, purpose: input.purpose, ...(input.constraints ? { constraints: input.constraints } : {}) });
  if (!claims.grant) throw new CharterError('INVALID_ARGUMENT', claims.reasons[0]!.message);
  const id = `urn:uuid:${randomUUID()}`;
  const status = { issuerDid: owner.did, baseUrl: input.baseUrl, credentialId: id };
  const revocation = await allocateStatusEntry(store, { ...status, purpose: 'revocation' });
  const suspension = await allocateStatusEntry(store, { ...status, purpose: 'suspension' });
  const issued = await issueCredential({
    issuer: owner,
    id,
    subject: input.grantee,
    type: GRANT_TYPE,
    claims: { grant: claims.grant },
    validUntil: input.validUntil,
    ...(input.validFrom ? { validFrom: input.validFrom } : {}),
    credentialSchema: { id: schemaIdFor(GRANT_TYPE)!, type: 'JsonSchema' },
    extra: { credentialStatus: [revocation, suspension] },
  });
  await store.putCredential({
    id,
    jwt: issued.jwt,
    direction: 'issued',
    issuer: owner.did,
    subject: input.grantee,
    types: [GRANT_TYPE],
    ...(issued.credential.validFrom ? { validFrom: issued.credential.validFrom } : {}),
    validUntil: issued.credential.validUntil!,
    createdAt: new Date().toISOString(),
  });
  return { id, jwt: issued.jwt, statusIndex: Number(revocation.statusListIndex), credential: issued.credential };
}
