import { createHash } from 'node:crypto';
import { CharterError, isCharterError } from '../errors.js';
import { decodeCredential, issueCredential, schemaIdFor, soleSubject } from '../credentials/index.js';
import type { Credential, CredentialStatusEntry, Issuer } from '../credentials/types.js';
import type { CredentialRecord, Store } from '../store/types.js';

/*
 * A pool keeps everything as credentials in the home's CredentialStore (no
 * table of its own): epochs, memberships, proposals, votes and decisions
 * are signed records, so its history can be shown, published and audited.
 * Ids that must be unique per transition are derived (an epoch number, a
 * proposal hash): putCredential's ALREADY_EXISTS is then the lock that makes
 * two racing transitions fail instead of forking the pool.
 */

export const EPOCH_TYPE = 'PoolEpochCredential';
export const MEMBERSHIP_TYPE = 'PoolMembershipCredential';
export const PROPOSAL_TYPE = 'PoolProposal';
export const DECISION_TYPE = 'PoolDecisionCredential';
export const USAGE_TYPE = 'PoolUsageReport';

const tag = (s: string) => createHash('sha256').update(s).digest('base64url').slice(0, 22);
/** The hash part of `sha256-<b64>` (what CLI users type, or a prefix of it). */
export const hashPart = (hash: string) => hash.replace(/^sha256-/, '');

export const epochId = (pool: string, n: number) => `urn:charter:pool:${tag(pool)}:epoch:${n}`;
export const proposalId = (hash: string) => `urn:charter:pool-proposal:${hashPart(hash)}`;
export const decisionId = (hash: string) => `urn:charter:pool-decision:${hashPart(hash)}`;
/** One vote per member per proposal: the record id is derived from both, so the store's unique key refuses a second (or racing) vote. */
export const voteRecordId = (hash: string, member: string) => `urn:charter:pool-vote:${hashPart(hash)}:${tag(member)}`;
export const resultId = (hash: string, kind: 'grant' | 'membership') => `urn:charter:pool-${kind}:${hashPart(hash)}`;

export interface StoredCredential {
  record: CredentialRecord;
  credential: Credential;
  subject: Record<string, unknown>;
}

export function read(record: CredentialRecord): StoredCredential {
  const credential = decodeCredential(record.jwt);
  return { record, credential, subject: (soleSubject(credential) ?? {}) as Record<string, unknown> };
}

export async function list(store: Store, filter: Parameters<Store['listCredentials']>[0]): Promise<StoredCredential[]> {
  return (await store.listCredentials(filter)).map(read);
}

export interface PutInput {
  issuer: Issuer;
  id: string;
  subject: string;
  type: string;
  claims: Record<string, unknown>;
  parentId?: string;
  status?: CredentialStatusEntry;
  validFrom?: Date;
  direction?: 'issued' | 'held';
}

/** Signs one pool record (with its schema) and stores it; ALREADY_EXISTS when the id is taken. */
export async function putSigned(store: Store, input: PutInput): Promise<{ jwt: string; credential: Credential }> {
  if (await store.getCredential(input.id)) throw new CharterError('ALREADY_EXISTS', `${input.id.slice(0, 100)} already exists`);
  const issued = await issueCredential({
    issuer: input.issuer,
    id: input.id,
    subject: input.subject,
    type: input.type,
    claims: input.claims,
    credentialSchema: { id: schemaIdFor(input.type)!, type: 'JsonSchema' },
    ...(input.validFrom ? { validFrom: input.validFrom } : {}),
    ...(input.status ? { credentialStatus: input.status } : {}),
  });
  await store.putCredential({
    id: input.id,
    jwt: issued.jwt,
    direction: input.direction ?? 'issued',
    issuer: input.issuer.did,
    subject: input.subject,
    types: [input.type],
    ...(issued.credential.validFrom ? { validFrom: issued.credential.validFrom } : {}),
    ...(input.parentId ? { parentId: input.parentId } : {}),
    createdAt: new Date().toISOString(),
  });
  return { jwt: issued.jwt, credential: issued.credential };
}

/** True when `e` says the id was taken (a racing transition won). */
export const taken = (e: unknown) => isCharterError(e, 'ALREADY_EXISTS');
