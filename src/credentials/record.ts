import type { CredentialDirection, CredentialRecord, CredentialStore } from '../store/types.js';
import { soleSubject } from './subjects.js';
import type { Credential } from './types.js';

/**
 * What `recordCredential` keeps: a credential as issued or received. A vc+jwt
 * (or VCDM 1.1 JWT) gives its decoded `credential`, from which the issuer,
 * subject, types and validity are read; a format without one (an SD-JWT VC)
 * names them in the options instead.
 */
export interface RecordableCredential {
  id: string;
  /** The compact form kept and presented later: a JWT, or an SD-JWT with its disclosures. */
  jwt: string;
  credential?: Credential;
}

export interface RecordCredentialOptions {
  /** `issued` by this home, or `held`: received from someone else. */
  direction: CredentialDirection;
  /** Default: the credential's issuer. */
  issuer?: string;
  /** Default: the id of the credential's single subject. */
  subject?: string;
  /** Default: the credential's types without `VerifiableCredential`. */
  types?: string[];
  validFrom?: string;
  validUntil?: string;
  /** The parent mandate of a delegated AgentAuthorityCredential. */
  parentId?: string;
  /** Default: now. */
  createdAt?: Date;
}

/** The one way every issuer and importer keeps a credential (DESIGN.md "Issue": the credential is stored). */
export function credentialRecord(c: RecordableCredential, options: RecordCredentialOptions): CredentialRecord {
  const cred = c.credential;
  const issuer = options.issuer ?? (cred === undefined ? undefined : typeof cred.issuer === 'string' ? cred.issuer : cred.issuer.id);
  if (typeof issuer !== 'string' || issuer.length === 0) throw new TypeError('recordCredential needs the issuer: a decoded credential or options.issuer');
  const subject = options.subject ?? (cred ? soleSubject(cred)?.id : undefined);
  const types = options.types ?? (cred ? cred.type.filter((t) => t !== 'VerifiableCredential') : undefined);
  if (types === undefined || types.length === 0) throw new TypeError('recordCredential needs the types: a decoded credential or options.types');
  const validFrom = options.validFrom ?? cred?.validFrom;
  const validUntil = options.validUntil ?? cred?.validUntil;
  return {
    id: c.id,
    jwt: c.jwt,
    direction: options.direction,
    issuer,
    ...(typeof subject === 'string' ? { subject } : {}),
    types,
    ...(validFrom !== undefined ? { validFrom } : {}),
    ...(validUntil !== undefined ? { validUntil } : {}),
    ...(options.parentId !== undefined ? { parentId: options.parentId } : {}),
    createdAt: (options.createdAt ?? new Date()).toISOString(),
  };
}

/**
 * Keeps a credential in the store (`null`: keep nothing, for callers that
 * issue without a home). Throws ALREADY_EXISTS for an id already kept.
 */
export async function recordCredential(store: CredentialStore | null, c: RecordableCredential, options: RecordCredentialOptions): Promise<CredentialRecord> {
  const rec = credentialRecord(c, options);
  if (store !== null) await store.putCredential(rec);
  return rec;
}
