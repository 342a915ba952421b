import type { Reason } from '../errors.js';
import type { Signer } from '../keys/types.js';
import type { CharterResolver, DidKeyRef } from '../did/types.js';

export const VC_CONTEXT_V2 = 'https://www.w3.org/ns/credentials/v2';
export const VC_CONTEXT_V1 = 'https://www.w3.org/2018/credentials/v1';

/** A signing identity: the DID, the method id used as `kid`, and the signer. */
export interface Issuer extends DidKeyRef {
  signer: Signer;
}

export type CredentialFormat = 'vc+jwt' | 'vc-jwt-1.1';

export interface CredentialStatusEntry {
  id?: string;
  type: 'BitstringStatusListEntry';
  statusPurpose: 'revocation' | 'suspension' | 'refresh' | 'message';
  statusListIndex: string;
  statusListCredential: string;
  [k: string]: unknown;
}

export interface CredentialSchemaRef {
  id: string;
  type: 'JsonSchema';
}

/** One subject of a credential: the claims about it, and its id when it has one. */
export interface CredentialSubject {
  id?: string;
  [k: string]: unknown;
}

/**
 * A VCDM 2.0 credential as it appears in a `vc+jwt` payload (or normalised
 * from 1.1). `type` is always an array here: VCDM 2.0 "Types" lets a credential
 * write a single string, which verification turns into a one-element array
 * so that `type.includes(t)` is a set test, never a substring test.
 * `credentialSubject` is one object or, VCDM 2.0 "Credential Subject", several: use
 * `soleSubject` where exactly one is required.
 */
export interface Credential {
  '@context': string[];
  id?: string;
  type: string[];
  issuer: string | { id: string; [k: string]: unknown };
  validFrom?: string;
  validUntil?: string;
  credentialSubject: CredentialSubject | CredentialSubject[];
  credentialSchema?: CredentialSchemaRef | CredentialSchemaRef[];
  credentialStatus?: CredentialStatusEntry | CredentialStatusEntry[];
  [k: string]: unknown;
}

export interface IssueCredentialInput {
  issuer: Issuer;
  subject: string;
  /** Extra types after `VerifiableCredential`. */
  type: string | string[];
  /** Claims placed in `credentialSubject` next to `id`. */
  claims: Record<string, unknown>;
  /** An absolute URL (VCDM 2.0 §4.4). Default `urn:uuid:<random>`. */
  id?: string;
  validFrom?: Date;
  validUntil?: Date;
  credentialSchema?: CredentialSchemaRef;
  credentialStatus?: CredentialStatusEntry;
  /**
   * Extra top-level credential properties (e.g. `evidence`, `aud`). Never
   * @context, id, type, issuer or a date; credentialSchema / credentialStatus
   * only when not given above; credentialSubject only with empty `claims`
   * (a subject that is no DID, such as a status list's).
   */
  extra?: Record<string, unknown>;
  format?: CredentialFormat;
}

export interface IssuedCredential {
  id: string;
  jwt: string;
  credential: Credential;
  format: CredentialFormat;
}

/**
 * What one status entry said (Bitstring Status List v1.0 §3.2 steps 11-14):
 * the entry's value read as an integer of `statusSize` bits, whether it is 0
 * (`valid`), and the matching `statusMessage` when the entry has one.
 * Reported for every purpose; only revocation and suspension refuse.
 */
export interface StatusReport {
  purpose: string;
  statusListCredential: string;
  index: number;
  statusSize: number;
  status: number;
  valid: boolean;
  message?: string;
}

/** Context a status checker gets: the verified issuer, the decision time, and where to report entry values. */
export interface StatusContext {
  issuer: string;
  now: Date;
  report?: (r: StatusReport) => void;
}

/** Checks `credentialStatus`; supplied by the status layer (credentials sits below it). Returns refusals. */
export type StatusChecker = (credential: Credential, ctx: StatusContext) => Promise<Reason[]>;

/** Validates a credential against its `credentialSchema`; returns refusals. */
export type SchemaChecker = (credential: Credential) => Reason[];

export interface VerifyCredentialOptions {
  resolver: CharterResolver;
  /** Defaults to the current time. */
  now?: Date;
  /** Allowed clock skew in seconds. Default 60, capped at 300. */
  skewSeconds?: number;
  /**
   * Checks `credentialStatus`. When a credential carries a status and no
   * checker is given, verification fails closed with STATUS_UNAVAILABLE.
   */
  status?: StatusChecker;
  /** Defaults to Charter's schemas/ registry; unknown schema ids are refused. */
  schemas?: SchemaChecker;
  /** Also accept VCDM 1.1 `vc` JWTs (did-jwt-vc, Veramo). Default true. */
  acceptV1?: boolean;
  /** Require these types (e.g. `DataAccessGrant`). */
  requireType?: string;
  /**
   * Who this verifier is (a DID or URL, as in a presentation's `aud`). A
   * credential whose JWT names an audience (`aud`, RFC 7519 §4.1.3) is
   * refused with AUDIENCE_MISMATCH unless this is one of them; a credential
   * without `aud` is not affected. verifyPresentation passes its own `aud`.
   */
  aud?: string;
  /**
   * The largest credential JWT accepted, in bytes. Default 64 KiB; a status
   * list credential (one list of many entries) may need more, and its checker
   * passes its own bound.
   */
  maxBytes?: number;
  /**
   * A credential this process will not see again (a bulk import): skip the
   * per-JWS caches (parsed form, memoised signature), which only cost here.
   * The checks are the same. Default false.
   */
  once?: boolean;
}

export interface CredentialVerification {
  ok: boolean;
  reasons: Reason[];
  /** Present once the JWT parsed, even when refused, so a caller can explain. */
  issuer?: string;
  /** The subject's id when the credential has exactly one subject (undefined when it has several). */
  subject?: string;
  /** The ids of every subject that has one, in order. */
  subjects?: string[];
  /** What each status entry said, when a status checker ran (also for purposes that never refuse). */
  status?: StatusReport[];
  credential?: Credential;
  id?: string;
  format?: CredentialFormat;
  jwt: string;
}

export interface CreatePresentationInput {
  holder: Issuer;
  credentials: string[];
  aud: string;
  nonce?: string;
  /** Seconds the presentation stays valid. Default 300. */
  expiresInSeconds?: number;
  /** Extra JWT claims (e.g. `htm`, `htu`, `jti`). */
  claims?: Record<string, unknown>;
  format?: 'vp+jwt' | 'vp-jwt-1.1';
}

export interface VerifyPresentationOptions extends Omit<VerifyCredentialOptions, 'requireType'> {
  /** Who this verifier is: the presentation's `aud` must be it, and so must a presented credential's `aud` when it has one. */
  aud: string;
  /** Required unless `allowMissingNonce` (the HTTP layer uses iat + jti instead). */
  nonce?: string;
  allowMissingNonce?: boolean;
  /** Accept credentials whose subject is not the holder. Default false. */
  allowHolderMismatch?: boolean;
  /** Most seconds since `iat`. Default 300. */
  maxAgeSeconds?: number;
}

export interface PresentationVerification {
  ok: boolean;
  reasons: Reason[];
  holder?: string;
  /** The decoded JWT payload (claims such as htm, htu, jti). */
  payload?: Record<string, unknown>;
  credentials: CredentialVerification[];
  jwt: string;
}
